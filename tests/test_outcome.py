"""Errors become Flux conditions in one place: Stalled waits, Retryable retries.

Statuses are the kinds' typed ``*Status`` models; their JSON form is Flux's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tagpilot.api.image import ImageRepositoryStatus, ScanResult
from tagpilot.api.meta import Condition
from tagpilot.core.errors import RetryableError, StalledError
from tagpilot.reconcile.outcome import failure, status_document, success

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
EMPTY = ImageRepositoryStatus()


def _by_type(status: ImageRepositoryStatus) -> dict[str, Condition]:
    return {c.type: c for c in status.conditions or ()}


def test_a_stalled_error_sets_ready_false_and_stalled_true_with_its_reason() -> None:
    error = StalledError("invalid policy: bad range", reason="InvalidPolicy")
    status = failure(None, EMPTY, error, generation=3, now=T0)
    conditions = _by_type(status)
    assert conditions["Ready"].status == "False"
    assert conditions["Ready"].reason == "InvalidPolicy"
    assert conditions["Stalled"].status == "True"
    assert "Reconciling" not in conditions
    assert status.observed_generation == 3


def test_a_retryable_error_sets_reconciling_with_progressing_with_retry() -> None:
    error = RetryableError("scan failed: timeout", reason="ReadOperationFailed")
    conditions = _by_type(failure(None, EMPTY, error, generation=1, now=T0))
    assert conditions["Ready"].reason == "ReadOperationFailed"
    assert conditions["Reconciling"].reason == "ProgressingWithRetry"
    assert "Stalled" not in conditions


def test_success_clears_failure_conditions_and_keeps_status_fields() -> None:
    observed = ImageRepositoryStatus(canonical_image_name="x")
    failed = failure(None, observed, RetryableError("e"), generation=1, now=T0)
    scanned = ImageRepositoryStatus(last_scan_result=ScanResult(tag_count=2))
    status = success(failed, scanned, generation=1, reason="Succeeded", message="ok", now=T0)
    assert list(_by_type(status)) == ["Ready"]
    assert status.canonical_image_name == "x"
    assert status.last_scan_result == ScanResult(tag_count=2)


def test_transition_time_moves_only_when_the_condition_status_changes() -> None:
    first = success(None, EMPTY, generation=1, reason="Succeeded", message="a", now=T0)
    later = T0 + timedelta(minutes=5)
    again = success(first, EMPTY, generation=1, reason="Succeeded", message="b", now=later)
    assert _by_type(again)["Ready"].last_transition_time == "2026-11-21T12:00:00Z"
    failed = failure(again, EMPTY, RetryableError("e"), generation=1, now=later)
    assert _by_type(failed)["Ready"].last_transition_time == "2026-11-21T12:05:00Z"


def test_the_status_document_uses_fluxs_field_names_and_leaves_out_unset_fields() -> None:
    scanned = ImageRepositoryStatus(
        canonical_image_name="registry.example/games/blaster",
        last_scan_result=ScanResult(revision="sha256:ab", tag_count=2, scan_time="t"),
    )
    status = success(None, scanned, generation=2, reason="Succeeded", message="ok", now=T0)
    assert status_document(status) == {
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "observedGeneration": 2,
                "lastTransitionTime": "2026-11-21T12:00:00Z",
                "reason": "Succeeded",
                "message": "ok",
            }
        ],
        "observedGeneration": 2,
        "canonicalImageName": "registry.example/games/blaster",
        "lastScanResult": {"revision": "sha256:ab", "tagCount": 2, "scanTime": "t"},
    }
