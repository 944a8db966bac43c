"""Go literal syntax for template constants: numbers, quoted strings, character constants.

Used by the template parser only.
"""

from __future__ import annotations

import re

__all__ = ["parse_number", "unquote"]

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
_INT = re.compile(r"[+-]?(0[xX][0-9A-Fa-f_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9_]*)")
_FLOAT = re.compile(
    r"[+-]?([0-9][0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?|\.[0-9_]+([eE][+-]?[0-9_]+)?)"
)


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


def parse_number(text: str, *, is_char: bool = False) -> int | float:
    """Evaluate a numeric constant as Go's template executor does (int, else float)."""
    if is_char:
        decoded = unquote(text)
        if len(decoded) != 1:
            raise ValueError("bad character constant")
        return ord(decoded)
    if _INT.fullmatch(text):
        digits = text.replace("_", "")
        if re.fullmatch(r"[+-]?0[0-7]+", digits):
            return int(digits.replace("0", "0o", 1), 8)
        return int(digits, 0)
    if _FLOAT.fullmatch(text):
        return float(text.replace("_", ""))
    raise ValueError(f"bad number syntax: {text}")
