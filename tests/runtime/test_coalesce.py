"""TriggerCoalescer: the first request fires at once, a burst becomes one more run."""

from __future__ import annotations

import asyncio

from tagpilot.ports import ObjectKey
from tagpilot.runtime.coalesce import TriggerCoalescer

REPO = ObjectKey("ImageRepository", "flux-system", "app")
OTHER = ObjectKey("ImageRepository", "flux-system", "other")


def _recorder() -> tuple[list[tuple[ObjectKey, str]], TriggerCoalescer]:
    fired: list[tuple[ObjectKey, str]] = []
    return fired, TriggerCoalescer(lambda key, reason: fired.append((key, reason)), gap=0.1)


async def test_the_first_request_fires_at_once() -> None:
    fired, coalescer = _recorder()
    coalescer.request(REPO, "webhook")
    assert fired == [(REPO, "webhook")]


async def test_a_burst_within_the_gap_fires_once_more_after_it() -> None:
    fired, coalescer = _recorder()
    for _ in range(100):
        coalescer.request(REPO, "webhook")
    assert (len(fired), coalescer.pending()) == (1, 1)
    await asyncio.sleep(0.2)
    assert fired == [(REPO, "webhook"), (REPO, "webhook")]
    assert coalescer.pending() == 0


async def test_keys_are_coalesced_independently() -> None:
    fired, coalescer = _recorder()
    coalescer.request(REPO, "webhook")
    coalescer.request(OTHER, "api")
    assert fired == [(REPO, "webhook"), (OTHER, "api")]


async def test_cancel_drops_the_waiting_requests() -> None:
    fired, coalescer = _recorder()
    coalescer.request(REPO, "webhook")
    coalescer.request(REPO, "webhook")
    coalescer.cancel()
    await asyncio.sleep(0.2)
    assert fired == [(REPO, "webhook")]
    assert coalescer.pending() == 0
