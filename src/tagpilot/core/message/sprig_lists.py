"""Sprig's hermetic list, dictionary, default, integer and JSON functions.

``until``/``untilStep`` and every list builder check the item limit before allocating,
so ``{{range until 100000000}}`` fails at once instead of building a huge list.
Part of ``functions.function_map``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tagpilot.core.message.calls import (
    ANY,
    BOOL,
    DICT,
    INT,
    STRING,
    CallContext,
    FuncError,
    FuncSpec,
)
from tagpilot.core.message.data import GoStruct, TypedList, go_type_name
from tagpilot.core.message.sprig_text import strval
from tagpilot.core.message.truth import is_true

__all__ = ["LIST_FUNCS"]


def _as_list(value: object, function: str) -> list[object]:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise FuncError(f"Cannot find {function} on type {go_type_name(value)}")


def _strslice(value: object) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [strval(item) for item in value if item is not None]
    return [] if value is None else [strval(value)]


def _until_step(ctx: CallContext, start: int, stop: int, step: int) -> TypedList:
    if step == 0 or (stop < start) != (step < 0):
        return TypedList([], go_type="[]int")
    ctx.check_size(len(range(start, stop, step)), "items")
    return TypedList(list(range(start, stop, step)), go_type="[]int")


def _until(ctx: CallContext, count: int) -> TypedList:
    return _until_step(ctx, 0, count, -1 if count < 0 else 1)


def _join(ctx: CallContext, separator: str, value: object) -> str:
    size = 0
    parts = _strslice(value)
    for part in parts:
        size += len(part.encode()) + len(separator.encode())
        ctx.check_size(size, "string")
    return separator.join(parts)


def _split(ctx: CallContext, separator: str, text: str) -> dict[object, object]:
    parts = text.split(separator) if separator else list(text)
    return {f"_{index}": part for index, part in enumerate(parts)}


def _split_list(ctx: CallContext, separator: str, text: str) -> list[object]:
    return list(text.split(separator) if separator else list(text))


def _dict(ctx: CallContext, *pairs: object) -> dict[object, object]:
    result: dict[object, object] = {}
    for index in range(0, len(pairs), 2):
        value = pairs[index + 1] if index + 1 < len(pairs) else ""
        result[strval(pairs[index])] = value
    return result


def _first(ctx: CallContext, value: object) -> object:
    items = _as_list(value, "first")
    return items[0] if items else None


def _last(ctx: CallContext, value: object) -> object:
    items = _as_list(value, "last")
    return items[-1] if items else None


def _uniq(ctx: CallContext, value: object) -> list[object]:
    items = _as_list(value, "uniq")
    try:
        return list(dict.fromkeys(items))
    except TypeError:  # unhashable items (lists, maps): compare pairwise, and pay for it
        unique: list[object] = []
        for item in items:
            ctx.charge(1 + len(unique) // 64)
            if item not in unique:
                unique.append(item)
        return unique


def _sort_alpha(ctx: CallContext, value: object) -> list[object]:
    if isinstance(value, (list, tuple)):
        return list[object](sorted(_strslice(value)))
    return [strval(value)]


def _slice(ctx: CallContext, value: object, *indices: object) -> list[object]:
    if not isinstance(value, (list, tuple)):
        kind = "string" if isinstance(value, str) else go_type_name(value)
        raise FuncError(f"list should be type of slice or array but {kind}")
    start = _to_int(indices[0]) if indices else 0
    end = _to_int(indices[1]) if len(indices) > 1 else len(value)
    if not 0 <= start <= end <= len(value):
        raise FuncError(f"slice bounds out of range [{start}:{end}]")
    return list(value[start:end])


def _default(ctx: CallContext, fallback: object, *given: object) -> object:
    return given[0] if given and is_true(given[0]) else fallback


def _coalesce(ctx: CallContext, *values: object) -> object:
    return next((value for value in values if is_true(value)), None)


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), 0)
        except ValueError:
            return 0
    return 0


def _json_value(value: object) -> object:
    if isinstance(value, GoStruct):
        return {name: _json_value(item) for name, item in _json_fields(value)}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise FuncError(f"json: unsupported type: {go_type_name(value)}")
        return {key: _json_value(item) for key, item in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    return value


def _json_fields(value: GoStruct) -> list[tuple[str, object]]:
    fields: list[tuple[str, object]] = []
    for (name, _, embedded), item in zip(value.GO_FIELDS, value.field_values(), strict=True):
        tagged = value.JSON_OMITEMPTY_NAMES.get(name)
        if embedded and isinstance(item, GoStruct):
            fields.extend(_json_fields(item))
        elif tagged is None:
            fields.append((name, item))
        elif is_true(item):
            fields.append((tagged, item))
    return fields


def _to_json(ctx: CallContext, value: object) -> str:
    text = json.dumps(_json_value(value), ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _int_op(operation: Callable[[int, int], int]) -> Callable[..., object]:
    def call(ctx: CallContext, *values: object) -> int:
        if not values:
            return 0
        result = _to_int(values[0])
        for value in values[1:]:
            result = operation(result, _to_int(value))
        return result

    return call


def _divide(left: int, right: int) -> int:
    if right == 0:
        raise FuncError("runtime error: integer divide by zero")
    quotient = abs(left) // abs(right)
    return quotient if (left < 0) == (right < 0) else -quotient


def _modulo(left: int, right: int) -> int:
    return left - _divide(left, right) * right


def _atoi(text: str) -> int:
    return int(text) if text.lstrip("+-").isdigit() else 0


def _fail(ctx: CallContext, message: str) -> str:
    raise FuncError(message)


def _plain(function: Callable[..., object]) -> Callable[..., object]:
    def call(ctx: CallContext, *args: object) -> object:
        return function(*args)

    return call


LIST_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("list", _plain(lambda *items: list(items)), (), ANY),
    FuncSpec("tuple", _plain(lambda *items: list(items)), (), ANY),
    FuncSpec("dict", _dict, (), ANY),
    FuncSpec("get", _plain(lambda d, key: d.get(key, "")), (DICT, STRING)),
    FuncSpec("hasKey", _plain(lambda d, key: key in d), (DICT, STRING)),
    FuncSpec("keys", _plain(lambda *ds: sorted({k for d in ds for k in d})), (), DICT),
    FuncSpec("first", _first, (ANY,)),
    FuncSpec("last", _last, (ANY,)),
    FuncSpec("rest", _plain(lambda v: _as_list(v, "rest")[1:]), (ANY,)),
    FuncSpec("initial", _plain(lambda v: _as_list(v, "initial")[:-1]), (ANY,)),
    FuncSpec("reverse", _plain(lambda v: _as_list(v, "reverse")[::-1]), (ANY,)),
    FuncSpec("append", _plain(lambda v, item: [*_as_list(v, "push"), item]), (ANY, ANY)),
    FuncSpec("push", _plain(lambda v, item: [*_as_list(v, "push"), item]), (ANY, ANY)),
    FuncSpec("prepend", _plain(lambda v, item: [item, *_as_list(v, "prepend")]), (ANY, ANY)),
    FuncSpec("has", _plain(lambda needle, v: needle in _as_list(v, "has")), (ANY, ANY)),
    FuncSpec(
        "compact", _plain(lambda v: [i for i in _as_list(v, "compact") if is_true(i)]), (ANY,)
    ),
    FuncSpec("uniq", _uniq, (ANY,)),
    FuncSpec("sortAlpha", _sort_alpha, (ANY,)),
    FuncSpec("slice", _slice, (ANY,), ANY),
    FuncSpec("join", _join, (STRING, ANY)),
    FuncSpec("toStrings", _plain(_strslice), (ANY,)),
    FuncSpec("split", _split, (STRING, STRING)),
    FuncSpec("splitList", _split_list, (STRING, STRING)),
    FuncSpec("until", _until, (INT,)),
    FuncSpec("untilStep", _until_step, (INT, INT, INT)),
    FuncSpec("default", _default, (ANY,), ANY),
    FuncSpec("empty", _plain(lambda v: not is_true(v)), (ANY,)),
    FuncSpec("coalesce", _coalesce, (), ANY),
    FuncSpec("ternary", _plain(lambda yes, no, cond: yes if cond else no), (ANY, ANY, BOOL)),
    FuncSpec("toJson", _to_json, (ANY,)),
    FuncSpec(
        "atoi", _plain(lambda s: _to_int(s) if s.strip().lstrip("+-").isdigit() else 0), (STRING,)
    ),
    FuncSpec("int", _plain(_to_int), (ANY,)),
    FuncSpec("int64", _plain(_to_int), (ANY,)),
    FuncSpec("add1", _plain(lambda v: _to_int(v) + 1), (ANY,)),
    FuncSpec("add", _int_op(lambda a, b: a + b), (), ANY),
    FuncSpec("sub", _int_op(lambda a, b: a - b), (ANY, ANY)),
    FuncSpec("mul", _int_op(lambda a, b: a * b), (ANY,), ANY),
    FuncSpec("div", _int_op(_divide), (ANY, ANY)),
    FuncSpec("mod", _int_op(_modulo), (ANY, ANY)),
    FuncSpec("max", _int_op(max), (ANY,), ANY),
    FuncSpec("min", _int_op(min), (ANY,), ANY),
    FuncSpec("plural", _plain(lambda one, many, n: one if n == 1 else many), (STRING, STRING, INT)),
    FuncSpec("fail", _fail, (STRING,)),
)
