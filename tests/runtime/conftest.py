"""Fixtures for the runtime tests: a virtual clock and schedulers stopped at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from random import Random
from typing import Any

import pytest
from runtime_support import FakeEngine, VirtualTime

from tagpilot.runtime.backoff import Backoff, Timing
from tagpilot.runtime.scheduler import Scheduler

EXACT = Timing(jitter=0.0, backoff=Backoff(jitter=0.0))
"""No randomness: runs land exactly on the interval or the backoff step."""


@pytest.fixture
def clock() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
async def make_scheduler(clock: VirtualTime) -> AsyncIterator[Callable[..., Scheduler]]:
    """Build a started scheduler on the virtual clock; every one is stopped afterwards."""
    made: list[tuple[Scheduler, FakeEngine]] = []

    def build(engine: FakeEngine, **options: Any) -> Scheduler:
        options.setdefault("timing", EXACT)
        options.setdefault("rng", Random(7))
        scheduler = Scheduler(engine, time=clock, **options)
        scheduler.start()
        made.append((scheduler, engine))
        return scheduler

    yield build
    for scheduler, engine in made:
        for gate in engine.gates.values():
            gate.set()
        await scheduler.stop(timeout=0)
