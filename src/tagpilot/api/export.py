"""``flux create/export ... --export`` output: what the Flux CLI prints, byte for byte.

Flux marshals the object to JSON (so Go's ``omitempty`` drops unset and false fields),
keeps only name, namespace, labels and annotations of the metadata, converts to YAML with
go-yaml v2 (:mod:`tagpilot.api.goyaml`: keys sorted, minimal quoting) and prints ``---``
before each object.  Durations are rendered the Go way (``5m`` → ``5m0s``).

Differences from the reference, on purpose: the Flux CLI prints an empty line after every
object (``fmt.Println`` of text that already ends in a newline); this printer does not, so
objects follow each other directly, as in the Flux documentation.
Called by ``tagpilot create ... --export`` and ``tagpilot export``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tagpilot.api.duration import GO_FORMAT_CONTEXT
from tagpilot.api.goyaml import emit_document
from tagpilot.api.kinds import AnyObject
from tagpilot.api.secret import Secret

__all__ = ["EXPORTED_METADATA", "export_document", "export_objects"]

EXPORTED_METADATA = ("name", "namespace", "labels", "annotations")
_SECRET_FIELDS = ("immutable", "data", "stringData", "type")


def _omit_empty(value: Any) -> Any:
    """Drop what Go's ``omitempty`` drops here: false, and empty maps and lists."""
    if isinstance(value, dict):
        kept = {key: _omit_empty(item) for key, item in value.items()}
        return {
            key: item for key, item in kept.items() if item is not False and item not in ({}, [])
        }
    if isinstance(value, list):
        return [_omit_empty(item) for item in value]
    return value


def export_document(obj: AnyObject) -> dict[str, Any]:
    """The object as Flux exports it: apiVersion, kind, trimmed metadata, spec (or Secret data)."""
    data = obj.model_dump(mode="json", exclude_unset=True, context=GO_FORMAT_CONTEXT)
    metadata = {
        key: data["metadata"][key] for key in EXPORTED_METADATA if data["metadata"].get(key)
    }
    document = {"apiVersion": data["apiVersion"], "kind": data["kind"], "metadata": metadata}
    body = _SECRET_FIELDS if isinstance(obj, Secret) else ("spec",)
    document.update({key: data[key] for key in body if key in data})
    return _omit_empty(document)  # type: ignore[no-any-return]


def export_objects(objs: Iterable[AnyObject]) -> str:
    """Every object as ``---`` plus its go-yaml v2 rendering, in the order given."""
    return "".join("---\n" + emit_document(export_document(obj)) for obj in objs)
