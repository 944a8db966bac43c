"""The status page's pure view model: redaction, rows, quiet runs and the timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tagpilot.core.statusview import (
    automation_view,
    filter_rows,
    object_row,
    redact,
)
from tagpilot.core.tagtimeline import timeline

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Ev:
    """A recorded event (the store's shape)."""

    message: str
    time: datetime = T0
    type: str = "Normal"
    reason: str = "Succeeded"


@dataclass(frozen=True)
class Run:
    """A recorded push (the store's shape)."""

    time: datetime
    changes: tuple[dict[str, str], ...]
    commit: str | None = "abcdef0123456789"
    branch: str | None = "main"


@dataclass(frozen=True)
class Case:
    """One redaction case."""

    text: str
    shown: str
    secrets: tuple[str, ...] = field(default=())


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(Case("https://u:p@git.example/a.git", "https://***@git.example/a.git",
                          ("u:p",)), id="user-and-password"),
        pytest.param(Case("ssh://git@host/a.git", "ssh://***@host/a.git"), id="ssh-user"),
        pytest.param(Case("clone http://tok@h/x failed; retry http://tok@h/y",
                          "clone http://***@h/x failed; retry http://***@h/y", ("tok@",)),
                     id="every-url-in-a-message"),
        pytest.param(Case("POST /hook/" + "0f" * 32, "POST /hook/***", ("0f0f",)),
                     id="webhook-digest"),
        pytest.param(Case("https://git.example/a.git", "https://git.example/a.git"),
                     id="no-userinfo-unchanged"),
        pytest.param(Case("mail ops@example.com", "mail ops@example.com"),
                     id="an-address-is-not-a-url"),
    ],
)  # fmt: skip
def test_redaction_hides_credentials_in_urls_and_webhook_digests(case: Case) -> None:
    assert redact(case.text) == case.shown
    for secret in case.secrets:
        assert secret not in redact(case.text)


def _ready(status: str) -> dict[str, Any]:
    return {"conditions": [{"type": "Ready", "status": status, "reason": "R", "message": "m",
                            "lastTransitionTime": "2026-11-21T11:00:00Z"}]}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "status", "activity", "when"),
    [
        pytest.param("ImageRepository", {**_ready("True"), "lastScanResult": {"scanTime": "S"}},
                     "last scan", "S", id="repository-scan"),
        pytest.param("ImageUpdateAutomation", {**_ready("True"), "lastAutomationRunTime": "R"},
                     "last run", "R", id="automation-run"),
        pytest.param("ImagePolicy", _ready("False"), "last change", "2026-11-21T11:00:00Z",
                     id="policy-transition"),
        pytest.param("ImageRepository", _ready("True"), "last change", "2026-11-21T11:00:00Z",
                     id="never-scanned-falls-back"),
        pytest.param("Kustomization", {}, "last change", None, id="no-status-yet"),
    ],
)  # fmt: skip
def test_a_row_shows_each_kinds_own_last_activity(
    kind: str, status: dict[str, Any], activity: str, when: str | None
) -> None:
    row = object_row(kind, "apps", "x", status, suspended=False)
    assert (row.activity, row.last_time) == (activity, when)


def test_filters_keep_one_namespace_and_only_what_is_not_ready() -> None:
    rows = [
        object_row("ImagePolicy", ns, name, _ready(state) if state else {}, suspended=False)
        for ns, name, state in [("a", "ok", "True"), ("a", "bad", "False"), ("b", "new", "")]
    ]
    names = [r.name for r in filter_rows(rows, namespace=None, not_ready=True)]
    assert names == ["bad", "new"]
    assert [r.name for r in filter_rows(rows, namespace="a", not_ready=False)] == ["ok", "bad"]


@pytest.mark.parametrize(
    ("status", "quiet"),
    [
        pytest.param({}, "no run yet", id="never-ran"),
        pytest.param({"lastAutomationRunTime": "2026-01-01T00:05:00Z",
                      "lastPushTime": "2026-01-01T00:05:00Z"},
                     "the last run (2026-01-01T00:05:00Z) pushed a commit", id="last-run-pushed"),
        pytest.param({"lastAutomationRunTime": "2026-01-01T00:09:00Z",
                      "lastPushTime": "2026-01-01T00:05:00Z"},
                     "runs since the last push (2026-01-01T00:05:00Z) made no change; "
                     "the last one at 2026-01-01T00:09:00Z", id="quiet-since-a-push"),
        pytest.param({"lastAutomationRunTime": "2026-01-01T00:09:00Z"},
                     "runs so far made no change; the last one at 2026-01-01T00:09:00Z",
                     id="never-pushed"),
    ],
)  # fmt: skip
def test_runs_that_changed_nothing_are_summarised(status: dict[str, Any], quiet: str) -> None:
    row = object_row("ImageUpdateAutomation", "a", "x", status, suspended=False)
    assert automation_view(row, status, [], []).quiet == quiet


def test_a_push_takes_its_message_from_the_event_naming_its_short_sha() -> None:
    row = object_row("ImageUpdateAutomation", "a", "x", {}, suspended=False)
    events = [Ev("pushed commit 'abcdef0' to branch 'main'\nbump https://u:p@h/x to 1.2")]
    [push] = automation_view(row, {}, [Run(T0, ())], events).pushes
    assert push.message == "bump https://***@h/x to 1.2"


def test_the_timeline_pairs_the_first_pick_of_a_tag_with_its_first_commit() -> None:
    img = "ghcr.io/acme/app"
    events = [
        Ev(f"Latest image tag for {img} resolved to 1.1.0", T0 + timedelta(minutes=9)),
        Ev(f"Latest image tag for {img} resolved to 1.1.0", T0),
        Ev(f"Latest image tag for {img} resolved to 1.2.0 (previously {img}:1.1.0)",
           T0 + timedelta(hours=1)),
        Ev("successful scan: found 3 tags"),
    ]  # fmt: skip
    runs = [
        Run(T0 + timedelta(seconds=30), ({"new": f"{img}:1.1.0"},)),
        Run(T0 + timedelta(minutes=5), ({"new": f"{img}:1.1.0@sha256:00"},)),
    ]
    entries = [(e.tag, e.seen, e.committed, e.latency_seconds) for e in timeline(events, runs)]
    assert entries == [
        ("1.1.0", "2026-11-21T12:00:00Z", "2026-11-21T12:00:30Z", 30.0),
        ("1.2.0", "2026-11-21T13:00:00Z", None, None),
    ]
