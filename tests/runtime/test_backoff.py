"""When an object runs next: the pure rules behind the scheduler's requeues."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from random import Random

import pytest
from runtime_support import ok, retry, stalled

from tagpilot.core.errors import TagpilotError
from tagpilot.reconcile.outcome import Outcome
from tagpilot.runtime.backoff import (
    NEXT_IDLE,
    NEXT_INTERVAL,
    NEXT_REQUEUE,
    NEXT_RETRY,
    NEXT_STALLED,
    Backoff,
    NextRun,
    Timing,
    plan_next_run,
    spread,
    stretch,
)

EXACT = Timing(jitter=0.0, backoff=Backoff(jitter=0.0))
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [
        pytest.param(1, 1, id="first-failure-waits-one-second"),
        pytest.param(2, 2, id="second-doubles"),
        pytest.param(3, 4, id="third-doubles-again"),
        pytest.param(9, 256, id="ninth-is-still-under-the-cap"),
        pytest.param(10, 300, id="tenth-hits-the-five-minute-cap"),
        pytest.param(10_000, 300, id="a-huge-count-stays-at-the-cap"),
    ],
)
def test_backoff_doubles_from_one_second_up_to_five_minutes(failures: int, seconds: float) -> None:
    assert Backoff(jitter=0.0).delay(failures, Random(0)) == seconds


@pytest.mark.parametrize("failures", [1, 4, 8, 9, 12])
def test_backoff_jitter_stays_within_ten_percent_and_under_the_cap(failures: int) -> None:
    backoff, rng = Backoff(), Random(failures)
    nominal = min(300.0, 2.0 ** (failures - 1))
    delays = [backoff.delay(failures, rng) for _ in range(200)]
    assert all(nominal * 0.9 <= delay <= min(nominal * 1.1, 300.0) for delay in delays)
    assert len(set(delays)) > 1


def test_interval_jitter_spreads_both_ways_and_requeue_jitter_only_later() -> None:
    rng = Random(11)
    spread_out = [spread(60.0, 0.1, rng) for _ in range(500)]
    stretched = [stretch(60.0, 0.1, rng) for _ in range(500)]
    assert 54 <= min(spread_out) < 57 and 63 < max(spread_out) <= 66
    assert 60 <= min(stretched) < 61 and 65 < max(stretched) <= 66


@pytest.mark.parametrize(
    ("outcome", "interval", "failures", "expected"),
    [
        pytest.param(ok(), MINUTE, 0, NextRun(60, NEXT_INTERVAL, 0), id="success-waits-interval"),
        pytest.param(
            ok(requeue=25), MINUTE, 0, NextRun(25, NEXT_REQUEUE, 0), id="requeue-after-wins"
        ),
        pytest.param(ok(), None, 0, NextRun(None, NEXT_IDLE, 0), id="no-interval-waits-trigger"),
        pytest.param(
            ok(), timedelta(0), 0, NextRun(None, NEXT_IDLE, 0), id="zero-interval-waits-trigger"
        ),
        pytest.param(ok(), MINUTE, 5, NextRun(60, NEXT_INTERVAL, 0), id="success-resets-failures"),
        pytest.param(
            stalled(), MINUTE, 2, NextRun(None, NEXT_STALLED, 0), id="stalled-waits-spec-change"
        ),
        pytest.param(retry(), MINUTE, 0, NextRun(1, NEXT_RETRY, 1), id="first-retry-in-a-second"),
        pytest.param(retry(), MINUTE, 3, NextRun(8, NEXT_RETRY, 4), id="fourth-retry-in-eight"),
        pytest.param(
            retry(retry_after=20), MINUTE, 0, NextRun(20, NEXT_RETRY, 1), id="longer-retry-after"
        ),
        pytest.param(
            retry(retry_after=0.5), MINUTE, 0, NextRun(1, NEXT_RETRY, 1), id="shorter-retry-after"
        ),
        pytest.param(
            Outcome({}, requeue_after=timedelta(hours=1), error=TagpilotError("odd")),
            MINUTE,
            1,
            NextRun(2, NEXT_RETRY, 2),
            id="other-errors-back-off-and-ignore-requeue-after",
        ),
    ],
)
def test_plan_next_run(
    outcome: Outcome, interval: timedelta | None, failures: int, expected: NextRun
) -> None:
    plan = plan_next_run(outcome, interval=interval, failures=failures, timing=EXACT, rng=Random())
    assert plan == expected


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: Backoff(base=0), "base > 0", id="zero-base"),
        pytest.param(lambda: Backoff(factor=0.5), "factor >= 1", id="shrinking-factor"),
        pytest.param(lambda: Backoff(base=10, maximum=5), "maximum >= base", id="max-below-base"),
        pytest.param(lambda: Backoff(jitter=1.0), "backoff jitter", id="full-jitter"),
        pytest.param(lambda: Timing(jitter=-0.1), "interval jitter", id="negative-interval-jitter"),
    ],
)
def test_nonsensical_timing_is_refused_at_construction(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build()
