"""Pure scheduling decisions, each returned with the reason that is logged and shown.

``should_scan`` mirrors image-reflector-controller's ``shouldScan``: the same triggers, in
the same order, with the same reason strings, plus two of ours — a spec change (new
generation) rescans at once instead of waiting for the interval, and a retry after a failed
scan scans again instead of reporting the last good tags as if the scan had worked.

And one rule Flux has no need for: a stored scan from before this process started is not
trusted (``ScanRequest.fresh_since``).  A controller's tags live as long as it runs; ours
outlive the process, so a one-shot run (``reconcile --once``) or a restarted daemon would
otherwise act on tags scanned minutes or days ago and miss the tag CI just pushed.  Cron
users who want interval semantics across runs turn it off (``--respect-intervals``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "ScanDecision",
    "ScanObservation",
    "ScanRequest",
    "is_stale",
    "should_scan",
]

REASON_FIRST_SCAN = "first scan"
REASON_RECONCILE_REQUESTED = "reconcile requested"
REASON_NEW_IMAGE = "new image name"
REASON_EXCLUSIONS = "updated exclusion list"
REASON_NO_TAGS = "no tags in database"
REASON_SPEC_CHANGED = "spec changed"
REASON_RETRY = "retrying after a failed scan"
REASON_INTERVAL = "triggered by interval"
REASON_NOT_DUE = "no change in repository configuration since last scan"
REASON_STALE = "the stored scan predates this run"

# Flux rescans when less than a second of the interval is left, so a requeue that fires a
# little early still scans instead of scheduling a sub-second wait.
_EARLY_SLACK = timedelta(seconds=1)


@dataclass(frozen=True)
class ScanRequest:
    """What the ImageRepository asks for now."""

    canonical_name: str
    exclusions: Sequence[str]
    interval: timedelta
    generation: int
    requested_at: str | None = None
    fresh_since: datetime | None = None
    """Scans older than this (the process start) are stale; None trusts any stored scan."""


@dataclass(frozen=True)
class ScanObservation:
    """What was true at the last scan (from status and the tag store)."""

    last_scan_time: datetime | None = None
    canonical_name: str | None = None
    exclusions: Sequence[str] | None = None
    observed_generation: int | None = None
    last_handled_reconcile_at: str | None = None
    has_tags: bool = False
    last_failed: bool = False
    """The last reconcile ended with Ready False: a retry must scan, not report old tags."""


@dataclass(frozen=True)
class ScanDecision:
    """Whether to scan now, why, and when to look again if not."""

    scan: bool
    reason: str
    requeue_after: timedelta


def should_scan(request: ScanRequest, seen: ScanObservation, now: datetime) -> ScanDecision:
    """Decide whether an ImageRepository scans now (Flux's order of checks)."""
    if seen.last_scan_time is None:
        return ScanDecision(True, REASON_FIRST_SCAN, request.interval)
    for reason, triggered in _immediate_triggers(request, seen):
        if triggered:
            return ScanDecision(True, reason, request.interval)
    if is_stale(seen.last_scan_time, request.fresh_since):
        return ScanDecision(True, REASON_STALE, request.interval)
    remaining = request.interval - (now - seen.last_scan_time)
    if remaining < _EARLY_SLACK:
        return ScanDecision(True, REASON_INTERVAL, request.interval)
    return ScanDecision(False, REASON_NOT_DUE, remaining)


def _immediate_triggers(request: ScanRequest, seen: ScanObservation) -> list[tuple[str, bool]]:
    requested = request.requested_at is not None and (
        request.requested_at != seen.last_handled_reconcile_at
    )
    exclusions_changed = set(request.exclusions) != set(seen.exclusions or ())
    return [
        (REASON_RECONCILE_REQUESTED, requested),
        (REASON_NEW_IMAGE, request.canonical_name != seen.canonical_name),
        (REASON_EXCLUSIONS, exclusions_changed),
        (REASON_NO_TAGS, not seen.has_tags),
        (REASON_SPEC_CHANGED, request.generation != seen.observed_generation),
        (REASON_RETRY, seen.last_failed),
    ]


def is_stale(last_scan: datetime, fresh_since: datetime | None) -> bool:
    """Whether a scan made at ``last_scan`` predates ``fresh_since`` (None: nothing is stale).

    The update reconciler asks it too: it does not write tags from a stale scan.
    """
    # Scan times are stored with whole seconds: a scan made in the process's first second
    # reads back as earlier than the start, so compare whole seconds too.
    return fresh_since is not None and last_scan < fresh_since.replace(microsecond=0)
