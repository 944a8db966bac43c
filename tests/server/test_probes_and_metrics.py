"""/healthz, /readyz and /metrics, and the Metrics methods the runtime calls."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY
from server_support import InMemoryEngine, RecordingTrigger

from tagpilot.adapters.store import SqliteStore
from tagpilot.server.app import build_app
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable


async def test_healthz_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


async def test_readyz_follows_is_ready(store: SqliteStore) -> None:
    ready = [False]
    app = build_app(
        InMemoryEngine(),
        RecordingTrigger(),
        store,
        Metrics(),
        ReceiverTable(),
        is_ready=lambda: ready[0],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tagpilot") as http:
        before = await http.get("/readyz")
        ready[0] = True
        after = await http.get("/readyz")
    assert before.status_code == 503
    assert "first manifest load" in before.text
    assert (after.status_code, after.text) == (200, "ready\n")


def _fed(metrics: Metrics) -> Metrics:
    metrics.observe_reconcile("ImageRepository", "success", 0.2)
    metrics.observe_reconcile("ImageRepository", "success", 3.0)
    metrics.observe_reconcile("ImageUpdateAutomation", "retry", 0.04)
    metrics.registry_request("ghcr.io", 200)
    metrics.registry_request("ghcr.io", 429)
    metrics.registry_request("ghcr.io", 200)
    metrics.set_tags("apps", "app", 120)
    metrics.set_tags("apps", "gone", 5)
    metrics.forget_repository("apps", "gone")
    metrics.forget_repository("apps", "never-seen")
    metrics.push("pushed")
    metrics.webhook("apps/hook", "accepted")
    return metrics


@pytest.mark.parametrize(
    "line",
    [
        'tagpilot_reconcile_total{kind="ImageRepository",result="success"} 2.0',
        'tagpilot_reconcile_total{kind="ImageUpdateAutomation",result="retry"} 1.0',
        'tagpilot_reconcile_duration_seconds_count{kind="ImageRepository"} 2.0',
        'tagpilot_reconcile_duration_seconds_bucket{kind="ImageRepository",le="0.25"} 1.0',
        'tagpilot_reconcile_duration_seconds_bucket{kind="ImageRepository",le="5.0"} 2.0',
        'tagpilot_registry_requests_total{host="ghcr.io",status="200"} 2.0',
        'tagpilot_registry_requests_total{host="ghcr.io",status="429"} 1.0',
        'tagpilot_repository_tags{name="app",namespace="apps"} 120.0',
        'tagpilot_pushes_total{result="pushed"} 1.0',
        'tagpilot_webhook_deliveries_total{receiver="apps/hook",result="accepted"} 1.0',
    ],
)
async def test_metrics_endpoint_renders_what_the_runtime_recorded(
    client: httpx.AsyncClient, metrics: Metrics, line: str
) -> None:
    _fed(metrics)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert line in response.text.splitlines()


def test_removed_repository_has_no_tag_gauge() -> None:
    assert 'name="gone"' not in _fed(Metrics()).render().decode()


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = _fed(Metrics()), Metrics()
    assert "tagpilot_pushes_total{" not in second.render().decode()
    assert first.registry is not REGISTRY
    assert REGISTRY.get_sample_value("tagpilot_pushes_total", {"result": "pushed"}) is None
