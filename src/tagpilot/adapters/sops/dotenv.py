"""The dotenv and binary stores of sops.

Called by ``api``.  dotenv: ``KEY=VALUE`` lines, ``#`` lines are comments, ``\\n`` in a value is a
newline, and the metadata is flattened into ``sops_…`` keys (``sops_age__list_0__map_enc``).
Binary: the whole file is the string ``data``, written in a JSON envelope.
"""

from __future__ import annotations

import re
from typing import Any

from tagpilot.adapters.sops.tree import Comment, Document, ListNode, MapNode, Node
from tagpilot.core.errors import InvalidInputError, SourceLocation

__all__ = [
    "binary_document",
    "binary_payload",
    "emit_dotenv",
    "flatten_metadata",
    "load_dotenv",
    "unflatten_metadata",
]

_METADATA_PREFIX = "sops_"
_FLAT_STEP = re.compile(r"__(list|map)_")
_MAX_LIST_ENTRIES = 1000


def load_dotenv(text: str, *, file: str) -> Document:
    """Parse dotenv lines into one flat mapping of strings (metadata keys included)."""
    items: list[tuple[str, Node] | Comment] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if raw.startswith("#"):
            items.append(Comment(raw[1:]))
            continue
        key, sep, value = raw.partition("=")
        if not sep or not key:
            raise InvalidInputError(
                "a dotenv line must look like KEY=VALUE", location=SourceLocation(file, number)
            )
        items.append((key, value.replace("\\n", "\n")))
    return MapNode(tuple(items))


def emit_dotenv(document: Document) -> str:
    """Render a flat mapping of scalars as dotenv lines."""
    lines = []
    for item in document.items:
        if isinstance(item, Comment):
            lines.append(f"#{item.text}")
            continue
        key, value = item
        if isinstance(value, MapNode | ListNode):
            raise ValueError(f"dotenv values must be scalars, {key} is not")
        lines.append(f"{key}={_text(value).replace(chr(10), chr(92) + 'n')}")
    return "\n".join(lines) + "\n"


def _text(value: Node) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return "" if value is None else str(value)


def flatten_metadata(block: MapNode) -> list[tuple[str, Node]]:
    """Flatten the ``sops`` block into dotenv keys, as sops names them."""
    flat: list[tuple[str, Node]] = []
    for item in block.items:
        if not isinstance(item, Comment):
            _flatten(_METADATA_PREFIX + item[0], item[1], flat)
    return flat


def _flatten(prefix: str, value: Node, flat: list[tuple[str, Node]]) -> None:
    if isinstance(value, MapNode):
        for item in value.items:
            if not isinstance(item, Comment):
                _flatten(f"{prefix}__map_{item[0]}", item[1], flat)
    elif isinstance(value, ListNode):
        for index, element in enumerate(value.items):
            if isinstance(element, Comment):
                continue
            _flatten(f"{prefix}__list_{index}", element, flat)
    else:
        flat.append((prefix, value))


def unflatten_metadata(document: Document) -> tuple[Document, dict[str, Any] | None]:
    """Split ``sops_…`` keys from the data; rebuild the metadata as plain dicts and lists."""
    data: list[tuple[str, Node] | Comment] = []
    metadata: dict[str, Any] = {}
    for item in document.items:
        if isinstance(item, Comment) or not item[0].startswith(_METADATA_PREFIX):
            data.append(item)
            continue
        try:
            _unflatten_into(metadata, item[0][len(_METADATA_PREFIX) :], item[1])
        except (ValueError, TypeError, LookupError, AttributeError):
            # A hand-edited key: a list index that is no number, or a list where a map was.
            raise InvalidInputError(f"malformed sops metadata key '{item[0]}'") from None
    return MapNode(tuple(data)), (metadata or None)


def _unflatten_into(root: dict[str, Any], flat_key: str, value: Any) -> None:
    parts = _FLAT_STEP.split(flat_key)
    container: Any = root
    key: Any = parts[0]
    for kind, name in zip(parts[1::2], parts[2::2], strict=True):
        child_kind: type = list if kind == "list" else dict
        container = _child(container, key, child_kind)
        key = _list_index(name) if kind == "list" else name
    if isinstance(container, list):
        container.extend([None] * (key + 1 - len(container)))
    container[key] = value


def _list_index(name: str) -> int:
    # Bounded: sops writes one entry per key group and recipient, never thousands.
    if not (name.isascii() and name.isdigit()) or int(name) >= _MAX_LIST_ENTRIES:
        raise ValueError(name)
    return int(name)


def _child(container: Any, key: Any, kind: type) -> Any:
    if isinstance(container, list):
        container.extend([None] * (key + 1 - len(container)))
        if container[key] is None:
            container[key] = kind()
        return container[key]
    return container.setdefault(key, kind())


def binary_document(content: bytes) -> Document:
    """Wrap raw file content as the single string ``data`` (bytes kept via surrogateescape)."""
    return MapNode((("data", content.decode("utf-8", "surrogateescape")),))


def binary_payload(document: Document, *, file: str) -> bytes:
    """Return the raw content of a decrypted binary document."""
    try:
        data = document.get("data")
    except KeyError:
        data = None
    if not isinstance(data, str):
        raise InvalidInputError(
            "a binary sops file must hold a string under data", location=SourceLocation(file)
        )
    return data.encode("utf-8", "surrogateescape")
