"""POST /hook/...: a verified delivery triggers the selected objects; anything else nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from server_support import TOKEN, RecordingTrigger, entry, hmac_hex, receiver

from tagpilot.ports import ObjectKey
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable
from tagpilot.server.webhooks import MAX_BODY_BYTES

APP = ObjectKey("ImageRepository", "apps", "app")
WORKER = ObjectKey("ImageRepository", "apps", "worker")
HUB = ObjectKey("ImageRepository", "apps", "hub")
STAGING_APP = ObjectKey("ImageRepository", "staging", "app")
POLICY = ObjectKey("ImagePolicy", "apps", "app")

BY_NAME = [{"kind": "ImageRepository", "name": "app"}]
BLASTER = [{"kind": "ImageRepository", "name": "*", "matchLabels": {"team": "blaster"}}]
EVERY_REPO = [
    *BLASTER,
    {"kind": "ImageRepository", "name": "hub"},
    {"kind": "ImageRepository", "name": "app", "namespace": "staging"},
]

Headers = Callable[[bytes, bytes], dict[str, str]]
"""Build a delivery's headers from its body and the token the sender holds."""


def _none(body: bytes, token: bytes) -> dict[str, str]:
    return {}


def _signature(header: str, algorithm: str, prefixed: bool = True) -> Headers:
    def build(body: bytes, token: bytes) -> dict[str, str]:
        mac = hmac_hex(algorithm, body, token)
        signature = f"{algorithm}={mac}" if prefixed else mac
        return {header: signature, "Content-Type": "application/json"}

    return build


def _plain(header: str) -> Headers:
    return lambda body, token: {header: token.decode()}


