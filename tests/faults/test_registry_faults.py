"""Registry faults, seen by the ImageRepository reconciler: report, keep the tags, recover.

A real ``docker-registry`` holds ``team/app``; tagpilot reaches it through a chaos proxy that
paginates the tag list (two tags a page) and plays faults on tag-list requests.  For every
fault the reconcile must end Ready False with the reason and a message saying what went wrong,
Reconciling True (``ProgressingWithRetry``), never Stalled; the stored tags and the last scan
result must be exactly the last good ones; the number of requests must stay bounded; and once
the registry behaves again, the next reconcile must be Ready True with the new tags.
"""

from __future__ import annotations

import random
import re
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from registry_faults_proxy import ChaosProxy, Fault, run_chaos_proxy
from registry_faults_support import RegistryProcess, add_tags_in_storage, run_registry_process

from servers.ocipush import seed
from servers.registry import fast_storage
from tagpilot.adapters.registry import Limits
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.image import ImageRepository
from tagpilot.api.loader import load_text
from tagpilot.core.errors import RetryableError
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_repository import reconcile_image_repository
from tagpilot.reconcile.outcome import Outcome
from tagpilot.runtime.backoff import Timing, plan_next_run

REPO = "team/app"
FIRST_TAGS = ["1.0.0", "1.1.0", "1.2.0"]
NEW_TAG = "1.3.0"
PAGE_SIZE = 2
TIMEOUT_SECONDS = 3
LIMITS = Limits(max_attempts=3, backoff_base=0.02, backoff_cap=0.1, max_retry_after=5)
TAGS_PATH = f"/v2/{REPO}/tags/list"
KEY = ObjectKey("ImageRepository", "flux-system", "app")
MANY_TAGS = 100_000
MANY_TAGS_PAGE_SIZE = 1_000


