"""Who may use the control API, how much they may send, and what it says when the store fails.

The API suspends, resumes and triggers objects; the webhook port it may share is reachable
by registries and CI.  Requests come through httpx's ASGI transport with a chosen client
address, as a remote peer would appear to the app.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from server_support import InMemoryEngine, RecordingTrigger

from tagpilot.adapters.store import SqliteStore
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.secrets import SecretValue
from tagpilot.ports import ObjectKey
from tagpilot.server.access import ApiAccess, auth_headers, read_token
from tagpilot.server.api import MAX_API_BODY_BYTES, STORE_FAILED_REASON
from tagpilot.server.app import build_api_app, build_app
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable

APP = ObjectKey("ImageRepository", "apps", "app")
SUSPEND = "/api/v1/objects/ImageRepository/apps/app/suspend"
JSON = {"Content-Type": "application/json"}
TOKEN = "control-api-token-value"
REMOTE, LOOPBACK, LOOPBACK6 = "203.0.113.7", "127.0.0.1", "::1"

Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
def make_client(engine: InMemoryEngine, trigger: RecordingTrigger, store: SqliteStore) -> Client:
    def build(
        peer: str, *, token: str | None = None, problem: str | None = None, own: bool = False
    ) -> httpx.AsyncClient:
        access = ApiAccess(SecretValue(token.encode()) if token else None)
        if own:
            app = build_api_app(engine, trigger, store, access=access)
        else:
            app = build_app(
                engine, trigger, store, Metrics(), ReceiverTable(),
                store_problem=lambda: problem, api=access,
            )  # fmt: skip
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://tagpilot")

    return build


@pytest.mark.parametrize(
    ("peer", "token", "sent", "status"),
    [
        pytest.param(LOOPBACK, None, None, 200, id="loopback-without-token-configured"),
        pytest.param(LOOPBACK6, None, None, 200, id="ipv6-loopback-without-token-configured"),
        pytest.param(REMOTE, None, None, 403, id="remote-without-token-configured"),
        pytest.param(REMOTE, TOKEN, None, 401, id="remote-without-the-token"),
        pytest.param(REMOTE, TOKEN, "wrong", 401, id="remote-with-a-wrong-token"),
        pytest.param(REMOTE, TOKEN, TOKEN[:-1], 401, id="remote-with-a-token-prefix"),
        pytest.param(LOOPBACK, TOKEN, None, 401, id="loopback-needs-the-token-once-configured"),
        pytest.param(REMOTE, TOKEN, TOKEN, 200, id="remote-with-the-token"),
    ],
)
async def test_suspend_is_for_loopback_clients_or_the_token_holder(
    make_client: Client,
    engine: InMemoryEngine,
    peer: str,
    token: str | None,
    sent: str | None,
    status: int,
) -> None:
    headers = {**JSON, **({"Authorization": f"Bearer {sent}"} if sent else {})}
    async with make_client(peer, token=token) as client:
        response = await client.post(SUSPEND, json={}, headers=headers)
        listed = await client.get("/api/v1/objects", headers=headers)
    assert (response.status_code, listed.status_code) == (status, status), response.text
    assert engine.is_suspended(APP) is (status == 200)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status != 200:
        assert TOKEN not in response.text


async def test_webhooks_and_probes_stay_open_to_remote_clients(make_client: Client) -> None:
    async with make_client(REMOTE) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.post("/hook/" + "0" * 64, content=b"{}")).status_code == 404


async def test_with_its_own_address_the_api_is_not_on_the_webhook_app(
    engine: InMemoryEngine, trigger: RecordingTrigger, store: SqliteStore
) -> None:
    app = build_app(engine, trigger, store, Metrics(), ReceiverTable(), api=None)
    transport = httpx.ASGITransport(app=app, client=(LOOPBACK, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post(SUSPEND, json={}, headers=JSON)).status_code == 404
    assert not engine.is_suspended(APP)


async def test_an_oversized_api_body_is_413_and_changes_nothing(
    make_client: Client, engine: InMemoryEngine, trigger: RecordingTrigger
) -> None:
    body = b'{"requestedAt": "' + b"x" * MAX_API_BODY_BYTES + b'"}'
    async with make_client(LOOPBACK) as client:
        response = await client.post(SUSPEND, content=body, headers=JSON)
        reconcile = await client.post(
            SUSPEND.replace("suspend", "reconcile"), content=body, headers=JSON
        )
    assert (response.status_code, reconcile.status_code) == (413, 413)
    assert not engine.is_suspended(APP) and trigger.calls == []


async def test_a_failing_store_makes_readyz_503_and_every_status_not_ready(
    make_client: Client, store: SqliteStore
) -> None:
    ready = {"type": "Ready", "status": "True", "reason": "Succeeded", "message": "ok"}
    store.put_status(APP, {"conditions": [ready], "lastScanResult": {"tagCount": 3}})
    problem = "state store busy or unavailable: database is locked"
    async with make_client(LOOPBACK, problem=problem) as client:
        readyz = await client.get("/readyz")
        status = (await client.get("/api/v1/objects/ImageRepository/apps/app")).json()["status"]
    assert readyz.status_code == 503
    assert readyz.text == f"not ready: the state store cannot be written: {problem}\n"
    (shown,) = [c for c in status["conditions"] if c["type"] == "Ready"]
    assert (shown["status"], shown["reason"]) == ("False", STORE_FAILED_REASON)
    assert "database is locked" in shown["message"] and "stale" in shown["message"]
    assert status["lastScanResult"] == {"tagCount": 3}


@pytest.mark.parametrize(
    ("environ", "file_text", "expected"),
    [
        pytest.param({}, None, None, id="nothing-configured"),
        pytest.param({"TAGPILOT_API_TOKEN": " t1 \n"}, None, b"t1", id="variable"),
        pytest.param({"TAGPILOT_API_TOKEN": "t1"}, "t2\n", b"t2", id="file-wins"),
    ],
)
def test_the_token_comes_from_a_file_or_the_environment(
    tmp_path: Path, environ: dict[str, str], file_text: str | None, expected: bytes | None
) -> None:
    file = None
    if file_text is not None:
        file = tmp_path / "token"
        file.write_text(file_text)
    token = read_token(file, environ)
    assert (token.reveal() if token else None) == expected
    if file is not None:
        via_env = auth_headers({"TAGPILOT_API_TOKEN_FILE": str(file)})
        assert via_env == {"Authorization": f"Bearer {file_text.strip()}"}


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    with pytest.raises(InvalidInputError, match=r"token file .* is empty"):
        read_token(tmp_path / "token", {})
