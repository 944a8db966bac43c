"""Writing a new value into a scalar's text while keeping its style.

``splice_for`` returns the exact replacement for one marked scalar; ``apply_setters``
splices it into the original text.  The rule (a deliberate difference from Flux, which
re-serialises the file and may write stale ``!!int``/``!!float`` tags): keep the scalar's
style, and double-quote a plain value that would not read back as the same string under
YAML 1.1 or 1.2 (``1.10``, ``20251115``, ``yes``, ``null``, ``""`` ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tagpilot.core.setters._locate import MarkedScalar

__all__ = ["Splice", "double_quoted", "needs_quotes", "splice_for"]

_NON_STRING_PLAIN = re.compile(
    r"""
    # YAML 1.1 and 1.2 core booleans and nulls
    y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE
    |on|On|ON|off|Off|OFF|~|null|Null|NULL
    # integers: 1.1 binary/octal/decimal/hex/sexagesimal, 1.2 octal
    |[-+]?0b[01_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    # floats: 1.1 (dot required, underscores, sexagesimal) and 1.2 core (exponent alone)
    |[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    # 1.1 timestamps, merge and value keys
    |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}
      (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?
    |<<|=
    """,
    re.VERBOSE,
)
# Plain text may not start with an indicator, hold ": " or " #", end in ":" or space,
# or (in flow context) hold flow indicators.
_PLAIN_UNSAFE = re.compile(r"^[-?:,\[\]{}#&*!|>'\"%@`\s]|[,\[\]{}]|:\s|:$|\s#|\s$")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_ODD_LINE_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")
_DOUBLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


@dataclass(frozen=True)
class Splice:
    """Replace ``text[start:end]`` with ``replacement``."""

    start: int
    end: int
    replacement: str


def needs_quotes(value: str) -> bool:
    """True when ``value`` written plain would not read back as this exact string."""
    if value == "" or not value.isprintable():
        return True
    return bool(_NON_STRING_PLAIN.fullmatch(value) or _PLAIN_UNSAFE.search(value))


def double_quoted(value: str) -> str:
    """``value`` as a double-quoted YAML scalar."""
    escaped = "".join(_DOUBLE_ESCAPES.get(char, _escape_control(char)) for char in value)
    return f'"{escaped}"'


def _escape_control(char: str) -> str:
    if char.isprintable():
        return char
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def _single_quoted(value: str) -> str:
    if not value.isprintable():
        return double_quoted(value)
    return "'" + value.replace("'", "''") + "'"


def splice_for(text: str, scalar: MarkedScalar, value: str) -> Splice:
    """The splice that writes ``value`` into ``scalar``, keeping its style where it can."""
    if scalar.style in ("|", ">"):
        return _block_splice(text, scalar, value)
    if scalar.style == "'":
        replacement = _single_quoted(value)
    elif scalar.style == '"' or needs_quotes(value):
        replacement = double_quoted(value)
    else:
        replacement = value
    if scalar.start == scalar.end and scalar.start > 0 and not text[scalar.start - 1].isspace():
        # An empty value right after its ``key:`` (``tag:  # {"$imagepolicy": ...}``):
        # without a space the new text would join the key instead of becoming its value.
        replacement = " " + replacement
    return Splice(scalar.start, scalar.end, scalar.kept_properties + replacement)


def _block_splice(text: str, scalar: MarkedScalar, value: str) -> Splice:
    """Replace a block scalar's content lines; keep the header (indicator and comment)."""
    first_break = _LINE_BREAK.search(text, scalar.start, scalar.end)
    header_end = scalar.end if first_break is None else first_break.end()
    header = text[scalar.start : header_end]
    # Content lines are only rewritten in place for LF and CRLF files; YAML also breaks
    # lines at a bare CR, NEL, LS and PS, which are rare enough to take the fallback.
    odd_breaks = _ODD_LINE_BREAK.search(text, scalar.start, scalar.end) is not None
    content = None if odd_breaks else _content_span(text, header_end, scalar.end)
    explicit_indent = any(char.isdigit() for char in header.split("#")[0])
    if explicit_indent or content is None or not _one_line(value):
        return _block_fallback(scalar, value, header)
    return Splice(content[0], content[1], value)


def _content_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """From the first non-blank character of the content to the end of its last line.

    The indentation before the first line and every line break (LF or CRLF) and
    trailing blank line are kept.
    """
    first: int | None = None
    last = start
    position = start
    while position < end:
        line_end = text.find("\n", position, end)
        line_end = end if line_end < 0 else line_end
        line = text[position:line_end].rstrip("\r")
        if line.strip():
            first = position + len(line) - len(line.lstrip()) if first is None else first
            last = position + len(line)
        position = line_end + 1
    return None if first is None else (first, last)


def _one_line(value: str) -> bool:
    return value != "" and value == value.strip() and value.isprintable()


def _block_fallback(scalar: MarkedScalar, value: str, header: str) -> Splice:
    # A value a block scalar cannot hold as one plain line (empty, say) becomes a
    # double-quoted scalar; the header's comment (the marker) stays on its line.
    indicator = re.match(r"[|>][0-9+-]*", header)
    rest = header[indicator.end() if indicator else 0 :]
    return Splice(scalar.start, scalar.end, double_quoted(value) + rest)
