"""How template functions are declared and called: parameter kinds, the call context, limits.

Every function the engine offers (Go built-ins in ``builtins``, Sprig in ``sprig``) is a
``FuncSpec``; the executor checks argument count and types the way Go's reflection-based
call does and hands the function a ``CallContext`` for limits.  Functions signal failures
with ``FuncError`` (Go's "error calling NAME: ..."); size limits with ``ValueTooLargeError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tagpilot.core.message.data import NO_VALUE, Int64, TypedMap, Uint32, go_type_name

__all__ = [
    "ANY",
    "BOOL",
    "DICT",
    "FLOAT",
    "INT",
    "INT64",
    "STRING",
    "UINT32",
    "CallContext",
    "FuncError",
    "FuncSpec",
    "ValueTooLargeError",
    "argument_work",
    "coerce_args",
]

ANY = "interface {}"
STRING = "string"
INT = "int"
BOOL = "bool"
FLOAT = "float64"
INT64 = "int64"
UINT32 = "uint32"
DICT = "map[string]interface {}"


class FuncError(Exception):
    """A function failed; the executor reports ``error calling NAME: <message>``."""


class ValueTooLargeError(Exception):
    """A function would produce a value larger than the render limits allow."""


@dataclass(frozen=True)
class CallContext:
    """What a function may know about the render: its size limits and the step meter."""

    max_value_bytes: int
    max_items: int
    charge: Callable[[int], None]

    def check_size(self, size: int, what: str) -> None:
        """Refuse to build a string or list of ``size`` bytes/items beyond the limits."""
        limit = self.max_items if what == "items" else self.max_value_bytes
        if size > limit:
            raise ValueTooLargeError(f"{what}: {size} exceeds the limit of {limit}")


@dataclass(frozen=True)
class FuncSpec:
    """A template function: fixed parameter kinds and an optional variadic kind."""

    name: str
    impl: Callable[..., object]
    params: tuple[str, ...] = ()
    variadic: str | None = None

    def kind_at(self, index: int) -> str:
        """The parameter kind of argument ``index`` (``ANY`` past the end; counted later)."""
        if index < len(self.params):
            return self.params[index]
        return self.variadic or ANY


def _coerce(value: object, kind: str) -> object:
    if kind == ANY:
        return None if value is NO_VALUE else value
    if value is NO_VALUE:
        raise TypeError(f"invalid value; expected {kind}")
    if kind == DICT:
        if isinstance(value, dict) and not isinstance(value, TypedMap):
            return value
        raise TypeError(f"wrong type for value; expected {kind}; got {go_type_name(value)}")
    if value is None:
        raise TypeError(f"cannot assign nil to {kind}")
    expected = _BASIC.get(kind)
    if (type(value) is not expected) if expected else (go_type_name(value) != kind):
        raise TypeError(f"wrong type for value; expected {kind}; got {go_type_name(value)}")
    return value


# Parameter kinds a template value must match exactly; any other kind (``time.Time``,
# ``*semver.Version``) is compared by Go type name.
_BASIC: dict[str, type] = {STRING: str, INT: int, BOOL: bool, FLOAT: float, INT64: Int64}
_BASIC |= {UINT32: Uint32}


def coerce_args(spec: FuncSpec, args: list[object]) -> list[object]:
    """Check the argument count and convert each argument to its parameter kind."""
    fixed = len(spec.params)
    if spec.variadic is None and len(args) != fixed:
        raise TypeError(f"wrong number of args for {spec.name}: want {fixed} got {len(args)}")
    if len(args) < fixed:
        raise TypeError(
            f"wrong number of args for {spec.name}: want at least {fixed} got {len(args)}"
        )
    kinds = [*spec.params, *[spec.variadic or ANY] * (len(args) - fixed)]
    return [_coerce(arg, kind) for arg, kind in zip(args, kinds, strict=True)]


def argument_work(value: object) -> int:
    """Extra steps a call costs for its argument sizes: long strings and lists mean work."""
    if isinstance(value, str):
        return len(value) // 16
    if isinstance(value, (list, tuple, dict)):
        return len(value) // 4
    return 0
