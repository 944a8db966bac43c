"""A virtual clock and a scripted engine for the scheduler tests.

``VirtualTime`` implements the scheduler's ``TimeSource``: nothing sleeps for real, and
``advance`` moves time forward, waking sleepers in deadline order and letting the event
loop settle after each wake-up.  ``FakeEngine`` implements ``ReconcileEngine``: it
records every call and returns scripted outcomes.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tagpilot.core.errors import RetryableError, StalledError
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome

__all__ = [
    "Call",
    "FakeEngine",
    "FakeObject",
    "Reload",
    "VirtualTime",
    "key",
    "ok",
    "retry",
    "stalled",
]

# Enough event-loop turns for a trigger → dispatch → reconcile → dependants chain to
# run to rest when no virtual time passes.
_SETTLE_TURNS = 100


def key(name: str, kind: str = "ImageRepository") -> ObjectKey:
    """An object key in namespace ``apps``."""
    return ObjectKey(kind, "apps", name)


def ok(revision: str = "r1", requeue: float | None = None) -> Outcome:
    """A successful outcome whose status carries ``revision``."""
    after = timedelta(seconds=requeue) if requeue is not None else None
    return Outcome({"revision": revision}, requeue_after=after)


def retry(retry_after: float | None = None) -> Outcome:
    """A transient failure."""
    return Outcome({}, error=RetryableError("registry unavailable", retry_after=retry_after))


def stalled() -> Outcome:
    """A failure only a spec change fixes."""
    return Outcome({}, error=StalledError("bad semver range", reason="InvalidPolicy"))


async def settle() -> None:
    """Let every runnable task run until it waits on something."""
    for _ in range(_SETTLE_TURNS):
        await asyncio.sleep(0)


class VirtualTime:
    """A time source that moves only when the test says so."""

    def __init__(self) -> None:
        self._now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = 0

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._count += 1
        heapq.heappush(self._sleepers, (self._now + seconds, self._count, wake))
        await wake

    async def advance(self, seconds: float = 0.0) -> None:
        """Move time forward by ``seconds``, running everything due on the way."""
        target = self._now + seconds
        await settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            self._now = max(self._now, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self._now:
                _, _, wake = heapq.heappop(self._sleepers)
                if not wake.done():
                    wake.set_result(None)
            await settle()
        self._now = target
        await settle()


@dataclass
class FakeObject:
    """What the fake engine knows about one object."""

    interval: timedelta | None = timedelta(minutes=1)
    suspended: bool = False
    spec: str = "v1"


@dataclass(frozen=True)
class Call:
    """One reconcile the engine was asked for."""

    key: ObjectKey
    reason: str
    at: float


@dataclass(frozen=True)
class Reload:
    """A reload result as the engine reports it."""

    added: list[ObjectKey] = field(default_factory=list)
    changed: list[ObjectKey] = field(default_factory=list)
    removed: list[ObjectKey] = field(default_factory=list)
    error: str | None = None
    secrets_changed: bool = False


class FakeEngine:
    """Records reconciles and answers them from a script (default: success)."""

    def __init__(self, time: VirtualTime, objects: dict[ObjectKey, FakeObject]) -> None:
        self.time = time
        self.objects = objects
        self.script: dict[ObjectKey, list[Outcome | Exception]] = {}
        self.calls: list[Call] = []
        self.gates: dict[ObjectKey, asyncio.Event] = {}
        self.duration = 0.0
        self.links: dict[ObjectKey, list[ObjectKey]] = {}
        self.seen_changes: list[tuple[ObjectKey, Any, Any]] = []
        self.running: Counter[ObjectKey] = Counter()
        self.peak = 0
        self.overlaps: list[ObjectKey] = []
        self.cancelled: list[ObjectKey] = []
        self.stubborn: asyncio.Event | None = None
        """When set, a cancelled reconcile keeps going until this event is set."""

    def keys(self) -> list[ObjectKey]:
        return list(self.objects)

    def interval_of(self, key: ObjectKey) -> timedelta | None:
        return self.objects[key].interval

    def is_suspended(self, key: ObjectKey) -> bool:
        return self.objects[key].suspended

    def spec_hash(self, key: ObjectKey) -> str:
        return self.objects[key].spec

    async def reconcile(self, key: ObjectKey, *, reason: str) -> Outcome:
        self.calls.append(Call(key, reason, self.time.now()))
        if self.running[key]:
            self.overlaps.append(key)
        self.running[key] += 1
        self.peak = max(self.peak, self.running.total())
        try:
            await self._work(key)
        except asyncio.CancelledError:
            self.cancelled.append(key)
            if self.stubborn is not None:
                await self.stubborn.wait()
            raise
        finally:
            self.running[key] -= 1
        return self._next_outcome(key)

    def watched(self, key: ObjectKey, status: dict[str, Any]) -> dict[str, Any]:
        return status

    def dependants(
        self, key: ObjectKey, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> list[ObjectKey]:
        self.seen_changes.append((key, before, after))
        return self.links.get(key, []) if before != after else []

    def times(self, key: ObjectKey) -> list[float]:
        """When ``key`` was reconciled."""
        return [call.at for call in self.calls if call.key == key]

    def reasons(self, key: ObjectKey) -> list[str]:
        """Why ``key`` was reconciled, in order."""
        return [call.reason for call in self.calls if call.key == key]

    async def _work(self, key: ObjectKey) -> None:
        gate = self.gates.get(key)
        if gate is not None:
            await gate.wait()
        if self.duration:
            await self.time.sleep(self.duration)

    def _next_outcome(self, key: ObjectKey) -> Outcome:
        script = self.script.get(key)
        answer = script.pop(0) if script else ok()
        if isinstance(answer, Exception):
            raise answer
        return answer
