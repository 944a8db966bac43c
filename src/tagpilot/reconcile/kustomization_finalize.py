"""What deleting a Kustomization does to the objects it applied (Flux's finalizer).

kustomize-controller's rules: nothing when the Kustomization is suspended or its inventory is
empty; otherwise ``deletionPolicy`` decides — ``MirrorPrune`` (the default) deletes the
inventory objects only with ``prune: true``, ``Delete`` and ``WaitForTermination`` always,
``Orphan`` never.  Each object is deleted by the prune rules (an object carrying
``kustomize.toolkit.fluxcd.io/prune: disabled``, or no longer labelled as this
Kustomization's, is skipped), in reverse apply order, as the Kustomization's
``serviceAccountName`` when it has one.  A failed deletion is an error, so the caller keeps
the finalizer and retries; ``WaitForTermination`` then waits (up to ``timeout``) for the
objects to be gone, and only warns when they are not.  When the service account to
impersonate no longer exists, the objects are named in a Warning and left, and the
finalizer goes anyway (Flux's rule: nothing could delete them as that account).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tagpilot.api.kustomization import Kustomization, KustomizationStatus
from tagpilot.core.errors import RetryableError
from tagpilot.core.kustomize.inventory import (
    InventoryEntry,
    deletes_on_finalize,
    entry_for,
    stale_entries,
)
from tagpilot.ports import Clock, ObjectApplier
from tagpilot.reconcile.kustomization_health import POLL_SECONDS
from tagpilot.reconcile.kustomization_prune import prune_entries
from tagpilot.reconcile.outcome import Event, ready_condition

__all__ = ["PRUNE_FAILED", "finalize_kustomization", "inventory_of"]

PRUNE_FAILED = "PruneFailed"


def inventory_of(status: KustomizationStatus | None) -> list[InventoryEntry]:
    """The inventory a status records (empty without one)."""
    if status is None or status.inventory is None:
        return []
    return [InventoryEntry(e.id, e.v) for e in status.inventory.entries]


async def _account_exists(ks: Kustomization, applier: ObjectApplier) -> bool:
    metadata = {"name": ks.spec.service_account_name, "namespace": ks.namespace}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}
    return await applier.get(account) is not None


async def _wait_gone(
    ks: Kustomization, applier: ObjectApplier, objects: Sequence[dict[str, Any]], clock: Clock
) -> list[str]:
    """The objects still there when ``timeout`` ran out ([] when all are gone)."""
    deadline = clock.now() + ks.spec.effective_timeout.timedelta
    while True:
        left = [obj for obj in objects if await applier.get(obj) is not None]
        if not left or clock.now() >= deadline:
            return [entry_for(obj).meta.ref() for obj in left]
        await asyncio.sleep(POLL_SECONDS)


async def finalize_kustomization(
    ks: Kustomization,
    status: KustomizationStatus | None,
    applier: ObjectApplier,
    clock: Clock,
) -> tuple[Event, ...]:
    """Run the deletion policy of ``ks`` (being deleted); the events to record.

    ``applier`` acts as the controller; a failed deletion raises (keep the finalizer, retry).
    """
    inventory = inventory_of(status)
    policy = ks.spec.effective_deletion_policy
    if not deletes_on_finalize(
        policy, prune=ks.spec.prune, suspended=ks.spec.suspend, inventory=inventory
    ):
        return ()
    ready = ready_condition(status)
    reason = ready.reason if ready is not None else "Progressing"
    if ks.spec.service_account_name:
        if not await _account_exists(ks, applier):
            names = "\n".join(e.meta.ref() for e in inventory)
            return (Event("Warning", PRUNE_FAILED, f"unable to prune objects: \n{names}"),)
        applier = applier.as_service_account(ks.namespace, ks.spec.service_account_name)
    # Every entry, in deletion order.
    pruned = await prune_entries(ks, applier, stale_entries(inventory, []))
    if pruned.errors:
        raise RetryableError(
            "pruning for deleted resource failed:\n" + "\n".join(pruned.errors),
            reason=PRUNE_FAILED,
        )
    changes = pruned.changes
    events = [Event("Normal", reason, changes.text())] if changes.entries else []
    if policy == "WaitForTermination" and pruned.deleted:
        left = await _wait_gone(ks, applier, pruned.deleted, clock)
        if left:
            message = "failed to wait for objects to be deleted: timeout waiting for: " + (
                ", ".join(left)
            )
            events.append(Event("Warning", PRUNE_FAILED, message))
    return tuple(events)
