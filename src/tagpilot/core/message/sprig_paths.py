"""Sprig's hermetic path and URL functions: ``base``, ``dir``, ``clean``, ``urlParse``...

Paths follow Go's ``path`` package (slash-separated, purely lexical).  The ``os*``
variants use ``path/filepath``, which on Linux, where Flux runs, is the same.  URLs
follow Go's ``net/url``: ``urlParse`` gives Sprig's dictionary of unescaped parts and
``urlJoin`` builds the string back with Go's escaping.  Part of ``functions``.
"""

from __future__ import annotations

import re
import string
from urllib.parse import unquote_to_bytes

from tagpilot.core.message.calls import DICT, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.gofmt import format_value, go_quote

__all__ = ["PATH_FUNCS", "go_clean"]

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-_.~")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def go_clean(path: str) -> str:
    """Go's ``path.Clean``: the shortest equivalent path, lexically."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part != "..":
            parts.append(part)
        elif parts and parts[-1] != "..":
            parts.pop()
        elif not rooted:
            parts.append("..")
    cleaned = ("/" if rooted else "") + "/".join(parts)
    return cleaned or "."


def _base(ctx: CallContext, path: str) -> str:
    if not path:
        return "."
    path = path.rstrip("/")
    return path.rsplit("/", 1)[-1] if path else "/"


def _dir(ctx: CallContext, path: str) -> str:
    return go_clean(path[: path.rfind("/") + 1])


def _ext(ctx: CallContext, path: str) -> str:
    name = path[path.rfind("/") + 1 :]
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def _escape(text: str, keep: str) -> str:
    """Go's ``url`` escaping: unreserved bytes and ``keep`` stay, the rest is ``%XX``."""
    return "".join(
        chr(byte) if chr(byte) in _UNRESERVED or chr(byte) in keep else f"%{byte:02X}"
        for byte in text.encode()
    )


_PATH_KEEP = "$&+,/:;=@"
_FRAGMENT_KEEP = "$&+,/:;=?@!()*"
_USER_KEEP = "$&+,;="
_HOST_KEEP = "!$&'()*+,;=:[]<>\""


def _unescape(text: str, *, query: bool = False) -> str:
    for match in re.finditer(r"%(.{0,2})", text):
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", match.group(1)):
            raise FuncError(f"unable to parse url: invalid URL escape {go_quote(match.group(0))}")
    if query:
        text = text.replace("+", " ")
    return unquote_to_bytes(text).decode(errors="replace")


def _split_authority(rest: str) -> tuple[str, str, str]:
    """(userinfo, host, path) of ``//authority/path`` (``rest`` without the slashes)."""
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    at = authority.rfind("@")
    if at < 0:
        return "", authority, path
    return authority[:at], authority[at + 1 :], path


def _userinfo(raw: str) -> str:
    username, colon, password = raw.partition(":")
    text = _escape(_unescape(username), _USER_KEEP)
    return text + (":" + _escape(_unescape(password), _USER_KEEP) if colon else "")


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _check_host(raw: str, host: str) -> None:
    """Go's ``parseHost`` checks: a closed IPv6 bracket and a numeric port."""
    port_at = host.rfind(":")
    if host.startswith("["):
        if "]" not in host:
            raise FuncError(f"unable to parse url: parse {go_quote(raw)}: missing ']' in host")
        port_at = host.find(":", host.find("]"))
    port = host[port_at:] if port_at >= 0 else ""
    if port and not port[1:].isdigit() and port != ":":
        detail = f"invalid port {go_quote(port)} after host"
        raise FuncError(f"unable to parse url: parse {go_quote(raw)}: {detail}")


def _url_parse(ctx: CallContext, raw: str) -> dict[str, object]:
    if any(ord(char) < 0x20 or char == "\x7f" for char in raw):
        raise FuncError("unable to parse url: net/url: invalid control character in URL")
    rest, _, fragment = raw.partition("#")
    parts = {"scheme": "", "host": "", "hostname": "", "path": "", "query": ""}
    parts |= {"opaque": "", "fragment": _unescape(fragment), "userinfo": ""}
    scheme = _SCHEME.match(rest)
    if scheme and rest[scheme.end() : scheme.end() + 1] == ":":
        parts["scheme"] = scheme.group(0).lower()
        rest = rest[scheme.end() + 1 :]
    elif rest.startswith(":"):
        raise FuncError(f"unable to parse url: parse {go_quote(raw)}: missing protocol scheme")
    rest, _, parts["query"] = rest.partition("?")
    if parts["scheme"] and not rest.startswith("/"):
        parts["opaque"] = rest
    elif rest.startswith("//"):
        userinfo, host, rest = _split_authority(rest[2:])
        _check_host(raw, host)
        parts |= {"userinfo": _userinfo(userinfo) if userinfo else "", "host": _unescape(host)}
        parts["hostname"] = _hostname(str(parts["host"]))
        parts["path"] = _unescape(rest)
    else:
        if ":" in rest.split("/", 1)[0]:
            detail = "first path segment in URL cannot contain colon"
            raise FuncError(f"unable to parse url: parse {go_quote(raw)}: {detail}")
        parts["path"] = _unescape(rest)
    return dict(parts)


def _part(mapping: dict[str, object], key: str) -> str:
    value = mapping.get(key)
    return "" if value is None else format_value(value)


def _url_join(ctx: CallContext, mapping: dict[str, object]) -> str:
    scheme, host, path = _part(mapping, "scheme"), _part(mapping, "host"), _part(mapping, "path")
    opaque, query, user = (
        _part(mapping, "opaque"),
        _part(mapping, "query"),
        _part(mapping, "userinfo"),
    )
    out = f"{scheme}:" if scheme else ""
    if opaque:
        out += opaque
    else:
        if scheme or host or user:
            if host or path or user:
                out += "//"
            if user:
                out += _userinfo(user) + "@"
            out += _escape(host, _HOST_KEEP)
        escaped = _escape(path, _PATH_KEEP)
        if escaped and not escaped.startswith("/") and host:
            out += "/"
        if not out and ":" in escaped.split("/", 1)[0]:
            out += "./"
        out += escaped
    if query:
        out += "?" + query
    fragment = _part(mapping, "fragment")
    return out + ("#" + _escape(fragment, _FRAGMENT_KEEP) if fragment else "")


def _is_abs(ctx: CallContext, path: str) -> bool:
    return path.startswith("/")


def _clean(ctx: CallContext, path: str) -> str:
    return go_clean(path)


_PATH_IMPLS = (_base, _dir, _clean, _ext, _is_abs)

PATH_FUNCS: tuple[FuncSpec, ...] = (
    *(
        FuncSpec(name, impl, (STRING,))
        for name, impl in zip(("base", "dir", "clean", "ext", "isAbs"), _PATH_IMPLS, strict=True)
    ),
    *(
        FuncSpec(name, impl, (STRING,))
        for name, impl in zip(
            ("osBase", "osDir", "osClean", "osExt", "osIsAbs"), _PATH_IMPLS, strict=True
        )
    ),
    FuncSpec("urlParse", _url_parse, (STRING,)),
    FuncSpec("urlJoin", _url_join, (DICT,)),
)
