"""Which objects a Kustomization's health check waits for (Flux's rule, pure).

``wait: true`` checks every object of the change set except the skipped and the pruned ones,
and ``healthChecks`` is then ignored; otherwise the ``healthChecks`` references are checked
as written (an empty apiVersion means ``apps/v1``, an empty namespace a cluster-scoped
object); with neither there is no health check.  The Kustomization never waits for itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagpilot.api.kustomization import (
    KUSTOMIZE_API_V1,
    Kustomization,
    NamespacedObjectKindReference,
)
from tagpilot.core.kustomize import changeset as cs

__all__ = ["health_targets", "reference_stub"]

_KUSTOMIZE_GROUP = KUSTOMIZE_API_V1.split("/", 1)[0]


def reference_stub(ref: NamespacedObjectKindReference) -> dict[str, Any]:
    """A ``healthChecks`` entry as an object to GET; its namespace is used as written."""
    metadata: dict[str, Any] = {"name": ref.name}
    if ref.namespace:
        metadata["namespace"] = ref.namespace
    return {"apiVersion": ref.effective_api_version, "kind": ref.kind, "metadata": metadata}


def _is_itself(ks: Kustomization, obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (
        obj.get("kind") == ks.kind
        and group == _KUSTOMIZE_GROUP
        and metadata.get("name") == ks.name
        and (metadata.get("namespace") or "") == ks.namespace
    )


def health_targets(ks: Kustomization, changes: cs.ChangeSet) -> list[dict[str, Any]] | None:
    """The objects to wait for; None when the Kustomization asks for no health check."""
    if ks.spec.wait:
        targets = [
            e.inventory_entry().stub()
            for e in changes.health_targets()
            if e.action is not cs.Action.DELETED
        ]
    elif ks.spec.health_checks:
        targets = [reference_stub(ref) for ref in ks.spec.health_checks]
    else:
        return None
    return [obj for obj in targets if not _is_itself(ks, obj)]
