"""Objects read from the API server, turned into what the engine loads from manifest files.

The watches hand over raw JSON objects; the engine wants validated models
(``LoadedObject``) and a ``SecretIndex``.  Parsing is kept per object and resource version,
so a change to one of a thousand objects re-validates one.  An object the API server
accepted but tagpilot's models refuse is kept aside with the reason, to be reported on the
object instead of being reconciled.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tagpilot.adapters.manifests import Manifests
from tagpilot.api.loader import LoadedObject, parse_object
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.core.secrets import SecretData, SecretIndex
from tagpilot.ports import ObjectKey

__all__ = ["CLUSTER_MISSING_SECRET", "ParsedObjects", "Refused", "cluster_manifests", "secret_data"]

CLUSTER_MISSING_SECRET = "not found (create it in that namespace, or fix the reference)"
_SERVER_FIELDS = ("status",)


@dataclass(frozen=True)
class Refused:
    """An object tagpilot cannot reconcile as it is, and why."""

    key: ObjectKey
    resource_version: str
    reason: str


def key_of(kind: str, raw: Mapping[str, Any]) -> ObjectKey:
    """The key of a raw API object of ``kind``."""
    metadata = raw.get("metadata") or {}
    return ObjectKey(kind, str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def resource_version(raw: Mapping[str, Any]) -> str:
    """``metadata.resourceVersion`` of a raw API object ('' when absent)."""
    return str((raw.get("metadata") or {}).get("resourceVersion") or "")


def content_version(raw: Mapping[str, Any]) -> str:
    """What identifies an object's spec and metadata, status aside.

    Every status write moves ``resourceVersion``; ``generation`` moves only with the spec
    (the kinds have a status subresource), so generation plus labels and annotations say
    when a re-validation is needed.  Without a generation, the resource version is used.
    """
    metadata = raw.get("metadata") or {}
    generation = metadata.get("generation")
    if generation is None:
        return resource_version(raw)
    labels = sorted((metadata.get("labels") or {}).items())
    annotations = sorted((metadata.get("annotations") or {}).items())
    return f"{generation}|{labels!r}|{annotations!r}"


class ParsedObjects:
    """Validated models of raw API objects, re-validated only when their spec or metadata
    moves (a status write does not)."""

    def __init__(self) -> None:
        self._parsed: dict[ObjectKey, tuple[str, LoadedObject | Refused]] = {}

    def parse(self, kind: str, raw: Mapping[str, Any]) -> LoadedObject | Refused:
        """The object as the engine loads it, or why it cannot be."""
        key = key_of(kind, raw)
        version = content_version(raw)
        cached = self._parsed.get(key)
        if cached is not None and cached[0] == version and version:
            return cached[1]
        result = _parse(key, resource_version(raw), raw)
        self._parsed[key] = (version, result)
        return result

    def refusal(self, key: ObjectKey) -> Refused:
        """Why ``key`` was refused (KeyError when it was not)."""
        result = self._parsed[key][1]
        if not isinstance(result, Refused):
            raise KeyError(key)
        return result

    def forget_missing(self, present: Iterable[ObjectKey]) -> None:
        """Drop the parses of objects no longer watched."""
        keep = set(present)
        for key in [k for k in self._parsed if k not in keep]:
            del self._parsed[key]


def _parse(key: ObjectKey, version: str, raw: Mapping[str, Any]) -> LoadedObject | Refused:
    document = {k: v for k, v in raw.items() if k not in _SERVER_FIELDS}
    metadata = dict(document.get("metadata") or {})
    metadata.pop("managedFields", None)
    document["metadata"] = metadata
    try:
        obj = parse_object(document, default_namespace=key.namespace)
    except InvalidInputError as error:
        return Refused(key, version, error.message)
    # No file and line: messages already name the object, and the spec is in the cluster.
    return LoadedObject(obj, SourceLocation(), raw=document, default_namespace=key.namespace)


def secret_data(raw: Mapping[str, Any]) -> SecretData | None:
    """A Secret as the reconcilers read it (``data`` decoded); None when it does not decode."""
    metadata = raw.get("metadata") or {}
    values: dict[str, bytes] = {}
    try:
        for name, encoded in (raw.get("data") or {}).items():
            values[str(name)] = base64.b64decode(str(encoded), validate=True)
    except (binascii.Error, ValueError):
        return None
    for name, text in (raw.get("stringData") or {}).items():
        values[str(name)] = str(text).encode()
    return SecretData(
        str(metadata.get("namespace") or ""),
        str(metadata.get("name") or ""),
        values,
        str(raw.get("type") or "Opaque"),
    )


def cluster_manifests(objects: Iterable[LoadedObject], secrets: Iterable[SecretData]) -> Manifests:
    """What a manifest load would have produced, for the objects and Secrets of a cluster."""
    index = {(s.namespace, s.name): s for s in secrets}
    return Manifests(
        objects=list(objects),
        secrets=SecretIndex(index, missing_hint=CLUSTER_MISSING_SECRET),
    )
