"""Applying a Kustomization's objects, stage by stage, as Flux's ``ssa`` manager does.

Each stage (CRDs and Namespaces first, then cluster-wide kinds, then the rest; see
:func:`tagpilot.core.kustomize.stages.plan_stages`) is applied in two steps:

1. checks, a few at once: the live copies are read in bulk (a list per kind and namespace),
   and every object that exists gets a server-side dry run telling whether applying it would
   change anything.  An object known to be absent needs no dry run: it will be created.
2. writes, one by one in the stage's order: skipped, unchanged, or applied.  Errors are met
   here, in that order, so the change set of a failed apply lists exactly the objects before
   the failing one, as when each object was read, tried and written in turn; an object whose
   immutable field changed is deleted and created again when ``force`` allows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tagpilot.api.kustomization import Kustomization
from tagpilot.core.errors import TagpilotError
from tagpilot.core.kustomize import changeset as cs
from tagpilot.core.kustomize.drift_ignore import IgnoreRules
from tagpilot.core.kustomize.inventory import entry_for
from tagpilot.core.kustomize.stages import (
    is_immutable_error,
    plan_stages,
    recreate_on_immutable,
    skip_reason,
)
from tagpilot.ports import ObjectApplier
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.kustomization_health import POLL_SECONDS, wait_for

__all__ = ["STAGE_WAIT", "apply_all"]

STAGE_WAIT = timedelta(seconds=60)
"""How long a stage's CRDs and Namespaces get to become established before the next stage."""
_CHECKS_AT_ONCE = 8
"""Dry runs in flight together (Flux's manager runs its dry runs concurrently too)."""

Fail = Callable[[str], Exception]


@dataclass(frozen=True)
class _Checked:
    """What step 1 learned of one object."""

    live: Mapping[str, Any] | None = None
    unchanged: bool = False
    read_error: TagpilotError | None = None
    """Reading it failed (its kind is not served): the apply fails at this object."""
    check_error: TagpilotError | None = None
    """Its dry run failed: handled as a failed apply (an immutable field may be forced)."""


async def apply_all(
    ks: Kustomization,
    applier: ObjectApplier,
    objects: list[dict[str, Any]],
    ctx: ReconcileContext,
    fail: Fail,
    ignore: IgnoreRules | None = None,
) -> cs.ChangeSet:
    """Apply ``objects`` in Flux's stages; ``fail`` turns a failure's message (the change
    lines applied so far included) into the error to raise.  ``ignore`` (``spec.ignore``)
    names the fields drift detection and apply leave alone on each object."""
    changes = cs.ChangeSet()
    rules = ignore or IgnoreRules()
    for stage in plan_stages(objects):
        checked = await _check(applier, stage.objects, rules)
        for obj, seen in zip(stage.objects, checked, strict=True):
            try:
                changes = changes.add(await _write(ks, applier, obj, seen, ctx, rules))
            except TagpilotError as error:
                raise fail(cs.apply_failed_message(error.message, changes)) from error
        if stage.wait:
            await wait_for(applier, list(stage.objects), ctx.clock, STAGE_WAIT)
    return changes


async def _check(
    applier: ObjectApplier, objects: Sequence[dict[str, Any]], rules: IgnoreRules
) -> list[_Checked]:
    known = await applier.read(objects)
    lanes = asyncio.Semaphore(_CHECKS_AT_ONCE)

    async def one(position: int, obj: dict[str, Any]) -> _Checked:
        async with lanes:
            try:
                live = known[position] if position in known else await applier.get(obj)
            except TagpilotError as error:
                return _Checked(read_error=error)
            if live is None or skip_reason(obj, live) is not None:
                return _Checked(live)
            try:
                ignored = rules.paths_for(obj)
                return _Checked(live, unchanged=await applier.unchanged(obj, live, ignored))
            except TagpilotError as error:
                return _Checked(live, check_error=error)

    return list(await asyncio.gather(*(one(i, obj) for i, obj in enumerate(objects))))


async def _write(
    ks: Kustomization,
    applier: ObjectApplier,
    obj: dict[str, Any],
    seen: _Checked,
    ctx: ReconcileContext,
    rules: IgnoreRules,
) -> cs.ChangeSetEntry:
    entry = entry_for(obj)
    if seen.read_error is not None:
        raise seen.read_error
    if skip_reason(obj, seen.live) is not None:
        return cs.ChangeSetEntry(entry.meta, entry.v, cs.Action.SKIPPED)
    if seen.unchanged:
        return cs.ChangeSetEntry(entry.meta, entry.v, cs.Action.UNCHANGED)
    try:
        if seen.check_error is not None:
            raise seen.check_error
        applied = await applier.write(obj, seen.live, rules.paths_for(obj))
    except TagpilotError as error:
        status = int(getattr(error, "status", 0) or 0)
        if not (
            is_immutable_error(status, error.message)
            and recreate_on_immutable(obj, seen.live, spec_force=ks.spec.force)
        ):
            raise
        applied = await _recreate(ks, applier, obj, ctx, error)
    return cs.ChangeSetEntry(entry.meta, entry.v, cs.Action(applied.action))


async def _recreate(
    ks: Kustomization,
    applier: ObjectApplier,
    obj: dict[str, Any],
    ctx: ReconcileContext,
    error: TagpilotError,
) -> Any:
    """Delete ``obj``, wait until it is gone (up to the timeout), and apply it again."""
    await applier.delete(obj)
    deadline = ctx.clock.now() + ks.spec.effective_timeout.timedelta
    while await applier.get(obj) is not None:
        if ctx.clock.now() >= deadline:
            raise error
        await asyncio.sleep(POLL_SECONDS)
    return await applier.apply(obj)
