"""The daemon's metrics come from what reconciles report about themselves, typed.

Real reconciles against a real registry feed ``Metrics.observe``: the registry operations
they made (with their results), the tag count of the scan, the reconcile's error family.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from reconcile_support import PASSWORD, USER, FakeClock

from servers.registry import RunningRegistry
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.automation import ImageUpdateAutomationStatus
from tagpilot.api.loader import load_text
from tagpilot.core.secrets import SecretData, SecretIndex
from tagpilot.ports import AutomationRun, ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_repository import reconcile_image_repository
from tagpilot.reconcile.outcome import Event, Outcome
from tagpilot.server.metrics import Metrics

KEY = ObjectKey("ImageRepository", "flux-system", "blaster-dev-repo")


def _repo(host: str) -> object:
    text = f"""
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {{name: blaster-dev-repo, namespace: flux-system}}
spec:
  image: {host}/games/blaster
  interval: 1m
  secretRef: {{name: creds}}
"""
    return load_text(text, file="repo.yaml").objects[0].obj


def _secrets(host: str, password: str) -> SecretIndex:
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    config = json.dumps({"auths": {host: {"auth": auth}}}).encode()
    secret = SecretData("flux-system", "creds", {".dockerconfigjson": config}, "")
    return SecretIndex({("flux-system", "creds"): secret})


@pytest.fixture
async def pool() -> AsyncIterator[RegistryPool]:
    registry = RegistryPool()
    yield registry
    await registry.aclose()


def _lines(metrics: Metrics) -> list[str]:
    return metrics.render().decode().splitlines()


@pytest.mark.parametrize(
    ("password", "lines"),
    [
        pytest.param(
            PASSWORD,
            [
                'tagpilot_registry_requests_total{host="HOST",status="ok"} 1.0',
                'tagpilot_reconcile_total{kind="ImageRepository",result="success"} 1.0',
                'tagpilot_repository_tags{name="blaster-dev-repo",namespace="flux-system"} 4.0',
            ],
            id="a-scan",
        ),
        pytest.param(
            "wrong-password",
            [
                'tagpilot_registry_requests_total{host="HOST",status="AuthenticationFailed"} 1.0',
                'tagpilot_reconcile_total{kind="ImageRepository",result="retry"} 1.0',
            ],
            id="a-refused-scan",
        ),
    ],
)
async def test_a_scan_is_counted_by_registry_host_and_result(
    blaster_registry: RunningRegistry,
    clock: FakeClock,
    store: SqliteStore,
    pool: RegistryPool,
    password: str,
    lines: list[str],
) -> None:
    host = blaster_registry.host
    ctx = ReconcileContext(clock, store, pool, secrets=_secrets(host, password))
    outcome = await reconcile_image_repository(_repo(host), ctx)  # type: ignore[arg-type]
    metrics = Metrics()
    metrics.observe(KEY, outcome, 0.1)
    rendered = _lines(metrics)
    for line in lines:
        assert line.replace("HOST", host) in rendered


def test_a_removed_repository_loses_its_tag_gauge() -> None:
    metrics = Metrics()
    metrics.set_tags("flux-system", "blaster-dev-repo", 4)
    metrics.forget(KEY)
    assert not [line for line in _lines(metrics) if line.startswith("tagpilot_repository_tags{")]


def test_a_push_is_counted_from_the_recorded_run_not_from_event_text() -> None:
    run = AutomationRun("flux-system", "auto", datetime.now(UTC), "rev", "abc1234", "main", ())
    metrics = Metrics()
    key = ObjectKey("ImageUpdateAutomation", "flux-system", "auto")
    pushed = Outcome(ImageUpdateAutomationStatus(), (Event("Normal", "Succeeded", "x"),), run=run)
    quiet = Outcome(ImageUpdateAutomationStatus(), (Event("Normal", "Succeeded", "pushed commit"),))
    metrics.observe(key, pushed, 0.1)
    metrics.observe(key, quiet, 0.1)
    assert 'tagpilot_pushes_total{result="pushed"} 1.0' in _lines(metrics)
