"""The scheduler, driven by a scripted engine on a virtual clock.

Times in the assertions are virtual seconds since the scheduler started.  Unless a test
says otherwise, timing is exact (no jitter) and every object has a one-minute interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from random import Random

import pytest
from runtime_support import FakeEngine, FakeObject, Reload, VirtualTime, key, ok, retry, stalled

from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome
from tagpilot.runtime.backoff import Timing
from tagpilot.runtime.scheduler import (
    PARKED_IDLE,
    PARKED_STALLED,
    PARKED_SUSPENDED,
    REASON_ADDED,
    REASON_CHANGED,
    REASON_RESUMED,
    REASON_STARTUP,
    KeyState,
    Scheduler,
)

MakeScheduler = Callable[..., Scheduler]

REPO, OTHER = key("podinfo"), key("redis")
POLICY = key("podinfo", "ImagePolicy")
AUTOMATION = key("apps", "ImageUpdateAutomation")


def engine_with(
    clock: VirtualTime,
    *keys: ObjectKey,
    interval: timedelta | None = timedelta(minutes=1),
    suspended: bool = False,
) -> FakeEngine:
    """An engine holding ``keys``, all with the same interval and suspension."""
    return FakeEngine(clock, {k: FakeObject(interval, suspended) for k in keys})


def state(scheduler: Scheduler, k: ObjectKey) -> KeyState:
    """The queue state of a key the scheduler must know."""
    found = scheduler.state_of(k)
    assert found is not None
    return found


# -- when objects run --------------------------------------------------------------------


async def test_every_object_runs_at_startup_in_the_engines_order(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, OTHER, POLICY)
    make_scheduler(engine)
    await clock.advance()
    assert [(c.key, c.reason, c.at) for c in engine.calls] == [
        (REPO, REASON_STARTUP, 0.0),
        (OTHER, REASON_STARTUP, 0.0),
        (POLICY, REASON_STARTUP, 0.0),
    ]


async def test_an_object_runs_again_on_its_interval(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, interval=timedelta(seconds=60))
    make_scheduler(engine)
    await clock.advance(150)
    assert engine.times(REPO) == [0, 60, 120]
    assert engine.reasons(REPO)[1:] == ["interval", "interval"]


async def test_the_outcomes_requeue_after_wins_over_the_interval(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, interval=timedelta(seconds=60))
    engine.script[REPO] = [ok(requeue=25), ok(requeue=10)]
    make_scheduler(engine)
    await clock.advance(100)
    assert engine.times(REPO) == [0, 25, 35, 95]
    assert engine.reasons(REPO)[1:] == ["requeue", "requeue", "interval"]


async def test_an_object_without_interval_runs_only_when_triggered(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, POLICY, interval=None)
    scheduler = make_scheduler(engine)
    await clock.advance(3600)
    assert engine.times(POLICY) == [0]
    assert state(scheduler, POLICY).parked == PARKED_IDLE
    assert scheduler.trigger(POLICY, "webhook")
    await clock.advance()
    assert engine.reasons(POLICY) == [REASON_STARTUP, "webhook"]


async def test_interval_jitter_spreads_next_runs_within_ten_percent(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    keys = [key(f"app-{n}") for n in range(40)]
    engine = engine_with(clock, *keys, interval=timedelta(seconds=60))
    scheduler = make_scheduler(engine, timing=Timing(jitter=0.1), rng=Random(3))
    await clock.advance()
    dues = [state(scheduler, k).due or 0.0 for k in keys]
    assert all(54 <= due <= 66 for due in dues)
    assert min(dues) < 58 and max(dues) > 62


# -- failures --------------------------------------------------------------------------


async def test_retryable_failures_back_off_exponentially_and_reset_on_success(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, interval=timedelta(seconds=60))
    engine.script[REPO] = [retry(), retry(), retry(), ok(), retry(), ok()]
    make_scheduler(engine)
    await clock.advance(70)
    assert engine.times(REPO) == [0, 1, 3, 7, 67, 68]
    assert engine.reasons(REPO)[1:4] == ["retry", "retry", "retry"]


@pytest.mark.parametrize(
    ("retry_after", "next_run"),
    [
        pytest.param(30.0, 30, id="retry-after-longer-than-backoff-is-honoured"),
        pytest.param(0.25, 1, id="retry-after-shorter-than-backoff-is-ignored"),
        pytest.param(None, 1, id="no-retry-after-means-plain-backoff"),
    ],
)
async def test_retry_after_is_a_lower_bound_on_the_backoff(
    clock: VirtualTime, make_scheduler: MakeScheduler, retry_after: float | None, next_run: float
) -> None:
    engine = engine_with(clock, REPO)
    engine.script[REPO] = [retry(retry_after)]
    make_scheduler(engine)
    await clock.advance(45)
    assert engine.times(REPO)[:2] == [0, next_run]


async def test_a_stalled_object_waits_for_its_spec_to_change(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, POLICY)
    engine.script[POLICY] = [stalled()]
    scheduler = make_scheduler(engine)
    await clock.advance(3600)
    assert engine.times(POLICY) == [0]
    assert state(scheduler, POLICY).parked == PARKED_STALLED

    scheduler.on_reload(Reload())
    await clock.advance(10)
    assert engine.times(POLICY) == [0], "a reload with the same spec must not unblock it"

    engine.objects[POLICY].spec = "v2"
    scheduler.on_reload(Reload())
    await clock.advance()
    assert engine.reasons(POLICY) == [REASON_STARTUP, REASON_CHANGED]


@pytest.mark.parametrize(
    ("first", "runs_at_once"),
    [
        pytest.param(retry(), True, id="failing-with-backoff-runs-at-once"),
        pytest.param(stalled(), True, id="stalled-runs-at-once"),
        pytest.param(ok(), False, id="healthy-waits-for-its-interval"),
    ],
)
async def test_a_changed_secret_runs_the_failing_objects_at_once(
    clock: VirtualTime, make_scheduler: MakeScheduler, first: Outcome, runs_at_once: bool
) -> None:
    # Rotated credentials change no spec: without this a key backing off for minutes (or
    # stalled) would keep failing long after the user fixed its Secret.
    engine = engine_with(clock, REPO, interval=timedelta(minutes=10))
    engine.script[REPO] = [first, retry(), retry(), retry(), retry(), retry()]
    scheduler = make_scheduler(engine)
    await clock.advance(20)
    before = len(engine.calls)

    scheduler.on_reload(Reload(secrets_changed=True))
    await clock.advance()

    reasons = engine.reasons(REPO)[before:]
    assert reasons == (["a Secret changed"] if runs_at_once else [])


async def test_a_reload_without_secret_changes_leaves_a_backing_off_object_alone(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, interval=timedelta(minutes=10))
    engine.script[REPO] = [retry(), retry(), retry(), retry(), retry(), retry()]
    scheduler = make_scheduler(engine)
    await clock.advance(20)
    before = engine.times(REPO)

    scheduler.on_reload(Reload())
    await clock.advance()

    assert engine.times(REPO) == before


async def test_a_manual_trigger_runs_a_stalled_object(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, POLICY)
    engine.script[POLICY] = [stalled()]
    scheduler = make_scheduler(engine)
    await clock.advance(600)
    scheduler.trigger(POLICY, "reconcile requested")
    await clock.advance()
    assert engine.reasons(POLICY) == [REASON_STARTUP, "reconcile requested"]
    assert state(scheduler, POLICY).parked is None


async def test_a_crashing_reconcile_is_reported_and_retried(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO)
    engine.script[REPO] = [RuntimeError("bug in a reconciler")]
    crashes: list[tuple[ObjectKey, str]] = []
    make_scheduler(engine, on_crash=lambda k, exc: crashes.append((k, str(exc))))
    await clock.advance(2)
    assert crashes == [(REPO, "bug in a reconciler")]
    assert engine.times(REPO) == [0, 1]


async def test_a_failing_result_hook_does_not_stop_scheduling(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, interval=timedelta(seconds=60))
    crashes: list[ObjectKey] = []

    def broken_hook(k: ObjectKey, outcome: Outcome, seconds: float) -> None:
        raise ValueError("metrics bug")

    make_scheduler(engine, on_result=broken_hook, on_crash=lambda k, exc: crashes.append(k))
    await clock.advance(61)
    assert engine.times(REPO) == [0, 60]
    assert crashes == [REPO, REPO]


async def test_a_key_the_engine_forgot_is_reported_without_stopping_the_others(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, OTHER, interval=timedelta(seconds=60))
    crashes: list[tuple[ObjectKey, type[Exception]]] = []
    make_scheduler(engine, on_crash=lambda k, exc: crashes.append((k, type(exc))))
    await clock.advance(10)
    del engine.objects[REPO]
    await clock.advance(120)
    assert crashes[0] == (REPO, KeyError)
    assert engine.times(OTHER) == [0, 60, 120]


# -- suspend and triggers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "resume",
    [
        pytest.param(lambda s: s.trigger(REPO, REASON_RESUMED), id="resumed-through-the-api"),
        pytest.param(lambda s: s.on_reload(Reload()), id="resumed-by-a-manifest-edit"),
    ],
)
async def test_a_suspended_object_is_skipped_until_resumed(
    clock: VirtualTime, make_scheduler: MakeScheduler, resume: Callable[[Scheduler], object]
) -> None:
    engine = engine_with(clock, REPO, suspended=True)
    scheduler = make_scheduler(engine)
    await clock.advance(600)
    assert engine.calls == []
    assert state(scheduler, REPO).parked == PARKED_SUSPENDED

    engine.objects[REPO].suspended = False
    resume(scheduler)
    await clock.advance()
    assert engine.reasons(REPO) == [REASON_RESUMED]


async def test_suspending_a_scheduled_object_stops_its_periodic_runs(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, interval=timedelta(seconds=60))
    make_scheduler(engine)
    await clock.advance(30)
    engine.objects[REPO].suspended = True
    await clock.advance(600)
    assert engine.times(REPO) == [0]


async def test_a_trigger_for_an_unknown_object_is_refused(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    scheduler = make_scheduler(engine_with(clock, REPO))
    assert not scheduler.trigger(OTHER, "webhook")
    assert scheduler.state_of(OTHER) is None


async def test_triggers_while_queued_run_the_object_once(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, OTHER)
    engine.gates[REPO] = asyncio.Event()
    scheduler = make_scheduler(engine, concurrency=1)
    await clock.advance(5)  # REPO holds the only slot, OTHER waits in the queue
    for source in ("webhook", "api", "cli"):
        assert scheduler.trigger(OTHER, source)
    assert state(scheduler, OTHER).queued
    engine.gates[REPO].set()
    await clock.advance()
    assert engine.reasons(OTHER) == [REASON_STARTUP]


async def test_triggers_while_running_run_the_object_once_more_after(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO)
    engine.gates[REPO] = asyncio.Event()
    scheduler = make_scheduler(engine)
    await clock.advance(2)
    for source in ("webhook", "api", "cli"):
        scheduler.trigger(REPO, source)
    engine.gates[REPO].set()
    await clock.advance(1)
    assert engine.reasons(REPO) == [REASON_STARTUP, "webhook"]
    assert engine.overlaps == []


async def test_a_triggered_object_runs_before_objects_queued_for_their_interval(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    first, *waiting = [key(f"app-{n}") for n in range(4)]
    engine = engine_with(clock, first, *waiting, interval=timedelta(hours=1))
    engine.gates[first] = asyncio.Event()
    scheduler = make_scheduler(engine, concurrency=1)
    await clock.advance(5)  # app-0 holds the only slot, app-1..3 wait in the queue
    assert scheduler.trigger(waiting[-1], "webhook")
    engine.gates[first].set()
    await clock.advance(1)
    assert [c.key for c in engine.calls] == [first, waiting[-1], *waiting[:-1]]
    assert len(engine.calls) == 4


async def test_a_scheduled_object_triggered_early_runs_early_and_only_then(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, interval=timedelta(seconds=60))
    scheduler = make_scheduler(engine)
    await clock.advance(20)
    scheduler.trigger(REPO, "webhook")
    await clock.advance(60)
    assert engine.times(REPO) == [0, 20, 80]


# -- concurrency -------------------------------------------------------------------------


async def test_at_most_concurrency_objects_run_at_once(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    keys = [key(f"app-{n}") for n in range(10)]
    engine = engine_with(clock, *keys, interval=timedelta(hours=1))
    engine.duration = 5
    make_scheduler(engine, concurrency=4)
    await clock.advance(20)
    assert engine.peak == 4
    assert sorted({c.at for c in engine.calls}) == [0, 5, 10]
    assert len(engine.calls) == 10


async def test_one_object_never_runs_twice_at_once(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, OTHER)
    engine.duration = 3
    scheduler = make_scheduler(engine, concurrency=4)
    for second in range(12):
        scheduler.trigger(REPO, f"webhook {second}")
        await clock.advance(1)
    assert engine.overlaps == []
    assert engine.times(REPO) == [0, 3, 6, 9, 12]


# -- dependants ----------------------------------------------------------------------------


async def test_dependants_of_a_status_change_run_at_once(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    """A new repository revision runs its policy, a new latestRef its automation."""
    engine = FakeEngine(
        clock,
        {
            REPO: FakeObject(interval=timedelta(seconds=60)),
            POLICY: FakeObject(interval=None),
            AUTOMATION: FakeObject(interval=None),
        },
    )
    engine.links = {REPO: [POLICY], POLICY: [AUTOMATION]}
    engine.script[REPO] = [ok("r1"), ok("r1"), ok("r2")]
    engine.script[POLICY] = [ok("p1"), ok("p2")]
    make_scheduler(engine)
    await clock.advance(130)
    later = [(c.key, c.reason, c.at) for c in engine.calls if c.at > 0]
    assert later == [
        (REPO, "interval", 60),
        (REPO, "interval", 120),
        (POLICY, f"{REPO} changed", 120),
        (AUTOMATION, f"{POLICY} changed", 120),
    ]
    assert (REPO, {"revision": "r1"}, {"revision": "r2"}) in engine.seen_changes


@pytest.mark.parametrize(
    "concurrency", [pytest.param(1, id="one-slot"), pytest.param(4, id="four-slots")]
)
async def test_at_startup_every_object_runs_exactly_once(
    clock: VirtualTime, make_scheduler: MakeScheduler, concurrency: int
) -> None:
    """Dependants wait for their sources' first runs, so the change those runs report
    is folded into the dependants' own first run instead of running them twice."""
    engine = engine_with(clock, REPO, OTHER, POLICY, AUTOMATION, interval=None)
    engine.links = {REPO: [POLICY], POLICY: [AUTOMATION]}
    engine.duration = 1.0
    make_scheduler(engine, concurrency=concurrency)
    await clock.advance(10)
    assert [engine.reasons(k) for k in (REPO, OTHER, POLICY, AUTOMATION)] == [[REASON_STARTUP]] * 4
    assert engine.times(POLICY)[0] >= max(engine.times(REPO) + engine.times(OTHER)) + 1
    assert engine.seen_changes[0] == (REPO, None, {"revision": "r1"})


