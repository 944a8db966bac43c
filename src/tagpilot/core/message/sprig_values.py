"""Sprig's hermetic default, reflection and flow functions: ``default``, ``typeOf``, ``fail``...

Reflection answers in Go's terms for our value model (``data``): ``typeOf`` is ``%T``,
``kindOf`` the ``reflect.Kind`` name, ``deepEqual`` is ``reflect.DeepEqual`` (an ``int``
never equals an ``int64``).  Also the helpers the list functions share (``go_kind``,
``deep_equal``, ``empty``).  Part of ``functions``.
"""

from __future__ import annotations

from tagpilot.core.message.calls import ANY, BOOL, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import NO_VALUE, GoStruct, go_type_name
from tagpilot.core.message.truth import is_true

__all__ = ["VALUE_FUNCS", "deep_equal", "empty", "go_kind"]


def go_kind(value: object) -> str:
    """The ``reflect.Kind`` name of a template value (``slice``, ``map``, ``int64``...)."""
    if value is None or value is NO_VALUE:
        return "invalid"
    if isinstance(value, GoStruct):
        return "ptr" if value.GO_TYPE.startswith("*") else "struct"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, (list, tuple)):
        return "slice"
    return go_type_name(value)


def deep_equal(left: object, right: object) -> bool:
    """``reflect.DeepEqual``: same Go types, and equal values all the way down."""
    if go_type_name(left) != go_type_name(right):
        return False
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(deep_equal(left[k], right[k]) for k in left)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(map(deep_equal, left, right))
    return left == right


def empty(value: object) -> bool:
    """Sprig's ``empty``: the zero value of its type (structs never are)."""
    return not is_true(value)


def _default(ctx: CallContext, fallback: object, *given: object) -> object:
    return given[0] if given and not empty(given[0]) else fallback


def _coalesce(ctx: CallContext, *values: object) -> object:
    return next((value for value in values if not empty(value)), None)


def _fail(ctx: CallContext, message: str) -> str:
    raise FuncError(message)


def _type_is_like(ctx: CallContext, target: str, value: object) -> bool:
    actual = go_type_name(value)
    return target in (actual, actual.removeprefix("*"))


VALUE_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("hello", lambda ctx: "Hello!"),
    FuncSpec("default", _default, (ANY,), ANY),
    FuncSpec("empty", lambda ctx, value: empty(value), (ANY,)),
    FuncSpec("coalesce", _coalesce, (), ANY),
    FuncSpec("all", lambda ctx, *values: not any(map(empty, values)), (), ANY),
    FuncSpec("any", lambda ctx, *values: not all(map(empty, values)), (), ANY),
    FuncSpec("ternary", lambda ctx, yes, no, condition: yes if condition else no, (ANY, ANY, BOOL)),
    FuncSpec("fail", _fail, (STRING,)),
    FuncSpec("typeOf", lambda ctx, value: go_type_name(value), (ANY,)),
    FuncSpec("typeIs", lambda ctx, target, value: target == go_type_name(value), (STRING, ANY)),
    FuncSpec("typeIsLike", _type_is_like, (STRING, ANY)),
    FuncSpec("kindOf", lambda ctx, value: go_kind(value), (ANY,)),
    FuncSpec("kindIs", lambda ctx, target, value: target == go_kind(value), (STRING, ANY)),
    FuncSpec("deepEqual", lambda ctx, left, right: deep_equal(left, right), (ANY, ANY)),
)
