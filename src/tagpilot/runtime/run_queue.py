"""The scheduler's queue: each key's bookkeeping, the keys due later, and two lanes due now.

Keys due at a future time wait in a heap ordered by (due time, sequence).  When their time
comes they move to one of two lanes: ``urgent`` for triggered keys (webhooks, the API, a
dependency's change) and ``ready`` for keys due on their interval, so a rescan wave of
thousands of repositories never holds back a triggered key.  Rescheduling a key leaves its
old heap item behind, recognised by a stale ``token``; the heap is rebuilt once such items
outnumber the live ones.

Only bookkeeping lives here; what runs when, and what a run's outcome means, is the
:class:`~tagpilot.runtime.scheduler.Scheduler`'s.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from typing import Any

from tagpilot.ports import ObjectKey
from tagpilot.runtime.scheduling import REASON_STARTUP


@dataclass(eq=False)
class QueueEntry:
    """The scheduler's mutable bookkeeping for one key."""

    key: ObjectKey
    reason: str = REASON_STARTUP
    due: float | None = None
    token: int = -1
    queued: bool = False
    running: bool = False
    rerun: str | None = None
    parked: str | None = None
    stalled_spec: str | None = None
    failures: int = 0
    last_status: Any | None = None
    """What the engine's dependants rule watches of the last run's status (not the whole
    status: an automation's lists thousands of policies)."""
    removed: bool = False
    urgent: bool = False
    """Triggered rather than due on its interval: queued in the first lane."""


class RunQueue:
    """Every key's entry, the entries due later (a heap) and the two lanes of those due now."""

    def __init__(self) -> None:
        self.entries: dict[ObjectKey, QueueEntry] = {}
        self.urgent: deque[QueueEntry] = deque()
        """Triggered keys, launched before ``ready`` (a key queued in ``ready`` and then
        triggered is in both; the later copy is skipped by its ``queued`` flag)."""
        self.ready: deque[QueueEntry] = deque()
        self._heap: list[tuple[float, int, ObjectKey]] = []
        self._sequence = 0

    def live(self, key: ObjectKey) -> QueueEntry | None:
        """The key's entry unless it is unknown or removed."""
        entry = self.entries.get(key)
        return None if entry is None or entry.removed else entry

    def schedule(self, entry: QueueEntry, at: float, reason: str) -> bool:
        """Make ``entry`` due at ``at`` unless it is already due sooner; True when moved."""
        if entry.due is not None and entry.due <= at:
            return False
        self._sequence += 1
        entry.due, entry.token, entry.reason, entry.parked = at, self._sequence, reason, None
        heapq.heappush(self._heap, (at, self._sequence, entry.key))
        self._compact()
        return True

    def promote(self, now: float) -> None:
        """Move the entries due by ``now`` from the heap to their lane."""
        while self._heap and self._heap[0][0] <= now:
            _, token, key = heapq.heappop(self._heap)
            entry = self._current(key, token)
            if entry is None:
                continue
            entry.due, entry.queued = None, True
            (self.urgent if entry.urgent else self.ready).append(entry)

    def next_delay(self, now: float) -> float | None:
        """Seconds until the next entry is due (0 when one is overdue); None when none is."""
        while self._heap:
            due, token, key = self._heap[0]
            if self._current(key, token) is not None:
                return max(due - now, 0.0)
            heapq.heappop(self._heap)
        return None

    def _current(self, key: ObjectKey, token: int) -> QueueEntry | None:
        entry = self.entries.get(key)
        if entry is None or entry.token != token or entry.due is None:
            return None
        return entry

    def _compact(self) -> None:
        # Triggers leave the superseded heap items behind; rebuild before they pile up.
        if len(self._heap) <= 2 * len(self.entries) + 64:
            return
        live = [(e.due, e.token, e.key) for e in self.entries.values() if e.due is not None]
        heapq.heapify(live)
        self._heap = live
