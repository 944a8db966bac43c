"""The /api/v1 JSON API: objects with status, events, reconcile/suspend/resume."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from server_support import InMemoryEngine, RecordingTrigger

from tagpilot.adapters.store import SqliteStore
from tagpilot.ports import ObjectKey, RecordedEvent

APP = ObjectKey("ImageRepository", "apps", "app")
POLICY = ObjectKey("ImagePolicy", "apps", "app")
APP_STATUS = {
    "canonicalImageName": "ghcr.io/acme/app",
    "lastScanResult": {"revision": "abc", "tagCount": 3, "scanTime": "2026-11-21T12:00:00Z"},
}
JSON = {"Content-Type": "application/json"}


def _names(body: dict[str, Any]) -> list[str]:
    return [f"{item['kind']}/{item['namespace']}/{item['name']}" for item in body["items"]]


async def test_list_gives_every_object_sorted_with_its_status(
    client: httpx.AsyncClient, store: SqliteStore
) -> None:
    store.put_status(APP, APP_STATUS)
    response = await client.get("/api/v1/objects")
    assert response.status_code == 200
    items = response.json()["items"]
    assert _names(response.json()) == [
        "GitRepository/apps/app-repo",
        "ImagePolicy/apps/app",
        "ImageRepository/apps/app",
        "ImageRepository/apps/hub",
        "ImageRepository/apps/worker",
        "ImageRepository/staging/app",
    ]
    assert items[2]["status"] == APP_STATUS
    assert items[2]["suspended"] is False
    assert items[2]["spec"]["image"] == "ghcr.io/acme/app"
    assert items[1]["status"] == {}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("kind=ImagePolicy", ["ImagePolicy/apps/app"], id="by-kind"),
        pytest.param("namespace=staging", ["ImageRepository/staging/app"], id="by-namespace"),
        pytest.param(
            "kind=ImageRepository&namespace=apps",
            ["ImageRepository/apps/app", "ImageRepository/apps/hub", "ImageRepository/apps/worker"],
            id="by-kind-and-namespace",
        ),
        pytest.param("namespace=nowhere", [], id="empty-namespace"),
        pytest.param(
            "kind=GitRepository", ["GitRepository/apps/app-repo"], id="inputs-are-listed-too"
        ),
    ],
)
async def test_list_filters_by_kind_and_namespace(
    client: httpx.AsyncClient, query: str, expected: list[str]
) -> None:
    assert _names((await client.get(f"/api/v1/objects?{query}")).json()) == expected


async def test_list_with_unknown_kind_is_400_naming_the_kinds(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/objects?kind=Deployment")
    assert response.status_code == 400
    assert response.json() == {
        "error": "unknown kind 'Deployment'; expected one of "
        "ImageRepository, ImagePolicy, ImageUpdateAutomation, GitRepository, Kustomization"
    }


async def test_get_gives_spec_labels_and_status(
    client: httpx.AsyncClient, store: SqliteStore
) -> None:
    store.put_status(APP, APP_STATUS)
    response = await client.get("/api/v1/objects/ImageRepository/apps/app")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == APP_STATUS
    assert body["labels"] == {"team": "blaster"}
    assert body["spec"]["image"] == "ghcr.io/acme/app"
    assert body["spec"]["interval"] == "1m"
    assert body["spec"]["exclusionList"] == ["^.*\\.sig$"]


async def test_get_reads_a_git_repository_by_name(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/objects/GitRepository/apps/app-repo")
    assert response.status_code == 200
    assert response.json()["spec"]["url"] == "ssh://git@127.0.0.1/app.git"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/objects/ImageRepository/apps/missing", id="unknown-name"),
        pytest.param("/api/v1/objects/ImagePolicy/staging/app", id="wrong-namespace"),
    ],
)
async def test_get_unknown_object_is_404_json(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["error"].endswith("not found")


def _event(key: ObjectKey, reason: str, minute: int) -> RecordedEvent:
    moment = datetime(2026, 11, 21, 12, minute, tzinfo=UTC)
    return RecordedEvent(key, "Normal", reason, f"{reason} message", moment)


@pytest.fixture
def events(store: SqliteStore) -> None:
    store.add_event(_event(APP, "Scanned", 1))
    store.add_event(_event(POLICY, "Selected", 2))
    store.add_event(_event(APP, "Rescanned", 3))


@pytest.mark.parametrize(
    ("query", "reasons"),
    [
        pytest.param("", ["Rescanned", "Selected", "Scanned"], id="all-newest-first"),
        pytest.param("kind=ImagePolicy", ["Selected"], id="by-kind"),
        pytest.param(
            "kind=ImageRepository&namespace=apps&name=app",
            ["Rescanned", "Scanned"],
            id="one-object",
        ),
        pytest.param("name=app&limit=1", ["Rescanned"], id="limited"),
        pytest.param("namespace=staging", [], id="nothing"),
    ],
)
@pytest.mark.usefixtures("events")
async def test_events_are_filtered_newest_first(
    client: httpx.AsyncClient, query: str, reasons: list[str]
) -> None:
    response = await client.get(f"/api/v1/events?{query}")
    assert response.status_code == 200
    assert [item["reason"] for item in response.json()["items"]] == reasons


@pytest.mark.usefixtures("events")
async def test_event_json_carries_object_and_rfc3339_time(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/events?kind=ImagePolicy")
    assert response.json()["items"] == [
        {
            "kind": "ImagePolicy",
            "namespace": "apps",
            "name": "app",
            "type": "Normal",
            "reason": "Selected",
            "message": "Selected message",
            "time": "2026-11-21T12:02:00Z",
        }
    ]


@pytest.mark.parametrize("limit", ["0", "abc", "1001", "-1"])
async def test_events_with_bad_limit_is_400(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get(f"/api/v1/events?limit={limit}")
    assert response.status_code == 400
    assert response.json() == {"error": "limit must be a whole number from 1 to 1000"}


async def test_reconcile_triggers_the_object_with_its_request_time_and_answers_202(
    client: httpx.AsyncClient, trigger: RecordingTrigger, store: SqliteStore
) -> None:
    store.put_status(APP, APP_STATUS)
    response = await client.post(
        "/api/v1/objects/ImageRepository/apps/app/reconcile",
        json={"requestedAt": "2026-11-21T12:30:00.123456789Z"},
    )
    assert response.status_code == 202
    assert response.json()["action"] == "reconcile"
    assert response.json()["status"] == APP_STATUS
    assert trigger.calls == [(APP, "api reconcile", "2026-11-21T12:30:00.123456789Z")]


async def test_reconcile_without_a_body_has_no_request_time(
    client: httpx.AsyncClient, trigger: RecordingTrigger
) -> None:
    response = await client.post("/api/v1/objects/ImagePolicy/apps/app/reconcile", headers=JSON)
    assert response.status_code == 202
    assert trigger.calls == [(POLICY, "api reconcile", None)]


async def test_reconcile_of_a_suspended_object_is_409(
    client: httpx.AsyncClient, engine: InMemoryEngine, trigger: RecordingTrigger
) -> None:
    engine.set_suspended(APP, True)
    response = await client.post("/api/v1/objects/ImageRepository/apps/app/reconcile", json={})
    assert response.status_code == 409
    assert response.json() == {"error": "ImageRepository apps/app is suspended"}
    assert trigger.calls == []


async def test_suspend_then_resume_marks_the_engine_and_resume_reconciles(
    client: httpx.AsyncClient, engine: InMemoryEngine, trigger: RecordingTrigger
) -> None:
    base = "/api/v1/objects/ImageRepository/apps/app"
    suspended = await client.post(f"{base}/suspend", json={})
    assert suspended.status_code == 200
    assert suspended.json()["suspended"] is True
    assert engine.is_suspended(APP)
    assert trigger.calls == []
    listed = (await client.get("/api/v1/objects?kind=ImageRepository&namespace=apps")).json()
    assert listed["items"][0]["suspended"] is True
    resumed = await client.post(f"{base}/resume", json={})
    assert resumed.status_code == 202
    assert resumed.json()["suspended"] is False
    assert not engine.is_suspended(APP)
    assert trigger.calls == [(APP, "api resume", None)]


async def test_git_repository_is_reconciled_suspended_and_resumed_like_the_image_kinds(
    client: httpx.AsyncClient, engine: InMemoryEngine, trigger: RecordingTrigger
) -> None:
    key = ObjectKey("GitRepository", "apps", "app-repo")
    base = "/api/v1/objects/GitRepository/apps/app-repo"
    assert (await client.post(f"{base}/reconcile", json={})).status_code == 202
    assert (await client.post(f"{base}/suspend", json={})).status_code == 200
    assert engine.is_suspended(key)
    assert (await client.post(f"{base}/resume", json={})).status_code == 202
    assert trigger.calls == [(key, "api reconcile", None), (key, "api resume", None)]


REPO_PATH = "ImageRepository/apps/app"


@pytest.mark.parametrize(
    ("path", "headers", "body", "status"),
    [
        pytest.param(f"{REPO_PATH}/reconcile", {}, b"{}", 415, id="no-json-content-type"),
        pytest.param(
            f"{REPO_PATH}/reconcile", {"Content-Type": "text/plain"}, b"{}", 415, id="text-plain"
        ),
        pytest.param(f"{REPO_PATH}/delete", JSON, b"{}", 404, id="unknown-action"),
        pytest.param("ImageRepository/apps/missing/suspend", JSON, b"{}", 404, id="unknown-object"),
        pytest.param("Deployment/apps/app/suspend", JSON, b"{}", 400, id="unknown-kind"),
        pytest.param(f"{REPO_PATH}/suspend", JSON, b"{oops", 400, id="body-not-json"),
        pytest.param(f"{REPO_PATH}/suspend", JSON, b"[]", 400, id="body-not-object"),
        pytest.param(
            f"{REPO_PATH}/reconcile", JSON, b'{"requestedAt": 5}', 400, id="requested-at-number"
        ),
    ],
)
async def test_refused_actions_change_nothing(
    client: httpx.AsyncClient,
    engine: InMemoryEngine,
    trigger: RecordingTrigger,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
) -> None:
    response = await client.post(f"/api/v1/objects/{path}", content=body, headers=headers)
    assert response.status_code == status
    assert "error" in response.json()
    assert trigger.calls == []
    assert engine.suspended == set()
