"""The work queue every runtime shares: which object reconciles when, and how many at once.

``tagpilot run`` builds one ``Scheduler`` over its engine, calls ``start()``, feeds it
``trigger`` (webhooks, the API, the CLI) and ``on_reload`` (the manifest watcher), and
awaits ``stop()`` on SIGTERM.  A cluster runtime would drive the same class from watch
events.  Guarantees:

* one reconcile of a key at a time; at most ``concurrency`` reconciles overall;
* a key triggered while queued is queued once; triggered while running, it runs once
  more right after;
* triggered keys (webhooks, the API, a dependency's change) run before keys that are due
  on their interval: a rescan wave of thousands of repositories does not hold back the
  new tag a webhook announced;
* after each run the key is rescheduled by ``tagpilot.runtime.backoff.plan_next_run``
  and the engine's dependants of the status change run at once;
* at startup every object runs exactly once: the kinds run in stages, in the order the
  engine lists them (repositories, then policies, then automations), so a dependant
  triggered by its source's first run is still waiting for its own first run and the two
  merge into one;
* stalled keys wait for a spec change (their ``spec_hash``) or a trigger; suspended keys
  are skipped until a reload or trigger finds them resumed.

Time comes from an injected ``TimeSource`` (``backoff.LoopTime`` by default) so tests
run on a virtual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from random import Random
from typing import Any

import structlog

from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome
from tagpilot.runtime.backoff import (
    NEXT_STALLED,
    LoopTime,
    NextRun,
    TimeSource,
    Timing,
    plan_next_run,
    plan_retry,
)
from tagpilot.runtime.run_queue import QueueEntry, RunQueue
from tagpilot.runtime.scheduling import (
    PARKED_IDLE,
    PARKED_STALLED,
    PARKED_SUSPENDED,
    REASON_ADDED,
    REASON_CHANGED,
    REASON_RESUMED,
    REASON_SECRETS_CHANGED,
    REASON_STARTUP,
    CrashHook,
    KeyState,
    ReconcileEngine,
    ReloadChanges,
    ResultHook,
)
from tagpilot.runtime.startup import StartupStages

__all__ = [
    "PARKED_IDLE",
    "PARKED_STALLED",
    "PARKED_SUSPENDED",
    "REASON_ADDED",
    "REASON_CHANGED",
    "REASON_RESUMED",
    "REASON_STARTUP",
    "CrashHook",
    "KeyState",
    "LoopTime",
    "ReconcileEngine",
    "ReloadChanges",
    "ResultHook",
    "Scheduler",
    "TimeSource",
]

_log = structlog.get_logger(__name__)
_CANCEL_GRACE = 5.0


class Scheduler:
    """Runs an engine's objects on their intervals, on triggers and after failures."""

    def __init__(
        self,
        engine: ReconcileEngine,
        *,
        concurrency: int = 4,
        time: TimeSource | None = None,
        timing: Timing | None = None,
        rng: Random | None = None,
        on_result: ResultHook | None = None,
        on_crash: CrashHook | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._engine = engine
        self._concurrency = concurrency
        self._time: TimeSource = time or LoopTime()
        self._timing = timing or Timing()
        self._rng = rng or Random()
        self._on_result = on_result
        self._on_crash = on_crash
        self._queue = RunQueue()
        self._entries = self._queue.entries
        self._tasks: dict[ObjectKey, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._startup = StartupStages()

    # -- the public surface --------------------------------------------------------------

    def start(self) -> None:
        """Queue every loaded object now and start dispatching (needs a running loop)."""
        if self._dispatcher is not None or self._stopping:
            raise RuntimeError("a scheduler starts once")
        loaded = self._engine.keys()
        self._startup.plan(loaded)
        for key in loaded:
            self._add(key, REASON_STARTUP)
        self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())

    def trigger(self, key: ObjectKey, reason: str) -> bool:
        """Run ``key`` as soon as a slot is free, before keys due on their interval; False
        when the key is unknown or stopping."""
        return self._trigger(key, reason, urgent=True)

    def _trigger(self, key: ObjectKey, reason: str, *, urgent: bool) -> bool:
        entry = self._queue.live(key)
        if entry is None or self._stopping:
            return False
        if entry.running:
            entry.rerun = entry.rerun or reason
            entry.urgent = entry.urgent or urgent
        elif not entry.queued:
            entry.urgent = entry.urgent or urgent
            self._schedule(entry, self._time.now(), reason)
        elif urgent and not entry.urgent and not self._startup.held(entry.key):
            # (A key its start-up stage holds keeps its place: its first run is the one
            # asked for, and thousands of held keys in the first lane would be walked on
            # every launch.)
            entry.urgent = True
            self._queue.urgent.append(entry)
            self._wake.set()
        return True

    def on_reload(self, changes: ReloadChanges) -> None:
        """Apply a manifest reload: run added and changed keys now, forget removed ones.

        Stalled keys whose spec hash moved and suspended keys now resumed run too, so a
        reload that reports nothing still unblocks them; when a Secret changed, keys
        failing or stalled run at once (rotated credentials need no spec edit).
        """
        for key in changes.removed:
            self._remove(key)
        for key in changes.added:
            self._add(key, REASON_ADDED)
        for key in changes.changed:
            if key not in self._entries:
                self._add(key, REASON_CHANGED)
            self.trigger(key, REASON_CHANGED)
        self._unpark_changed()
        if changes.secrets_changed:
            self._retry_failing()

    def state_of(self, key: ObjectKey) -> KeyState | None:
        """The key's place in the queue, or None for an unknown key."""
        entry = self._queue.live(key)
        if entry is None:
            return None
        return KeyState(
            entry.due, entry.reason, entry.queued, entry.running, entry.parked, entry.failures
        )

    @property
    def running(self) -> int:
        """How many reconciles are in flight."""
        return len(self._tasks)

    async def stop(
        self, timeout: float = 30.0, *, interruptible: Callable[[ObjectKey], bool] | None = None
    ) -> bool:
        """Take no new work, wait up to ``timeout`` seconds for running reconciles.

        Reconciles of keys for which ``interruptible`` answers True (those that only wait
        on the network) are cancelled at once instead of waited for.  Returns True when
        every reconcile finished; otherwise the stragglers are cancelled (and given a few
        seconds to clean up) and False is returned.
        """
        self._stopping = True
        await self._halt_dispatcher()
        cut = [t for k, t in self._tasks.items() if interruptible is not None and interruptible(k)]
        for task in cut:
            task.cancel()
        running = list(self._tasks.values())
        if not running:
            return True
        if cut:
            await self._wait_tasks(cut, _CANCEL_GRACE)
        if await self._wait_tasks(running, timeout):
            return True
        for task in running:
            task.cancel()
        # A reconcile that swallows its cancellation must not hold the process forever.
        await self._wait_tasks(running, _CANCEL_GRACE)
        return False

    # -- queue bookkeeping ---------------------------------------------------------------

    def _add(self, key: ObjectKey, reason: str) -> None:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = QueueEntry(key)
        elif not entry.removed:
            return
        # A key removed while running and added back stays one entry: it runs once more
        # after the old run instead of beside it.
        entry.removed = False
        self._trigger(key, reason, urgent=False)

    def _remove(self, key: ObjectKey) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.removed, entry.due, entry.rerun = True, None, None
        self._started(key)
        if not entry.running:
            del self._entries[key]

    def _schedule(self, entry: QueueEntry, at: float, reason: str) -> None:
        """Make ``entry`` due at ``at`` unless it is already due sooner."""
        if self._queue.schedule(entry, at, reason):
            self._wake.set()

    def _park(self, entry: QueueEntry, why: str) -> None:
        entry.due, entry.parked = None, why
        if why == PARKED_STALLED:
            entry.stalled_spec = self._engine.spec_hash(entry.key)

    def _unpark_changed(self) -> None:
        for entry in list(self._entries.values()):
            if entry.parked == PARKED_STALLED:
                if self._engine.spec_hash(entry.key) != entry.stalled_spec:
                    self.trigger(entry.key, REASON_CHANGED)
            elif entry.parked == PARKED_SUSPENDED and not self._engine.is_suspended(entry.key):
                self.trigger(entry.key, REASON_RESUMED)

    def _retry_failing(self) -> None:
        for entry in list(self._entries.values()):
            if entry.failures or entry.parked == PARKED_STALLED:
                self.trigger(entry.key, REASON_SECRETS_CHANGED)

    # -- dispatching ---------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self._stopping:
            self._wake.clear()
            now = self._time.now()
            self._queue.promote(now)
            self._launch()
            await self._idle(self._queue.next_delay(now))

    def _launch(self) -> None:
        for lane in (self._queue.urgent, self._queue.ready):
            held: list[QueueEntry] = []
            while lane and len(self._tasks) < self._concurrency:
                entry = lane.popleft()
                if not entry.queued:
                    continue  # launched from the other lane already
                if self._startup.held(entry.key):
                    held.append(entry)
                    continue
                entry.queued = entry.urgent = False
                if entry.removed or not self._may_run(entry):
                    self._started(entry.key)
                    continue
                entry.running = True
                task = asyncio.get_running_loop().create_task(self._run(entry))
                self._tasks[entry.key] = task
            lane.extendleft(reversed(held))

    def _started(self, key: ObjectKey) -> None:
        if self._startup.done(key):
            self._wake.set()

    def _may_run(self, entry: QueueEntry) -> bool:
        try:
            suspended = self._engine.is_suspended(entry.key)
        except Exception as exc:  # e.g. a key the engine dropped before telling us
            self._report_crash(entry.key, exc)
            self._reschedule(entry, plan_retry(entry.failures + 1, self._timing, self._rng))
            return False
        if suspended:
            self._park(entry, PARKED_SUSPENDED)
        return not suspended

    async def _idle(self, delay: float | None) -> None:
        await self._first_of(self._wake.wait(), delay)

    async def _halt_dispatcher(self) -> None:
        if self._dispatcher is None:
            return
        self._dispatcher.cancel()
        await asyncio.gather(self._dispatcher, return_exceptions=True)

    async def _wait_tasks(self, tasks: list[asyncio.Task[None]], timeout: float) -> bool:
        await self._first_of(asyncio.wait(tasks), timeout)
        return all(task.done() for task in tasks)

    async def _first_of(self, awaitable: Awaitable[Any], seconds: float | None) -> None:
        """Wait for ``awaitable`` or ``seconds`` of the time source, whichever ends first."""
        waiters = {asyncio.ensure_future(awaitable)}
        if seconds is not None:
            waiters.add(asyncio.ensure_future(self._time.sleep(seconds)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    # -- one run -------------------------------------------------------------------------

    async def _run(self, entry: QueueEntry) -> None:
        started = self._time.now()
        try:
            outcome = await self._engine.reconcile(entry.key, reason=entry.reason)
        except Exception as exc:  # a bug in one reconciler must not stop the others
            self._report_crash(entry.key, exc)
            self._reschedule(entry, plan_retry(entry.failures + 1, self._timing, self._rng))
        else:
            self._after(entry, outcome, self._time.now() - started)
        finally:
            entry.running = False
            self._tasks.pop(entry.key, None)
            self._started(entry.key)
            if entry.removed and self._entries.get(entry.key) is entry:
                del self._entries[entry.key]
            self._wake.set()

    def _after(self, entry: QueueEntry, outcome: Outcome, seconds: float) -> None:
        watched = self._engine.watched(entry.key, outcome.status)
        before, entry.last_status = entry.last_status, watched
        try:
            if not entry.removed:
                self._reschedule(entry, self._plan(entry, outcome))
                self._trigger_dependants(entry.key, before, entry.last_status)
            if self._on_result is not None:
                self._on_result(entry.key, outcome, seconds)
        except Exception as exc:  # nor may a bug in the engine's bookkeeping or a hook
            self._report_crash(entry.key, exc)
            if entry.due is None and entry.parked is None:
                self._reschedule(entry, plan_retry(entry.failures + 1, self._timing, self._rng))

    def _plan(self, entry: QueueEntry, outcome: Outcome) -> NextRun:
        return plan_next_run(
            outcome,
            interval=self._engine.interval_of(entry.key),
            failures=entry.failures,
            timing=self._timing,
            rng=self._rng,
        )

    def _reschedule(self, entry: QueueEntry, plan: NextRun) -> None:
        entry.failures = plan.failures
        if entry.removed:
            return
        if entry.rerun is not None:
            reason, entry.rerun = entry.rerun, None
            self._schedule(entry, self._time.now(), reason)
        elif plan.delay is None:
            self._park(entry, PARKED_STALLED if plan.reason == NEXT_STALLED else PARKED_IDLE)
            entry.reason = plan.reason
        else:
            self._schedule(entry, self._time.now() + plan.delay, plan.reason)

    def _trigger_dependants(self, key: ObjectKey, before: Any | None, after: Any) -> None:
        for dependant in self._engine.dependants(key, before, after):
            self.trigger(dependant, f"{key} changed")

    def _report_crash(self, key: ObjectKey, exc: Exception) -> None:
        if self._on_crash is not None:
            self._on_crash(key, exc)
        else:
            _log.error("reconcile crashed", key=str(key), exc_info=exc)
