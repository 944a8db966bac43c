"""Run the HTTP app with uvicorn inside the daemon's own asyncio loop.

``tagpilot run`` binds the listening socket with :func:`bind` (so a busy port is a clear
error, not uvicorn's ``sys.exit``), then awaits :func:`serve` next to the scheduler.
Signals stay the daemon's: uvicorn's handlers are not installed; setting ``stop`` ends
the server gracefully (open requests finish, up to :data:`GRACEFUL_SECONDS`).  Every
connection goes through a :class:`tagpilot.server.guard.ConnectionGuard` (a budget of
descriptors, a deadline for each request), shared by all the daemon's listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from tagpilot.core.errors import StalledError
from tagpilot.server.guard import (
    ConnectionGuard,
    accept_burst,
    connection_budget,
    guarded_protocol,
)

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "GRACEFUL_SECONDS", "BindError", "bind", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9797
GRACEFUL_SECONDS = 5


class BindError(StalledError):
    """The address cannot be listened on (in use, not local, no permission)."""


def bind(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, option: str = "--http-address"
) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port).

    ``option`` is the flag that chose the address, named in the error.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise BindError(
            f"cannot listen on {host}:{port}: {error.strerror or error} "
            f"(choose another address with {option})"
        ) from error
    sock.setblocking(False)
    return sock


class _DaemonServer(uvicorn.Server):
    """uvicorn's server without its signal handlers: the daemon owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    app: ASGIApp,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    stop: asyncio.Event,
    sock: socket.socket | None = None,
    guard: ConnectionGuard | None = None,
) -> None:
    """Serve ``app`` until ``stop`` is set, then shut down gracefully.

    Listens on ``sock`` when given (from :func:`bind`), else binds ``host:port`` itself.
    Without ``guard``, one sized by :func:`connection_budget` is made.
    """
    listening = sock if sock is not None else bind(host, port)
    guard = guard or ConnectionGuard(connection_budget())
    config = uvicorn.Config(
        app,
        http=guarded_protocol(guard),
        # uvicorn counts the connection asking as well: one more keeps the guard in charge.
        limit_concurrency=guard.max_connections + 1,
        # asyncio accepts up to ``backlog`` connections per wake-up, each a descriptor,
        # before the guard sees any of them: keep that burst a fraction of the budget.
        backlog=accept_burst(guard.max_connections),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    server = _DaemonServer(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stopping.cancel()
        await serving
        listening.close()