@dataclass
class FakeClock:
    """The reconciler's clock, moved by hand (registry timeouts still use real time)."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@dataclass
class Bench:
    """Everything one scenario touches: registry, proxy, store, clock and the reconcile."""

    registry: RegistryProcess
    proxy: ChaosProxy
    store: SqliteStore
    clock: FakeClock
    ctx: ReconcileContext

    @property
    def canonical(self) -> str:
        return f"{self.proxy.host}/{REPO}"

    async def reconcile(self) -> Outcome:
        text = (
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\n"
            "metadata:\n  name: app\n  namespace: flux-system\n"
            f"spec:\n  image: {self.canonical}\n  interval: 1m\n  timeout: {TIMEOUT_SECONDS}s\n"
        )
        repo = load_text(text, file="repo.yaml").objects[0].obj
        assert isinstance(repo, ImageRepository)
        outcome = await reconcile_image_repository(repo, self.ctx)
        self.store.put_status(KEY, outcome.document)
        return outcome


@pytest.fixture
def registry() -> Iterator[RegistryProcess]:
    with fast_storage() as storage, run_registry_process(storage / "registry") as running:
        seed(running.url, REPO, FIRST_TAGS)
        yield running


@asynccontextmanager
async def _bench(registry: RegistryProcess, state: Path, page_size: int) -> AsyncIterator[Bench]:
    store = SqliteStore(state)
    pool = RegistryPool(LIMITS)
    clock = FakeClock(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    try:
        with run_chaos_proxy(registry.url, page_size=page_size) as proxy:
            ctx = ReconcileContext(clock=clock, store=store, registry=pool)
            yield Bench(registry, proxy, store, clock, ctx)
    finally:
        await pool.aclose()
        store.close()


@pytest.fixture
async def bench(registry: RegistryProcess, tmp_path: Path) -> AsyncIterator[Bench]:
    async with _bench(registry, tmp_path / "state.db", PAGE_SIZE) as ready:
        yield ready


def _condition(outcome: Outcome, kind: str) -> dict[str, Any] | None:
    found = [c for c in outcome.document["conditions"] if c["type"] == kind]
    return found[0] if found else None


async def _good_scan(bench: Bench) -> Outcome:
    outcome = await bench.reconcile()
    assert outcome.ready, outcome.document
    return outcome


async def _rescan_after_the_interval(bench: Bench) -> tuple[Outcome, int]:
    """Reconcile once the interval has passed; also return the tag-list requests it made."""
    bench.clock.advance(61)
    before = bench.proxy.tag_requests
    outcome = await bench.reconcile()
    return outcome, bench.proxy.tag_requests - before


def _assert_retrying_failure(outcome: Outcome, reason: str, message: str) -> None:
    ready = _condition(outcome, "Ready")
    reconciling = _condition(outcome, "Reconciling")
    assert ready is not None and ready["status"] == "False", outcome.document
    assert ready["reason"] == reason
    assert _matches(message, ready["message"]), ready["message"]
    assert reconciling is not None and reconciling["status"] == "True"
    assert reconciling["reason"] == "ProgressingWithRetry"
    assert _condition(outcome, "Stalled") is None
    assert isinstance(outcome.error, RetryableError)
    assert [e.type for e in outcome.events] == ["Warning"]


def _matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


async def _recovers_with_the_new_tag(bench: Bench) -> None:
    bench.proxy.heal()
    if not bench.registry.running:
        bench.registry.start()
    seed(bench.registry.url, REPO, [NEW_TAG])
    bench.clock.advance(5)
    outcome = await bench.reconcile()
    assert outcome.ready, outcome.document
    stored = bench.store.get_tags(bench.canonical)
    assert stored is not None and stored.tags == (NEW_TAG, *reversed(FIRST_TAGS))
    assert outcome.document["lastScanResult"]["tagCount"] == len(FIRST_TAGS) + 1


def _kill_mid_listing(bench: Bench) -> None:
    bench.proxy.inject(Fault(), Fault.cut_body(0.5, then=bench.registry.kill))


def _always(fault: Fault) -> Callable[[Bench], None]:
    return lambda bench: bench.proxy.always(fault)


def _link_to_itself(path: str, number: int) -> str:
    return path


def _link_between_two_pages(path: str, number: int) -> str:
    return TAGS_PATH if "last=" in path else f"{TAGS_PATH}?last=1.0.0&n={PAGE_SIZE}"


def _link_to_a_fresh_url_each_time(path: str, number: int) -> str:
    return f"{TAGS_PATH}?n={PAGE_SIZE}&page={number}"


ATTEMPTS = LIMITS.max_attempts
FAULTS = [
    pytest.param(
        _kill_mid_listing, r"cannot reach registry 127\.0\.0\.1:\d+", 1 + ATTEMPTS,
        id="registry-killed-mid-listing",
    ),
    pytest.param(
        _always(Fault.answer(500)), rf"kept failing with HTTP 500 after {ATTEMPTS} attempts",
        ATTEMPTS, id="http-500-every-time",
    ),
    pytest.param(
        _always(Fault.answer(429, [("Retry-After", "3600")])),
        r"rate limiting \(HTTP 429\); retry after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 3600s\)",
        1, id="429-retry-after-beyond-the-cap",
    ),
    pytest.param(
        _always(Fault.answer(429)), rf"kept rate limiting \(HTTP 429\) after {ATTEMPTS} attempts",
        ATTEMPTS, id="429-without-retry-after",
    ),
    pytest.param(
        _always(Fault.stall(30)),
        rf"timed out after {TIMEOUT_SECONDS}s: registry .* did not answer", 1,
        id="stall-past-spec-timeout",
    ),
    pytest.param(
        _always(Fault.trickle(0.2)),
        rf"timed out after {TIMEOUT_SECONDS}s: the registry did not finish answering in time", 1,
        id="body-trickling-past-spec-timeout",
    ),
    pytest.param(
        _always(Fault.cut_body(0.5)),
        r"cannot reach registry .*: peer closed connection without sending complete", ATTEMPTS,
        id="connection-dropped-mid-body",
    ),
    pytest.param(
        _always(Fault.replace_body(b'{"name": "team/app", "tags": ["1.0.0", "1.')),
        r"tag list of .*team/app is not JSON", 1, id="truncated-json",
    ),
    pytest.param(
        _always(Fault.replace_body(bytes(range(256)) * 4)), r"is not JSON", 1,
        id="binary-garbage-body",
    ),
    pytest.param(
        _always(Fault.replace_body(b'{"tags": {"1.0.0": true}}')),
        r"'tags' must be a list of strings", 1, id="json-of-the-wrong-shape",
    ),
    pytest.param(
        _always(Fault.raw(b"\x16\x03\x01\x00garbage, not HTTP\r\n\r\n")), r"sent invalid HTTP",
        1, id="not-http-at-all",
    ),
    pytest.param(
        _always(Fault.next_link(_link_to_itself)),
        r"pagination of .*team/app loops back to an already read page", 1,
        id="link-to-the-same-page",
    ),
    pytest.param(
        _always(Fault.next_link(_link_between_two_pages)),
        r"pagination of .*team/app loops back to an already read page", 2,
        id="link-cycle-of-two-pages",
    ),
    pytest.param(
        _always(Fault.next_link(_link_to_a_fresh_url_each_time)),
        r"pagination of .* keeps linking to pages with no new tags", 4,
        id="link-loop-through-fresh-urls",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("break_registry", "message", "max_requests"), FAULTS)
async def test_a_failed_scan_reports_why_keeps_the_last_good_tags_and_recovers(
    bench: Bench, break_registry: Callable[[Bench], None], message: str, max_requests: int
) -> None:
    good = await _good_scan(bench)
    kept = bench.store.get_tags(bench.canonical)
    break_registry(bench)
    started = time.monotonic()
    failed, requests = await _rescan_after_the_interval(bench)
    _assert_retrying_failure(failed, "ReadOperationFailed", message)
    assert requests <= max_requests
    assert time.monotonic() - started < TIMEOUT_SECONDS + 1.5
    assert bench.store.get_tags(bench.canonical) == kept
    assert failed.document["lastScanResult"] == good.document["lastScanResult"]
    await _recovers_with_the_new_tag(bench)


async def test_a_first_scan_that_fails_stores_nothing_and_the_retry_scans(bench: Bench) -> None:
    bench.proxy.always(Fault.answer(503))
    failed = await bench.reconcile()
    _assert_retrying_failure(failed, "ReadOperationFailed", r"HTTP 503 after \d attempts")
    assert bench.store.get_tags(bench.canonical) is None
    assert "lastScanResult" not in failed.document
    await _recovers_with_the_new_tag(bench)


async def test_transient_server_errors_are_retried_within_one_scan(bench: Bench) -> None:
    bench.proxy.inject(Fault.answer(500), Fault(), Fault.answer(502))
    outcome = await bench.reconcile()
    assert outcome.ready, outcome.document
    assert bench.proxy.tag_requests == 4, "two pages, each retried once"


async def test_pages_that_overlap_store_each_tag_once(bench: Bench) -> None:
    bench.proxy.inject(
        Fault.next_link(lambda path, number: f"{TAGS_PATH}?last=1.0.0&n={PAGE_SIZE}"),
        Fault.next_link(lambda path, number: None),
    )
    outcome = await bench.reconcile()
    assert outcome.ready, outcome.document
    stored = bench.store.get_tags(bench.canonical)
    assert stored is not None and stored.tags == tuple(reversed(FIRST_TAGS))


async def test_a_short_retry_after_is_waited_out_within_one_scan(bench: Bench) -> None:
    bench.proxy.inject(Fault.answer(429, [("Retry-After", "1")]))
    started = time.monotonic()
    outcome = await bench.reconcile()
    assert outcome.ready, outcome.document
    assert time.monotonic() - started >= 0.9
    assert bench.proxy.tag_requests == 3, "the refused page once more, then the second page"


async def test_a_long_retry_after_makes_the_next_attempt_wait_that_long(bench: Bench) -> None:
    await _good_scan(bench)
    bench.proxy.always(Fault.answer(429, [("Retry-After", "3600")]))
    failed, _ = await _rescan_after_the_interval(bench)
    assert isinstance(failed.error, RetryableError)
    assert failed.error.retry_after == 3600
    plan = plan_next_run(failed, interval=None, failures=0, timing=Timing(), rng=random.Random(7))
    assert plan.delay is not None and plan.delay >= 3600


def _many_tags() -> Iterator[str]:
    return (f"2.{minor}.{patch}" for minor in range(MANY_TAGS // 1000) for patch in range(1000))


@pytest.mark.slow
async def test_a_hundred_thousand_tags_are_listed_page_by_page_in_bounded_memory(
    registry: RegistryProcess, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    total = add_tags_in_storage(registry, REPO, FIRST_TAGS[0], _many_tags()) + len(FIRST_TAGS)
    async with _bench(registry, tmp_path / "state.db", MANY_TAGS_PAGE_SIZE) as bench:
        started = time.monotonic()
        outcome = await bench.reconcile()
        seconds = time.monotonic() - started
        pages = bench.proxy.tag_requests
        bench.clock.advance(61)
        tracemalloc.start()
        try:
            again = await bench.reconcile()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        stored = bench.store.get_tags(bench.canonical)
    measured = {"tags": total, "seconds": round(seconds, 2), "peak_mib": round(peak / 2**20, 1)}
    request.node.user_properties.extend(measured.items())
    print(f"listing {total} tags: {measured}")  # shown with -s; the numbers the report quotes
    assert outcome.ready and again.ready, outcome.document
    assert outcome.document["lastScanResult"]["tagCount"] == total
    assert stored is not None and len(stored.tags) == total
    assert pages == -(-total // MANY_TAGS_PAGE_SIZE)
    assert seconds < 60, f"listing {total} tags took {seconds:.1f}s"
    assert peak < 256 * 2**20, f"peak traced memory {peak / 2**20:.0f} MiB"
