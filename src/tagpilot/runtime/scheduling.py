"""The scheduler's vocabulary: what it asks of an engine, what it reports, why keys run.

Shared by :mod:`tagpilot.runtime.scheduler` (which re-exports every name) and whatever
drives or observes it (the daemon, the API, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome

__all__ = [
    "PARKED_IDLE",
    "PARKED_STALLED",
    "PARKED_SUSPENDED",
    "REASON_ADDED",
    "REASON_CHANGED",
    "REASON_RESUMED",
    "REASON_SECRETS_CHANGED",
    "REASON_STARTUP",
    "CrashHook",
    "KeyState",
    "ReconcileEngine",
    "ReloadChanges",
    "ResultHook",
]

REASON_STARTUP = "startup"
REASON_ADDED = "object added"
REASON_CHANGED = "spec changed"
REASON_RESUMED = "resumed"
REASON_SECRETS_CHANGED = "a Secret changed"

PARKED_STALLED = "stalled"
PARKED_SUSPENDED = "suspended"
PARKED_IDLE = "idle"

ResultHook = Callable[[ObjectKey, Outcome, float], None]
"""Called after each reconcile with the key, its outcome and the seconds it took."""
CrashHook = Callable[[ObjectKey, Exception], None]
"""Called when a reconcile or a hook raised instead of returning an outcome."""


class ReconcileEngine(Protocol):
    """The part of the run engine the scheduler drives (``runtime.engine.Engine`` fits)."""

    def keys(self) -> list[ObjectKey]:
        """Every reconcilable object now loaded."""
        ...

    def interval_of(self, key: ObjectKey) -> timedelta | None:
        """The object's ``spec.interval``; None means it runs only when triggered."""
        ...

    def is_suspended(self, key: ObjectKey) -> bool:
        """Whether ``spec.suspend`` is set."""
        ...

    def spec_hash(self, key: ObjectKey) -> str:
        """A digest that changes when the object's spec changes."""
        ...

    async def reconcile(self, key: ObjectKey, *, reason: str) -> Outcome:
        """Run the object's reconciler and persist its status; never raises TagpilotError."""
        ...

    def watched(self, key: ObjectKey, status: Any) -> Any:
        """What of ``key``'s typed status the dependants rule compares; the scheduler keeps
        only this between runs."""
        ...

    def dependants(self, key: ObjectKey, before: Any | None, after: Any) -> list[ObjectKey]:
        """Objects to reconcile now because what ``watched`` gave for ``key`` went from
        ``before`` to ``after``."""
        ...


class ReloadChanges(Protocol):
    """What a manifest reload changed (``runtime.engine.ReloadResult`` fits)."""

    @property
    def added(self) -> Sequence[ObjectKey]:
        """Keys that are new."""
        ...

    @property
    def changed(self) -> Sequence[ObjectKey]:
        """Keys whose spec changed."""
        ...

    @property
    def removed(self) -> Sequence[ObjectKey]:
        """Keys no longer in the manifests."""
        ...

    @property
    def secrets_changed(self) -> bool:
        """Whether any Secret was added, removed or changed."""
        ...


@dataclass(frozen=True)
class KeyState:
    """Where a key stands in the queue, for the API, the CLI and tests."""

    due: float | None
    """When it runs next (``TimeSource`` seconds); None while queued, running or parked."""
    reason: str
    """Why it runs next (or ran last)."""
    queued: bool
    """Due and waiting for a free slot."""
    running: bool
    """A reconcile is in flight."""
    parked: str | None
    """``PARKED_*`` when it waits for a spec change, a resume or a trigger."""
    failures: int
    """Consecutive failed runs."""
