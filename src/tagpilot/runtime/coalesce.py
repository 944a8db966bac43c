"""Coalesce outside reconcile requests (webhooks, the API) so a burst costs a few scans.

The daemon wraps its scheduler trigger in a :class:`TriggerCoalescer`.  The first request
for a key fires at once (a webhook's latency is untouched); further requests within
``gap`` seconds of the last one that fired are merged into one request fired when the gap
has passed.  Without this, a registry that sends a webhook per pushed layer or a CI job
that retries makes one registry scan per delivery: the scheduler already merges requests
while a key is queued, but a fast scan finishes between two deliveries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tagpilot.ports import ObjectKey

__all__ = ["DEFAULT_TRIGGER_GAP", "Fire", "TriggerCoalescer"]

DEFAULT_TRIGGER_GAP = 1.0
"""Seconds between two outside-triggered runs of one key."""

Fire = Callable[[ObjectKey, str], object]
"""What a request finally does: ``fire(key, reason)`` (the scheduler's trigger)."""


class TriggerCoalescer:
    """Fire requests for a key at most once per ``gap`` seconds; merge the rest."""

    def __init__(self, fire: Fire, *, gap: float = DEFAULT_TRIGGER_GAP) -> None:
        self._fire = fire
        self._gap = gap
        self._last: dict[ObjectKey, float] = {}
        self._pending: dict[ObjectKey, asyncio.TimerHandle] = {}

    def request(self, key: ObjectKey, reason: str) -> None:
        """Fire now when the key has been quiet for ``gap`` seconds, else once, later."""
        if key in self._pending:
            return
        loop = asyncio.get_running_loop()
        wait = self._last.get(key, float("-inf")) + self._gap - loop.time()
        if wait <= 0:
            self._fire_now(key, reason)
        else:
            self._pending[key] = loop.call_later(wait, self._fire_later, key, reason)

    def pending(self) -> int:
        """How many merged requests are waiting for their gap to pass."""
        return len(self._pending)

    def cancel(self) -> None:
        """Drop the waiting requests (the daemon is stopping)."""
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()

    def _fire_now(self, key: ObjectKey, reason: str) -> None:
        self._last[key] = asyncio.get_running_loop().time()
        self._fire(key, reason)

    def _fire_later(self, key: ObjectKey, reason: str) -> None:
        del self._pending[key]
        self._fire_now(key, reason)
