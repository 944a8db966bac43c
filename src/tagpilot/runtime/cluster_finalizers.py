"""The leader's finalizer for Kustomizations: Flux's ``finalizers.fluxcd.io`` added to every
Kustomization reconciled here, and the deletion policy run when one is deleted.

Each sync lists the Kustomizations without the finalizer and the deleted ones still holding
it (:class:`tagpilot.runtime.cluster_sync.FinalizerWork`).  A deleted one is finalized in
the background: its deletion policy runs (:mod:`tagpilot.reconcile.kustomization_finalize`)
with the inventory of its last status, the events are recorded on it, and the finalizer is
removed so the API server lets it go.  A failed deletion is retried with a growing pause
(2s doubling to 1m) while the finalizer stays, as Flux retries.  Only the leader acts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import structlog

from tagpilot.adapters.cluster.finalizers import add_finalizer, remove_finalizer
from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.resources import Resource
from tagpilot.api.kustomization import Kustomization, KustomizationStatus
from tagpilot.api.loader import parse_object
from tagpilot.core.errors import InvalidInputError, TagpilotError
from tagpilot.ports import EventRecorder, ObjectApplier, ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.kustomization_finalize import PRUNE_FAILED, finalize_kustomization
from tagpilot.reconcile.outcome import read_status
from tagpilot.runtime.cluster_sync import FinalizerWork

__all__ = ["KustomizationFinalizers"]

_FIRST_RETRY = 2.0
_LAST_RETRY = 60.0
log = structlog.get_logger("tagpilot")

Spawn = Callable[[Coroutine[Any, Any, None]], None]
Live = Callable[[ObjectKey], Mapping[str, Any] | None]


class KustomizationFinalizers:
    """Adds the finalizer and finalizes deleted Kustomizations, each once at a time."""

    def __init__(
        self, client: KubeClient, resource: Resource, ctx: ReconcileContext,
        recorder: EventRecorder, live: Live,
    ) -> None:  # fmt: skip
        self._client, self._resource, self._ctx = client, resource, ctx
        self._recorder, self._live = recorder, live
        self._busy: set[ObjectKey] = set()

    def handle(self, work: FinalizerWork, spawn: Spawn) -> None:
        """Start what ``work`` asks for that is not already running."""
        for key in work.unfinalized:
            self._start(key, spawn, self._add(key))
        for key in work.deleting:
            self._start(key, spawn, self._finalize(key))

    def _start(self, key: ObjectKey, spawn: Spawn, work: Coroutine[Any, Any, None]) -> None:
        if key in self._busy:
            work.close()
            return
        self._busy.add(key)

        async def run() -> None:
            try:
                await work
            finally:
                self._busy.discard(key)

        spawn(run())

    async def _add(self, key: ObjectKey) -> None:
        try:
            await add_finalizer(self._client, self._resource, key.namespace, key.name)
        except TagpilotError as problem:
            log.warning("finalizer not added", key=str(key), error=problem.message)

    def _status(self, key: ObjectKey, raw: Mapping[str, Any]) -> KustomizationStatus | None:
        # The leader's store is ahead of the watch; a status from the API is the fallback.
        stored = read_status(self._ctx.store, key, KustomizationStatus)
        if stored is not None:
            return stored
        try:
            return KustomizationStatus.model_validate(raw.get("status") or {})
        except ValueError:
            return None

    def _model(self, key: ObjectKey, raw: Mapping[str, Any]) -> Kustomization | None:
        document = {k: v for k, v in raw.items() if k != "status"}
        document["metadata"] = {
            k: v for k, v in (raw.get("metadata") or {}).items() if k != "managedFields"
        }
        try:
            parsed = parse_object(document, default_namespace=key.namespace)
        except InvalidInputError:
            return None  # refused by the models: nothing tagpilot applied, nothing to delete
        return parsed if isinstance(parsed, Kustomization) else None

    async def _finalize(self, key: ObjectKey) -> None:
        pause = _FIRST_RETRY
        while (raw := self._live(key)) is not None:
            ks = self._model(key, raw)
            applier = self._ctx.applier
            try:
                if ks is not None and applier is not None:
                    await self._run_policy(key, ks, self._status(key, raw), applier)
                await remove_finalizer(self._client, self._resource, key.namespace, key.name)
                log.info("finalized", kind=key.kind, namespace=key.namespace, name=key.name)
                return
            except TagpilotError as problem:
                log.warning("finalizer retrying", key=str(key), error=problem.message)
                await self._recorder.record(key, "Warning", PRUNE_FAILED, problem.message)
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LAST_RETRY)

    async def _run_policy(
        self, key: ObjectKey, ks: Kustomization, status: KustomizationStatus | None,
        applier: ObjectApplier,
    ) -> None:  # fmt: skip
        events = await finalize_kustomization(ks, status, applier, self._ctx.clock)
        for event in events:
            await self._recorder.record(key, event.type, event.reason, event.message)
