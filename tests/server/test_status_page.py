"""The status page over HTTP: its JSON, escaping, secret masking and who may read what.

The app is the real Starlette application over a real SQLite store; the engine is the
in-memory stand-in from ``server_support``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from server_support import InMemoryEngine, RecordingTrigger, entry, receiver

from tagpilot.adapters.store import SqliteStore
from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.source import GitRepository
from tagpilot.core.secrets import SecretValue
from tagpilot.ports import AutomationRun, ObjectKey, RecordedEvent, StoredTags
from tagpilot.server.access import ApiAccess
from tagpilot.server.app import build_api_app, build_app
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable

REPO = ObjectKey("ImageRepository", "apps", "app")
POLICY = ObjectKey("ImagePolicy", "apps", "app")
AUTO = ObjectKey("ImageUpdateAutomation", "apps", "auto")
GIT = ObjectKey("GitRepository", "apps", "app-repo")
SCRIPT = "<script>alert('owned')</script>"
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _ready(status: str, message: str, reason: str = "Succeeded") -> dict[str, Any]:
    return {
        "conditions": [
            {
                "type": "Ready",
                "status": status,
                "reason": reason,
                "message": message,
                "lastTransitionTime": "2026-11-21T12:00:00Z",
            }
        ]
    }


def _automation() -> ImageUpdateAutomation:
    return ImageUpdateAutomation.model_validate(
        {
            "metadata": {"name": "auto", "namespace": "apps"},
            "spec": {
                "interval": "1m",
                "sourceRef": {"kind": "GitRepository", "name": "app-repo"},
                "update": {"strategy": "Setters", "path": "./k8s"},
            },
        }
    )


@pytest.fixture
def seeded(engine: InMemoryEngine, store: SqliteStore) -> SqliteStore:
    """A scanned repository, its policy on 1.2.0, an automation that pushed it once."""
    engine.objects[AUTO] = _automation()
    store.put_status(
        REPO,
        {
            **_ready("True", "successful scan: found 4 tags"),
            "canonicalImageName": "ghcr.io/acme/app",
            "lastScanResult": {"tagCount": 4, "scanTime": "2026-11-21T12:00:00Z"},
        },
    )
    store.put_tags(StoredTags("ghcr.io/acme/app", ("1.0.0", "1.2.0", "latest", "1.1.9"), "r", T0))
    store.put_status(
        POLICY,
        {
            **_ready("True", "Latest image tag for ghcr.io/acme/app resolved to 1.2.0"),
            "latestRef": {"name": "ghcr.io/acme/app", "tag": "1.2.0"},
            "observedPreviousRef": {"name": "ghcr.io/acme/app", "tag": "1.1.9"},
        },
    )
    message = "Latest image tag for ghcr.io/acme/app resolved to 1.2.0 (previously 1.1.9)"
    store.add_event(RecordedEvent(POLICY, "Normal", "Succeeded", message, T0))
    pushed = datetime(2026, 11, 21, 12, 0, 42, tzinfo=UTC)
    store.add_run(
        AutomationRun(
            "apps", "auto", pushed, "main@sha1:abc", "0123456789abcdef", "main",
            ({"file": "k8s/app.yaml", "kind": "Deployment", "name": "app",
              "old": "ghcr.io/acme/app:1.1.9", "new": "ghcr.io/acme/app:1.2.0"},),
        )
    )  # fmt: skip
    commit = "pushed commit '0123456' to branch 'main'\nUpdate app to 1.2.0"
    store.add_event(RecordedEvent(AUTO, "Normal", "Succeeded", commit, pushed))
    store.add_event(
        RecordedEvent(AUTO, "Warning", "GitOperationFailed", "push refused: hook declined", T0)
    )
    store.put_status(
        AUTO,
        {
            **_ready("True", "no updates made"),
            "lastAutomationRunTime": "2026-11-21T12:05:00Z",
            "lastPushTime": "2026-11-21T12:00:42Z",
            "lastPushCommit": "0123456789abcdef",
        },
    )
    return store


async def test_the_overview_lists_every_object_with_its_state_and_last_activity(
    client: httpx.AsyncClient, seeded: SqliteStore
) -> None:
    body = (await client.get("/api/v1/status/overview")).json()
    rows = {f"{r['kind']}/{r['namespace']}/{r['name']}": r for r in body["items"]}
    assert len(rows) == 7
    assert rows["ImageRepository/apps/app"]["ready"] == "True"
    assert rows["ImageRepository/apps/app"]["activity"] == "last scan"
    assert rows["ImageRepository/apps/app"]["lastTime"] == "2026-11-21T12:00:00Z"
    assert rows["ImagePolicy/apps/app"]["summary"] == "1.2.0"
    assert rows["ImageUpdateAutomation/apps/auto"]["lastTime"] == "2026-11-21T12:05:00Z"
    assert rows["ImageRepository/apps/hub"]["ready"] == "Unknown"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("", 7, id="everything"),
        pytest.param("?namespace=staging", 1, id="one-namespace"),
        pytest.param("?notReady=1", 4, id="only-not-ready"),
        pytest.param("?namespace=apps&notReady=1", 3, id="both-filters"),
        pytest.param("?namespace=nowhere", 0, id="unknown-namespace-is-empty"),
    ],
)
async def test_the_overview_filters_by_namespace_and_readiness(
    client: httpx.AsyncClient, seeded: SqliteStore, query: str, expected: int
) -> None:
    json_rows = (await client.get(f"/api/v1/status/overview{query}")).json()["items"]
    assert len(json_rows) == expected
    page = (await client.get(f"/status{query}")).text
    assert page.count("<tr><td>Image") + page.count("<tr><td>Git") == expected


async def test_the_policy_shows_latest_previous_and_why_every_other_tag_lost(
    client: httpx.AsyncClient, seeded: SqliteStore
) -> None:
    body = (await client.get("/api/v1/status/policies/apps/app")).json()
    assert (body["latest"], body["previous"]) == ("1.2.0", "1.1.9")
    verdicts = {v["tag"]: v["status"] for v in body["verdicts"]}
    assert verdicts == {
        "1.2.0": "selected",
        "1.1.9": "candidate",
        "1.0.0": "candidate",
        "latest": "not-a-version",
    }
    page = (await client.get("/status/policy/apps/app")).text
    assert '<code class="latest">1.2.0</code>' in page
    assert "not-a-version" in page


async def test_the_automation_shows_pushes_with_message_and_values_quiet_runs_and_failures(
    client: httpx.AsyncClient, seeded: SqliteStore
) -> None:
    body = (await client.get("/api/v1/status/automations/apps/auto")).json()
    [push] = body["pushes"]
    assert push["commit"] == "0123456789abcdef"
    assert push["message"] == "Update app to 1.2.0"
    assert push["changes"][0]["old"] == "ghcr.io/acme/app:1.1.9"
    assert push["changes"][0]["new"] == "ghcr.io/acme/app:1.2.0"
    assert "made no change" in body["quiet"]
    assert body["failures"][0]["reason"] == "GitOperationFailed"
    page = (await client.get("/status/automation/apps/auto")).text
    assert "0123456789" in page and "push refused: hook declined" in page


async def test_the_timeline_pairs_when_a_tag_was_picked_with_when_it_was_committed(
    client: httpx.AsyncClient, seeded: SqliteStore
) -> None:
    [item] = (await client.get("/api/v1/status/timeline")).json()["items"]
    assert item == {
        "image": "ghcr.io/acme/app",
        "tag": "1.2.0",
        "seen": "2026-11-21T12:00:00Z",
        "committed": "2026-11-21T12:00:42Z",
        "latencySeconds": 42.0,
    }
    page = (await client.get("/status/timeline")).text
    assert "<svg" in page and 'data-tag="1.2.0"' in page and "<rect" in page


@pytest.mark.parametrize(
    ("key", "page"),
    [
        pytest.param(REPO, "/status", id="overview"),
        pytest.param(POLICY, "/status/policy/apps/app", id="policy-page"),
        pytest.param(AUTO, "/status/automation/apps/auto", id="automation-page"),
    ],
)
async def test_an_injected_script_in_a_message_is_shown_escaped(
    client: httpx.AsyncClient, seeded: SqliteStore, key: ObjectKey, page: str
) -> None:
    seeded.put_status(key, {**(seeded.get_status(key) or {}), **_ready("False", SCRIPT)})
    seeded.add_event(RecordedEvent(key, "Warning", "Failed", SCRIPT, T0))
    text = (await client.get(page)).text
    assert SCRIPT not in text
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in text
    assert re.findall(r"<script[^>]*>", text) == ['<script src="/status/assets/page.js" defer>']


@pytest.mark.parametrize(
    ("where", "secret", "shown"),
    [
        pytest.param(
            "url", "https://deploy:gldt-token@git.example/app.git",
            "https://***@git.example/app.git", id="git-url-userinfo",
        ),
        pytest.param(
            "message", "fetch https://ci:hunter2@git.example/app.git failed",
            "fetch https://***@git.example/app.git failed", id="url-in-a-message",
        ),
        pytest.param(
            "message", "delivered to /hook/" + "ab" * 32, "delivered to /hook/***",
            id="webhook-path-in-a-message",
        ),
    ],
)  # fmt: skip
async def test_secrets_never_reach_the_page_or_its_json(
    client: httpx.AsyncClient,
    engine: InMemoryEngine,
    store: SqliteStore,
    where: str,
    secret: str,
    shown: str,
) -> None:
    if where == "url":
        engine.objects[GIT] = GitRepository.model_validate(
            {"metadata": {"name": "app-repo", "namespace": "apps"},
             "spec": {"url": secret, "interval": "1m"}}
        )  # fmt: skip
    else:
        store.put_status(GIT, _ready("False", secret))
    page = (await client.get("/status")).text
    document = (await client.get("/api/v1/status/overview")).text
    for text in (page, document):
        assert secret not in text
        assert shown in text


async def test_a_receiver_is_shown_by_name_never_by_its_hook_path(
    engine: InMemoryEngine, store: SqliteStore
) -> None:
    hook = receiver("generic", [{"kind": "ImageRepository", "name": "app"}], name="ci-hook")
    table = ReceiverTable([entry(hook)])
    app = build_app(engine, RecordingTrigger(), store, Metrics(), table)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tagpilot"
    ) as http:
        page = (await http.get("/status")).text
        document = (await http.get("/api/v1/status/overview")).json()
    path = table.entries()[0].path
    assert "apps/ci-hook" in page and path not in page and path.split("/")[-1] not in page
    assert document["receivers"] == [
        {"namespace": "apps", "name": "ci-hook", "type": "generic", "suspended": False}
    ]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/status", 200, id="page-follows-the-http-address"),
        pytest.param("/status/timeline", 200, id="timeline-follows-the-http-address"),
        pytest.param("/status/assets/page.css", 200, id="assets-follow-the-http-address"),
        pytest.param("/api/v1/status/overview", 403, id="json-keeps-the-api-gate"),
        pytest.param("/api/v1/status/timeline", 403, id="timeline-json-keeps-the-api-gate"),
    ],
)
async def test_off_loopback_the_page_is_served_and_its_json_follows_the_api_gate(
    engine: InMemoryEngine, store: SqliteStore, path: str, status: int
) -> None:
    app = build_app(engine, RecordingTrigger(), store, Metrics(), ReceiverTable())
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://tagpilot") as http:
        assert (await http.get(path)).status_code == status


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        pytest.param("/status/assets/page.css", 200, "text/css", id="stylesheet"),
        pytest.param("/status/assets/page.js", 200, "text/javascript", id="script"),
        pytest.param("/status/assets/secret.txt", 404, "text/plain", id="nothing-else"),
        pytest.param("/status/policy/apps/nope", 404, "text/html", id="unknown-policy-page"),
        pytest.param("/api/v1/status/policies/apps/nope", 404, "application/json",
                     id="unknown-policy-json"),
        pytest.param("/api/v1/status/automations/apps/nope", 404, "application/json",
                     id="unknown-automation-json"),
    ],
)  # fmt: skip
async def test_assets_ship_in_the_package_and_unknown_things_are_404(
    client: httpx.AsyncClient, path: str, status: int, content_type: str
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(content_type)


@pytest.mark.parametrize(
    "path", ["/status", "/status/policy/apps/app", "/status/automation/apps/auto",
             "/status/timeline"],
)  # fmt: skip
async def test_pages_load_nothing_from_elsewhere_and_refresh_without_script(
    client: httpx.AsyncClient, seeded: SqliteStore, path: str
) -> None:
    text = (await client.get(path + "?refresh=7")).text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert '<noscript><meta http-equiv="refresh" content="7"></noscript>' in text


async def test_the_root_leads_to_the_status_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert (response.status_code, response.headers["location"]) == (307, "/status")


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        pytest.param("Bearer page-token", 200, id="with-the-token"),
        pytest.param("", 401, id="without-the-token"),
    ],
)
async def test_on_its_own_api_address_the_status_json_needs_the_token(
    engine: InMemoryEngine, store: SqliteStore, authorization: str, status: int
) -> None:
    access = ApiAccess(SecretValue(b"page-token"))
    app = build_api_app(engine, RecordingTrigger(), store, access=access)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://tagpilot") as http:
        headers = {"Authorization": authorization} if authorization else {}
        response = await http.get("/api/v1/status/overview", headers=headers)
        assert response.status_code == status
        assert (await http.get("/status")).status_code == 404, "pages stay on the HTTP address"
