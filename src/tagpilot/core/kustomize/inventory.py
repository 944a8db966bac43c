"""Flux's Kustomization inventory (``status.inventory.entries``) and the prune decisions on it.

An entry is ``{id, v}``: ``id`` is cli-utils' ``ObjMetadata`` string
``<namespace>_<name>_<group>_<kind>`` (empty namespace for cluster-scoped objects, empty group
for the core group) and ``v`` the API version.  For the four RBAC kinds a ``:`` in the name is
written as ``__``.  Parsing takes the namespace up to the first ``_``, the kind after the last
``_``, the group before that, and the rest is the name: the same format lets a Kustomization
move between Flux and tagpilot and keep pruning correctly.

Pruning: stale = old inventory minus new, by id (:func:`stale_entries`, in deletion order).
For each stale object :func:`prune_decision` reads the live object: gone → already deleted;
not carrying *this* Kustomization's owner labels → skipped (another Kustomization adopted it);
``prune: disabled``, ``reconcile: disabled`` or ``ssa: Ignore`` → skipped; otherwise delete.
Entries whose deletion was not confirmed go back into the inventory (:func:`retained_after_prune`)
so the next run retries them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tagpilot.core.errors import StalledError
from tagpilot.core.kustomize.stages import (
    NAME_LABEL,
    NAMESPACE_LABEL,
    RECONCILE_KEY,
    SSA_KEY,
    apply_order_key,
    has_marker,
)

__all__ = [
    "PRUNE_KEY",
    "RBAC_GROUP",
    "InventoryEntry",
    "InventoryError",
    "ObjMetadata",
    "PruneAction",
    "deletes_on_finalize",
    "entry_for",
    "prune_decision",
    "retained_after_prune",
    "stale_entries",
]

PRUNE_KEY = "kustomize.toolkit.fluxcd.io/prune"
RBAC_GROUP = "rbac.authorization.k8s.io"
_RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


class InventoryError(StalledError):
    """A stored inventory id that is not in ObjMetadata format."""

    reason = "ReconciliationFailed"


@dataclass(frozen=True)
class ObjMetadata:
    """An object's identity without its version: namespace, name, group, kind."""

    namespace: str
    name: str
    group: str
    kind: str

    def _is_rbac(self) -> bool:
        return self.group == RBAC_GROUP and self.kind in _RBAC_KINDS

    @property
    def id(self) -> str:
        """The inventory id string."""
        name = self.name.replace(":", "__") if self._is_rbac() else self.name
        return f"{self.namespace}_{name}_{self.group}_{self.kind}"

    @classmethod
    def parse(cls, text: str) -> ObjMetadata:
        """Read an inventory id; :class:`InventoryError` when a separator is missing."""
        first = text.find("_")
        last = text.rfind("_")
        group_sep = text.rfind("_", 0, last)
        if first < 0 or group_sep <= first:
            raise InventoryError(f"unable to parse stored object metadata: {text}")
        meta = cls(
            namespace=text[:first],
            name=text[first + 1 : group_sep],
            group=text[group_sep + 1 : last],
            kind=text[last + 1 :],
        )
        if meta._is_rbac():
            meta = cls(meta.namespace, meta.name.replace("__", ":"), meta.group, meta.kind)
        return meta

    def ref(self) -> str:
        """``Kind/namespace/name`` or ``Kind/name``, as change-set lines print it."""
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    def order_key(self) -> tuple[int, str, str, str, str]:
        """Position in Flux's apply order."""
        return apply_order_key(self.group, self.kind, self.namespace, self.name)


@dataclass(frozen=True)
class InventoryEntry:
    """One ``status.inventory.entries`` item."""

    id: str
    v: str

    @property
    def meta(self) -> ObjMetadata:
        """The parsed id."""
        return ObjMetadata.parse(self.id)

    @property
    def api_version(self) -> str:
        """``group/version`` (just ``version`` for the core group), for a GET or DELETE."""
        group = self.meta.group
        return f"{group}/{self.v}" if group else self.v

    def stub(self) -> dict[str, Any]:
        """The object as far as a GET or DELETE needs it: apiVersion, kind, name, namespace."""
        meta = self.meta
        metadata: dict[str, Any] = {"name": meta.name}
        if meta.namespace:
            metadata["namespace"] = meta.namespace
        return {"apiVersion": self.api_version, "kind": meta.kind, "metadata": metadata}

    def to_json(self) -> dict[str, str]:
        """The status form."""
        return {"id": self.id, "v": self.v}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> InventoryEntry:
        """Read one status entry (the id is checked at once)."""
        entry = cls(id=str(raw.get("id", "")), v=str(raw.get("v", "")))
        entry.meta  # noqa: B018 -- parse now, so a corrupt inventory fails where it is read
        return entry


def entry_for(obj: Mapping[str, Any]) -> InventoryEntry:
    """The inventory entry of an applied object."""
    api_version = str(obj.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    metadata = obj.get("metadata") or {}
    meta = ObjMetadata(
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        group=group,
        kind=str(obj.get("kind", "")),
    )
    return InventoryEntry(id=meta.id, v=version)


def stale_entries(
    old: Iterable[InventoryEntry], new: Iterable[InventoryEntry]
) -> list[InventoryEntry]:
    """Entries of ``old`` whose id is not in ``new``, in deletion (reverse apply) order."""
    current = {entry.id for entry in new}
    seen: set[str] = set()
    stale = []
    for entry in old:
        if entry.id not in current and entry.id not in seen:
            seen.add(entry.id)
            stale.append(entry)
    return sorted(stale, key=lambda entry: entry.meta.order_key(), reverse=True)


class PruneAction(enum.StrEnum):
    """What pruning does with one stale object; the values are change-set actions."""

    DELETE = "delete"
    DELETED = "deleted"
    SKIPPED = "skipped"


def prune_decision(
    live: Mapping[str, Any] | None, *, owner_name: str, owner_namespace: str
) -> PruneAction:
    """Delete, or count as deleted (already gone), or skip one stale object."""
    if live is None:
        return PruneAction.DELETED
    labels = (live.get("metadata") or {}).get("labels") or {}
    if labels.get(NAME_LABEL) != owner_name or labels.get(NAMESPACE_LABEL) != owner_namespace:
        return PruneAction.SKIPPED
    if (
        has_marker([live], PRUNE_KEY, "disabled")
        or has_marker([live], RECONCILE_KEY, "disabled")
        or has_marker([live], SSA_KEY, "Ignore")
    ):
        return PruneAction.SKIPPED
    return PruneAction.DELETE


def retained_after_prune(
    new: Sequence[InventoryEntry],
    stale: Sequence[InventoryEntry],
    confirmed: Iterable[str],
) -> list[InventoryEntry]:
    """The inventory to store after pruning: ``new`` plus stale entries not confirmed.

    ``confirmed`` holds the ids that were deleted, found gone, or skipped.
    """
    done = set(confirmed)
    present = {entry.id for entry in new}
    return [*new, *(e for e in stale if e.id not in done and e.id not in present)]


def deletes_on_finalize(
    policy: str, *, prune: bool, suspended: bool, inventory: Sequence[InventoryEntry]
) -> bool:
    """Whether deleting the Kustomization deletes its objects (``spec.deletionPolicy``)."""
    if suspended or not inventory:
        return False
    if policy == "MirrorPrune":
        return prune
    return policy in ("Delete", "WaitForTermination")
