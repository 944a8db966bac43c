"""A Kustomization's health check: waiting with kstatus for the objects it names.

Which objects is :func:`tagpilot.core.kustomize.health.health_targets` (Flux's rule).  Each
is read through the applier and judged by kstatus until all are Current, until ``timeout``,
or until every object left is Failed (fail-fast).  A missing object is ``NotFound``, never
Ready.  Failure is ``HealthCheckFailed`` with a message naming the objects and their
statuses; success sets ``Healthy=True`` "Health check passed in D"."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tagpilot.api.kustomization import Kustomization, KustomizationStatus
from tagpilot.api.meta import Condition
from tagpilot.core.errors import RetryableError
from tagpilot.core.kustomize import changeset as cs
from tagpilot.core.kustomize.health import health_targets
from tagpilot.core.kustomize.inventory import entry_for
from tagpilot.core.kustomize.kstatus import CustomReader, Status, compute
from tagpilot.ports import Clock, ObjectApplier
from tagpilot.reconcile.outcome import format_time

__all__ = [
    "HEALTHY",
    "HEALTH_CHECK_FAILED",
    "POLL_SECONDS",
    "check_health",
    "kept_healthy",
    "wait_for",
    "with_healthy",
]

HEALTHY = "Healthy"
HEALTH_CHECK_FAILED = "HealthCheckFailed"
POLL_SECONDS = 2.0
"""How often the live objects are read while waiting (Flux polls every 5s)."""


async def wait_for(
    applier: ObjectApplier,
    objects: Sequence[Mapping[str, Any]],
    clock: Clock,
    timeout: timedelta,
    custom: CustomReader | None = None,
) -> list[tuple[str, str]]:
    """Poll until every object is Current; the pending ones (ref, status) on timeout or
    when the rest failed (fail fast), else [].  ``custom`` decides for its kinds first."""
    deadline = clock.now() + timeout
    while True:
        pending = []
        failed = False
        # One list per kind and namespace holding several objects; the rest one by one.
        known = await applier.read(objects)
        for position, obj in enumerate(objects):
            live = known[position] if position in known else await applier.get(obj)
            result = compute(live, now=clock.now(), custom=custom)
            if result.status is not Status.CURRENT:
                pending.append((entry_for(obj).meta.ref(), str(result.status)))
                failed = failed or result.status is Status.FAILED
        done_waiting = all(status in ("Current", "Failed") for _, status in pending)
        if not pending or (failed and done_waiting) or clock.now() >= deadline:
            return pending
        await asyncio.sleep(POLL_SECONDS)


async def check_health(
    ks: Kustomization,
    applier: ObjectApplier,
    changes: cs.ChangeSet,
    clock: Clock,
    custom: CustomReader | None = None,
) -> timedelta | None:
    """Wait for the health targets within ``timeout``: the time it took, None when nothing
    was asked; ``HealthCheckFailed`` naming the objects that are not healthy."""
    targets = health_targets(ks, changes)
    if targets is None:
        return None
    started = clock.now()
    timeout = ks.spec.effective_timeout.timedelta
    pending = await wait_for(applier, targets, clock, timeout, custom)
    elapsed = clock.now() - started
    if pending:
        stalled = any(status == "Failed" for _, status in pending)
        raise RetryableError(
            cs.health_failed_message(pending, elapsed=elapsed, stalled=stalled),
            reason=HEALTH_CHECK_FAILED,
        )
    return elapsed


def with_healthy(
    status: KustomizationStatus,
    previous: KustomizationStatus | None,
    *,
    healthy: bool,
    message: str,
    generation: int,
    now: datetime,
) -> KustomizationStatus:
    """``status`` with Flux's ``Healthy`` condition added (its transition time kept while
    its status stays)."""
    before = (
        next((c for c in (previous.conditions or []) if c.type == HEALTHY), None)
        if (previous is not None)
        else None
    )
    value = "True" if healthy else "False"
    moment = (
        before.last_transition_time
        if before is not None and before.status == value and before.last_transition_time
        else format_time(now)
    )
    condition = Condition(
        type=HEALTHY,
        status=value,
        observed_generation=generation,
        last_transition_time=moment,
        reason="Succeeded" if healthy else HEALTH_CHECK_FAILED,
        message=message,
    )
    kept = [c for c in (status.conditions or []) if c.type != HEALTHY]
    return status.model_copy(update={"conditions": [*kept, condition]})


def kept_healthy(
    status: KustomizationStatus, previous: KustomizationStatus | None, ks: Kustomization
) -> KustomizationStatus:
    """``status`` with the previous ``Healthy`` condition carried over, as Flux leaves it
    when a run fails before its health check; none when health checks are not configured."""
    if not (ks.spec.wait or ks.spec.health_checks) or previous is None:
        return status
    before = [c for c in (previous.conditions or []) if c.type == HEALTHY]
    if not before:
        return status
    kept = [c for c in (status.conditions or []) if c.type != HEALTHY]
    return status.model_copy(update={"conditions": [*kept, *before]})
