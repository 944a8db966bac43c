"""The store-neutral document tree that sops works on: ordered mappings, sequences, comments.

The YAML, JSON, dotenv and binary stores convert to and from this tree; ``walk`` encrypts,
decrypts and hashes it.  A mapping keeps its items in file order and may hold comments between
them, as in sops' ``TreeBranch``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeAlias

from tagpilot.adapters.sops.format import Scalar

__all__ = ["Comment", "Document", "ListNode", "MapNode", "Node", "from_plain", "to_plain"]


@dataclass(frozen=True)
class Comment:
    """A comment line (text after ``#``); sops encrypts it like a string but never hashes it."""

    text: str


@dataclass(frozen=True)
class MapNode:
    """An ordered mapping: ``(key, value)`` pairs and comments, in file order."""

    items: tuple[tuple[str, Node] | Comment, ...] = ()

    def get(self, key: str) -> Node:
        """Return the value under ``key``; raise ``KeyError`` when absent."""
        for item in self.items:
            if not isinstance(item, Comment) and item[0] == key:
                return item[1]
        raise KeyError(key)

    def without(self, key: str) -> MapNode:
        """Return a copy without the entry ``key``."""
        kept = tuple(i for i in self.items if isinstance(i, Comment) or i[0] != key)
        return MapNode(kept)


@dataclass(frozen=True)
class ListNode:
    """A sequence; its items may be comments as well."""

    items: tuple[Node | Comment, ...] = ()


Node: TypeAlias = MapNode | ListNode | Scalar
Document: TypeAlias = MapNode
"""One YAML document (or the whole JSON/dotenv/binary file): a mapping at the root."""


def to_plain(node: Node) -> Any:
    """Convert to plain ``dict``/``list``/scalars, dropping comments."""
    if isinstance(node, MapNode):
        return {k: to_plain(v) for k, v in _entries(node)}
    if isinstance(node, ListNode):
        return [to_plain(v) for v in node.items if not isinstance(v, Comment)]
    return node


def _entries(node: MapNode) -> list[tuple[str, Node]]:
    return [item for item in node.items if not isinstance(item, Comment)]


def from_plain(value: object) -> Node:
    """Build a tree from plain ``Mapping``/``Sequence``/scalars; raise ``TypeError`` otherwise."""
    if isinstance(value, Mapping):
        return MapNode(tuple((_plain_key(k), from_plain(v)) for k, v in value.items()))
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return ListNode(tuple(from_plain(v) for v in value))
    if value is None or isinstance(value, str | int | float | date):
        return value
    raise TypeError(f"unsupported value type {type(value).__name__}")


def _plain_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"mapping key {key!r} is not a string")
    return key
