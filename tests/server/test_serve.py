"""serve(): uvicorn on a real loopback socket inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from server_support import TOKEN, InMemoryEngine, RecordingTrigger, entry, hmac_hex, receiver
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from tagpilot.adapters.store import SqliteStore
from tagpilot.ports import ObjectKey
from tagpilot.server.app import build_app
from tagpilot.server.metrics import Metrics
from tagpilot.server.receivers import ReceiverTable
from tagpilot.server.serve import BindError, bind, serve


@dataclass
class Running:
    """A served app: its base URL, the stop event and the serving task."""

    url: str
    stop: asyncio.Event
    task: asyncio.Task[None]


async def _start(app: ASGIApp) -> Running:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop=stop, sock=sock))
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                await http.get(f"{url}/healthz")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.02)
    return Running(url, stop, task)


async def _stop(running: Running) -> None:
    running.stop.set()
    await asyncio.wait_for(running.task, timeout=10)


@pytest.fixture
async def daemon(
    engine: InMemoryEngine,
    trigger: RecordingTrigger,
    store: SqliteStore,
    metrics: Metrics,
    receivers: ReceiverTable,
) -> AsyncIterator[Running]:
    """The full app served on a free loopback port."""
    running = await _start(build_app(engine, trigger, store, metrics, receivers))
    yield running
    if not running.task.done():
        await _stop(running)


async def test_signed_webhook_over_real_http_triggers_the_repository(
    daemon: Running, receivers: ReceiverTable, trigger: RecordingTrigger
) -> None:
    served = entry(receiver("github", [{"kind": "ImageRepository", "name": "app"}]))
    receivers.replace([served])
    body = b'{"action": "published"}'
    headers = {
        "X-Hub-Signature-256": "sha256=" + hmac_hex("sha256", body),
        "X-GitHub-Event": "package",
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(base_url=daemon.url) as http:
        good = await http.post(served.path, content=body, headers=headers)
        forged = await http.post(served.path, content=body + b" ", headers=headers)
        metrics = await http.get("/metrics")
    assert good.status_code == 200
    assert trigger.calls == [
        (ObjectKey("ImageRepository", "apps", "app"), "webhook from Receiver apps/hook", None)
    ]
    assert forged.status_code == 401
    assert 'result="unauthorized"} 1.0' in metrics.text
    assert TOKEN.decode() not in forged.text


async def test_stop_ends_the_server_and_frees_the_port(daemon: Running) -> None:
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{daemon.url}/healthz")).status_code == 200
        await _stop(daemon)
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{daemon.url}/healthz")


async def test_request_in_flight_at_stop_still_gets_its_answer() -> None:
    started = asyncio.Event()

    async def slow(request: Request) -> PlainTextResponse:
        started.set()
        await asyncio.sleep(0.5)
        return PlainTextResponse("done")

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    running = await _start(Starlette(routes=[Route("/slow", slow), Route("/healthz", healthz)]))
    async with httpx.AsyncClient() as http:
        pending = asyncio.create_task(http.get(f"{running.url}/slow"))
        await started.wait()
        running.stop.set()
        response = await pending
    await asyncio.wait_for(running.task, timeout=10)
    assert (response.status_code, response.text) == (200, "done")


def test_busy_port_is_a_clear_bind_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            BindError, match=rf"cannot listen on 127\.0\.0\.1:{port}: .*with --http-address\)$"
        ):
            bind("127.0.0.1", port)


async def test_huge_body_over_real_http_is_413(
    daemon: Running, receivers: ReceiverTable, trigger: RecordingTrigger
) -> None:
    served = entry(receiver("generic", [{"kind": "ImageRepository", "name": "app"}]))
    receivers.replace([served])
    async with httpx.AsyncClient(base_url=daemon.url) as http:
        response = await http.post(served.path, content=b"x" * (8 << 20))
    assert response.status_code == 413
    assert trigger.calls == []
