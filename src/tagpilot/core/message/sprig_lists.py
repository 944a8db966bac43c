"""Sprig's hermetic list functions: ``list``, ``first``, ``without``, ``concat``, ``chunk``...

Each ``mustX`` is the same function as ``X``: Sprig's plain forms panic where the
``must`` forms return the error, and Go's template executor reports both as
``error calling NAME: ...``.  Membership (``has``, ``uniq``, ``without``) uses
``reflect.DeepEqual``.  ``until``/``untilStep``/``chunk`` and every list builder check
the item limit before allocating, so ``{{range until 100000000}}`` fails at once.
Part of ``functions``.
"""

from __future__ import annotations

from collections.abc import Callable

from tagpilot.core.message.calls import ANY, INT, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import GoStruct, TypedList, TypedMap, go_type_name
from tagpilot.core.message.sprig_math import to_int64, until_step
from tagpilot.core.message.sprig_text import strval
from tagpilot.core.message.sprig_values import deep_equal, empty, go_kind

__all__ = ["LIST_FUNCS", "strslice"]


def _as_list(value: object, message: str) -> list[object]:
    """The items of a slice, or Sprig's error naming the value's kind (``map``, ``int``...)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None:
        raise FuncError("runtime error: invalid memory address or nil pointer dereference")
    raise FuncError(message.format(kind=go_kind(value)))


def strslice(value: object) -> list[str]:
    """Sprig's ``strslice``: a slice's non-nil items as strings, else the value itself."""
    if isinstance(value, (list, tuple)):
        return [strval(item) for item in value if item is not None]
    return [] if value is None else [strval(value)]


def _string_list(items: list[str]) -> TypedList:
    return TypedList(list(items), go_type="[]string")


def _until(ctx: CallContext, count: int) -> TypedList:
    return TypedList(list(until_step(ctx, 0, count, -1 if count < 0 else 1)), go_type="[]int")


def _until_step(ctx: CallContext, start: int, stop: int, step: int) -> TypedList:
    return TypedList(list(until_step(ctx, start, stop, step)), go_type="[]int")


def _join(ctx: CallContext, separator: str, value: object) -> str:
    size = 0
    parts = strslice(value)
    for part in parts:
        size += len(part.encode()) + len(separator.encode())
        ctx.check_size(size, "string")
    return separator.join(parts)


def _pieces(separator: str, text: str, limit: int = -1) -> list[str]:
    """Go's ``strings.SplitN`` (``limit`` < 0: all pieces; an empty separator splits runes)."""
    if limit == 0:
        return []
    if separator:
        return text.split(separator, limit - 1 if limit > 0 else -1)
    runes = list(text)
    if 0 < limit < len(runes):
        return [*runes[: limit - 1], "".join(runes[limit - 1 :])]
    return runes


def _split_map(pieces: list[str]) -> TypedMap:
    items = {f"_{index}": piece for index, piece in enumerate(pieces)}
    return TypedMap(items, go_type="map[string]string", zero="")


def _first(ctx: CallContext, value: object) -> object:
    items = _as_list(value, "Cannot find first on type {kind}")
    return items[0] if items else None


def _last(ctx: CallContext, value: object) -> object:
    items = _as_list(value, "Cannot find last on type {kind}")
    return items[-1] if items else None


def _rest(ctx: CallContext, value: object) -> list[object]:
    return _as_list(value, "Cannot find rest on type {kind}")[1:]


def _initial(ctx: CallContext, value: object) -> list[object]:
    return _as_list(value, "Cannot find initial on type {kind}")[:-1]


def _scalar_key(item: object) -> tuple[str, object] | None:
    """A dict key that is equal exactly when ``deep_equal`` is (strings, ints, bools)."""
    if isinstance(item, (str, int)) and not isinstance(item, GoStruct):
        return go_type_name(item), item
    return None


