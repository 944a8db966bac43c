"""The Kustomization reconciler: a source revision built, applied, pruned and waited for.

Flux's kustomize-controller pipeline (reasons in brackets): refuse ``kubeConfig`` (another
cluster) [ReconciliationFailed, terminal], compile the ``healthCheckExprs`` and ``dependsOn``
``readyExpr`` [InvalidCELExpression, terminal] and the ``ignore`` rules [InvalidInput,
terminal], find the source's artifact
[ArtifactFailed], check ``dependsOn`` [DependencyNotReady], build with kustomize and SOPS
[BuildFailed], substitute ``postBuild`` variables [BuildFailed], prepare the objects (owner
labels, ``commonMetadata``), apply them in stages with server-side apply
[ReconciliationFailed], prune what left the build [PruneFailed], wait for health
[HealthCheckFailed], and record ``lastAppliedRevision``, the inventory and the history.
The rules are the pure ones of :mod:`tagpilot.core.kustomize`; the cluster is reached only
through the ``ObjectApplier`` and ``ManifestBuilder`` ports.  Decrypted values never reach a
message: errors name objects and files, never data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from tagpilot.api.kustomization import (
    HistoryEntry,
    Kustomization,
    KustomizationStatus,
    ResourceInventory,
)
from tagpilot.api.kustomization import (
    InventoryEntry as StatusEntry,
)
from tagpilot.api.meta import NamespacedName
from tagpilot.api.source import GitRepositoryStatus
from tagpilot.core.errors import RetryableError, StalledError, TagpilotError
from tagpilot.core.kustomize import changeset as cs
from tagpilot.core.kustomize.cel_health import HealthExpressions
from tagpilot.core.kustomize.drift_ignore import rules_of
from tagpilot.core.kustomize.inventory import (
    InventoryEntry,
    retained_after_prune,
    stale_entries,
)
from tagpilot.core.kustomize.ready_expr import ReadyExpressions
from tagpilot.core.kustomize.stages import (
    prepare,
)
from tagpilot.ports import ManifestBuilder, ObjectApplier, ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.kustomization_apply import apply_all
from tagpilot.reconcile.kustomization_depends import check_dependencies
from tagpilot.reconcile.kustomization_health import (
    HEALTH_CHECK_FAILED,
    check_health,
    kept_healthy,
    with_healthy,
)
from tagpilot.reconcile.kustomization_prune import prune_entries
from tagpilot.reconcile.kustomization_substitute import substituted
from tagpilot.reconcile.outcome import Event, Outcome, failed_outcome, read_status, success

__all__ = ["KIND", "reconcile_kustomization"]

KIND = "Kustomization"
SUCCEEDED = "ReconciliationSucceeded"


def _fail(reason: str, message: str, *, retry: bool = True) -> TagpilotError:
    family = RetryableError if retry else StalledError
    return family(message, reason=reason)


async def reconcile_kustomization(
    ks: Kustomization, ctx: ReconcileContext, *, generation: int
) -> Outcome[KustomizationStatus]:
    """Run the pipeline once for ``ks``; every failure becomes Flux's conditions."""
    key = ObjectKey(KIND, ks.namespace, ks.name)
    previous = read_status(ctx.store, key, KustomizationStatus)
    started = ctx.clock.now()
    attempted: list[str] = []
    try:
        return await _pipeline(ks, ctx, previous, generation, started, attempted)
    except TagpilotError as error:
        fields = KustomizationStatus(last_attempted_revision=attempted[0] if attempted else None)
        if not attempted:
            fields = KustomizationStatus()
        now = ctx.clock.now()
        outcome = failed_outcome(previous, fields, error, generation=generation, now=now)
        if error.reason != HEALTH_CHECK_FAILED:
            # A run that failed before its health check says nothing new about health.
            return replace(outcome, status=kept_healthy(outcome.status, previous, ks))
        status = with_healthy(
            outcome.status,
            previous,
            healthy=False,
            message=error.message,
            generation=generation,
            now=now,
        )
        return replace(outcome, status=status)


async def _pipeline(
    ks: Kustomization,
    ctx: ReconcileContext,
    previous: KustomizationStatus | None,
    generation: int,
    started: datetime,
    attempted: list[str],
) -> Outcome[KustomizationStatus]:
    applier, builder = _ports(ctx)
    own_identity = applier
    if ks.spec.service_account_name:
        applier = applier.as_service_account(ks.namespace, ks.spec.service_account_name)
    _refuse_remote_cluster(ks)
    # Configuration errors stall before anything is fetched or applied.
    expressions = HealthExpressions(ks.spec.health_check_exprs)
    ready_exprs = ReadyExpressions(ks.spec.depends_on)
    ignore = rules_of(ks.spec)
    url, digest, revision = _artifact(ks, ctx)
    check_dependencies(ks, ctx, revision, ready_exprs)
    attempted.append(revision)
    age_keys = _age_keys(ks, ctx)
    built = await builder.build(url, digest, ks.spec.path or "./", ks.spec, age_keys)
    objects = await substituted(ks, ctx, own_identity, built)
    metadata = ks.spec.common_metadata
    prepared = prepare(
        objects,
        owner_name=ks.name,
        owner_namespace=ks.namespace,
        common_labels=metadata.labels if metadata else None,
        common_annotations=metadata.annotations if metadata else None,
    )
    changes = await apply_all(
        ks, applier, prepared, ctx, lambda message: _fail("ReconciliationFailed", message), ignore
    )
    inventory = changes.inventory()
    old = _old_inventory(previous)
    if ks.spec.prune:
        changes, inventory = await _prune(ks, applier, old, inventory, changes)
    health = await check_health(ks, applier, changes, ctx.clock, expressions or None)
    now = ctx.clock.now()
    digest_text = cs.build_digest("\n---\n".join(json.dumps(o, sort_keys=True) for o in prepared))
    fields = KustomizationStatus(
        last_applied_revision=revision,
        last_attempted_revision=revision,
        inventory=ResourceInventory(entries=[StatusEntry(id=e.id, v=e.v) for e in inventory]),
        history=_history(previous, digest_text, now, now - started, revision),
    )
    status = success(
        previous,
        fields,
        generation=generation,
        reason=SUCCEEDED,
        message=cs.applied_message(revision),
        now=now,
    )
    if health is not None:
        status = with_healthy(
            status,
            previous,
            healthy=True,
            message=cs.health_passed_message(health),
            generation=generation,
            now=now,
        )
    return Outcome(status, _events(changes, health, now - started, ks))


