"""How a constant written in a template meets a typed function parameter.

Go's executor does not convert values between types, but a constant (``3``, ``"x"``,
``true``, ``1e3``) takes the parameter's type when it fits: ``repeat 1e1 "a"`` works,
``repeat 1.5 "a"`` is "expected integer; found 1.5".  Used by the executor.
"""

from __future__ import annotations

from tagpilot.core.message import nodes as n
from tagpilot.core.message.calls import BOOL, FLOAT, INT, INT64, STRING, UINT32
from tagpilot.core.message.data import Int64, Uint32
from tagpilot.core.message.nodetext import node_text

__all__ = ["constant_argument"]

_INTEGER_KINDS = {INT: (-(2**63), 2**63 - 1), INT64: (-(2**63), 2**63 - 1), UINT32: (0, 2**32 - 1)}


def _integral(value: int | float | complex) -> int | None:
    """The integer a numeric constant denotes, as Go's ``NumberNode.IsInt`` has it."""
    if isinstance(value, complex):
        if value.imag != 0:
            return None
        value = value.real
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value.real)


def _numeric(value: int | float | complex, kind: str) -> object:
    """A number constant for a typed parameter (Go's evalInteger/evalFloat), or None."""
    if kind == FLOAT:
        if isinstance(value, complex):
            return value.real if value.imag == 0 else None
        return float(value)
    bounds = _INTEGER_KINDS.get(kind)
    integer = _integral(value)
    if bounds is None or integer is None or not bounds[0] <= integer <= bounds[1]:
        return None
    return {INT64: Int64, UINT32: Uint32}.get(kind, int)(integer)


def constant_argument(node: n.BoolNode | n.NumberNode | n.StringNode, kind: str) -> object:
    """The value ``node`` gives a parameter of Go type ``kind``; ``TypeError`` with Go's text."""
    if kind == STRING and isinstance(node, n.StringNode):
        return node.text
    if kind == BOOL and isinstance(node, n.BoolNode):
        return node.value
    if isinstance(node, n.NumberNode):
        number = _numeric(node.value, kind)
        if number is not None:
            return number
    expected = {STRING: "string", BOOL: "bool", FLOAT: "float"}.get(kind)
    if kind in _INTEGER_KINDS:
        expected = "integer"
    if expected is None:
        raise TypeError(f"can't handle {node_text(node)} for arg of type {kind}")
    raise TypeError(f"expected {expected}; found {node_text(node)}")
