"""The connection guard on real loopback sockets: slow clients cannot hold the server.

Each test serves a small app through ``serve`` with a tiny budget (four connections, a
one-second request deadline) and plays hostile clients with raw sockets.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tagpilot.server.guard import MAX_CONNECTIONS, ConnectionGuard
from tagpilot.server.serve import bind, serve

BUDGET, DEADLINE = 4, 1.0
PARTIAL_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: tagpilot\r\n"


@dataclass
class Served:
    """A running server: its address, its guard, and the gate the ``/slow`` route awaits."""

    host: str
    port: int
    guard: ConnectionGuard
    gate: asyncio.Event

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    gate = asyncio.Event()

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def slow(request: Request) -> Response:
        await gate.wait()
        return PlainTextResponse("done\n")

    async def echo(request: Request) -> Response:
        return PlainTextResponse(f"{len(await request.body())}\n")

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/slow", slow),
            Route("/echo", echo, methods=["POST"]),
        ]
    )
    sock = bind("127.0.0.1", 0)
    guard = ConnectionGuard(BUDGET, DEADLINE)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop=stop, sock=sock, guard=guard))
    host, port = sock.getsockname()[:2]
    yield Served(host, port, guard, gate)
    gate.set()
    stop.set()
    await asyncio.wait_for(task, 15)


async def _open(served: Served, first: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(served.host, served.port)
    writer.write(first)
    await writer.drain()
    return reader, writer


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before it closed the connection (fails if it stays open)."""
    async with asyncio.timeout(seconds):
        return await reader.read()


async def _healthz(served: Served) -> int:
    async with httpx.AsyncClient(base_url=served.url, timeout=5) as http:
        return (await http.get("/healthz")).status_code


async def test_a_client_that_never_finishes_its_headers_is_cut_at_the_deadline(
    served: Served,
) -> None:
    reader, writer = await _open(served, PARTIAL_HEADERS)
    started = asyncio.get_running_loop().time()
    assert await _closed_within(reader, DEADLINE + 2) == b""
    assert asyncio.get_running_loop().time() - started >= DEADLINE * 0.9
    assert served.guard.tally.timed_out == 1
    writer.close()


async def test_a_body_dribbled_past_the_deadline_is_cut(served: Served) -> None:
    head = b"POST /echo HTTP/1.1\r\nHost: tagpilot\r\nContent-Length: 100\r\n\r\n"
    reader, writer = await _open(served, head)
    for _ in range(3):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(DEADLINE / 2)
    assert await _closed_within(reader, DEADLINE + 2) == b""
    writer.close()


async def test_slow_clients_filling_the_budget_do_not_lock_out_healthz(served: Served) -> None:
    """The connection that has waited longest for its request makes room for a new one."""
    slow = [await _open(served, PARTIAL_HEADERS) for _ in range(BUDGET * 3)]
    assert [await _healthz(served) for _ in range(5)] == [200] * 5
    assert served.guard.open <= BUDGET
    assert served.guard.tally.evicted >= BUDGET * 2
    for _, writer in slow:
        writer.close()


async def test_when_every_connection_is_being_served_a_newcomer_gets_503_at_once(
    served: Served,
) -> None:
    """Requests the app is answering are never cut to make room."""
    busy = [await _open(served, b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n") for _ in range(BUDGET)]
    await asyncio.sleep(0.2)
    reader, writer = await _open(served, b"")
    answer = await _closed_within(reader, 2)
    assert answer.startswith(b"HTTP/1.1 503 ")
    served.gate.set()
    for busy_reader, _ in busy:
        async with asyncio.timeout(DEADLINE * 3):
            assert (await busy_reader.readuntil(b"done\n")).startswith(b"HTTP/1.1 200 ")
    writer.close()
    for _, busy_writer in busy:
        busy_writer.close()


async def test_a_keep_alive_connection_gets_a_new_deadline_for_each_request(
    served: Served,
) -> None:
    reader, writer = await _open(served, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await reader.readuntil(b"ok\n")).startswith(b"HTTP/1.1 200 ")
    writer.write(PARTIAL_HEADERS)
    await writer.drain()
    assert await _closed_within(reader, DEADLINE + 2) == b""
    writer.close()


@pytest.mark.parametrize(
    ("limit", "lowest", "highest"),
    [
        pytest.param(256, 8, 128, id="low-limit-half-the-free-descriptors"),
        pytest.param(64, 8, 32, id="tiny-limit-still-serves-a-few"),
        pytest.param(16384, MAX_CONNECTIONS, MAX_CONNECTIONS, id="high-limit-capped"),
    ],
)
def test_the_budget_keeps_descriptors_in_reserve(limit: int, lowest: int, highest: int) -> None:
    code = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({limit}, {limit}))\n"
        "from tagpilot.server.guard import connection_budget\n"
        "print(connection_budget())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert lowest <= int(done.stdout) <= highest