async def test_a_suspended_source_does_not_hold_back_its_dependants_at_startup(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, POLICY, interval=None)
    engine.objects[REPO].suspended = True
    make_scheduler(engine)
    await clock.advance(1)
    assert engine.reasons(POLICY) == [REASON_STARTUP]


# -- reloads ---------------------------------------------------------------------------


async def test_a_reload_runs_added_and_changed_objects_and_forgets_removed_ones(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, OTHER, interval=timedelta(seconds=60))
    scheduler = make_scheduler(engine)
    await clock.advance(10)
    engine.objects[POLICY] = FakeObject()
    scheduler.on_reload(Reload(added=[POLICY], changed=[REPO], removed=[OTHER]))
    del engine.objects[OTHER]
    await clock.advance(120)
    assert engine.reasons(POLICY)[0] == REASON_ADDED
    assert engine.times(POLICY)[0] == 10
    assert engine.reasons(REPO)[:2] == [REASON_STARTUP, REASON_CHANGED]
    assert engine.times(OTHER) == [0]
    assert scheduler.state_of(OTHER) is None


async def test_an_object_removed_while_running_is_not_run_again(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO)
    engine.gates[REPO] = asyncio.Event()
    scheduler = make_scheduler(engine)
    await clock.advance(1)
    scheduler.on_reload(Reload(removed=[REPO]))
    assert not scheduler.trigger(REPO, "webhook")
    engine.gates[REPO].set()
    await clock.advance(300)
    assert engine.times(REPO) == [0]