def _ports(ctx: ReconcileContext) -> tuple[ObjectApplier, ManifestBuilder]:
    if ctx.applier is None or ctx.builder is None:
        raise _fail(
            "ReconciliationFailed",
            "no cluster to apply to: Kustomizations are "
            "reconciled by `tagpilot controller --controllers ...,kustomize`",
            retry=False,
        )
    return ctx.applier, ctx.builder


def _artifact(ks: Kustomization, ctx: ReconcileContext) -> tuple[str, str | None, str]:
    ref = ks.spec.source_ref
    namespace = ref.namespace or ks.namespace
    where = f"{ref.kind}/{namespace}/{ref.name}"
    if ref.kind != "GitRepository":
        raise _fail(
            "ArtifactFailed",
            f"Source '{where}': tagpilot reads GitRepository sources only",
            retry=False,
        )
    if NamespacedName(namespace, ref.name) not in ctx.git_repositories:
        raise _fail("ArtifactFailed", f"Source '{where}' not found")
    source = read_status(ctx.store, ObjectKey(ref.kind, namespace, ref.name), GitRepositoryStatus)
    artifact = source.artifact if source else None
    if artifact is None or not artifact.url or not artifact.revision:
        raise _fail("ArtifactFailed", "Source artifact not found, retrying in 30s")
    return artifact.url, artifact.digest, artifact.revision


def _refuse_remote_cluster(ks: Kustomization) -> None:
    # Applying to the controller's own cluster instead would be silently wrong.
    if ks.spec.kube_config is not None:
        raise _fail(
            "ReconciliationFailed",
            "spec.kubeConfig is not supported: tagpilot applies only to the cluster it runs "
            "in; reconcile this Kustomization with Flux's kustomize-controller, or run "
            "tagpilot in the target cluster",
            retry=False,
        )


def _age_keys(ks: Kustomization, ctx: ReconcileContext) -> Mapping[str, bytes] | None:
    decryption = ks.spec.decryption
    if decryption is None or decryption.secret_ref is None:
        return None
    secret = ctx.secrets.get(
        ks.namespace,
        decryption.secret_ref.name,
        wanted_by=f"Kustomization {ks.namespace}/{ks.name}",
        reason="DecryptionFailed",
    )
    return dict(secret.values)


def _old_inventory(previous: KustomizationStatus | None) -> list[InventoryEntry]:
    if previous is None or previous.inventory is None:
        return []
    return [InventoryEntry(e.id, e.v) for e in previous.inventory.entries]


async def _prune(
    ks: Kustomization,
    applier: ObjectApplier,
    old: list[InventoryEntry],
    new: list[InventoryEntry],
    changes: cs.ChangeSet,
) -> tuple[cs.ChangeSet, list[InventoryEntry]]:
    stale = stale_entries(old, new)
    pruned = await prune_entries(ks, applier, stale, changes)
    if pruned.errors:
        raise _fail("PruneFailed", "\n".join(pruned.errors))
    return pruned.changes, retained_after_prune(new, stale, pruned.confirmed)


def _history(
    previous: KustomizationStatus | None,
    digest: str,
    now: datetime,
    took: timedelta,
    revision: str,
) -> list[HistoryEntry]:
    stored = previous.history if previous is not None and previous.history else []
    old = [cs.Snapshot.from_json(h.model_dump(by_alias=True, exclude_none=True)) for h in stored]
    snapshots = cs.upsert_history(
        old, digest=digest, at=now, duration=took, status=SUCCEEDED, metadata={"revision": revision}
    )
    return [HistoryEntry.model_validate(s.to_json()) for s in snapshots]


def _events(
    changes: cs.ChangeSet, health: timedelta | None, took: timedelta, ks: Kustomization
) -> tuple[Event, ...]:
    events = []
    applied = changes.apply_event()
    if applied:
        events.append(Event("Normal", SUCCEEDED, applied))
    if health is not None and applied:
        events.append(Event("Normal", "Succeeded", cs.health_passed_message(health)))
    interval = ks.spec.interval.timedelta
    events.append(Event("Trace", SUCCEEDED, cs.reconciliation_finished_message(took, interval)))
    return tuple(events)
