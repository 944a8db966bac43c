"""A block-style YAML printer that writes what Go's ``gopkg.in/yaml.v2`` (v2.4) writes.

``flux create ... --export`` marshals objects to JSON and converts that to YAML with
go-yaml v2 (through ``sigs.k8s.io/yaml``).  :func:`emit_document` reproduces that output
for trees of dicts, lists, strings, ints, floats, bools and ``None``:

* mapping keys in go-yaml's "natural" order (:func:`natural_key_less`), two-space indent,
  sequences inside mappings not indented, empty collections as ``{}`` / ``[]``;
* a string is plain unless a YAML 1.1 reader would take it for something else (numbers,
  ``yes``/``no``/``on``/``off``, ``null``, ``~``, timestamps, base-60 floats, ``""``): then
  double-quoted; if plain is merely not allowed (leading indicator, ``: ``, `` #``, leading or
  trailing space) it is single-quoted; strings with a newline become literal blocks;
* long plain and quoted scalars are folded at spaces once the line passes 80 columns.

Called by :mod:`tagpilot.api.export`.  Pure: values in, text out.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["emit_document", "natural_key_less", "needs_double_quotes", "scalar_style"]

BEST_WIDTH = 80
INDENT = 2

_BOOL_NULL_FLOAT = frozenset(
    {
        *("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"),
        *("true", "True", "TRUE", "false", "False", "FALSE"),
        *("on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL"),
        *(".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"),
        *("+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"),
    }
)
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_GO_INT = re.compile(
    r"^[-+]?(0[xX](_?[0-9a-fA-F])+|0[oO](_?[0-7])+|0[bB](_?[01])+|0(_?[0-7])*|[1-9](_?[0-9])*)$"
)
_GO_FLOAT = re.compile(
    r"^[-+]?(([0-9](_?[0-9])*)?\.?([0-9](_?[0-9])*)?([eE][-+]?[0-9](_?[0-9])*)?"
    r"|inf|infinity|nan)$",
    re.IGNORECASE,
)
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]{1,9})?(Z|[-+][0-9]{2}:[0-9]{2})?)?$"
)


def _parses_as_go_float(text: str) -> bool:
    """Whether Go ``strconv.ParseFloat`` accepts ``text`` (decimal forms that matter here)."""
    return bool(text) and any(ch.isdigit() for ch in text) and bool(_GO_FLOAT.match(text))


def _resolves_to_non_string(text: str) -> bool:
    """go-yaml v2 ``resolve``: would this plain scalar read back as a non-string?"""
    if text == "" or text in _BOOL_NULL_FLOAT:
        return True
    head = text[0]
    if head == ".":
        return _parses_as_go_float(text) and "_" not in text
    if not (head.isdigit() or head in "+-"):
        return False
    if _TIMESTAMP.match(text):
        return True
    plain = text.replace("_", "")
    if _GO_INT.match(plain) or _YAML_FLOAT.match(plain):
        return True
    return plain.startswith(("0b", "-0b")) and bool(re.fullmatch(r"-?0b[01]+", plain))


def needs_double_quotes(text: str) -> bool:
    """Whether go-yaml v2 marshals ``text`` double-quoted because plain would change its type."""
    return _resolves_to_non_string(text) or bool(
        text
        and (text[0] in "+-" or text[0].isdigit())
        and ":" in text
        and _BASE60_FLOAT.match(text)
    )


def _is_printable(ch: str) -> bool:
    code = ord(ch)
    return (
        code == 0x0A
        or 0x20 <= code <= 0x7E
        or code == 0x85
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or 0x10000 <= code <= 0x10FFFF
    )


_BREAKS = "\r\n\x85\u2028\u2029"
_LEADING_INDICATORS = "#,[]{}&*!|>'\"%@`"


def _indicators(text: str) -> bool:
    """Whether ``text`` has a block-context indicator that forbids the plain style."""
    if text.startswith(("---", "...")):
        return True
    preceded_by_space = True
    for index, ch in enumerate(text):
        followed_by_space = index + 1 >= len(text) or text[index + 1] in " \t"
        if index == 0:
            if ch in _LEADING_INDICATORS or (ch in "?:-" and followed_by_space):
                return True
        elif (ch == ":" and followed_by_space) or (ch == "#" and preceded_by_space):
            return True
        preceded_by_space = ch in " \t" + _BREAKS
    return False


def _analyze(text: str) -> tuple[bool, bool, bool]:
    """Return (plain allowed, single quotes allowed, block allowed) in block context."""
    if text == "":
        return True, True, False
    special = any(not _is_printable(ch) for ch in text)
    has_break = any(ch in _BREAKS for ch in text)
    space_break = any(a == " " and b in _BREAKS for a, b in itertools.pairwise(text))
    break_space = any(a in _BREAKS and b == " " for a, b in itertools.pairwise(text))
    edge_space = text[0] in " " + _BREAKS or text[-1] in " " + _BREAKS
    plain = not (edge_space or break_space or space_break or special or has_break)
    plain = plain and not _indicators(text)
    single = not (break_space or space_break or special)
    block = not (text[-1] == " " or space_break or special)
    return plain, single, block


def scalar_style(text: str, *, simple_key: bool = False) -> str:
    """The style go-yaml v2 picks for string ``text``: plain, single, double or literal."""
    plain, single, block = _analyze(text)
    if "\n" in text:
        requested = "literal"
    elif not needs_double_quotes(text):
        requested = "plain"
    else:
        requested = "double"
    if requested == "plain" and (not plain or (text == "" and simple_key)):
        requested = "single"
    if requested == "single" and not single:
        requested = "double"
    if requested == "literal" and (not block or simple_key):
        requested = "double"
    return requested


_ESCAPES = {
    0x00: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r",
    0x1B: "e", 0x22: '"', 0x5C: "\\", 0x85: "N", 0xA0: "_", 0x2028: "L", 0x2029: "P",
}  # fmt: skip


def _escape(ch: str) -> str:
    code = ord(ch)
    if code in _ESCAPES:
        return "\\" + _ESCAPES[code]
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


class _Line:
    """The output buffer with go-yaml's column bookkeeping."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.column = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.column += len(text)

    def newline(self, indent: int) -> None:
        self.parts.append("\n" + " " * indent)
        self.column = indent

    def text(self) -> str:
        return "".join(self.parts)