async def test_an_object_removed_and_added_back_while_running_runs_after_not_beside(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO)
    engine.gates[REPO] = asyncio.Event()
    scheduler = make_scheduler(engine)
    await clock.advance(1)
    scheduler.on_reload(Reload(removed=[REPO]))
    scheduler.on_reload(Reload(added=[REPO]))
    await clock.advance(1)
    assert engine.times(REPO) == [0]
    engine.gates[REPO].set()
    await clock.advance(1)
    assert engine.reasons(REPO) == [REASON_STARTUP, REASON_ADDED]
    assert engine.overlaps == []


# -- observing and stopping ---------------------------------------------------------------


async def test_each_result_is_reported_with_its_duration(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO)
    engine.duration = 3
    engine.script[REPO] = [ok("r9")]
    results: list[tuple[ObjectKey, Outcome, float]] = []
    make_scheduler(engine, on_result=lambda *result: results.append(result))
    await clock.advance(5)
    assert results == [(REPO, ok("r9"), 3.0)]


async def test_stop_waits_for_running_reconciles_and_takes_no_new_work(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO, OTHER)
    engine.gates[REPO] = asyncio.Event()
    scheduler = make_scheduler(engine, concurrency=1)
    await clock.advance(1)
    stopping = asyncio.ensure_future(scheduler.stop(timeout=30))
    await clock.advance(10)
    assert not stopping.done()
    engine.gates[REPO].set()
    await clock.advance()
    assert await stopping is True
    assert not scheduler.trigger(OTHER, "webhook")
    await clock.advance(120)
    assert [c.key for c in engine.calls] == [REPO]


