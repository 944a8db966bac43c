"""Sprig's hermetic string, hashing, encoding and regular expression functions.

Faithful to Masterminds/sprig v3 argument order (``contains SUBSTR STR``, ``trimPrefix
PREFIX STR``, ``replace OLD NEW SRC``...).  Functions that can multiply their input
(``repeat``, ``indent``, ``replace``, ``regexReplaceAll``) check the size first.
Regular expressions use RE2, like Go's ``regexp``.  Part of ``functions.function_map``.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable

import re2

from tagpilot.core.message.calls import ANY, INT, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.gofmt import format_value, go_quote

__all__ = ["TEXT_FUNCS", "go_lower", "go_upper", "strval"]

_STEPS_PER_MATCH = 4  # a regex match costs several microseconds more than a plain step


def strval(value: object) -> str:
    """Sprig's ``strval``: strings as they are, Stringers via ``String()``, else ``%v``."""
    return format_value(value)


def _simple(char: str, mapped: str) -> str:
    return mapped if len(mapped) == 1 else char


def go_upper(text: str) -> str:
    """Go's ``strings.ToUpper`` (simple case mapping: one rune in, one rune out)."""
    return "".join(_simple(c, c.upper()) for c in text)


def go_lower(text: str) -> str:
    """Go's ``strings.ToLower`` (simple case mapping)."""
    return "".join(_simple(c, c.lower()) for c in text)


def _is_separator(char: str) -> bool:
    if char.isascii():
        return not (char.isalnum() or char == "_")
    return char.isspace()


def _title(ctx: CallContext, text: str) -> str:
    out, previous = [], " "
    for char in text:
        out.append(_simple(char, char.title()) if _is_separator(previous) else char)
        previous = char
    return "".join(out)


def _repeat(ctx: CallContext, count: int, text: str) -> str:
    if count < 0:
        raise FuncError("strings: negative Repeat count")
    ctx.check_size(count * len(text.encode()), "string")
    return text * count


def _indent_text(ctx: CallContext, spaces: int, text: str) -> str:
    if spaces < 0:
        raise FuncError("strings: negative Repeat count")
    ctx.check_size(len(text.encode()) + spaces * (text.count("\n") + 1), "string")
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def _replace(ctx: CallContext, old: str, new: str, src: str) -> str:
    count = len(src) + 1 if old == "" else src.count(old)
    ctx.check_size(len(src.encode()) + count * len(new.encode()), "string")
    if old == "":
        return new + new.join(src) + new if src else new
    return src.replace(old, new)


def _trunc(ctx: CallContext, count: int, text: str) -> str:
    raw = text.encode()
    if count < 0 and len(raw) + count > 0:
        raw = raw[len(raw) + count :]
    elif count >= 0 and len(raw) > count:
        raw = raw[:count]
    return raw.decode(errors="replace")


def _substr(ctx: CallContext, start: int, end: int, text: str) -> str:
    raw = text.encode()
    if start < 0:
        piece = raw[:end]
    elif end < 0 or end > len(raw):
        piece = raw[start:]
    else:
        piece = raw[start:end]
    if start > len(raw) or (start >= 0 and 0 <= end < start):
        raise FuncError(f"slice bounds out of range [{start}:{end}]")
    return piece.decode(errors="replace")


def _quote_all(quoter: Callable[[str], str], args: tuple[object, ...]) -> str:
    return " ".join(quoter(strval(arg)) for arg in args if arg is not None)


def _cat(ctx: CallContext, *args: object) -> str:
    return " ".join(strval(arg) for arg in args if arg is not None)


def _compile(pattern: str) -> re2._Regexp:
    # Patterns and subjects go to RE2 as UTF-8 bytes (as in Go): str matching in the
    # binding re-measures offsets per match, which is quadratic on long subjects.
    try:
        return re2.compile(pattern.encode())
    except re2.error as error:
        raise FuncError(f"regexp: Compile({go_quote(pattern)}): {error}") from None


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


def _digest(name: str) -> Callable[[CallContext, str], str]:
    def digest(ctx: CallContext, text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    return digest


def _plain(function: Callable[..., object]) -> Callable[..., object]:
    def call(ctx: CallContext, *args: object) -> object:
        return function(*args)

    return call


def _with_must(
    name: str, impl: Callable[..., object], params: tuple[str, ...]
) -> tuple[FuncSpec, ...]:
    """``name`` and ``mustName``: Sprig's plain form panics on a bad pattern, the other returns
    the error; a template reports both the same way."""
    must = "must" + name[0].upper() + name[1:]
    return FuncSpec(name, impl, params), FuncSpec(must, impl, params)


TEXT_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("upper", _plain(go_upper), (STRING,)),
    FuncSpec("lower", _plain(go_lower), (STRING,)),
    FuncSpec("title", _title, (STRING,)),
    FuncSpec("trim", _plain(str.strip), (STRING,)),
    FuncSpec("trimAll", _plain(lambda cut, s: s.strip(cut)), (STRING, STRING)),
    FuncSpec("trimall", _plain(lambda cut, s: s.strip(cut)), (STRING, STRING)),
    FuncSpec("trimPrefix", _plain(lambda p, s: s.removeprefix(p)), (STRING, STRING)),
    FuncSpec("trimSuffix", _plain(lambda p, s: s.removesuffix(p)), (STRING, STRING)),
    FuncSpec("contains", _plain(lambda sub, s: sub in s), (STRING, STRING)),
    FuncSpec("hasPrefix", _plain(lambda p, s: s.startswith(p)), (STRING, STRING)),
    FuncSpec("hasSuffix", _plain(lambda p, s: s.endswith(p)), (STRING, STRING)),
    FuncSpec("nospace", _plain(lambda s: "".join(s.split())), (STRING,)),
    FuncSpec("repeat", _repeat, (INT, STRING)),
    FuncSpec("replace", _replace, (STRING, STRING, STRING)),
    FuncSpec("trunc", _trunc, (INT, STRING)),
    FuncSpec("substr", _substr, (INT, INT, STRING)),
    FuncSpec("indent", _indent_text, (INT, STRING)),
    FuncSpec("nindent", lambda ctx, n, s: "\n" + _indent_text(ctx, n, s), (INT, STRING)),
    FuncSpec("quote", _plain(lambda *a: _quote_all(go_quote, a)), (), ANY),
    FuncSpec("squote", _plain(lambda *a: _quote_all(lambda s: f"'{s}'", a)), (), ANY),
    FuncSpec("cat", _cat, (), ANY),
    FuncSpec("toString", _plain(strval), (ANY,)),
    FuncSpec("sha1sum", _digest("sha1"), (STRING,)),
    FuncSpec("sha256sum", _digest("sha256"), (STRING,)),
    FuncSpec("sha512sum", _digest("sha512"), (STRING,)),
    FuncSpec("adler32sum", lambda ctx, text: str(zlib.adler32(text.encode())), (STRING,)),
    FuncSpec("regexMatch", _regex_match, (STRING, STRING)),
    FuncSpec("mustRegexMatch", _must_regex_match, (STRING, STRING)),
    *_with_must("regexFind", _regex_find, (STRING, STRING)),
    *_with_must("regexFindAll", _regex_find_all, (STRING, STRING, INT)),
    *_with_must("regexReplaceAll", _regex_replace_all, (STRING, STRING, STRING)),
    *_with_must("regexReplaceAllLiteral", _regex_replace_literal, (STRING, STRING, STRING)),
    *_with_must("regexSplit", _regex_split, (STRING, STRING, INT)),
    FuncSpec("regexQuoteMeta", _quote_meta, (STRING,)),
)
