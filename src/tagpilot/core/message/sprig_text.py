"""Sprig's hermetic string and hashing functions: ``trim``, ``replace``, ``sha256sum``...

Faithful to Masterminds/sprig v3 argument order (``contains SUBSTR STR``, ``trimPrefix
PREFIX STR``, ``replace OLD NEW SRC``...).  Functions that can multiply their input
(``repeat``, ``indent``, ``replace``, ``regexReplaceAll``) check the size first.
Regular expressions use RE2, like Go's ``regexp``.  Part of ``functions.function_map``.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable

from tagpilot.core.message.calls import ANY, INT, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.gofmt import format_value, go_quote

__all__ = ["TEXT_FUNCS", "go_lower", "go_upper", "strval"]


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


def _digest(name: str) -> Callable[[CallContext, str], str]:
    def digest(ctx: CallContext, text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    return digest


def _plain(function: Callable[..., object]) -> Callable[..., object]:
    def call(ctx: CallContext, *args: object) -> object:
        return function(*args)

    return call


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
)
