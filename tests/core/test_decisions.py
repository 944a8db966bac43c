"""should_scan: Flux's triggers in Flux's order, each with its reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tagpilot.core.decisions import ScanObservation, ScanRequest, is_stale, should_scan

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
REQUEST = ScanRequest(
    canonical_name="registry.example.com/games/blaster",
    exclusions=["^.*\\.sig$"],
    interval=timedelta(minutes=1),
    generation=2,
)
SEEN = ScanObservation(
    last_scan_time=NOW - timedelta(seconds=20),
    canonical_name="registry.example.com/games/blaster",
    exclusions=["^.*\\.sig$"],
    observed_generation=2,
    has_tags=True,
)


@pytest.mark.parametrize(
    ("request_", "seen", "scan", "reason"),
    [
        pytest.param(REQUEST, ScanObservation(), True, "first scan", id="never-scanned"),
        pytest.param(
            replace(REQUEST, requested_at="2026-11-21T11:59:00Z"),
            SEEN,
            True,
            "reconcile requested",
            id="annotation-is-new",
        ),
        pytest.param(
            replace(REQUEST, requested_at="x"),
            replace(SEEN, last_handled_reconcile_at="x"),
            False,
            "no change in repository configuration since last scan",
            id="annotation-already-handled",
        ),
        pytest.param(
            replace(REQUEST, canonical_name="index.docker.io/library/alpine"),
            SEEN,
            True,
            "new image name",
            id="image-changed",
        ),
        pytest.param(
            replace(REQUEST, exclusions=["^.*\\.sig$", "^latest$"]),
            SEEN,
            True,
            "updated exclusion list",
            id="exclusions-changed",
        ),
        pytest.param(
            replace(REQUEST, exclusions=["b", "a"]),
            replace(SEEN, exclusions=["a", "b"]),
            False,
            "no change in repository configuration since last scan",
            id="exclusions-compared-as-a-set",
        ),
        pytest.param(
            REQUEST, replace(SEEN, has_tags=False), True, "no tags in database", id="store-empty"
        ),
        pytest.param(
            replace(REQUEST, generation=3), SEEN, True, "spec changed", id="new-generation"
        ),
        pytest.param(
            REQUEST,
            replace(SEEN, last_scan_time=NOW - timedelta(seconds=59, milliseconds=500)),
            True,
            "triggered by interval",
            id="less-than-a-second-left",
        ),
        pytest.param(
            REQUEST,
            SEEN,
            False,
            "no change in repository configuration since last scan",
            id="not-due-yet",
        ),
        pytest.param(
            REQUEST,
            replace(SEEN, last_failed=True),
            True,
            "retrying after a failed scan",
            id="retry-after-failure",
        ),
        pytest.param(
            replace(REQUEST, fresh_since=NOW - timedelta(seconds=5)),
            SEEN,
            True,
            "the stored scan predates this run",
            id="scan-from-before-the-process-started",
        ),
        pytest.param(
            replace(REQUEST, fresh_since=NOW - timedelta(seconds=30)),
            SEEN,
            False,
            "no change in repository configuration since last scan",
            id="scan-made-by-this-process-follows-the-interval",
        ),
        pytest.param(
            replace(REQUEST, fresh_since=NOW - timedelta(seconds=20, milliseconds=-700)),
            SEEN,
            False,
            "no change in repository configuration since last scan",
            id="scan-in-the-first-second-of-the-process-counts-as-fresh",
        ),
        pytest.param(
            replace(REQUEST, fresh_since=NOW, generation=3),
            SEEN,
            True,
            "spec changed",
            id="a-named-trigger-wins-over-staleness",
        ),
    ],
)
def test_should_scan_names_the_trigger(
    request_: ScanRequest, seen: ScanObservation, scan: bool, reason: str
) -> None:
    decision = should_scan(request_, seen, NOW)
    assert (decision.scan, decision.reason) == (scan, reason)


def test_a_repository_not_due_is_requeued_for_the_rest_of_its_interval() -> None:
    decision = should_scan(REQUEST, SEEN, NOW)
    assert decision.requeue_after == timedelta(seconds=40)


@pytest.mark.parametrize(
    ("last_scan", "fresh_since", "stale"),
    [
        pytest.param(NOW - timedelta(minutes=5), NOW, True, id="scanned-before-the-start"),
        pytest.param(NOW + timedelta(seconds=1), NOW, False, id="scanned-after-the-start"),
        pytest.param(NOW, NOW + timedelta(milliseconds=900), False, id="same-second"),
        pytest.param(NOW - timedelta(days=9), None, False, id="stored-scans-trusted"),
    ],
)
def test_is_stale_compares_whole_seconds_with_the_start(
    last_scan: datetime, fresh_since: datetime | None, stale: bool
) -> None:
    assert is_stale(last_scan, fresh_since) is stale
