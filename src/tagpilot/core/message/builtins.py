"""Go ``text/template``'s predefined functions (``print``, ``len``, ``index``, ``eq``, ...).

``and``/``or`` are listed so the parser knows them; the executor evaluates them lazily.
Consumed through ``functions.function_map``; Sprig entries override these like Go's
``Funcs`` does (which is how Sprig's list-only ``slice`` replaces the built-in).
"""

from __future__ import annotations

from tagpilot.core.message.calls import ANY, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import GoStruct, TypedMap, go_type_name
from tagpilot.core.message.gofmt import sprint, sprintf, sprintln
from tagpilot.core.message.truth import is_true

__all__ = ["BUILTINS"]

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}
_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E"}
_JS |= {"&": "\\u0026", "=": "\\u003D"}


def _checked(ctx: CallContext, text: str) -> str:
    ctx.check_size(len(text.encode()), "string")
    return text


def _print(ctx: CallContext, *args: object) -> str:
    return _checked(ctx, sprint(args))


def _println(ctx: CallContext, *args: object) -> str:
    return _checked(ctx, sprintln(args))


def _printf(ctx: CallContext, template: str, *args: object) -> str:
    return _checked(ctx, sprintf(template, args, max_width=ctx.max_value_bytes))


def _escaper_input(args: tuple[object, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(args)


def _html(ctx: CallContext, *args: object) -> str:
    return _checked(ctx, "".join(_HTML.get(c, c) for c in _escaper_input(args)))


def _js_char(char: str) -> str:
    if char in _JS:
        return _JS[char]
    if ord(char) < 0x20:
        return f"\\u00{ord(char):02X}"
    if ord(char) >= 0x80 and not char.isprintable():
        return f"\\u{ord(char):04X}"
    return char


def _js(ctx: CallContext, *args: object) -> str:
    return _checked(ctx, "".join(_js_char(c) for c in _escaper_input(args)))


def _url_byte(byte: int) -> str:
    char = chr(byte)
    if char in _UNRESERVED:
        return char
    return "+" if char == " " else f"%{byte:02X}"


def _urlquery(ctx: CallContext, *args: object) -> str:
    encoded = _escaper_input(args).encode()
    return _checked(ctx, "".join(_url_byte(byte) for byte in encoded))


def _not(ctx: CallContext, value: object) -> bool:
    return not is_true(value)


def _length(ctx: CallContext, item: object) -> int:
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, (list, tuple, dict)):
        return len(item)
    if item is None:
        raise FuncError("len of nil pointer")
    raise FuncError(f"len of type {go_type_name(item)}")


def _map_key(item: dict[object, object], key: object) -> None:
    """Go's ``prepareArg``: a key must be assignable to the map's key type."""
    key_type = item.key_type if isinstance(item, TypedMap) else "string"
    if key_type == ANY:
        return
    if key is None:
        raise FuncError(f"value is nil; should be of type {key_type}")
    if go_type_name(key) != key_type:
        raise FuncError(f"value has type {go_type_name(key)}; should be {key_type}")


def _index_one(item: object, key: object) -> object:
    if isinstance(item, dict):
        _map_key(item, key)
        if isinstance(item, TypedMap):
            return item.get(key, item.zero)
        return item.get(key)
    if isinstance(item, (list, tuple, str)):
        if not isinstance(key, int) or isinstance(key, bool):
            raise FuncError(f"cannot index slice/array with type {go_type_name(key)}")
        sequence = item.encode() if isinstance(item, str) else item
        if not 0 <= key < len(sequence):
            raise FuncError(f"index out of range: {key}")
        return sequence[key]
    if item is None:
        raise FuncError("index of untyped nil")
    raise FuncError(f"can't index item of type {go_type_name(item)}")


def _index(ctx: CallContext, item: object, *keys: object) -> object:
    for key in keys:
        item = _index_one(item, key)
    return item


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, complex):
        return "complex"
    if isinstance(value, str):
        return "string"
    return "invalid" if value is None else "other"


def _equal(left: object, right: object) -> bool:
    left_kind, right_kind = _kind(left), _kind(right)
    if left_kind != right_kind:
        if left is not None and right is not None:
            raise FuncError("incompatible types for comparison")
        return False
    if left_kind == "other" and not isinstance(left, GoStruct):
        raise FuncError(f"non-comparable types {go_type_name(left)}, {go_type_name(right)}")
    return left == right


def _eq(ctx: CallContext, first: object, *others: object) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    return any(_equal(first, other) for other in others)


def _ne(ctx: CallContext, left: object, right: object) -> bool:
    return not _equal(left, right)


def _less(left: object, right: object) -> bool:
    left_kind, right_kind = _kind(left), _kind(right)
    if left_kind not in ("int", "float", "string") or right_kind not in ("int", "float", "string"):
        raise FuncError("invalid type for comparison")
    if left_kind != right_kind:
        raise FuncError("incompatible types for comparison")
    return bool(left < right)  # type: ignore[operator]


def _lt(ctx: CallContext, left: object, right: object) -> bool:
    return _less(left, right)


def _le(ctx: CallContext, left: object, right: object) -> bool:
    return _less(left, right) or _equal(left, right)


def _gt(ctx: CallContext, left: object, right: object) -> bool:
    return not _le(ctx, left, right)


def _ge(ctx: CallContext, left: object, right: object) -> bool:
    return not _less(left, right)


def _lazy(ctx: CallContext, *args: object) -> object:
    raise FuncError("and/or are evaluated by the executor")


BUILTINS: dict[str, FuncSpec] = {
    spec.name: spec
    for spec in (
        FuncSpec("and", _lazy, (ANY,), ANY),
        FuncSpec("or", _lazy, (ANY,), ANY),
        FuncSpec("not", _not, (ANY,)),
        FuncSpec("len", _length, (ANY,)),
        FuncSpec("index", _index, (ANY,), ANY),
        FuncSpec("print", _print, (), ANY),
        FuncSpec("println", _println, (), ANY),
        FuncSpec("printf", _printf, (STRING,), ANY),
        FuncSpec("html", _html, (), ANY),
        FuncSpec("js", _js, (), ANY),
        FuncSpec("urlquery", _urlquery, (), ANY),
        FuncSpec("eq", _eq, (ANY,), ANY),
        FuncSpec("ne", _ne, (ANY, ANY)),
        FuncSpec("lt", _lt, (ANY, ANY)),
        FuncSpec("le", _le, (ANY, ANY)),
        FuncSpec("gt", _gt, (ANY, ANY)),
        FuncSpec("ge", _ge, (ANY, ANY)),
    )
}
