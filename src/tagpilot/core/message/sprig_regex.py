"""Sprig's regular expression functions, on RE2 like Go's ``regexp``.

Patterns and subjects go to RE2 as UTF-8 bytes, as in Go.  Compile errors read as
Go's (``regexp: Compile(`(`): error parsing regexp: missing closing ): `(```);
``regexMatch`` alone treats a bad pattern as no match.  Each ``mustX`` behaves as ``X``
in a template (see ``sprig_lists``).  Matches cost steps, and replacements check the
size limit as they grow.  Part of ``functions``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import re2

from tagpilot.core.message.calls import INT, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.gofmt import go_quote

__all__ = ["REGEX_FUNCS"]

_STEPS_PER_MATCH = 4  # a regex match costs several microseconds more than a plain step
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every bad pattern on standard error
_GO_ERRORS = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "bad repetition operator": "invalid nested repetition operator",
    "no argument for repetition operator": "missing argument to repetition operator",
    "trailing \\": "trailing backslash at end of expression",
    "invalid repetition size": "invalid repeat count",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
}


def _go_regexp_quote(pattern: str) -> str:
    if "`" not in pattern and all(
        c == "\t" or (c.isprintable() and c != "\ufeff") for c in pattern
    ):
        return f"`{pattern}`"
    return go_quote(pattern)


def _go_parse_error(error: re2.error) -> str:
    text = error.args[0].decode(errors="replace") if error.args else str(error)
    code, _, fragment = text.partition(": ")
    if code.startswith("trailing"):
        code, fragment = "trailing \\", ""
    return f"error parsing regexp: {_GO_ERRORS.get(code, code)}: `{fragment}`"


def _compile(pattern: str) -> re2._Regexp:
    # Patterns and subjects go to RE2 as UTF-8 bytes (as in Go): str matching in the
    # binding re-measures offsets per match, which is quadratic on long subjects.
    try:
        return re2.compile(pattern.encode(), options=_OPTIONS)
    except re2.error as error:
        detail = _go_parse_error(error)
        raise FuncError(f"regexp: Compile({_go_regexp_quote(pattern)}): {detail}") from None


def _text(raw: bytes) -> str:
    return raw.decode(errors="replace")


def _must_regex_match(ctx: CallContext, pattern: str, text: str) -> bool:
    return _compile(pattern).search(text.encode()) is not None


def _regex_match(ctx: CallContext, pattern: str, text: str) -> bool:
    try:
        return _must_regex_match(ctx, pattern, text)
    except FuncError:
        return False


def _regex_find(ctx: CallContext, pattern: str, text: str) -> str:
    match = _compile(pattern).search(text.encode())
    return _text(match.group(0)) if match else ""


def _regex_find_all(ctx: CallContext, pattern: str, text: str, limit: int) -> list[object]:
    found: list[object] = []
    for match in _compile(pattern).finditer(text.encode()):
        if 0 <= limit <= len(found):
            break
        ctx.charge(_STEPS_PER_MATCH)
        found.append(_text(match.group(0)))
    return found


_META = frozenset("\\.+*?()|[]{}^$")
_EXPAND = re.compile(r"\$(\$|\{(\w+)\}|(\w+))")


def _expansion_parts(template: str) -> list[tuple[bool, str]]:
    """Split a Go ``Regexp.Expand`` template into (is_group_reference, text) parts."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for ref in _EXPAND.finditer(template):
        parts.append((False, template[position : ref.start()]))
        if ref.group(1) == "$":
            parts.append((False, "$"))
        else:
            parts.append((True, ref.group(2) or ref.group(3)))
        position = ref.end()
    parts.append((False, template[position:]))
    return parts


def _group(match: re2._Match, name: str) -> str:
    try:
        group = match.group(int(name) if name.isdigit() else name.encode())
    except (IndexError, re2.error, ValueError, KeyError):
        return ""
    return _text(group) if group else ""


def _expand(parts: list[tuple[bool, str]], match: re2._Match) -> str:
    return "".join(_group(match, text) if is_ref else text for is_ref, text in parts)


def _replace_all(ctx: CallContext, pattern: str, text: str, repl: str, literal: bool) -> str:
    parts = [(False, repl)] if literal else _expansion_parts(repl)
    raw = text.encode()
    out: list[str] = []
    size, position = 0, 0
    for match in _compile(pattern).finditer(raw):
        ctx.charge(_STEPS_PER_MATCH)
        piece = _text(raw[position : match.start()]) + _expand(parts, match)
        size += len(piece.encode())
        ctx.check_size(size, "string")
        out.append(piece)
        position = match.end()
    out.append(_text(raw[position:]))
    return "".join(out)


def _regex_replace_all(ctx: CallContext, pattern: str, text: str, repl: str) -> str:
    return _replace_all(ctx, pattern, text, repl, literal=False)


def _regex_replace_literal(ctx: CallContext, pattern: str, text: str, repl: str) -> str:
    return _replace_all(ctx, pattern, text, repl, literal=True)


def _regex_split(ctx: CallContext, pattern: str, text: str, limit: int) -> list[object]:
    if limit == 0:
        return []
    if pattern and not text:
        return [""]
    raw = text.encode()
    parts: list[object] = []
    begin = end = 0
    for match in _compile(pattern).finditer(raw):
        if limit > 0 and len(parts) == limit - 1:
            break
        ctx.charge(_STEPS_PER_MATCH)
        end = match.start()
        if match.end() != 0:
            parts.append(_text(raw[begin:end]))
        begin = match.end()
    if end != len(raw):
        parts.append(_text(raw[begin:]))
    return parts


def _quote_meta(ctx: CallContext, text: str) -> str:
    return "".join("\\" + c if c in _META else c for c in text)


def _with_must(
    name: str, impl: Callable[..., object], params: tuple[str, ...]
) -> tuple[FuncSpec, ...]:
    """``name`` and ``mustName``: Sprig's plain form panics on a bad pattern, the other returns
    the error; a template reports both the same way."""
    must = "must" + name[0].upper() + name[1:]
    return FuncSpec(name, impl, params), FuncSpec(must, impl, params)


REGEX_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("regexMatch", _regex_match, (STRING, STRING)),
    FuncSpec("mustRegexMatch", _must_regex_match, (STRING, STRING)),
    *_with_must("regexFind", _regex_find, (STRING, STRING)),
    *_with_must("regexFindAll", _regex_find_all, (STRING, STRING, INT)),
    *_with_must("regexReplaceAll", _regex_replace_all, (STRING, STRING, STRING)),
    *_with_must("regexReplaceAllLiteral", _regex_replace_literal, (STRING, STRING, STRING)),
    *_with_must("regexSplit", _regex_split, (STRING, STRING, INT)),
    FuncSpec("regexQuoteMeta", _quote_meta, (STRING,)),
)