def _unique(ctx: CallContext, items: list[object], exclude: list[object]) -> list[object]:
    """Items not deep-equal to any in ``exclude`` nor to an earlier kept item."""
    keys = [_scalar_key(item) for item in (*items, *exclude)]
    if all(key is not None for key in keys):  # the common case, in linear time
        seen = set(keys[len(items) :])
        kept_fast: list[object] = []
        for item, key in zip(items, keys, strict=False):
            if key not in seen:
                seen.add(key)
                kept_fast.append(item)
        return kept_fast
    kept: list[object] = []
    for item in items:
        ctx.charge(1 + (len(kept) + len(exclude)) // 64)  # pairwise comparison: pay for it
        if not any(deep_equal(item, other) for other in (*exclude, *kept)):
            kept.append(item)
    return kept


def _uniq(ctx: CallContext, value: object) -> list[object]:
    items = _as_list(value, "Cannot find uniq on type {kind}")
    return _unique(ctx, items, [])


def _without(ctx: CallContext, value: object, *omit: object) -> list[object]:
    items = _as_list(value, "Cannot find without on type {kind}")
    omitted = {_scalar_key(item) for item in omit}
    if None not in omitted and all(_scalar_key(item) is not None for item in items):
        return [item for item in items if _scalar_key(item) not in omitted]
    kept: list[object] = []
    for item in items:
        ctx.charge(1 + len(omit) // 64)
        if not any(deep_equal(item, other) for other in omit):
            kept.append(item)
    return kept


def _has(ctx: CallContext, needle: object, haystack: object) -> bool:
    if haystack is None:
        return False
    items = _as_list(haystack, "Cannot find has on type {kind}")
    return any(deep_equal(needle, item) for item in items)


def _sort_alpha(ctx: CallContext, value: object) -> TypedList:
    if isinstance(value, (list, tuple)):
        return _string_list(sorted(strslice(value), key=lambda text: text.encode()))
    return _string_list([strval(value)])


def _slice(ctx: CallContext, value: object, *indices: object) -> object:
    items = _as_list(value, "list should be type of slice or array but {kind}")
    if not items:
        return None
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) > 1 else len(items)
    if not 0 <= start <= end <= len(items):
        raise FuncError("reflect.Value.Slice: slice index out of range")
    part = items[start:end]
    return TypedList(part, go_type=value.go_type) if isinstance(value, TypedList) else part


def _concat(ctx: CallContext, *lists: object) -> list[object]:
    joined: list[object] = []
    for value in lists:
        if not isinstance(value, (list, tuple)):
            raise FuncError(f"Cannot concat type {go_kind(value)} as list")
        ctx.check_size(len(joined) + len(value), "items")
        joined.extend(value)
    return joined


def _chunk(ctx: CallContext, size: int, value: object) -> TypedList:
    items = _as_list(value, "Cannot chunk type {kind}")
    if size <= 0:
        raise FuncError("runtime error: makeslice: len out of range")
    ctx.charge(len(items) // size)  # one new list per chunk
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    return TypedList(list(chunks), go_type="[][]interface {}")


def _push(ctx: CallContext, value: object, item: object) -> list[object]:
    items = _as_list(value, "Cannot push on type {kind}")
    ctx.check_size(len(items) + 1, "items")
    return [*items, item]


def _prepend(ctx: CallContext, value: object, item: object) -> list[object]:
    items = _as_list(value, "Cannot prepend on type {kind}")
    ctx.check_size(len(items) + 1, "items")
    return [item, *items]


def _reverse(ctx: CallContext, value: object) -> list[object]:
    return _as_list(value, "Cannot find reverse on type {kind}")[::-1]


def _compact(ctx: CallContext, value: object) -> list[object]:
    return [item for item in _as_list(value, "Cannot compact on type {kind}") if not empty(item)]


def _both(
    name: str, impl: Callable[..., object], *kinds: str, variadic: str | None = None
) -> tuple[FuncSpec, ...]:
    """``name`` and its ``mustName`` twin (same behaviour in a template, see the docstring)."""
    must = "must" + name[0].upper() + name[1:]
    return FuncSpec(name, impl, kinds, variadic), FuncSpec(must, impl, kinds, variadic)


LIST_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("list", lambda ctx, *items: list(items), (), ANY),
    FuncSpec("tuple", lambda ctx, *items: list(items), (), ANY),
    *_both("first", _first, ANY),
    *_both("last", _last, ANY),
    *_both("rest", _rest, ANY),
    *_both("initial", _initial, ANY),
    *_both("reverse", _reverse, ANY),
    *_both("append", _push, ANY, ANY),
    *_both("push", _push, ANY, ANY),
    *_both("prepend", _prepend, ANY, ANY),
    *_both("has", _has, ANY, ANY),
    *_both("compact", _compact, ANY),
    *_both("uniq", _uniq, ANY),
    *_both("without", _without, ANY, variadic=ANY),
    *_both("slice", _slice, ANY, variadic=ANY),
    *_both("chunk", _chunk, INT, ANY),
    FuncSpec("concat", _concat, (), ANY),
    FuncSpec("sortAlpha", _sort_alpha, (ANY,)),
    FuncSpec("join", _join, (STRING, ANY)),
    FuncSpec("toStrings", lambda ctx, value: _string_list(strslice(value)), (ANY,)),
    FuncSpec("split", lambda ctx, sep, text: _split_map(_pieces(sep, text)), (STRING, STRING)),
    FuncSpec(
        "splitn",
        lambda ctx, sep, limit, text: _split_map(_pieces(sep, text, limit)),
        (STRING, INT, STRING),
    ),
    FuncSpec(
        "splitList", lambda ctx, sep, text: _string_list(_pieces(sep, text)), (STRING, STRING)
    ),
    FuncSpec("until", _until, (INT,)),
    FuncSpec("untilStep", _until_step, (INT, INT, INT)),
)
