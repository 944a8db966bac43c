"""How the controller's view turns watch caches into the engine's objects.

The watch caches are plain mappings here (what an informer holds); the informer itself and
the controller around this view are tested against a real API server in ``tests/kube``.
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
from tagpilot.runtime.cluster_sync import REQUESTED_AT, ClusterView
from tagpilot.runtime.engine import Engine

KEY = ObjectKey("ImageRepository", "apps", "app")


class Cache:
    """A watch's cache: objects by (namespace, name)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], dict[str, Any]] = {}

    def put(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.cache[(meta["namespace"], meta["name"])] = obj


def _repository(
    version: str,
    *,
    generation: int = 1,
    image: str = "registry.example/app",
    status: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImageRepository",
        "metadata": {
            "name": "app", "namespace": "apps", "resourceVersion": version,
            "generation": generation, "uid": "u-1", "annotations": annotations or {},
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {"image": image, "interval": "5m"},
        "status": status or {},
    }  # fmt: skip


def _view() -> tuple[ClusterView, Cache, Engine]:
    store = SqliteStore(":memory:")
    ctx = ReconcileContext(
        clock=FakeClock(datetime(2026, 12, 2, tzinfo=UTC)),
        store=store,
        registry=None,  # type: ignore[arg-type]
    )
    engine = Engine(ctx, Manifests(), api_generations=True)
    repositories = Cache()
    return ClusterView(engine, {"ImageRepository": repositories}, None), repositories, engine


def test_watched_objects_become_the_engines_objects_and_changes_are_reported() -> None:
    view, cache, engine = _view()
    cache.put(_repository("1"))
    assert view.sync().reload.added == [KEY]
    assert engine.object(KEY).spec.image == "registry.example/app"
    cache.put(_repository("2", generation=2, image="registry.example/other"))
    assert view.sync().reload.changed == [KEY]
    cache.cache.clear()
    assert view.sync().reload.removed == [KEY]


def test_a_status_only_change_is_no_spec_change() -> None:
    view, cache, _ = _view()
    cache.put(_repository("1"))
    view.sync()
    cache.put(_repository("2", status={"observedGeneration": 1}))
    result = view.sync().reload
    assert (result.added, result.changed, result.removed) == ([], [], [])


def test_an_object_the_models_refuse_is_reported_once_per_spec() -> None:
    view, cache, engine = _view()
    cache.put(_repository("1", image=""))
    (refused,) = view.sync().refused
    assert refused.key == KEY and "image" in refused.reason
    assert view.sync().refused == []
    cache.put(_repository("2", image="", status={"observedGeneration": 1}))
    assert view.sync().refused == [], "writing the refusal's status is no new spec"
    cache.put(_repository("3", generation=2, image=""))
    assert len(view.sync().refused) == 1
    assert engine.keys() == []


def test_a_new_requested_at_annotation_is_a_request_until_it_is_handled() -> None:
    view, cache, _ = _view()
    cache.put(_repository("1", annotations={REQUESTED_AT: "t1"}))
    assert view.sync().requested == [(KEY, "t1")]
    assert view.sync().requested == [], "the same token is asked for once"
    cache.put(
        _repository("2", annotations={REQUESTED_AT: "t1"}, status={"lastHandledReconcileAt": "t1"})
    )
    assert view.sync().requested == []
    cache.put(
        _repository("3", annotations={REQUESTED_AT: "t2"}, status={"lastHandledReconcileAt": "t1"})
    )
    assert view.sync().requested == [(KEY, "t2")]


def test_statuses_come_from_the_api_until_this_replica_leads() -> None:
    view, cache, engine = _view()
    store = engine.ctx.store
    cache.put(_repository("1", status={"observedGeneration": 1, "canonicalImageName": "a"}))
    view.sync()
    assert store.get_status(KEY) == {"observedGeneration": 1, "canonicalImageName": "a"}
    cache.put(_repository("2", status={"observedGeneration": 1, "canonicalImageName": "b"}))
    view.sync()
    assert (store.get_status(KEY) or {})["canonicalImageName"] == "b", "a standby follows"
    view.take_lead()
    store.put_status(KEY, {"observedGeneration": 1, "canonicalImageName": "mine"})
    cache.put(_repository("3", status={"observedGeneration": 1, "canonicalImageName": "lagging"}))
    view.sync()
    assert (store.get_status(KEY) or {})["canonicalImageName"] == "mine", "the leader is ahead"


def _deleting(version: str) -> dict[str, Any]:
    obj = _repository(version)
    obj["metadata"]["deletionTimestamp"] = "2026-12-03T00:00:00Z"
    return obj


def _finalized(version: str) -> dict[str, Any]:
    obj = _repository(version)
    obj["metadata"]["finalizers"] = ["finalizers.fluxcd.io"]
    return obj


@pytest.mark.parametrize(
    ("event", "obj", "leading", "needed"),
    [
        pytest.param("MODIFIED", _repository("2", status={"observedGeneration": 1}), True, False,
                     id="the-leaders-own-status-write-comes-back"),
        pytest.param("MODIFIED", _repository("2", status={"observedGeneration": 1}), False, True,
                     id="a-replica-that-does-not-lead-reads-statuses"),
        pytest.param("MODIFIED", _repository("2", generation=2, image="r.example/b"), True, True,
                     id="a-spec-change"),
        pytest.param("MODIFIED", _repository("2", annotations={REQUESTED_AT: "t1"}), True, True,
                     id="a-reconcile-request"),
        pytest.param("MODIFIED", _deleting("2"), True, True, id="a-deletion"),
        pytest.param("MODIFIED", _finalized("2"), True, True, id="a-finalizer"),
        pytest.param("ADDED", _repository("2"), True, True, id="an-addition"),
        pytest.param("DELETED", _repository("2"), True, True, id="a-removal"),
        pytest.param("MODIFIED", {**_repository("2"), "kind": "Secret"}, True, True,
                     id="a-kind-this-engine-does-not-reconcile"),
    ],
)  # fmt: skip
def test_only_events_that_can_change_a_sync_ask_for_one(
    event: str, obj: dict[str, Any], leading: bool, needed: bool
) -> None:
    view, cache, _ = _view()
    cache.put(_repository("1"))
    view.sync()
    view.leading = leading
    assert view.needs_sync(event, obj) is needed
