"""Deleting a Kustomization's objects by the prune rules, for pruning and for deletion.

For each entry, in the order given (the caller passes deletion order): read the live
object, let :func:`tagpilot.core.kustomize.inventory.prune_decision` decide (gone counts as
deleted; not this Kustomization's, or opted out, is skipped), delete in the background if
it says so.  Errors are collected, not raised, so every other object is still handled;
the caller turns them into ``PruneFailed`` and keeps the unconfirmed entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tagpilot.api.kustomization import Kustomization
from tagpilot.core.errors import TagpilotError
from tagpilot.core.kustomize import changeset as cs
from tagpilot.core.kustomize.inventory import InventoryEntry, PruneAction, prune_decision
from tagpilot.ports import ObjectApplier

__all__ = ["Pruned", "prune_entries"]


@dataclass(frozen=True)
class Pruned:
    """What one pass did: the change set, the ids settled, the objects deleted, errors."""

    changes: cs.ChangeSet
    confirmed: list[str] = field(default_factory=list)
    """Ids deleted, found gone, or skipped (no retry needed)."""
    deleted: list[dict[str, Any]] = field(default_factory=list)
    """The objects this pass asked the API server to delete."""
    errors: list[str] = field(default_factory=list)


async def prune_entries(
    ks: Kustomization,
    applier: ObjectApplier,
    entries: Sequence[InventoryEntry],
    changes: cs.ChangeSet | None = None,
) -> Pruned:
    """Handle ``entries`` in order; their change-set lines are appended to ``changes``."""
    changes = changes or cs.ChangeSet()
    confirmed: list[str] = []
    deleted: list[dict[str, Any]] = []
    errors: list[str] = []
    for entry in entries:
        stub = entry.stub()
        try:
            live = await applier.get(stub)
            decision = prune_decision(live, owner_name=ks.name, owner_namespace=ks.namespace)
            if decision is PruneAction.DELETE:
                await applier.delete(stub)
                deleted.append(stub)
                decision = PruneAction.DELETED
        except TagpilotError as error:
            errors.append(f"{entry.meta.ref()}: {error.message}")
            continue
        confirmed.append(entry.id)
        changes = changes.add(cs.ChangeSetEntry(entry.meta, entry.v, cs.Action(decision.value)))
    return Pruned(changes, confirmed, deleted, errors)
