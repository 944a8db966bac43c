"""``tagpilot controller``: the engine inside a cluster, as Flux's image controllers run.

Every replica watches the image kinds (with ``--watch-label-selector`` for shards),
GitRepositories and Secrets, keeps the engine's objects equal to the watches
(:mod:`tagpilot.runtime.cluster_sync`) and serves ``/healthz``, ``/readyz``, ``/metrics``
and the status page (with the statuses the watches see).  Only the leader reconciles: with
``--enable-leader-election`` the replicas compete for a Lease and the winner starts the
same scheduler the directory daemon uses; a leader that cannot renew its Lease exits at
once, so two replicas never work together.
Statuses go to the objects' status subresource and events to core Events, through the
engine's ``StatusWriter`` and ``EventRecorder`` ports; the local state store is a cache of
tag lists, git mirrors and run history.  With the kustomize controller on, the leader also
keeps Flux's finalizer on Kustomizations and runs the deletion policy of deleted ones
(:mod:`tagpilot.runtime.cluster_finalizers`).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from tagpilot.adapters.cluster.events import ApiEventRecorder
from tagpilot.adapters.cluster.objects import Refused
from tagpilot.adapters.cluster.status import ApiStatusWriter
from tagpilot.adapters.git.stopping import NETWORK_WAITS
from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.errors import NotFoundError
from tagpilot.adapters.kube.informer import Informer
from tagpilot.adapters.kube.lease import LeaseElector, LeaseTiming, lease_name
from tagpilot.adapters.kube.resources import SECRETS
from tagpilot.adapters.manifests import Manifests
from tagpilot.api.descriptors import IMAGE_POLICY, IMAGE_UPDATE, KUSTOMIZATION, descriptor
from tagpilot.api.meta import REASON_INVALID_POLICY
from tagpilot.core.errors import StalledError, TagpilotError
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.outcome import Outcome, failure, read_status, ready_condition
from tagpilot.runtime.backoff import Backoff, Timing
from tagpilot.runtime.cluster_finalizers import KustomizationFinalizers
from tagpilot.runtime.cluster_kinds import ClusterKinds
from tagpilot.runtime.cluster_sync import REQUESTED_AT, ClusterView, FinalizerWork, SyncResult
from tagpilot.runtime.engine import Engine
from tagpilot.runtime.logs import install_loop_handler
from tagpilot.runtime.scheduler import Scheduler
from tagpilot.server.app import build_app
from tagpilot.server.guard import ConnectionGuard, connection_budget
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable
from tagpilot.server.serve import bind, serve

__all__ = ["CONTROLLER_KINDS", "LEASE_BASE_NAME", "ControllerOptions", "run_controller"]

CONTROLLER_KINDS = {
    "image": frozenset({"ImageRepository", "ImagePolicy", "ImageUpdateAutomation"}),
    "source": frozenset({"GitRepository"}),
    "kustomize": frozenset({"Kustomization"}),
}
"""``--controllers`` names and the kinds each reconciles (Flux's controller split)."""

LEASE_BASE_NAME = "tagpilot-leader-election"
REASON_INVALID_OBJECT = "InvalidObject"
_REFUSAL_REASONS = {IMAGE_POLICY.kind: REASON_INVALID_POLICY}
"""Flux's reason where its reconciler finds the same fault (an ImagePolicy's regex or range);
other kinds' spec faults are caught by the CRD schema before they reach a controller."""
_SYNC_DELAY = 0.1
"""Seconds a sync waits after the first event, so a burst of events is one sync."""
log = structlog.get_logger("tagpilot")


@dataclass(frozen=True)
class ControllerOptions:
    """What the controller watches, how it elects a leader, where it listens."""

    runtime_namespace: str
    """Where the Lease lives (the controller's own namespace)."""
    identity: str
    """This replica's name in the Lease."""
    watch_namespace: str | None = None
    """Only this namespace; None watches every namespace."""
    label_selector: str | None = None
    leader_election: bool = False
    concurrency: int = 4
    host: str = "0.0.0.0"
    port: int = 9797
    stop_timeout: float = 60.0
    lease_timing: LeaseTiming = field(default_factory=LeaseTiming)
    controllers: frozenset[str] = frozenset({"image"})
    """Which of ``CONTROLLER_KINDS`` this process reconciles; the rest it only reads."""
    retry: Backoff = field(default_factory=lambda: Backoff(base=0.75, factor=2.0, maximum=900.0))
    """Flux's defaults: 750 ms after the first failure, doubling up to 15 minutes."""

    @property
    def lease(self) -> str:
        """The Lease's name: one per shard, as Flux names them."""
        return lease_name(LEASE_BASE_NAME, self.label_selector)


class _Controller:
    def __init__(
        self, client: KubeClient, ctx: ReconcileContext, kinds: ClusterKinds,
        options: ControllerOptions,
    ) -> None:  # fmt: skip
        self.client, self.kinds, self.options = client, kinds, options
        namespace = options.watch_namespace
        self.informers = {
            kind: Informer(
                client, resource, namespace=namespace, on_event=self.changed,
                label_selector=options.label_selector if self._selected(kind) else None,
            )
            for kind, resource in kinds.resources.items()
        }  # fmt: skip
        self.secrets = Informer(client, SECRETS, namespace=namespace, on_event=self.changed)
        self.status_writer = ApiStatusWriter(client, kinds.resources, self.live)
        self.recorder = ApiEventRecorder(client, self.live, ctx.clock, instance=options.identity)
        reconciled = frozenset().union(*(CONTROLLER_KINDS[c] for c in options.controllers))
        self.engine = Engine(
            ctx, Manifests(), api_generations=True, status_writer=self.status_writer,
            event_recorder=self.recorder, reconciled=reconciled,
        )  # fmt: skip
        self.view = ClusterView(self.engine, self.informers, self.secrets)
        # Flux's finalizer on the Kustomizations reconciled here (None: not reconciled).
        self.finalizers = (
            KustomizationFinalizers(client, kinds.resources[KUSTOMIZATION.kind], ctx,
                                    self.recorder, self.live)
            if KUSTOMIZATION.kind in self.engine.kinds else None
        )  # fmt: skip
        self.scheduler = Scheduler(
            self.engine, concurrency=options.concurrency, on_result=self.observe,
            on_crash=self.crashed, timing=Timing(backoff=options.retry),
        )  # fmt: skip
        self.metrics = Metrics()
        self.metrics.count_api_requests(lambda: client.requests)
        self.stop_event = asyncio.Event()
        self.dirty = asyncio.Event()
        self.synced = False
        self.synced_event = asyncio.Event()
        self.leading = False
        self.exit_code = 0
        self._background: set[asyncio.Task[Any]] = set()

    # -- the watches ----------------------------------------------------------------------

    def _selected(self, kind: str) -> bool:
        """Whether the shard's selector filters ``kind``: only for the kinds reconciled here
        (a shard's objects may reference any source)."""
        return any(kind in CONTROLLER_KINDS[c] for c in self.options.controllers)

    def live(self, key: ObjectKey) -> Mapping[str, Any] | None:
        """The watched copy of ``key``, or None when it is not (or no longer) there."""
        informer = self.informers.get(key.kind)
        return None if informer is None else informer.cache.get((key.namespace, key.name))

    def live_status(self, key: ObjectKey) -> Mapping[str, Any] | None:
        """The watched copy's status: what the status page shows on every replica."""
        status = (self.live(key) or {}).get("status")
        return status if isinstance(status, Mapping) else None

    def changed(self, event_type: str, obj: Mapping[str, Any]) -> None:
        """A watch event: sync soon (unless it cannot change what a sync finds)."""
        if self.view.needs_sync(event_type, obj):
            self.dirty.set()

    async def keep_in_sync(self) -> None:
        """Sync the engine with the watches after each burst of events, forever."""
        while True:
            await self.dirty.wait()
            await asyncio.sleep(_SYNC_DELAY)
            self.dirty.clear()
            if self.synced:
                self.apply(self.view.sync())

    async def wait_synced(self) -> None:
        """Wait for every watch's first list, then build the engine's objects."""
        await asyncio.gather(*(i.synced.wait() for i in [*self.informers.values(), self.secrets]))
        result = self.view.sync()
        self.synced = True
        self.synced_event.set()
        self.apply(result)
        log.info("watches synced", objects=len(self.engine.keys()))

    def apply(self, result: SyncResult) -> None:
        """Hand a sync's changes to the scheduler (when leading) and report refusals."""
        reload = result.reload
        for key in reload.removed:
            self.status_writer.forget(key)
            self.metrics.forget(key)
        for key, token in result.requested:
            self.engine.request_reconcile(key, token)
        if not self.leading:
            return
        self.finalize(result.finalizing)
        self.scheduler.on_reload(reload)
        for key, _ in result.requested:
            self.scheduler.trigger(key, "reconcile requested")
        for key, why in result.triggered:
            self.scheduler.trigger(key, why)
        for refused in result.refused:
            self.spawn(self.report_refused(refused))

    async def report_refused(self, refused: Refused) -> None:
        """An object tagpilot's models refuse: Stalled, with the reason, and a Warning."""
        key = refused.key
        model = descriptor(key.kind).status_model
        assert model is not None
        reason = _REFUSAL_REASONS.get(key.kind, REASON_INVALID_OBJECT)
        error = StalledError(refused.reason, reason=reason)
        now = self.engine.ctx.clock.now()
        live = self.live(key) or {}
        generation = int((live.get("metadata") or {}).get("generation") or 1)
        previous = read_status(self.engine.ctx.store, key, model)
        status = failure(previous, model(), error, generation=generation, now=now)
        log.warning("object refused", kind=key.kind, namespace=key.namespace, name=key.name,
                    error=refused.reason)  # fmt: skip
        try:
            await self.status_writer.write_status(key, Outcome(status).document)
            await self.recorder.record(key, "Warning", reason, refused.reason)
        except TagpilotError as problem:
            log.warning("status not written", key=str(key), error=problem.message)

    def finalize(self, work: FinalizerWork) -> None:
        """Leading: add Flux's finalizer where missing, run deleted objects' policies."""
        if self.finalizers is not None:
            self.finalizers.handle(work, self.spawn)

    def spawn(self, work: Any) -> None:
        """Run ``work`` in the background, keeping a reference until it is done."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- leading ------------------------------------------------------------------------

    async def start_leading(self) -> None:
        """Won the Lease (or runs alone): take the statuses from the API and start working."""
        await self.synced_event.wait()
        refused = self.view.take_lead()
        self.leading = True
        self.finalize(self.view.finalizer_work())
        for each in refused:
            self.spawn(self.report_refused(each))
        log.info("leading: reconciling", lease=self.options.lease, identity=self.options.identity)
        self.scheduler.start()

    def stopped_leading(self) -> None:
        """Lost the Lease: stop at once (fencing by exit, as controller-runtime does)."""
        log.error("leader election lost: exiting so that only the new leader reconciles",
                  lease=self.options.lease, identity=self.options.identity)  # fmt: skip
        os._exit(1)

    # -- reporting ----------------------------------------------------------------------

    def observe(self, key: ObjectKey, outcome: Outcome, seconds: float) -> None:
        self.metrics.observe(key, outcome, seconds)
        ready = ready_condition(outcome.status)
        level = log.info if outcome.ready or outcome.error is None else log.warning
        level("reconciled", kind=key.kind, namespace=key.namespace, name=key.name,
              ready=ready.status if ready else None, message=ready.message if ready else None,
              seconds=round(seconds, 3))  # fmt: skip

    def crashed(self, key: ObjectKey, error: Exception) -> None:
        cause = (
            error.message
            if isinstance(error, TagpilotError)
            else f"{type(error).__name__}: {error}"
        )
        log.error("reconcile failed", kind=key.kind, namespace=key.namespace, name=key.name,
                  error=cause)  # fmt: skip

    # -- triggers from the HTTP side ----------------------------------------------------

    def trigger(self, key: ObjectKey, reason: str, *, requested_at: str | None = None) -> bool:
        """A webhook or API request on any replica: annotate the object, as Flux's
        notification-controller does; the leader sees the annotation through its watch."""
        if self.live(key) is None:
            return False
        token = requested_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.spawn(self.annotate(key, token))
        return True

    async def annotate(self, key: ObjectKey, token: str) -> None:
        patch = {"metadata": {"annotations": {REQUESTED_AT: token}}}
        try:
            await self.client.merge_patch(self.kinds.resources[key.kind], key.namespace,
                                          key.name, patch)  # fmt: skip
        except NotFoundError:
            return
        except TagpilotError as problem:
            log.warning("reconcile request not recorded", key=str(key), error=problem.message)

    # -- the process --------------------------------------------------------------------

    def on_signal(self) -> None:
        if self.stop_event.is_set():
            log.warning("second stop signal: exiting now")
            os._exit(130)
        self.stop_event.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        install_loop_handler(loop)
        NETWORK_WAITS.reset()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.on_signal)
        watching = [loop.create_task(i.run()) for i in [*self.informers.values(), self.secrets]]
        watching.append(loop.create_task(self.keep_in_sync()))
        watching.append(loop.create_task(self.wait_synced()))
        server = self.start_server()
        elector = None
        if self.options.leader_election:
            elector = LeaseElector(
                self.client, self.options.runtime_namespace, self.options.lease,
                self.options.identity, timing=self.options.lease_timing,
            )  # fmt: skip
            leading = elector.run(lambda: self.spawn(self.start_leading()), self.stopped_leading)
            watching.append(loop.create_task(leading))
        else:
            watching.append(loop.create_task(self.start_leading()))
        await self.stop_event.wait()
        log.info("stopping: cancelling scans and git fetches, letting git pushes finish")
        NETWORK_WAITS.stop()
        finished = True
        if self.leading:
            finished = await self.scheduler.stop(
                timeout=self.options.stop_timeout,
                interruptible=lambda key: key.kind != IMAGE_UPDATE.kind,
            )
        if elector is not None:
            try:
                await elector.release()
            except TagpilotError as problem:
                log.warning("lease not released", error=problem.message)
        for task in watching:
            task.cancel()
        await asyncio.gather(*watching, return_exceptions=True)
        await server
        log.info("stopped", clean=finished)
        return self.exit_code

    def start_server(self) -> asyncio.Task[None]:
        sock = bind(self.options.host, self.options.port)
        guard = ConnectionGuard(connection_budget())
        store = self.engine.ctx.store
        app = build_app(
            self.engine, self.trigger, store, self.metrics, ReceiverTable([]),
            is_ready=lambda: self.synced, live_status=self.live_status,
        )  # fmt: skip
        host, port = sock.getsockname()[:2]
        log.info("tagpilot controller running", address=f"http://{host}:{port}",
                 identity=self.options.identity)  # fmt: skip
        return asyncio.get_running_loop().create_task(
            serve(app, stop=self.stop_event, sock=sock, guard=guard)
        )


async def run_controller(
    client: KubeClient, ctx: ReconcileContext, options: ControllerOptions
) -> int:
    """Discover the served API versions, then run until SIGTERM/SIGINT; the exit code."""
    kinds = await ClusterKinds.discover(
        client,
        kustomizations="kustomize" in options.controllers,
        images="image" in options.controllers,
    )
    for note in kinds.notes:
        log.info("api", note=note)
    return await _Controller(client, ctx, kinds, options).run()
