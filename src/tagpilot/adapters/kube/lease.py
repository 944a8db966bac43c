"""Leader election on a ``coordination.k8s.io/v1`` Lease, with client-go's algorithm.

The controller runtime runs one :class:`LeaseElector` per process; reconcile workers start
only on the leader, while informers and webhooks run on every replica.

The rules (those of client-go's ``leaderelection``, with Flux's default timing):

* A candidate reads the Lease, and creates it when absent (AlreadyExists: someone else won).
* It takes a Lease held by another only once the record has not *changed* for a full
  ``leaseDurationSeconds`` by the candidate's own monotonic clock.  Remote timestamps are never
  compared with local time: clocks differ between nodes; a change is seen when it is seen.
* Every write is a PUT carrying the resourceVersion that was read, so two candidates cannot
  both win: the second gets a Conflict and has lost that round.
* The leader renews every ``retry_period``.  When it cannot renew within ``renew_deadline``, or
  it sees another holder, it stops leading: ``on_stopped()`` is called and :meth:`run`
  returns.  The caller then exits the process (fencing by process death, as controller-runtime
  does), so a deposed leader cannot keep writing.
* On a graceful stop, :meth:`release` empties the holder and sets a 1 s duration, so a
  standby takes over at its next retry instead of after a full lease duration.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.errors import AlreadyExistsError, ConflictError, NotFoundError
from tagpilot.adapters.kube.resources import LEASES
from tagpilot.core.errors import TagpilotError

__all__ = ["LeaseElector", "LeaseTiming", "lease_name", "micro_time"]

_JITTER = 0.2  # candidates spread their retries so they do not knock in step

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LeaseTiming:
    """Seconds; the defaults are Flux's controllers' (``--leader-election-*`` flags)."""

    lease_duration: float = 35.0
    """How long a candidate waits, after the record last changed, before taking over."""
    renew_deadline: float = 30.0
    """How long the leader keeps trying to renew before it gives up leading."""
    retry_period: float = 5.0
    """The pause between attempts (renewals of the leader, tries of a candidate)."""

    def __post_init__(self) -> None:
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError(
                "leader election needs lease duration > renew deadline > retry period > 0, "
                f"got {self.lease_duration} > {self.renew_deadline} > {self.retry_period}"
            )


def lease_name(base: str, label_selector: str | None) -> str:
    """The Lease of one shard: ``base``, plus ``-`` and 8 hex digits of SHA-256 of the selector
    when there is one (Flux's naming, so each shard elects its own leader)."""
    if not label_selector:
        return base
    return f"{base}-{hashlib.sha256(label_selector.encode()).hexdigest()[:8]}"


def micro_time(moment: datetime) -> str:
    """A Kubernetes MicroTime: RFC 3339 with microseconds, UTC (``...T15:04:05.123456Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseElector:
    """Campaign for, hold and give up one Lease as ``identity``."""

    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        name: str,
        identity: str,
        *,
        timing: LeaseTiming = LeaseTiming(),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._name = name
        self.identity = identity
        """Who we are in ``holderIdentity`` (pod name + a random suffix, usually)."""
        self._timing = timing
        self._monotonic = monotonic
        self.is_leader = False
        """True from acquiring the Lease until leadership is lost, given up or cancelled."""
        self._observed: dict[str, Any] | None = None
        self._observed_at = 0.0
        self._log = _log.bind(lease=f"{namespace}/{name}", identity=identity)

    async def run(
        self,
        on_started: Callable[[], Awaitable[None] | None],
        on_stopped: Callable[[], None],
    ) -> None:
        """Campaign until elected, call ``on_started``, renew until leadership is lost, then
        call ``on_stopped`` and return.

        An awaitable returned by ``on_started`` runs as a task beside the renewals and is
        cancelled when leadership ends.  Cancelling ``run`` stops renewing without calling
        ``on_stopped``; call :meth:`release` afterwards to hand over at once.
        """
        await self._campaign()
        self.is_leader = True
        self._log.info("became leader")
        started = on_started()
        work = asyncio.ensure_future(started) if inspect.isawaitable(started) else None
        try:
            await self._keep()
        finally:
            self.is_leader = False
            if work is not None:
                work.cancel()
        self._log.warning("lost leadership")
        on_stopped()

    async def release(self) -> None:
        """Give the Lease up (empty holder, 1 s duration) if we hold it; else do nothing."""
        self.is_leader = False
        try:
            lease = await self._client.get(LEASES, self._namespace, self._name)
        except NotFoundError:
            return
        spec = lease.get("spec") or {}
        if spec.get("holderIdentity") != self.identity:
            return
        now = micro_time(datetime.now(UTC))
        lease["spec"] = {
            "holderIdentity": "",
            "leaseDurationSeconds": 1,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": int(spec.get("leaseTransitions") or 0),
        }
        try:
            await self._client.replace(LEASES, self._namespace, self._name, lease)
        except ConflictError:
            self._log.info("lease changed while releasing it; leaving it as it is")
            return
        self._log.info("released the lease")

    # -- the algorithm --------------------------------------------------------------------

    async def _campaign(self) -> None:
        while not await self._attempt_logged():
            period = self._timing.retry_period
            await asyncio.sleep(period * (1 + _JITTER * random.random()))

    async def _keep(self) -> None:
        """Renew every retry period; return when leadership is lost."""
        renewed_at = self._monotonic()
        while True:
            await asyncio.sleep(self._timing.retry_period)
            deadline = renewed_at + self._timing.renew_deadline
            while True:
                started = self._monotonic()
                remaining = deadline - started
                if remaining <= 0:
                    self._log.warning("could not renew within the renew deadline")
                    return
                try:
                    async with asyncio.timeout(remaining):
                        renewed = await self._attempt_logged()
                except TimeoutError:
                    renewed = False
                if renewed:
                    renewed_at = started
                    break
                if self._held_by_another():
                    self._log.warning("another candidate holds the lease", holder=self._holder())
                    return
                left = deadline - self._monotonic()
                await asyncio.sleep(max(0.0, min(self._timing.retry_period, left)))

    async def _attempt_logged(self) -> bool:
        try:
            return await self._try_acquire_or_renew()
        except TagpilotError as error:
            self._log.warning("lease request failed", error=str(error))
            return False

    async def _try_acquire_or_renew(self) -> bool:
        """One round: read, decide, write with the read resourceVersion.  Whether we hold it."""
        try:
            lease = await self._client.get(LEASES, self._namespace, self._name)
        except NotFoundError:
            return await self._create()
        spec = lease.get("spec") or {}
        self._observe(spec)
        holder = str(spec.get("holderIdentity") or "")
        if holder and holder != self.identity and not self._expired(spec):
            return False
        lease["spec"] = self._record(spec, holder)
        try:
            updated = await self._client.replace(LEASES, self._namespace, self._name, lease)
        except ConflictError:
            return False  # someone wrote between our read and our write: they won this round
        self._observe(updated.get("spec") or {})
        return True

    async def _create(self) -> bool:
        body = {
            "apiVersion": LEASES.api_version,
            "kind": LEASES.kind,
            "metadata": {"name": self._name, "namespace": self._namespace},
            "spec": self._record({}, ""),
        }
        try:
            created = await self._client.create(LEASES, self._namespace, body)
        except AlreadyExistsError:
            return False
        self._observe(created.get("spec") or {})
        return True

    def _record(self, old: dict[str, Any], holder: str) -> dict[str, Any]:
        """Our record: a renewal keeps acquireTime; a takeover counts a transition."""
        now = micro_time(datetime.now(UTC))
        transitions = int(old.get("leaseTransitions") or 0)
        ours = holder == self.identity
        if old and not ours:
            transitions += 1
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": math.ceil(self._timing.lease_duration),
            "acquireTime": old.get("acquireTime", now) if ours else now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }

    def _observe(self, spec: dict[str, Any]) -> None:
        if spec != self._observed:
            self._observed = spec
            self._observed_at = self._monotonic()

    def _expired(self, spec: dict[str, Any]) -> bool:
        duration = spec.get("leaseDurationSeconds") or self._timing.lease_duration
        return self._observed_at + float(duration) <= self._monotonic()

    def _holder(self) -> str:
        return str((self._observed or {}).get("holderIdentity") or "")

    def _held_by_another(self) -> bool:
        return self._holder() not in ("", self.identity)
