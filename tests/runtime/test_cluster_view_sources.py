"""The controller's view of a source another controller reconciles (Flux's source-controller
beside ``tagpilot controller --controllers kustomize``).

The GitRepository's status has another writer: the view takes it at every new resource
version, leading or not, and a new artifact revision names the Kustomizations built from it.
The watch caches are plain mappings here; the whole loop runs against a real API server in
``tests/kube/test_kustomization_dropin.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.reconcile.reconcile_support import FakeClock

from tagpilot.adapters.manifests import Manifests
from tagpilot.adapters.store import SqliteStore
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.runtime.cluster_sync import ClusterView
from tagpilot.runtime.engine import Engine

SOURCE = ObjectKey("GitRepository", "apps", "app")
DEPLOY = ObjectKey("Kustomization", "apps", "app")


class Cache:
    """A watch's cache: objects by (namespace, name)."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.cache = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}


def _source(version: str, revision: str | None, message: str = "stored") -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": [{
        "type": "Ready", "status": "True", "reason": "Succeeded", "message": message,
        "lastTransitionTime": "2026-12-02T00:00:00Z",
    }]}  # fmt: skip
    if revision is not None:
        status["artifact"] = {
            "url": f"http://source/{revision}.tar.gz", "revision": revision, "path": "x",
            "digest": "sha256:" + "a" * 64, "lastUpdateTime": "2026-12-02T00:00:00Z",
        }  # fmt: skip
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "app", "namespace": "apps", "resourceVersion": version,
                     "generation": 1},
        "spec": {"url": "https://git.example/app.git", "interval": "1m"},
        "status": status,
    }  # fmt: skip


KUSTOMIZATION = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
    "metadata": {"name": "app", "namespace": "apps", "resourceVersion": "1", "generation": 1},
    "spec": {"interval": "1h", "path": "./", "prune": True,
             "sourceRef": {"kind": "GitRepository", "name": "app"}},
}  # fmt: skip


def _view(*, leading: bool) -> tuple[ClusterView, Cache, Engine]:
    ctx = ReconcileContext(
        clock=FakeClock(datetime(2026, 12, 2, tzinfo=UTC)),
        store=SqliteStore(":memory:"),
        registry=None,  # type: ignore[arg-type]
    )
    engine = Engine(ctx, Manifests(), api_generations=True, reconciled=frozenset({DEPLOY.kind}))
    sources = Cache(_source("1", None))
    watches = {SOURCE.kind: sources, DEPLOY.kind: Cache(KUSTOMIZATION)}
    view = ClusterView(engine, watches, None)
    view.sync()
    if leading:
        view.take_lead()
    return view, sources, engine


@pytest.mark.parametrize("leading", [True, False], ids=["leading", "standing by"])
def test_the_status_another_controller_writes_is_taken_at_every_version(leading: bool) -> None:
    view, sources, engine = _view(leading=leading)
    sources.cache[("apps", "app")] = _source("2", "main@sha1:1")
    view.sync()
    stored = engine.ctx.store.get_status(SOURCE)
    assert stored is not None and stored["artifact"]["revision"] == "main@sha1:1"
    sources.cache[("apps", "app")] = _source("3", "main@sha1:2")
    view.sync()
    stored = engine.ctx.store.get_status(SOURCE)
    assert stored is not None and stored["artifact"]["revision"] == "main@sha1:2"


@pytest.mark.parametrize(
    ("revision", "message", "triggered"),
    [
        pytest.param("main@sha1:1", "stored", [], id="the same revision runs nothing"),
        pytest.param("main@sha1:1", "fetched again", [], id="a condition change runs nothing"),
        pytest.param("main@sha1:2", "stored", [DEPLOY], id="a new revision runs its builders"),
    ],
)
def test_a_new_artifact_revision_runs_the_kustomizations_built_from_it(
    revision: str, message: str, triggered: list[ObjectKey]
) -> None:
    view, sources, _ = _view(leading=True)
    sources.cache[("apps", "app")] = _source("2", "main@sha1:1")
    assert [key for key, _ in view.sync().triggered] == [DEPLOY], "the first artifact runs it"
    sources.cache[("apps", "app")] = _source("3", revision, message)
    assert [key for key, _ in view.sync().triggered] == triggered


def test_a_source_recreated_without_a_status_leaves_no_old_artifact_behind() -> None:
    view, sources, engine = _view(leading=True)
    sources.cache[("apps", "app")] = _source("2", "main@sha1:1")
    view.sync()
    recreated = _source("9", None)
    recreated["status"] = {}
    sources.cache[("apps", "app")] = recreated
    view.sync()
    assert not engine.ctx.store.get_status(SOURCE)
