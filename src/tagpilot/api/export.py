"""``flux create/export ... --export`` output: what the Flux CLI prints, byte for byte.

Flux marshals the object to JSON (so Go's ``omitempty`` drops unset and false fields, but
only where the field is tagged so: a Kustomization's required ``spec.prune`` and a Secret's
``immutable`` pointer keep ``false``),
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
_FALSE_KEPT = {
    "Kustomization": frozenset({("spec", "prune")}),  # `json:"prune"`, no omitempty
    "Secret": frozenset({("immutable",)}),  # a *bool: omitempty drops only nil
}
"""Boolean fields Go marshals even when false, by kind and path from the object's root."""


def _omit_empty(value: Any, kept: frozenset[tuple[str, ...]], path: tuple[str, ...] = ()) -> Any:
    """Drop what Go's ``omitempty`` drops here: false (except at ``kept`` paths), and empty
    maps and lists."""
    if isinstance(value, dict):
        result = {}
        for key, raw in value.items():
            where = (*path, key)
            item = _omit_empty(raw, kept, where)
            if (item is False and where not in kept) or item in ({}, []):
                continue
            result[key] = item
        return result
    if isinstance(value, list):
        return [_omit_empty(item, kept, path) for item in value]
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
    kept = _FALSE_KEPT.get(document["kind"], frozenset())
    return _omit_empty(document, kept)  # type: ignore[no-any-return]


def export_objects(objs: Iterable[AnyObject]) -> str:
    """Every object as ``---`` plus its go-yaml v2 rendering, in the order given."""
    return "".join("---\n" + emit_document(export_document(obj)) for obj in objs)
