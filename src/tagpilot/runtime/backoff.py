"""Time for the runtime: the clock it waits on, and when an object reconciles next.

``TimeSource`` is what the scheduler and the manifest watcher sleep on (``LoopTime`` in
production, a virtual clock in tests).  ``tagpilot.runtime.scheduler`` calls
``plan_next_run`` after every reconcile; it is pure (the random source is passed in) so
each rule is a table test.  The rules:

* Stalled error → no run until the spec changes or someone asks for one.
* Retryable error (or any other failure) → exponential backoff with jitter, never sooner
  than the error's ``retry_after``; consecutive failures count up, a success resets them.
* Success with ``requeue_after`` → then, stretched by up to the jitter fraction.
* Success without it → the object's interval ± the jitter fraction; no interval → wait
  for a trigger (ImagePolicies run when their repository's tags change).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from random import Random
from typing import Protocol

from tagpilot.core.errors import RetryableError, StalledError
from tagpilot.reconcile.outcome import Outcome

__all__ = [
    "NEXT_IDLE",
    "NEXT_INTERVAL",
    "NEXT_REQUEUE",
    "NEXT_RETRY",
    "NEXT_STALLED",
    "Backoff",
    "LoopTime",
    "NextRun",
    "TimeSource",
    "Timing",
    "plan_next_run",
    "plan_retry",
    "spread",
    "stretch",
]

NEXT_STALLED = "stalled"
NEXT_RETRY = "retry"
NEXT_REQUEUE = "requeue"
NEXT_INTERVAL = "interval"
NEXT_IDLE = "idle"

# 2**64 seconds is far past any maximum; capping the exponent keeps huge failure counts
# from overflowing a float.
_MAX_EXPONENT = 64


class TimeSource(Protocol):
    """Monotonic seconds and sleeping on them."""

    def now(self) -> float:
        """The current time in seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` have passed."""
        ...


class LoopTime:
    """The running event loop's monotonic clock."""

    def now(self) -> float:
        """``loop.time()`` of the running loop."""
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(seconds)


def spread(seconds: float, fraction: float, rng: Random) -> float:
    """``seconds`` moved at random by up to ± ``fraction`` of itself."""
    return seconds * rng.uniform(1.0 - fraction, 1.0 + fraction)


def stretch(seconds: float, fraction: float, rng: Random) -> float:
    """``seconds`` lengthened at random by up to ``fraction`` of itself, never shortened."""
    return seconds * rng.uniform(1.0, 1.0 + fraction)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff for consecutive transient failures, in seconds.

    Flux's controllers back off from 5 ms to 1000 s; a daemon polling registries does
    better starting at a second and never waiting more than five minutes.
    """

    base: float = 1.0
    """Delay after the first failure."""
    factor: float = 2.0
    """Growth per further consecutive failure."""
    maximum: float = 300.0
    """Upper bound of every delay, jitter included."""
    jitter: float = 0.1
    """Random spread, as a fraction of the delay (± this much)."""

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.maximum < self.base:
            raise ValueError("backoff needs base > 0, factor >= 1 and maximum >= base")
        if not 0 <= self.jitter < 1:
            raise ValueError("backoff jitter must be a fraction in [0, 1)")

    def delay(self, failures: int, rng: Random) -> float:
        """Seconds to wait after ``failures`` consecutive failures (1 for the first)."""
        exponent = min(max(failures - 1, 0), _MAX_EXPONENT)
        raw = min(self.maximum, self.base * self.factor**exponent)
        return min(self.maximum, spread(raw, self.jitter, rng))


@dataclass(frozen=True)
class Timing:
    """How the scheduler spaces runs: interval jitter and failure backoff."""

    jitter: float = 0.1
    """Random spread of periodic runs, as a fraction of the interval (± this much)."""
    backoff: Backoff = field(default_factory=Backoff)
    """Delays after transient failures."""

    def __post_init__(self) -> None:
        if not 0 <= self.jitter < 1:
            raise ValueError("interval jitter must be a fraction in [0, 1)")


@dataclass(frozen=True)
class NextRun:
    """The decision after a reconcile: when to run again and why."""

    delay: float | None
    """Seconds from now; None waits for a trigger or a spec change."""
    reason: str
    """One of the ``NEXT_*`` constants."""
    failures: int
    """Consecutive failures including this outcome (0 after a success)."""


def plan_retry(
    failures: int, timing: Timing, rng: Random, *, retry_after: float | None = None
) -> NextRun:
    """Back off after the ``failures``-th consecutive failure, honouring ``retry_after``."""
    delay = timing.backoff.delay(failures, rng)
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return NextRun(delay, NEXT_RETRY, failures)


def plan_next_run(
    outcome: Outcome,
    *,
    interval: timedelta | None,
    failures: int,
    timing: Timing,
    rng: Random,
) -> NextRun:
    """Decide the next run after ``outcome``; ``failures`` counts the ones before it."""
    error = outcome.error
    if isinstance(error, StalledError):
        return NextRun(None, NEXT_STALLED, 0)
    if error is not None:
        retry_after = error.retry_after if isinstance(error, RetryableError) else None
        return plan_retry(failures + 1, timing, rng, retry_after=retry_after)
    if outcome.requeue_after is not None:
        # A reconciler's requeue time is "not before": running earlier only finds
        # nothing to do and asks again for the remainder.
        seconds = outcome.requeue_after.total_seconds()
        return NextRun(stretch(seconds, timing.jitter, rng), NEXT_REQUEUE, 0)
    if interval is None or interval <= timedelta(0):
        return NextRun(None, NEXT_IDLE, 0)
    return NextRun(spread(interval.total_seconds(), timing.jitter, rng), NEXT_INTERVAL, 0)
