"""Go's ``strconv.ParseFloat(s, 64)``, reproduced for the numerical policy.

Flux's numerical policy parses every candidate with ``ParseFloat`` and fails the whole
policy on the first one it cannot parse, so the accepted syntax decides outcomes and must
match Go's exactly.  Python's ``float()`` accepts more (surrounding whitespace, non-ASCII
digits, ``nan`` with a sign, hex without a ``p`` exponent via ``float.fromhex``), so the
text is checked against Go's grammar first and only then converted; both conversions round
correctly, like Go's.

Go's rules, from ``strconv/atof.go`` (``special``, ``readFloat``, ``underscoreOK``):

* optional ``+``/``-``; then decimal digits with at most one ``.`` and at least one digit
  (``.5`` and ``5.`` are fine); then an optional exponent ``e``/``E``, optional sign, and
  at least one digit;
* hex: ``0x``/``0X``, hex digits with at most one ``.``, and a *required* ``p``/``P``
  binary exponent (``0x1p4`` is 16, ``0x10`` is a syntax error);
* underscores may appear only between digits, or between the ``0x`` prefix and a digit
  (``1_000``, ``0x_1p4``); ``_1``, ``1__0``, ``1_.5`` and ``1_`` are errors;
* ``inf`` / ``infinity`` with an optional sign and ``nan`` *without* a sign, any case
  (Go's ``special`` only lets the sign through to the infinity branch, so ``+nan`` fails);
* a value that rounds beyond float64 is a range error (``1e309``, ``0x1p1024``); a value
  too small for float64 becomes zero without error.

Called by :mod:`tagpilot.core.policy.policers`.
"""

from __future__ import annotations

import math
import re

__all__ = ["GoFloatError", "parse_go_float", "try_parse_go_float"]


class GoFloatError(ValueError):
    """``text`` is not a Go float: ``is_range_error`` tells overflow from bad syntax."""

    def __init__(self, text: str, *, is_range_error: bool) -> None:
        self.text = text
        self.is_range_error = is_range_error
        problem = (
            "is out of the float64 range" if is_range_error else "is not valid Go float syntax"
        )
        super().__init__(f"{text!r} {problem}")


_DECIMAL = re.compile(
    r"[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9][0-9_]*)?",
    re.ASCII,
)
_HEX = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)[pP][+-]?[0-9][0-9_]*",
    re.ASCII,
)
_INFINITY = re.compile(r"[+-]?inf(?:inity)?", re.ASCII | re.IGNORECASE)
_NAN = re.compile(r"nan", re.ASCII | re.IGNORECASE)
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]*)?", re.ASCII)


def parse_go_float(text: str) -> float:
    """Parse ``text`` like Go ``strconv.ParseFloat(text, 64)``; raise :class:`GoFloatError`."""
    value = try_parse_go_float(text)
    if value is not None:
        return value
    raise GoFloatError(text, is_range_error=_has_float_syntax(text))


def try_parse_go_float(text: str) -> float | None:
    """Like :func:`parse_go_float` but ``None`` on any error: the policy's hot path."""
    if _PLAIN.fullmatch(text):
        return _finite(float(text))
    if _DECIMAL.fullmatch(text):
        if "_" in text and not _underscores_ok(text):
            return None
        return _finite(float(text.replace("_", "")))
    if _HEX.fullmatch(text):
        return _parse_hex(text)
    if _INFINITY.fullmatch(text):
        return -math.inf if text[0] == "-" else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return None


def _has_float_syntax(text: str) -> bool:
    if _DECIMAL.fullmatch(text) or _HEX.fullmatch(text):
        return "_" not in text or _underscores_ok(text)
    return False


def _finite(value: float) -> float | None:
    # Only special() yields infinities in Go; a literal that rounds to one is ErrRange.
    return None if math.isinf(value) else value


def _parse_hex(text: str) -> float | None:
    if "_" in text and not _underscores_ok(text):
        return None
    try:
        return float.fromhex(text.replace("_", ""))
    except OverflowError:
        return None


def _underscores_ok(text: str) -> bool:
    """Go ``underscoreOK``: each ``_`` sits between digits or right after a base prefix."""
    body = text[1:] if text[:1] in "+-" else text
    is_hex = body[:2] in ("0x", "0X")
    previous = "digit" if is_hex else "start"
    for char in body[2:] if is_hex else body:
        if char.isdigit() or (is_hex and char in "abcdefABCDEF"):
            previous = "digit"
        elif char == "_":
            if previous != "digit":
                return False
            previous = "underscore"
        elif previous == "underscore":
            return False
        else:
            previous = "other"
    return previous != "underscore"
