"""Errors become Flux conditions in one place: Stalled waits, Retryable retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tagpilot.core.errors import RetryableError, StalledError
from tagpilot.reconcile.outcome import failure, success

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _by_type(status: dict[str, object]) -> dict[str, dict[str, object]]:
    conditions = status["conditions"]
    assert isinstance(conditions, list)
    return {c["type"]: c for c in conditions}


def test_a_stalled_error_sets_ready_false_and_stalled_true_with_its_reason() -> None:
    error = StalledError("invalid policy: bad range", reason="InvalidPolicy")
    status = failure(None, {}, error, generation=3, now=T0)
    conditions = _by_type(status)
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "InvalidPolicy"
    assert conditions["Stalled"]["status"] == "True"
    assert "Reconciling" not in conditions
    assert status["observedGeneration"] == 3


def test_a_retryable_error_sets_reconciling_with_progressing_with_retry() -> None:
    error = RetryableError("scan failed: timeout", reason="ReadOperationFailed")
    conditions = _by_type(failure(None, {}, error, generation=1, now=T0))
    assert conditions["Ready"]["reason"] == "ReadOperationFailed"
    assert conditions["Reconciling"]["reason"] == "ProgressingWithRetry"
    assert "Stalled" not in conditions


def test_success_clears_failure_conditions_and_keeps_status_fields() -> None:
    failed = failure(None, {"canonicalImageName": "x"}, RetryableError("e"), generation=1, now=T0)
    status = success(
        failed,
        {"lastScanResult": {"tagCount": 2}},
        generation=1,
        reason="Succeeded",
        message="ok",
        now=T0,
    )
    assert list(_by_type(status)) == ["Ready"]
    assert status["canonicalImageName"] == "x"
    assert status["lastScanResult"] == {"tagCount": 2}


def test_transition_time_moves_only_when_the_condition_status_changes() -> None:
    first = success(None, {}, generation=1, reason="Succeeded", message="a", now=T0)
    later = T0 + timedelta(minutes=5)
    again = success(first, {}, generation=1, reason="Succeeded", message="b", now=later)
    assert _by_type(again)["Ready"]["lastTransitionTime"] == "2026-11-21T12:00:00Z"
    failed = failure(again, {}, RetryableError("e"), generation=1, now=later)
    assert _by_type(failed)["Ready"]["lastTransitionTime"] == "2026-11-21T12:05:00Z"