async def test_stop_cancels_reconciles_still_running_after_its_timeout(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO)
    engine.gates[REPO] = asyncio.Event()
    scheduler = make_scheduler(engine)
    await clock.advance(1)
    stopping = asyncio.ensure_future(scheduler.stop(timeout=5))
    await clock.advance(4)
    assert not stopping.done()
    await clock.advance(1)
    assert await stopping is False
    assert engine.cancelled == [REPO]
    assert scheduler.running == 0


async def test_stop_does_not_wait_forever_for_a_reconcile_that_ignores_cancellation(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    engine = engine_with(clock, REPO)
    engine.gates[REPO], engine.stubborn = asyncio.Event(), asyncio.Event()
    scheduler = make_scheduler(engine)
    await clock.advance(1)
    stopping = asyncio.ensure_future(scheduler.stop(timeout=5))
    await clock.advance(5)
    assert engine.cancelled == [REPO]
    assert not stopping.done()
    await clock.advance(5)
    assert await stopping is False
    engine.stubborn.set()


async def test_on_the_event_loops_own_clock_objects_run_and_stop_cleanly() -> None:
    """The production time source, in real time: startup run, interval runs, a trigger."""
    engine = engine_with(VirtualTime(), REPO, OTHER, interval=timedelta(seconds=0.05))
    # OTHER waits on a long interval, so the trigger cannot be folded into an interval run
    # that is already queued when the machine is busy.
    engine.objects[OTHER] = FakeObject(timedelta(minutes=10), False)
    scheduler = Scheduler(engine, timing=Timing(jitter=0.1), rng=Random(1))
    scheduler.start()
    await asyncio.sleep(0.3)
    assert scheduler.trigger(OTHER, "webhook")
    async with asyncio.timeout(5):
        while "webhook" not in engine.reasons(OTHER):
            await asyncio.sleep(0.005)
    assert await scheduler.stop(timeout=1) is True
    assert 3 <= len(engine.reasons(REPO)) <= 10


async def test_stop_cancels_interruptible_reconciles_at_once_and_waits_for_the_others(
    clock: VirtualTime, make_scheduler: MakeScheduler
) -> None:
    """A hung scan is cancelled on SIGTERM; an automation that may be pushing finishes."""
    engine = engine_with(clock, REPO, AUTOMATION)
    engine.gates[AUTOMATION] = asyncio.Event()
    scheduler = make_scheduler(engine, concurrency=2)
    await clock.advance(1)
    engine.gates[REPO] = asyncio.Event()
    scheduler.trigger(REPO, "webhook")
    await clock.advance(1)
    assert state(scheduler, REPO).running and state(scheduler, AUTOMATION).running
    stopping = asyncio.ensure_future(
        scheduler.stop(timeout=120, interruptible=lambda k: k.kind != AUTOMATION.kind)
    )
    await clock.advance(0)
    assert engine.cancelled == [REPO]
    assert not stopping.done()
    engine.gates[AUTOMATION].set()
    await clock.advance(0)
    assert await stopping is True
    assert engine.cancelled == [REPO]
