"""Server-side dry runs for ``diff kustomization``: what the next apply and prune would do.

Each built object is read live and applied with ``dryRun=All`` as field manager
``kustomize-controller`` (forced, as the controller applies), then judged by
:func:`tagpilot.core.kustomize.diff.compare`.  Nothing is written.  Two things a dry run
cannot check before the apply that creates them are reported as ``created`` without one: an
object in a Namespace the same build creates, and an object of a kind whose CRD the same
build defines.  With ``prune``, the entries of the Kustomization's inventory in the cluster
that the build no longer holds are read and judged by Flux's prune rules
(:func:`~tagpilot.core.kustomize.inventory.prune_decision`): those it would delete are
reported ``deleted``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tagpilot.adapters.cluster.applier import FIELD_MANAGER, RestMapper, UnknownKindError
from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.errors import NotFoundError
from tagpilot.adapters.kube.resources import Resource
from tagpilot.core.errors import StalledError
from tagpilot.core.kustomize.diff import DiffAction, ObjectDiff, compare
from tagpilot.core.kustomize.drift_ignore import IgnoreRules, payload_without_ignored, without_paths
from tagpilot.core.kustomize.inventory import (
    InventoryEntry,
    PruneAction,
    entry_for,
    prune_decision,
    stale_entries,
)
from tagpilot.core.kustomize.stages import skip_reason

__all__ = ["DiffRequest", "diff_objects"]


@dataclass(frozen=True)
class DiffRequest:
    """The built objects, and what pruning needs: the owner and its inventory in the cluster."""

    objects: Sequence[Mapping[str, Any]]
    owner_name: str
    owner_namespace: str
    inventory: Sequence[InventoryEntry] = ()
    prune: bool = False
    ignore: IgnoreRules = field(default_factory=IgnoreRules)
    """The Kustomization's ``spec.ignore``: those fields are no drift, as when applying."""


def _created_here(objects: Sequence[Mapping[str, Any]]) -> tuple[set[str], set[tuple[str, str]]]:
    """The Namespaces and the (group, kind) of the CRDs the build itself creates."""
    namespaces: set[str] = set()
    kinds: set[tuple[str, str]] = set()
    for obj in objects:
        name = str((obj.get("metadata") or {}).get("name", ""))
        if obj.get("kind") == "Namespace":
            namespaces.add(name)
        elif obj.get("kind") == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            kinds.add((str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))))
    return namespaces, kinds


class _Differ:
    def __init__(self, client: KubeClient, request: DiffRequest) -> None:
        self._client = client
        self._mapper = RestMapper(client)
        self._namespaces, self._kinds = _created_here(request.objects)
        self._ignore = request.ignore

    async def _live(self, resource: Resource, namespace: str | None, name: str) -> Any:
        try:
            return await self._client.get(resource, namespace, name)
        except NotFoundError:
            return None

    async def one(self, obj: Mapping[str, Any]) -> ObjectDiff:
        meta = entry_for(obj).meta
        ref = meta.ref()
        try:
            resource = await self._mapper.resource(str(obj.get("apiVersion", "")), meta.kind)
        except UnknownKindError:
            if (meta.group, meta.kind) in self._kinds:
                return ObjectDiff(ref, DiffAction.CREATED)
            raise
        if resource.namespaced and not meta.namespace:
            raise StalledError(
                f"{ref}: namespace not specified (set metadata.namespace, or the "
                "Kustomization's targetNamespace)"
            )
        scope = meta.namespace if resource.namespaced else None
        live = await self._live(resource, scope, meta.name)
        if skip_reason(obj, live) is not None:
            return ObjectDiff(ref, DiffAction.SKIPPED)
        ignored = self._ignore.paths_for(obj)
        body = payload_without_ignored(obj, live, ignored, manager=FIELD_MANAGER)
        try:
            trial = await self._client.apply(
                resource, scope, meta.name, body, field_manager=FIELD_MANAGER, dry_run=True
            )
        except NotFoundError:
            if live is None and meta.namespace in self._namespaces:
                return ObjectDiff(ref, DiffAction.CREATED)
            raise
        if live is not None and ignored:
            live, trial = without_paths(live, ignored), without_paths(trial, ignored)
        return compare(ref, live, trial)

    async def pruned(self, entry: InventoryEntry, request: DiffRequest) -> ObjectDiff | None:
        meta = entry.meta
        try:
            resource = await self._mapper.resource(entry.api_version, meta.kind)
        except UnknownKindError:
            return None  # its CRD is gone, and the object with it
        scope = meta.namespace if resource.namespaced else None
        live = await self._live(resource, scope, meta.name)
        decision = prune_decision(
            live, owner_name=request.owner_name, owner_namespace=request.owner_namespace
        )
        if decision is PruneAction.DELETE:
            return ObjectDiff(meta.ref(), DiffAction.DELETED)
        return None


async def diff_objects(client: KubeClient, request: DiffRequest) -> list[ObjectDiff]:
    """Every built object's verdict in apply order, then (with ``prune``) what would be
    deleted, in deletion order."""
    differ = _Differ(client, request)
    ordered = sorted(request.objects, key=lambda obj: entry_for(obj).meta.order_key())
    found = [await differ.one(obj) for obj in ordered]
    if request.prune:
        stale = stale_entries(request.inventory, [entry_for(obj) for obj in request.objects])
        for entry in stale:
            deleted = await differ.pruned(entry, request)
            if deleted is not None:
                found.append(deleted)
    return found
