"""An automation does not write tags a previous process scanned: it waits for this run's scan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from reconcile_support import FakeClock

from tagpilot.adapters.store import SqliteStore
from tagpilot.api.loader import load_text
from tagpilot.api.meta import NamespacedName
from tagpilot.ports import ObjectKey, StoredTags
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_update import reconcile_image_update
from tagpilot.reconcile.outcome import status_document

IMAGE = "registry.example.com/games/blaster"
OBJECTS = f"""\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata: {{name: blaster-dev-repo, namespace: flux-system}}
spec: {{image: {IMAGE}, interval: 1m}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: {{name: blaster-dev-policy, namespace: flux-system}}
spec:
  imageRepositoryRef: {{name: blaster-dev-repo}}
  policy: {{alphabetical: {{order: asc}}}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: blaster-dev, namespace: flux-system}}
spec: {{url: "ssh://git@example.com/blaster.git", interval: 1m}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata: {{name: blaster-dev-automation, namespace: flux-system}}
spec:
  interval: 1m
  sourceRef: {{kind: GitRepository, name: blaster-dev}}
  git:
    commit: {{author: {{email: bot@example.com}}}}
  update: {{path: ./k8s, strategy: Setters}}
"""


def _context(clock: FakeClock, store: SqliteStore) -> tuple[ReconcileContext, Any]:
    objects = {o.obj.kind: o.obj for o in load_text(OBJECTS, file="objects.yaml").objects}
    named = {kind: {NamespacedName(o.namespace, o.name): o} for kind, o in objects.items()}
    ctx = ReconcileContext(
        clock=clock,
        store=store,
        registry=None,  # type: ignore[arg-type]  # nothing is scanned here
        repositories=named["ImageRepository"],
        policies=named["ImagePolicy"],
        git_repositories=named["GitRepository"],
    )
    policy_status = {"latestRef": {"name": IMAGE, "tag": "dev-2"}}
    store.put_status(ObjectKey("ImagePolicy", "flux-system", "blaster-dev-policy"), policy_status)
    return ctx, objects["ImageUpdateAutomation"]


def _store_tags(store: SqliteStore, clock: FakeClock, *, age: timedelta) -> None:
    store.put_tags(StoredTags(IMAGE, ("dev-2", "dev-1"), "sha256:x", clock.now() - age))


async def test_tags_from_before_the_start_make_the_automation_wait(
    clock: FakeClock, store: SqliteStore
) -> None:
    ctx, automation = _context(clock, store)
    _store_tags(store, clock, age=timedelta(minutes=5))
    outcome = await reconcile_image_update(automation, ctx)
    (warning,) = outcome.warnings
    assert warning == (
        "not updated: ImageRepository flux-system/blaster-dev-repo not scanned since this run "
        "started (a scan still running, or failed); tags scanned earlier are not written"
    )
    assert outcome.requeue_after == timedelta(seconds=10)
    assert outcome.error is None
    assert [(e.type, e.reason) for e in outcome.events] == [("Trace", "DependencyNotReady")]
    assert status_document(outcome.status) == {}, "nothing ran: nothing to report as done"


async def test_tags_scanned_by_this_run_let_the_automation_through(
    clock: FakeClock, store: SqliteStore
) -> None:
    """Past the gate the automation goes on to git, which this context lacks."""
    ctx, automation = _context(clock, store)
    clock.advance(seconds=3)
    _store_tags(store, clock, age=timedelta(0))
    with pytest.raises(AssertionError):
        await reconcile_image_update(automation, ctx)
