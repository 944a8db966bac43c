"""What a reload tells the scheduler: objects added, changed, removed, and Secrets changed.

A Secret is not an object the engine reconciles, yet rotating one must reach the objects
failing for want of it (the scheduler runs them at once): the reload says whether any Secret
moved.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.reconcile.reconcile_support import FakeClock

from tagpilot.adapters.manifests import Manifests
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.loader import load_text
from tagpilot.core.secrets import SecretData, SecretIndex
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.runtime.engine import Engine

POLICY = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: app, namespace: apps}
spec:
  imageRepositoryRef: {name: app}
  policy: {semver: {range: ">=1.0.0"}}
"""


def _secrets(**values: bytes) -> SecretIndex:
    data = {k: SecretData("apps", k, {"password": v}) for k, v in values.items()}
    return SecretIndex({("apps", k): d for k, d in data.items()})


def _manifests(secrets: SecretIndex) -> Manifests:
    return Manifests(objects=load_text(POLICY, file="policy.yaml").objects, secrets=secrets)


@pytest.mark.parametrize(
    ("after", "changed"),
    [
        pytest.param(_secrets(registry=b"old"), False, id="same-secrets"),
        pytest.param(_secrets(registry=b"new"), True, id="a-value-rotated"),
        pytest.param(_secrets(registry=b"old", git=b"x"), True, id="a-secret-added"),
        pytest.param(_secrets(), True, id="a-secret-removed"),
    ],
)
def test_a_reload_says_whether_any_secret_changed(after: SecretIndex, changed: bool) -> None:
    ctx = ReconcileContext(
        clock=FakeClock(datetime(2026, 12, 3, tzinfo=UTC)),
        store=SqliteStore(":memory:"),
        registry=None,  # type: ignore[arg-type]  # nothing is reconciled here
    )
    engine = Engine(ctx, _manifests(_secrets(registry=b"old")))

    result = engine.replace(_manifests(after))

    assert result.secrets_changed is changed
    assert (result.added, result.changed, result.removed) == ([], [], [])