def _write_folding(out: _Line, text: str, indent: int, quote: str, allow_breaks: bool) -> None:
    """Write a plain or quoted scalar, folding at single spaces past the 80th column."""
    previous_space = False
    for index, ch in enumerate(text):
        if ch == " ":
            following = text[index + 1] if index + 1 < len(text) else ""
            inner = quote == "" or 0 < index < len(text) - 1
            fold = allow_breaks and not previous_space and out.column > BEST_WIDTH and inner
            if fold and (quote == '"' or following != " "):
                out.newline(indent)
                if quote == '"' and following == " ":
                    out.write("\\")
            else:
                out.write(ch)
            previous_space = True
            continue
        if quote == '"' and (not _is_printable(ch) or ch in _BREAKS + '"\\' or ch == "\ufeff"):
            out.write(_escape(ch))
        else:
            out.write("''" if quote == "'" and ch == "'" else ch)
        previous_space = False


def _write_literal(out: _Line, text: str, indent: int) -> None:
    if text[0] in " " + _BREAKS:
        out.write(str(INDENT))
    stripped = text.rstrip("\n")
    trailing = len(text) - len(stripped)
    out.write("-" if trailing == 0 else "+" if trailing > 1 or stripped == "" else "")
    for line in text.split("\n")[: -1 if text.endswith("\n") else None]:
        out.parts.append("\n")
        out.column = 0
        if line:
            out.write(" " * indent + line)


