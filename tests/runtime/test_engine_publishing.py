"""What the engine hands a cluster's ports: progress, final statuses and events.

The ports are recorded in memory here (a pure unit of the engine); the adapters behind them
are tested against a real API server in ``tests/kube``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.reconcile.reconcile_support import FakeClock

from tagpilot.adapters.manifests import Manifests
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.loader import load_text
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.runtime.engine import Engine

POLICY = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: app, namespace: apps, generation: 3}
spec:
  imageRepositoryRef: {name: missing}
  policy: {semver: {range: ">=1.0.0"}}
"""
KEY = ObjectKey("ImagePolicy", "apps", "app")


class Recorded:
    """Both cluster ports, writing down what they were given."""

    def __init__(self) -> None:
        self.statuses: list[dict[str, Any]] = []
        self.events: list[tuple[str, str]] = []

    async def write_status(self, key: ObjectKey, status: Mapping[str, Any]) -> None:
        assert key == KEY
        self.statuses.append(dict(status))

    async def record(self, key: ObjectKey, event_type: str, reason: str, message: str) -> None:
        self.events.append((event_type, reason))


def _engine(recorded: Recorded, *, api_generations: bool = True, dry_run: bool = False) -> Engine:
    ctx = ReconcileContext(
        clock=FakeClock(datetime(2026, 12, 2, tzinfo=UTC)),
        store=SqliteStore(":memory:"),
        registry=None,  # type: ignore[arg-type]  # a policy never calls the registry
    )
    manifests = Manifests(objects=load_text(POLICY, file="policy.yaml").objects)
    return Engine(
        ctx, manifests, status_writer=recorded, event_recorder=recorded,
        api_generations=api_generations, dry_run=dry_run,
    )  # fmt: skip


def _conditions(status: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


async def test_a_new_generation_is_announced_as_progressing_then_finished() -> None:
    recorded = Recorded()
    await _engine(recorded).reconcile(KEY)
    progress, final = recorded.statuses
    assert _conditions(progress) == {
        "Reconciling": ("True", "Progressing"),
        "Ready": ("Unknown", "Progressing"),
    }
    assert progress["conditions"][0]["message"] == "processing object: new generation 0 -> 3"
    assert _conditions(final)["Ready"] == ("False", "DependencyNotReady")
    assert final["observedGeneration"] == 3


async def test_a_routine_run_of_an_observed_generation_writes_only_its_result() -> None:
    recorded = Recorded()
    engine = _engine(recorded)
    await engine.reconcile(KEY)
    recorded.statuses.clear()
    await engine.reconcile(KEY)
    assert [_conditions(s)["Ready"][0] for s in recorded.statuses] == ["False"]


async def test_a_reconcile_request_is_progress_and_is_recorded_as_handled() -> None:
    recorded = Recorded()
    engine = _engine(recorded)
    await engine.reconcile(KEY)
    recorded.statuses.clear()
    await engine.reconcile(KEY, requested_at="2026-12-02T15:00:00Z")
    progress, final = recorded.statuses
    assert progress["conditions"][0]["message"] == "reconciliation in progress"
    assert final["lastHandledReconcileAt"] == "2026-12-02T15:00:00Z"


async def test_warnings_are_published_as_events() -> None:
    recorded = Recorded()
    await _engine(recorded).reconcile(KEY)
    assert recorded.events == [("Warning", "DependencyNotReady")]


@pytest.mark.parametrize(
    ("api_generations", "expected"),
    [pytest.param(True, 3, id="in-a-cluster-the-api-server-counts"),
     pytest.param(False, 1, id="from-files-the-store-counts-spec-changes")],
)  # fmt: skip
async def test_whose_generation_counts(api_generations: bool, expected: int) -> None:
    recorded = Recorded()
    await _engine(recorded, api_generations=api_generations).reconcile(KEY)
    assert recorded.statuses[-1]["observedGeneration"] == expected


async def test_a_dry_run_publishes_nothing() -> None:
    recorded = Recorded()
    await _engine(recorded, dry_run=True).reconcile(KEY)
    assert (recorded.statuses, recorded.events) == ([], [])


GIT_REPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app-repo, namespace: apps}
spec: {url: "https://git.example.com/app.git", interval: 1m}
"""


async def test_without_a_git_source_port_a_git_repository_is_only_read() -> None:
    """The cluster controller has no git source port yet: source-controller's objects keep
    the status it writes, and nothing of ours is published or stored for them."""
    recorded = Recorded()
    ctx = ReconcileContext(
        clock=FakeClock(datetime(2026, 12, 2, tzinfo=UTC)),
        store=SqliteStore(":memory:"),
        registry=None,  # type: ignore[arg-type]  # nothing here calls the registry
    )
    manifests = Manifests(objects=load_text(GIT_REPOSITORY, file="git.yaml").objects)
    engine = Engine(ctx, manifests, status_writer=recorded, event_recorder=recorded)
    key = ObjectKey("GitRepository", "apps", "app-repo")

    outcome = await engine.reconcile(key)

    assert "GitRepository" not in engine.kinds
    assert (engine.keys(), engine.shown_keys()) == ([], [key])
    assert outcome.suspended
    assert (recorded.statuses, recorded.events, ctx.store.get_status(key)) == ([], [], None)
