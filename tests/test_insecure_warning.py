"""Turning TLS off is explicit and said out loud: ``insecure: true`` repositories are named."""

from __future__ import annotations

from datetime import UTC, datetime

from tagpilot.adapters.manifests import Manifests
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.loader import load_text
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.runtime.engine import Engine

MANIFESTS = """
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: lab, namespace: flux-system}
spec: {image: registry.lab.example:5000/team/app, interval: 5m, insecure: true}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: hub, namespace: flux-system}
spec: {image: ghcr.io/team/app, interval: 5m}
"""


class _Clock:
    def now(self) -> datetime:
        return datetime(2026, 11, 21, tzinfo=UTC)


def test_only_insecure_repositories_are_warned_about_with_their_registry() -> None:
    manifests = Manifests(load_text(MANIFESTS, file="repos.yaml").objects)
    store = SqliteStore(":memory:")
    ctx = ReconcileContext(clock=_Clock(), store=store, registry=None)  # type: ignore[arg-type]
    warnings = Engine(ctx, manifests).insecure_warnings()
    store.close()
    assert len(warnings) == 1
    assert warnings[0].startswith("ImageRepository flux-system/lab: spec.insecure is true")
    assert "plain HTTP to registry.lab.example:5000" in warnings[0]
