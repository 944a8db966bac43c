"""Sprig's hermetic dictionary functions: ``dict``, ``set``, ``pick``, ``merge``, ``dig``...

Dictionaries are Go's ``map[string]interface {}``: ``set``, ``unset`` and the ``merge``
family change the map they are given, as in Go, and return it.  ``merge`` follows
``mergo``: nested maps merge, other keys are filled only where the destination is
empty; ``mergeOverwrite`` lets the sources win.  Go iterates maps in random order;
``keys`` and ``values`` answer in sorted key order instead.  Part of ``functions``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TypeGuard

from tagpilot.core.message.calls import ANY, DICT, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import TypedList, go_type_name
from tagpilot.core.message.sprig_text import strval
from tagpilot.core.message.sprig_values import empty

__all__ = ["DICT_FUNCS"]

Dict = dict[str, object]


def _dict(ctx: CallContext, *pairs: object) -> Dict:
    result: Dict = {}
    for index in range(0, len(pairs), 2):
        result[strval(pairs[index])] = pairs[index + 1] if index + 1 < len(pairs) else ""
    return result


def _set(ctx: CallContext, mapping: Dict, key: str, value: object) -> Dict:
    mapping[key] = value
    return mapping


def _unset(ctx: CallContext, mapping: Dict, key: str) -> Dict:
    mapping.pop(key, None)
    return mapping


def _keys(ctx: CallContext, *mappings: Dict) -> TypedList:
    return TypedList([key for mapping in mappings for key in sorted(mapping)], go_type="[]string")


def _values(ctx: CallContext, mapping: Dict) -> list[object]:
    return [mapping[key] for key in sorted(mapping)]


def _pluck(ctx: CallContext, key: str, *mappings: Dict) -> list[object]:
    return [mapping[key] for mapping in mappings if key in mapping]


def _pick(ctx: CallContext, mapping: Dict, *keys: str) -> Dict:
    return {key: mapping[key] for key in keys if key in mapping}


def _omit(ctx: CallContext, mapping: Dict, *keys: str) -> Dict:
    return {key: value for key, value in mapping.items() if key not in keys}


def _is_dict(value: object) -> TypeGuard[Dict]:
    return isinstance(value, dict) and go_type_name(value) == DICT


def _merge_into(ctx: CallContext, target: Dict, source: Dict, *, overwrite: bool) -> None:
    """``mergo``'s map merge: nested maps merge; a map never replaces a set value."""
    for key, value in source.items():
        ctx.charge(1)
        current = target.get(key)
        if _is_dict(current) and _is_dict(value):
            _merge_into(ctx, current, value, overwrite=overwrite)
        elif _is_dict(value) and not empty(current):
            continue
        elif value is None:
            if overwrite:
                target[key] = None
        elif overwrite or key not in target or empty(current):
            target[key] = value


def _merger(*, overwrite: bool) -> Callable[..., Dict]:
    def merge(ctx: CallContext, target: Dict, *sources: Dict) -> Dict:
        for source in sources:
            _merge_into(ctx, target, source, overwrite=overwrite)
        return target

    return merge


def _dig(ctx: CallContext, *args: object) -> object:
    if len(args) < 3:
        raise FuncError("dig needs at least three arguments")
    *keys, fallback, mapping = args
    for position, key in enumerate(keys):
        if not isinstance(key, str):
            raise FuncError(
                f"interface conversion: interface {{}} is {go_type_name(key)}, not string"
            )
        if not _is_dict(mapping):
            raise FuncError(
                f"interface conversion: interface {{}} is {go_type_name(mapping)}, "
                "not map[string]interface {}"
            )
        assert isinstance(mapping, dict)
        if key not in mapping:
            return fallback
        mapping = mapping[key]
        if position == len(keys) - 1:
            return mapping
    return fallback


def _deep_copy(ctx: CallContext, value: object) -> object:
    ctx.charge(len(repr(value)) // 64)  # copying a large structure is work
    return copy.deepcopy(value)


DICT_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("dict", _dict, (), ANY),
    FuncSpec("get", lambda ctx, mapping, key: mapping.get(key, ""), (DICT, STRING)),
    FuncSpec("set", _set, (DICT, STRING, ANY)),
    FuncSpec("unset", _unset, (DICT, STRING)),
    FuncSpec("hasKey", lambda ctx, mapping, key: key in mapping, (DICT, STRING)),
    FuncSpec("keys", _keys, (), DICT),
    FuncSpec("values", _values, (DICT,)),
    FuncSpec("pluck", _pluck, (STRING,), DICT),
    FuncSpec("pick", _pick, (DICT,), STRING),
    FuncSpec("omit", _omit, (DICT,), STRING),
    FuncSpec("merge", _merger(overwrite=False), (DICT,), DICT),
    FuncSpec("mustMerge", _merger(overwrite=False), (DICT,), DICT),
    FuncSpec("mergeOverwrite", _merger(overwrite=True), (DICT,), DICT),
    FuncSpec("mustMergeOverwrite", _merger(overwrite=True), (DICT,), DICT),
    FuncSpec("dig", _dig, (), ANY),
    FuncSpec("deepCopy", _deep_copy, (ANY,)),
    FuncSpec("mustDeepCopy", _deep_copy, (ANY,)),
)