async def _chunks(chunk: bytes, count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield chunk


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


PUSHED_APP = _json(
    {
        "action": "published",
        "package": {"package_version": {"package_url": "ghcr.io/acme/app:2.0.0"}},
    }
)
HUB_PUSH = _json({"push_data": {"tag": "2.0.0"}, "repository": {"repo_name": "acme/app"}})
QUAY_PUSH = _json({"docker_url": "ghcr.io/acme/worker", "updated_tags": ["2.0.0"]})
HARBOR_PUSH = _json({"event_data": {"resources": [{"resource_url": "ghcr.io/acme/app:2.0.0"}]}})
ACR_PUSH = _json({"target": {"repository": "acme/app"}, "request": {"host": "ghcr.io"}})
CDEVENT = _json({"context": {"type": "artifact.published"}, "subject": {}})

GOOD = [
    pytest.param("generic", BY_NAME, _none, b"", [APP], id="generic-by-name"),
    pytest.param("generic", BLASTER, _none, b"", [APP, WORKER], id="generic-match-labels"),
    pytest.param(
        "generic",
        [*BY_NAME, {"kind": "ImagePolicy", "name": "app"}],
        _none,
        b"",
        [POLICY, APP],
        id="generic-policy-too",
    ),
    pytest.param(
        "generic",
        [{"kind": "ImageRepository", "name": "*", "namespace": "*", "matchLabels": {}}],
        _none,
        b"",
        [APP, HUB, WORKER, STAGING_APP],
        id="generic-every-namespace",
    ),
    pytest.param(
        "generic",
        [{"kind": "GitRepository", "name": "flux-system"}],
        _none,
        b"",
        [],
        id="generic-kind-without-reconciler",
    ),
    pytest.param(
        "generic-hmac",
        BLASTER,
        _signature("X-Signature", "sha512"),
        b"{}",
        [APP, WORKER],
        id="generic-hmac",
    ),
    pytest.param(
        "github",
        EVERY_REPO,
        _signature("X-Hub-Signature-256", "sha256"),
        PUSHED_APP,
        [APP, STAGING_APP],
        id="github-package-restricts-to-image",
    ),
    pytest.param("gitlab", BLASTER, _plain("X-Gitlab-Token"), b"{}", [APP, WORKER], id="gitlab"),
    pytest.param(
        "bitbucket", BY_NAME, _signature("X-Hub-Signature", "sha256"), b"{}", [APP], id="bitbucket"
    ),
    pytest.param(
        "harbor",
        EVERY_REPO,
        _plain("Authorization"),
        HARBOR_PUSH,
        [APP, STAGING_APP],
        id="harbor-restricts-to-image",
    ),
    pytest.param(
        "nexus",
        BY_NAME,
        _signature("X-Nexus-Webhook-Signature", "sha1", False),
        b"{}",
        [APP],
        id="nexus",
    ),
    pytest.param("dockerhub", EVERY_REPO, _none, HUB_PUSH, [HUB], id="dockerhub-restricts"),
    pytest.param("dockerhub", BLASTER, _none, HUB_PUSH, [], id="dockerhub-other-image"),
    pytest.param("quay", EVERY_REPO, _none, QUAY_PUSH, [WORKER], id="quay-restricts"),
    pytest.param("acr", EVERY_REPO, _none, ACR_PUSH, [APP, STAGING_APP], id="acr-restricts"),
    pytest.param("cdevents", BY_NAME, _none, CDEVENT, [APP], id="cdevents"),
]


def _serve(
    receivers: ReceiverTable, kind: str, resources: list[dict[str, Any]], **spec: Any
) -> str:
    served = entry(receiver(kind, resources, **spec))
    receivers.replace([served])
    return served.path


@pytest.mark.parametrize(("kind", "resources", "headers", "body", "triggered"), GOOD)
async def test_verified_delivery_triggers_the_selected_objects(
    client: httpx.AsyncClient,
    receivers: ReceiverTable,
    trigger: RecordingTrigger,
    kind: str,
    resources: list[dict[str, Any]],
    headers: Headers,
    body: bytes,
    triggered: list[ObjectKey],
) -> None:
    path = _serve(receivers, kind, resources)
    response = await client.post(path, content=body, headers=headers(body, TOKEN))
    assert response.status_code == 200, response.text
    assert response.json() == {"receiver": "apps/hook", "triggered": [str(k) for k in triggered]}
    assert trigger.keys == triggered
    if triggered:
        assert trigger.calls[0][1] == "webhook from Receiver apps/hook"


BAD = [
    pytest.param("generic-hmac", _signature("X-Signature", "sha256"), id="generic-hmac"),
    pytest.param("github", _signature("X-Hub-Signature-256", "sha256"), id="github"),
    pytest.param("gitlab", _plain("X-Gitlab-Token"), id="gitlab"),
    pytest.param("bitbucket", _signature("X-Hub-Signature", "sha256"), id="bitbucket"),
    pytest.param("harbor", _plain("Authorization"), id="harbor"),
    pytest.param("nexus", _signature("X-Nexus-Webhook-Signature", "sha1", False), id="nexus"),
]


@pytest.mark.parametrize(("kind", "headers"), BAD)
async def test_delivery_signed_with_another_token_is_401_and_triggers_nothing(
    client: httpx.AsyncClient,
    receivers: ReceiverTable,
    trigger: RecordingTrigger,
    metrics: Metrics,
    kind: str,
    headers: Headers,
) -> None:
    served = entry(receiver(kind, BY_NAME))
    receivers.replace([served])
    forged = headers(b"{}", b"a-guessed-token")
    response = await client.post(served.path, content=b"{}", headers=forged)
    assert response.status_code == 401
    assert trigger.calls == []
    assert 'tagpilot_webhook_deliveries_total{receiver="apps/hook",result="unauthorized"} 1.0' in (
        metrics.render().decode()
    )


async def test_generic_delivery_with_the_wrong_token_finds_no_receiver(
    client: httpx.AsyncClient, receivers: ReceiverTable, trigger: RecordingTrigger
) -> None:
    receivers.replace([entry(receiver("generic", BY_NAME))])
    wrong = entry(receiver("generic", BY_NAME), token=b"guess").path
    response = await client.post(wrong, content=b"")
    assert response.status_code == 404
    assert response.json() == {"error": "no receiver at this path"}
    assert trigger.calls == []


async def test_unknown_hook_path_is_404(
    client: httpx.AsyncClient, trigger: RecordingTrigger
) -> None:
    assert (await client.post("/hook/" + "0" * 64, content=b"{}")).status_code == 404
    assert trigger.calls == []


async def test_body_over_one_mebibyte_is_413_and_triggers_nothing(
    client: httpx.AsyncClient, receivers: ReceiverTable, trigger: RecordingTrigger
) -> None:
    path = _serve(receivers, "generic", BY_NAME)
    response = await client.post(path, content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert trigger.calls == []


async def test_streamed_body_over_the_limit_is_413(
    client: httpx.AsyncClient, receivers: ReceiverTable, trigger: RecordingTrigger
) -> None:
    path = _serve(receivers, "dockerhub", BY_NAME)
    response = await client.post(path, content=_chunks(b"y" * 65536, 17))
    assert response.status_code == 413
    assert trigger.calls == []


async def test_malformed_json_is_400(
    client: httpx.AsyncClient, receivers: ReceiverTable, trigger: RecordingTrigger
) -> None:
    path = _serve(receivers, "dockerhub", BY_NAME)
    response = await client.post(path, content=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("Docker Hub payload is not valid JSON")
    assert trigger.calls == []


async def test_suspended_receiver_is_503(
    client: httpx.AsyncClient, receivers: ReceiverTable, trigger: RecordingTrigger
) -> None:
    path = _serve(receivers, "generic", BY_NAME, suspend=True)
    assert (await client.post(path, content=b"")).status_code == 503
    assert trigger.calls == []


async def test_get_on_a_hook_path_is_not_allowed(
    client: httpx.AsyncClient, receivers: ReceiverTable
) -> None:
    path = _serve(receivers, "generic", BY_NAME)
    assert (await client.get(path)).status_code == 405


async def test_accepted_deliveries_are_counted(
    client: httpx.AsyncClient, receivers: ReceiverTable, metrics: Metrics
) -> None:
    path = _serve(receivers, "generic", BY_NAME)
    await client.post(path, content=b"")
    await client.post(path, content=b"")
    await client.post("/hook/nothing-here", content=b"")
    text = metrics.render().decode()
    assert 'tagpilot_webhook_deliveries_total{receiver="apps/hook",result="accepted"} 2.0' in text
    assert 'tagpilot_webhook_deliveries_total{receiver="unknown",result="not_found"} 1.0' in text
