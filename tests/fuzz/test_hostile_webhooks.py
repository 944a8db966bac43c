"""Named hostile webhook deliveries through the real Starlette app (httpx over ASGI).

Anyone who learns a hook path can POST to it, so huge, lying and malformed bodies must
end in 413 or 400 — fast, without reading more than the limit, and without triggering.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fuzz_support import finishes_within

from server.server_support import (
    InMemoryEngine,
    RecordingTrigger,
    entry,
    hmac_hex,
    receiver,
    repository,
)
from tagpilot.adapters.store import SqliteStore
from tagpilot.server.app import build_app
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable
from tagpilot.server.webhooks import MAX_BODY_BYTES

BY_NAME = [{"kind": "ImageRepository", "name": "app"}]


class Hooks:
    """The app with one Receiver per type served, and what it triggered."""

    def __init__(self, store: SqliteStore) -> None:
        self.trigger = RecordingTrigger()
        self.receivers = ReceiverTable()
        self.entries = {kind: entry(receiver(kind, BY_NAME, name=kind)) for kind in _TYPES}
        self.receivers.replace(self.entries.values())
        engine = InMemoryEngine.of(repository("app", "ghcr.io/acme/app"))
        self.app = build_app(engine, self.trigger, store, Metrics(), self.receivers)

    def path(self, kind: str) -> str:
        """The hook path of the ``kind`` Receiver."""
        return self.entries[kind].path


_TYPES = ("generic", "dockerhub", "quay", "acr", "harbor", "github", "cdevents", "nexus")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A real state store."""
    state = SqliteStore(tmp_path / "state.db")
    yield state
    state.close()


@pytest.fixture
def hooks(store: SqliteStore) -> Hooks:
    """The app under test."""
    return Hooks(store)


@pytest.fixture
async def client(hooks: Hooks) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for the app."""
    transport = httpx.ASGITransport(app=hooks.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tagpilot") as http:
        yield http


async def _stream(chunk: bytes, count: int, sent: list[int]) -> AsyncIterator[bytes]:
    for _ in range(count):
        sent.append(len(chunk))
        yield chunk


async def test_a_64_mib_stream_is_cut_off_at_the_limit_with_413(
    client: httpx.AsyncClient, hooks: Hooks
) -> None:
    sent: list[int] = []
    with finishes_within(5.0):
        response = await client.post(
            hooks.path("generic"), content=_stream(b"z" * 65536, 1024, sent)
        )
    assert response.status_code == 413
    assert sum(sent) <= MAX_BODY_BYTES + 2 * 65536
    assert hooks.trigger.calls == []


async def test_a_body_longer_than_its_content_length_is_still_measured(
    client: httpx.AsyncClient, hooks: Hooks
) -> None:
    body = b"x" * (MAX_BODY_BYTES + 10)
    response = await client.post(
        hooks.path("generic"), content=_stream(body, 1, []), headers={"Content-Length": "10"}
    )
    assert response.status_code == 413
    assert hooks.trigger.calls == []


async def test_a_declared_content_length_over_the_limit_is_refused_unread(
    client: httpx.AsyncClient, hooks: Hooks
) -> None:
    sent: list[int] = []
    response = await client.post(
        hooks.path("generic"),
        content=_stream(b"x", 1, sent),
        headers={"Content-Length": str(10 * MAX_BODY_BYTES)},
    )
    assert response.status_code == 413
    assert hooks.trigger.calls == []


async def test_a_content_length_of_five_thousand_digits_is_refused(
    client: httpx.AsyncClient, hooks: Hooks
) -> None:
    response = await client.post(
        hooks.path("generic"), content=b"{}", headers={"Content-Length": "9" * 5000}
    )
    assert response.status_code in (400, 413)


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


MALFORMED = [
    pytest.param("dockerhub", _deep(100_000), "nested too deeply", id="deep-json-objects"),
    pytest.param("quay", b"[" * 100_000 + b"]" * 100_000, "nested too deeply",
                 id="deep-json-arrays"),
    pytest.param("acr", b'{"target": "\xff\xfe"}', "not valid JSON", id="invalid-utf8"),
    pytest.param("dockerhub", b'{"n": ' + b"9" * 5000 + b"}", "not valid JSON",
                 id="5000-digit-number"),
    pytest.param("quay", b'["docker_url"]', "must be a JSON object", id="array-not-object"),
    pytest.param("cdevents", b'{"context": 1, "subject": []}', "context",
                 id="cdevent-wrong-shapes"),
    pytest.param("dockerhub", b"\x00" * 1000, "not valid JSON", id="nul-bytes"),
    pytest.param("dockerhub", b'{"push_data": {}, "repository": {}', "not valid JSON",
                 id="truncated"),
    pytest.param("acr", b"\xef\xbb\xbf{}", "has no target", id="utf8-bom-empty-object"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "body", "why"), MALFORMED)
async def test_malformed_bodies_are_400_with_a_reason_and_trigger_nothing(
    client: httpx.AsyncClient, hooks: Hooks, kind: str, body: bytes, why: str
) -> None:
    with finishes_within(2.0):
        response = await client.post(hooks.path(kind), content=body)
    assert response.status_code == 400
    assert why in response.json()["error"]
    assert hooks.trigger.calls == []


def _signed(kind: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    if kind == "github":
        return {"X-Hub-Signature-256": "sha256=" + hmac_hex("sha256", body), **headers}
    return {"X-Nexus-Webhook-Signature": hmac_hex("sha1", body), **headers}


FORM = "application/x-www-form-urlencoded"
SIGNED_BUT_ODD: list[Any] = [
    pytest.param("github", b"payload=%ZZ%FF&&&=", FORM, 200, id="form-junk"),
    pytest.param("github", b"payload=" + b"%5B" * 50_000, FORM, 200, id="form-deep-json"),
    pytest.param("github", b"\xff\xfe", FORM, 400, id="form-not-utf8"),
    pytest.param("github", _deep(50_000), "application/json", 200, id="deep-json-signed"),
    pytest.param("github", b"{}", "application/xml", 400, id="unsupported-content-type"),
    pytest.param("nexus", _deep(50_000), "application/json", 400, id="nexus-deep-json"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "body", "content_type", "status"), SIGNED_BUT_ODD)
async def test_signed_deliveries_with_odd_bodies_get_a_clean_answer(
    client: httpx.AsyncClient,
    hooks: Hooks,
    kind: str,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    headers = _signed(kind, body, {"Content-Type": content_type, "X-GitHub-Event": "ping"})
    response = await client.post(hooks.path(kind), content=body, headers=headers)
    assert response.status_code == status, response.text


async def test_a_thousand_junk_headers_do_not_confuse_verification(
    client: httpx.AsyncClient, hooks: Hooks
) -> None:
    junk = {f"X-Junk-{n}": "v" * 100 for n in range(1000)}
    body = json.dumps({"docker_url": "ghcr.io/acme/app"}).encode()
    response = await client.post(hooks.path("quay"), content=body, headers=junk)
    assert response.status_code == 200
    assert [key.name for key, _, _ in hooks.trigger.calls] == ["app"]
