"""Go literal syntax for template constants: numbers, quoted strings, character constants.

Used by the template parser, and by Sprig's conversions (``strconv`` number syntax).
"""

from __future__ import annotations

import re

__all__ = ["parse_go_float", "parse_go_int", "parse_number", "unquote"]

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[0-7]{3}|.)", re.S)
_PREFIXED = re.compile(r"0([xX][0-9A-Fa-f_]*|[oO][0-7_]*|[bB][01_]*)")
_OCTAL = re.compile(r"0[0-7_]*")
_DECIMAL = re.compile(r"[1-9][0-9_]*|0")
_DEC_FLOAT = re.compile(r"([0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)([eE][+-]?[0-9][0-9_]*)?")
_HEX_FLOAT = re.compile(r"0[xX]([0-9A-Fa-f_]*\.?[0-9A-Fa-f_]*)[pP][+-]?[0-9][0-9_]*")
_COMPLEX_SPLIT = re.compile(r"(?<=[^eEpP+-])[+-]")
_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1


def _escape(match: re.Match[str], quote: str) -> str:
    body = match.group(1)
    if body[0] in "xuU" and len(body) > 1:
        return chr(int(body[1:], 16))
    if body.isdigit() and len(body) == 3:
        return chr(int(body, 8))
    if body in _SIMPLE_ESCAPES and (body not in "'\"" or body == quote):
        return _SIMPLE_ESCAPES[body]
    raise ValueError(f"invalid escape \\{body}")


def unquote(literal: str) -> str:
    """Decode a Go string literal: ``"..."`` with escapes, or a raw string in backquotes."""
    if literal.startswith("`"):
        return literal[1:-1].replace("\r", "")
    if len(literal) < 2 or literal[0] != literal[-1]:
        raise ValueError("unterminated string")
    quote = literal[0]
    return _ESCAPE.sub(lambda match: _escape(match, quote), literal[1:-1])


def _underscores_ok(text: str) -> bool:
    """Go's ``underscoreOK``: an underscore only between digits or after a base prefix."""
    if "_" not in text:
        return True
    body = text.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1] in "xXoObB":
        body = "0" + body[2:]  # "0x_1F": the prefix counts as a digit
    return not re.search(r"(^|[^0-9A-Fa-f])_|_($|[^0-9A-Fa-f])|__", body)


def parse_go_int(text: str) -> int | None:
    """``strconv.ParseInt``/``ParseUint`` with base 0, or None when the text is no integer."""
    body = text.lstrip("+-")
    if len(text) - len(body) > 1 or not _underscores_ok(text):
        return None
    digits = body.replace("_", "")
    if _PREFIXED.fullmatch(body) and len(digits) > 2:
        value = int(digits, 0)
    elif _OCTAL.fullmatch(body):
        value = int(digits, 8)
    elif _DECIMAL.fullmatch(body):
        value = int(digits)
    else:
        return None
    return -value if text.startswith("-") else value


def parse_go_float(text: str) -> float | None:
    """``strconv.ParseFloat``: decimal and hexadecimal (``0x1.8p3``) forms, underscores."""
    body = text.lstrip("+-")
    if len(text) - len(body) > 1 or not _underscores_ok(text):
        return None
    digits = body.replace("_", "")
    if _HEX_FLOAT.fullmatch(body):
        mantissa = _HEX_FLOAT.fullmatch(body)
        if mantissa is None or mantissa.group(1).replace("_", "") in ("", "."):
            return None
        value = float.fromhex(digits)
    elif _DEC_FLOAT.fullmatch(body):
        value = float(digits)
    else:
        return None
    return -value if text.startswith("-") else value


def _parse_complex(text: str) -> complex | None:
    """A constant ending in ``i``: ``1.5i`` (imaginary) or ``1+2i`` (as ``fmt.Sscan`` reads it)."""
    imaginary = parse_go_float(text[:-1])
    if imaginary is not None:
        return complex(0, imaginary)
    parts = _COMPLEX_SPLIT.split(text[:-1], maxsplit=1)
    if len(parts) != 2:
        return None
    sign = text[len(parts[0])]
    real, imaginary = parse_go_float(parts[0]), parse_go_float(sign + parts[1])
    if real is None or imaginary is None:
        return None
    return complex(real, imaginary)


def parse_number(text: str, *, is_char: bool = False) -> int | float | complex:
    """Evaluate a numeric constant as Go's template parser and executor do.

    Complex constants (``1.5i``, ``1+2i``) stay complex; integers (``0x1F``, ``0o17``,
    ``017``, ``0b101``, ``1_000``) are ints; everything else Go's ``ParseFloat`` reads
    (``1e3``, ``0x1.ep+2``) is a float.  Raises ``ValueError`` naming the problem.
    """
    if is_char:
        decoded = unquote(text)
        if len(decoded) != 1:
            raise ValueError("bad character constant")
        return ord(decoded)
    if text.endswith("i"):
        value = _parse_complex(text)
        if value is None:
            raise ValueError(f"bad number syntax: {text}")
        return value
    integer = parse_go_int(text)
    if integer is not None:
        if integer > _INT64_MAX:
            if integer <= _UINT64_MAX:
                raise ValueError(f"{text} overflows int")
            return float(integer)
        if integer < -_INT64_MAX - 1:
            return float(integer)
        return integer
    number = parse_go_float(text)
    if number is None:
        raise ValueError(f"bad number syntax: {text}")
    return number
