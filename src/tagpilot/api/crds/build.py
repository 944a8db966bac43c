"""Assemble a ``CustomResourceDefinition`` document from a kind's models and its table.

The document is plain JSON data with keys in a fixed order, so the same tagpilot version
always prints the same bytes.  Every CRD carries ``app.kubernetes.io/part-of: tagpilot``:
that label is how tagpilot tells its own CRDs from ones another installer (Flux) owns.
"""

from __future__ import annotations

from collections.abc import Mapping

from tagpilot.api.crds.schema import JsonValue, Props, model_schema
from tagpilot.api.crds.table import CrdKind, add_rule, apply_patch

__all__ = ["CRD_API_VERSION", "OWNER_LABEL", "crd_document", "version_schema"]

CRD_API_VERSION = "apiextensions.k8s.io/v1"
OWNER_LABEL = ("app.kubernetes.io/part-of", "tagpilot")
"""The label that marks a CRD as tagpilot's own (never set on a CRD it did not create)."""


def version_schema(kind: CrdKind) -> Props:
    """The ``openAPIV3Schema`` of the kind's served version, patches and CEL rules applied."""
    spec = model_schema(kind.spec_model)
    status = model_schema(kind.status_model)
    root: Props = {
        "description": f"{kind.kind} ({kind.group}/{kind.version}).",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
        "type": "object",
    }
    for patch in kind.patches:
        apply_patch(root, patch)
    for rule in kind.rules:
        add_rule(root, rule)
    return _sorted_props(root)


def _sorted_props(props: Mapping[str, JsonValue]) -> Props:
    """Schema keys in alphabetical order (as controller-gen writes them), lists kept."""
    return {key: _sorted(props[key]) for key in sorted(props)}


def _sorted(value: JsonValue) -> JsonValue:
    if isinstance(value, Mapping):
        return _sorted_props(value)
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def crd_document(kind: CrdKind, labels: dict[str, str] | None = None) -> Props:
    """The kind's CRD; ``labels`` are added to the owner label (e.g. the version)."""
    all_labels = {OWNER_LABEL[0]: OWNER_LABEL[1], **(labels or {})}
    schema = version_schema(kind)
    version: Props = {
        "additionalPrinterColumns": [column.document() for column in kind.columns],
        "name": kind.version,
        "schema": {"openAPIV3Schema": schema},
        "served": True,
        "storage": True,
        "subresources": {"status": {}},
    }
    names: Props = {
        "categories": list(kind.categories),
        "kind": kind.kind,
        "listKind": f"{kind.kind}List",
        "plural": kind.plural,
        "shortNames": list(kind.short_names),
        "singular": kind.singular,
    }
    return {
        "apiVersion": CRD_API_VERSION,
        "kind": "CustomResourceDefinition",
        "metadata": {
            # kustomize-controller must not substitute ${...} inside the schema text.
            "annotations": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"},
            "labels": dict(sorted(all_labels.items())),
            "name": kind.name,
        },
        "spec": {
            "group": kind.group,
            "names": names,
            "scope": "Namespaced",
            "versions": [version],
        },
    }
