"""Schemas of the Kubernetes (and Flux) types the kinds embed, as the API server validates them.

``metav1.Condition`` carries length, pattern and enum rules in Kubernetes itself; the
pydantic :class:`tagpilot.api.meta.Condition` is deliberately lenient when *reading*
(it must accept whatever another writer put there), so the CRD takes the Kubernetes
rules from here instead.  These are facts of the Kubernetes API, written out once.
"""

from __future__ import annotations

from tagpilot.api.crds.schema import Props

__all__ = ["ARTIFACT", "CONDITION", "DATE_TIME", "INT64", "LABEL_SELECTOR"]

DATE_TIME: Props = {"format": "date-time", "type": "string"}
"""A ``metav1.Time``."""

INT64: Props = {"format": "int64", "type": "integer"}
"""A Go ``int64``."""

# Kubernetes' qualified-name pattern for condition types, and its reason pattern.
_TYPE_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"

CONDITION: Props = {
    "properties": {
        "lastTransitionTime": dict(DATE_TIME),
        "message": {"maxLength": 32768, "type": "string"},
        "observedGeneration": {"format": "int64", "minimum": 0, "type": "integer"},
        "reason": {
            "maxLength": 1024,
            "minLength": 1,
            "pattern": _REASON_PATTERN,
            "type": "string",
        },
        "status": {"enum": ["True", "False", "Unknown"], "type": "string"},
        "type": {"maxLength": 316, "pattern": _TYPE_PATTERN, "type": "string"},
    },
    "required": ["lastTransitionTime", "message", "reason", "status", "type"],
    "type": "object",
}
"""A ``metav1.Condition`` (one ``status.conditions`` item)."""

_STRINGS: Props = {"items": {"type": "string"}, "type": "array", "x-kubernetes-list-type": "atomic"}

LABEL_SELECTOR: Props = {
    "properties": {
        "matchExpressions": {
            "items": {
                # Kubernetes checks the operator in its own code, not in the schema.
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"type": "string"},
                    "values": _STRINGS,
                },
                "required": ["key", "operator"],
                "type": "object",
            },
            "type": "array",
            "x-kubernetes-list-type": "atomic",
        },
        "matchLabels": {"additionalProperties": {"type": "string"}, "type": "object"},
    },
    "type": "object",
    "x-kubernetes-map-type": "atomic",
}
"""A ``metav1.LabelSelector`` (replaced as a whole by server-side apply: atomic)."""

ARTIFACT: Props = {
    "properties": {
        "digest": {"pattern": r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$", "type": "string"},
        "lastUpdateTime": dict(DATE_TIME),
        "metadata": {"additionalProperties": {"type": "string"}, "type": "object"},
        "path": {"type": "string"},
        "revision": {"type": "string"},
        "size": dict(INT64),
        "url": {"type": "string"},
    },
    "required": ["digest", "lastUpdateTime", "path", "revision", "url"],
    "type": "object",
}
"""A Flux source ``Artifact`` (what source-controller writes into a source's status).

tagpilot reads only ``revision`` from it and keeps it as a plain mapping in the model; the
CRD still spells out the whole type, so the API server keeps every field Flux writes."""
