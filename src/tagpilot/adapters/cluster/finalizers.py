"""Flux's finalizer on an object in the API server: added, seen, removed.

kustomize-controller puts ``finalizers.fluxcd.io`` on every Kustomization it reconciles, so
deleting one leaves it in place (with ``deletionTimestamp``) until the controller has run its
deletion policy.  Both writes are merge patches carrying the ``resourceVersion`` they were
computed from: a concurrent change to the list is a conflict, retried on a fresh read,
never a lost finalizer of somebody else's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.errors import ConflictError, NotFoundError
from tagpilot.adapters.kube.resources import Resource

__all__ = ["FINALIZER", "add_finalizer", "has_finalizer", "is_deleting", "remove_finalizer"]

FINALIZER = "finalizers.fluxcd.io"
_ATTEMPTS = 5


def _finalizers(raw: Mapping[str, Any]) -> list[str]:
    return [str(f) for f in (raw.get("metadata") or {}).get("finalizers") or []]


def has_finalizer(raw: Mapping[str, Any]) -> bool:
    """Whether the object carries Flux's finalizer."""
    return FINALIZER in _finalizers(raw)


def is_deleting(raw: Mapping[str, Any]) -> bool:
    """Whether the object has been deleted and waits for its finalizers."""
    return bool((raw.get("metadata") or {}).get("deletionTimestamp"))


async def _patch_finalizers(
    client: KubeClient, resource: Resource, namespace: str, name: str, add: bool
) -> None:
    for attempt in range(_ATTEMPTS):
        try:
            raw = await client.get(resource, namespace, name)
        except NotFoundError:
            return
        present = _finalizers(raw)
        wanted = (
            [*present, FINALIZER] if add and FINALIZER not in present
            else [f for f in present if f != FINALIZER]
        )  # fmt: skip
        if wanted == present or (add and is_deleting(raw)):
            return
        version = (raw.get("metadata") or {}).get("resourceVersion")
        patch = {"metadata": {"finalizers": wanted, "resourceVersion": version}}
        try:
            await client.merge_patch(resource, namespace, name, patch)
            return
        except NotFoundError:
            return
        except ConflictError:
            if attempt == _ATTEMPTS - 1:
                raise


async def add_finalizer(client: KubeClient, resource: Resource, namespace: str, name: str) -> None:
    """Add Flux's finalizer (nothing when present, or when the object is being deleted)."""
    await _patch_finalizers(client, resource, namespace, name, add=True)


async def remove_finalizer(
    client: KubeClient, resource: Resource, namespace: str, name: str
) -> None:
    """Remove Flux's finalizer; the API server then finishes the deletion."""
    await _patch_finalizers(client, resource, namespace, name, add=False)
