"""Change-set lines, Flux's condition and event texts, and status.history behave like Flux's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tagpilot.core.kustomize.changeset import (
    HISTORY_LIMIT,
    Action,
    ChangeSet,
    ChangeSetEntry,
    Snapshot,
    applied_message,
    apply_failed_message,
    build_digest,
    dependency_not_ready_message,
    go_duration,
    health_failed_message,
    health_passed_message,
    progress_message,
    reconciliation_finished_message,
    upsert_history,
)
from tagpilot.core.kustomize.inventory import InventoryEntry, ObjMetadata

NS = ObjMetadata("", "apps", "", "Namespace")
DEPLOY = ObjMetadata("apps", "web", "apps", "Deployment")
CM = ObjMetadata("apps", "cfg", "", "ConfigMap")
SKIPPED = ObjMetadata("apps", "manual", "", "Secret")

CHANGES = ChangeSet(
    (
        ChangeSetEntry(NS, "v1", Action.CREATED),
        ChangeSetEntry(CM, "v1", Action.UNCHANGED),
        ChangeSetEntry(DEPLOY, "v1", Action.CONFIGURED),
        ChangeSetEntry(SKIPPED, "v1", Action.SKIPPED),
    )
)


def test_lines_name_kind_namespace_name_and_action() -> None:
    assert CHANGES.lines() == [
        "Namespace/apps created",
        "ConfigMap/apps/cfg unchanged",
        "Deployment/apps/web configured",
        "Secret/apps/manual skipped",
    ]


def test_the_apply_event_lists_only_created_and_configured() -> None:
    assert CHANGES.apply_event() == "Namespace/apps created\nDeployment/apps/web configured"
    assert ChangeSet((ChangeSetEntry(CM, "v1", Action.UNCHANGED),)).apply_event() == ""


def test_the_new_inventory_keeps_unchanged_and_skipped_entries() -> None:
    assert CHANGES.inventory() == [
        InventoryEntry("_apps__Namespace", "v1"),
        InventoryEntry("apps_cfg__ConfigMap", "v1"),
        InventoryEntry("apps_web_apps_Deployment", "v1"),
        InventoryEntry("apps_manual__Secret", "v1"),
    ]


def test_wait_checks_every_entry_but_skipped_ones() -> None:
    assert [e.subject for e in CHANGES.health_targets()] == [
        "Namespace/apps",
        "ConfigMap/apps/cfg",
        "Deployment/apps/web",
    ]


def test_an_apply_failure_reports_the_lines_applied_so_far() -> None:
    applied = ChangeSet((ChangeSetEntry(NS, "v1", Action.CREATED),))
    assert apply_failed_message("Deployment/apps/web dry-run failed: boom", applied) == (
        "Deployment/apps/web dry-run failed: boom\nNamespace/apps created"
    )
    assert apply_failed_message("boom", ChangeSet()) == "boom"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(timedelta(milliseconds=176, microseconds=163), "176.163ms", id="milliseconds"),
        pytest.param(timedelta(minutes=10), "10m0s", id="minutes"),
        pytest.param(timedelta(minutes=5, seconds=30), "5m30s", id="minutes-seconds"),
        pytest.param(timedelta(seconds=1, milliseconds=500), "1.5s", id="fractional-seconds"),
        pytest.param(timedelta(0), "0s", id="zero"),
    ],
)
def test_durations_print_like_go(value: timedelta, text: str) -> None:
    assert go_duration(value) == text


REV = "develop@sha1:0123abcd"


@pytest.mark.parametrize(
    ("message", "text"),
    [
        pytest.param(applied_message(REV), f"Applied revision: {REV}", id="applied"),
        pytest.param(
            progress_message("fetch", REV, timedelta(minutes=5)),
            f"Fetching manifests for revision {REV} with a timeout of 5m0s",
            id="fetching",
        ),
        pytest.param(
            progress_message("build", REV, timedelta(minutes=5)),
            f"Building manifests for revision {REV} with a timeout of 5m0s",
            id="building",
        ),
        pytest.param(
            progress_message("drift", REV, timedelta(minutes=5)),
            f"Detecting drift for revision {REV} with a timeout of 5m0s",
            id="drift",
        ),
        pytest.param(
            progress_message("health", REV, timedelta(minutes=5)),
            f"Running health checks for revision {REV} with a timeout of 5m0s",
            id="health",
        ),
        pytest.param(
            health_passed_message(timedelta(seconds=2)),
            "Health check passed in 2s",
            id="health-passed",
        ),
        pytest.param(
            dependency_not_ready_message(),
            "Dependencies do not meet ready condition, retrying in 30s",
            id="dependency",
        ),
        pytest.param(
            reconciliation_finished_message(timedelta(milliseconds=250), timedelta(minutes=10)),
            "Reconciliation finished in 250ms, next run in 10m0s",
            id="finished",
        ),
    ],
)
def test_condition_and_event_texts(message: str, text: str) -> None:
    assert message == text


def test_health_failure_after_timeout_lists_the_pending_objects() -> None:
    message = health_failed_message(
        [("Deployment/apps/web", "InProgress"), ("Job/apps/migrate", "InProgress")],
        elapsed=timedelta(minutes=5),
        stalled=False,
    )
    assert message == (
        "health check failed after 5m0s: timeout waiting for: "
        "[Deployment/apps/web status: 'InProgress', Job/apps/migrate status: 'InProgress']"
    )


def test_health_failure_fails_fast_on_stalled_objects() -> None:
    message = health_failed_message(
        [("Deployment/apps/web", "Failed")], elapsed=timedelta(seconds=5), stalled=True
    )
    assert (
        message == "health check failed after 5s: failed early due to stalled resources: "
        "[Deployment/apps/web status: 'Failed']"
    )


def test_the_digest_is_sha256_of_the_manifests() -> None:
    assert (
        build_digest("")
        == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def record(
    history: list[Snapshot], digest: str, minute: int, status: str = "ReconciliationSucceeded"
) -> list[Snapshot]:
    return upsert_history(
        history,
        digest=digest,
        at=T0 + timedelta(minutes=minute),
        duration=timedelta(seconds=1),
        status=status,
        metadata={"revision": f"rev-{minute}"},
    )


def test_the_same_build_and_outcome_bumps_one_snapshot() -> None:
    history = record(record([], "sha256:a", 0), "sha256:a", 10)
    assert len(history) == 1
    snap = history[0]
    assert (snap.total_reconciliations, snap.first_reconciled, snap.last_reconciled) == (
        2,
        T0,
        T0 + timedelta(minutes=10),
    )
    assert snap.metadata == {"revision": "rev-10"}


def test_a_different_outcome_of_the_same_build_is_a_new_snapshot_first() -> None:
    history = record(record([], "sha256:a", 0), "sha256:a", 1, status="HealthCheckFailed")
    assert [s.last_reconciled_status for s in history] == [
        "HealthCheckFailed",
        "ReconciliationSucceeded",
    ]


def test_a_bumped_snapshot_moves_to_the_front() -> None:
    history = record(record(record([], "sha256:a", 0), "sha256:b", 1), "sha256:a", 2)
    assert [s.digest for s in history] == ["sha256:a", "sha256:b"]


def test_history_keeps_the_newest_five() -> None:
    history: list[Snapshot] = []
    for minute in range(7):
        history = record(history, f"sha256:{minute}", minute)
    assert len(history) == HISTORY_LIMIT
    assert [s.digest for s in history] == [f"sha256:{m}" for m in (6, 5, 4, 3, 2)]


def test_a_snapshot_is_written_in_status_form() -> None:
    (snap,) = record([], "sha256:a", 0)
    assert snap.to_json() == {
        "digest": "sha256:a",
        "firstReconciled": "2026-12-02T10:00:00Z",
        "lastReconciled": "2026-12-02T10:00:00Z",
        "lastReconciledDuration": "1s",
        "lastReconciledStatus": "ReconciliationSucceeded",
        "totalReconciliations": 1,
        "metadata": {"revision": "rev-0"},
    }


def test_a_stored_history_entry_reads_back_whole() -> None:
    snapshot = Snapshot(
        digest="sha256:ab",
        first_reconciled=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        last_reconciled=datetime(2026, 12, 2, 11, 30, tzinfo=UTC),
        last_reconciled_duration=timedelta(milliseconds=176, microseconds=163),
        last_reconciled_status="ReconciliationSucceeded",
        total_reconciliations=7,
        metadata={"revision": "main@sha1:1234"},
    )
    assert Snapshot.from_json(snapshot.to_json()) == snapshot