def _write_string(out: _Line, text: str, indent: int, *, simple_key: bool = False) -> None:
    style = scalar_style(text, simple_key=simple_key)
    out.write(" " if out.column and not simple_key else "")
    if style == "literal":
        out.write("|")
        _write_literal(out, text, indent)
        return
    quote = {"plain": "", "single": "'", "double": '"'}[style]
    out.write(quote)
    _write_folding(out, text, indent, quote, allow_breaks=not simple_key)
    out.write(quote)


def _format_number(value: int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def _write_scalar(out: _Line, value: Any, indent: int) -> None:
    if isinstance(value, str):
        _write_string(out, value, indent)
    elif value is None:
        out.write(" null")
    else:
        out.write(" " + _format_number(value))


def natural_key_less(a: str, b: str) -> bool:
    """go-yaml v2's key order: letters by code point, non-letters first, digit runs numerically."""
    for i, (ca, cb) in enumerate(zip(a, b, strict=False)):
        if ca == cb:
            continue
        letter_a, letter_b = ca.isalpha(), cb.isalpha()
        if letter_a and letter_b:
            return ca < cb
        if letter_a or letter_b:
            return letter_b
        return _digit_run_less(a, b, i)
    return len(a) < len(b)


def _digit_run_less(a: str, b: str, i: int) -> bool:
    number_a = number_b = 0
    if a[i] == "0" or b[i] == "0":
        j = i - 1
        while j >= 0 and a[j].isdigit():
            if a[j] != "0":
                number_a = number_b = 1
                break
            j -= 1
    end_a = end_b = i
    while end_a < len(a) and a[end_a].isdigit():
        number_a = number_a * 10 + int(a[end_a])
        end_a += 1
    while end_b < len(b) and b[end_b].isdigit():
        number_b = number_b * 10 + int(b[end_b])
        end_b += 1
    if number_a != number_b:
        return number_a < number_b
    if end_a != end_b:
        return end_a < end_b
    return a[i] < b[i]


def _compare(a: str, b: str) -> int:
    return -1 if natural_key_less(a, b) else 1 if natural_key_less(b, a) else 0


def _sorted_keys(mapping: Mapping[str, Any]) -> list[str]:
    return sorted(mapping, key=functools.cmp_to_key(_compare))


def _is_collection(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        isinstance(value, Sequence) and not isinstance(value, str)
    )


def _emit_value(out: _Line, value: Any, indent: int, in_mapping: bool) -> None:
    """Emit the value after ``key:`` or ``-`` at block indent ``indent``."""
    if not _is_collection(value):
        _write_scalar(out, value, indent + INDENT)
    elif not value:
        out.write(" {}" if isinstance(value, Mapping) else " []")
    elif isinstance(value, Mapping):
        _emit_mapping(out, value, indent + INDENT, first_inline=False)
    else:
        _emit_sequence(
            out, value, indent if in_mapping else indent + INDENT, first_inline=not in_mapping
        )


def _emit_mapping(out: _Line, mapping: Mapping[str, Any], indent: int, first_inline: bool) -> None:
    for position, key in enumerate(_sorted_keys(mapping)):
        if not (first_inline and position == 0):
            out.newline(indent)
        _write_string(out, str(key), indent, simple_key=True)
        out.write(":")
        _emit_value(out, mapping[key], indent, in_mapping=True)


def _emit_sequence(out: _Line, items: Sequence[Any], indent: int, first_inline: bool) -> None:
    for position, item in enumerate(items):
        if first_inline and position == 0:
            out.write(" -")
        else:
            out.newline(indent)
            out.write("-")
        if isinstance(item, Mapping) and item:
            out.write(" ")
            _emit_mapping(out, item, indent + INDENT, first_inline=True)
        else:
            _emit_value(out, item, indent, in_mapping=False)


def emit_document(value: Mapping[str, Any]) -> str:
    """Render ``value`` (a mapping) as go-yaml v2 block YAML, ending in one newline."""
    out = _Line()
    if not value:
        return "{}\n"
    _emit_mapping(out, value, 0, first_inline=True)
    return out.text() + "\n"
