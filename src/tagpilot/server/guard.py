"""Keep hostile HTTP clients from starving the daemon of file descriptors and time.

The webhook port is reachable by registries and CI, so it is treated as hostile.  Every
connection costs a file descriptor, and a client that dribbles its headers one byte at a
time holds one for as long as it likes.  :class:`ConnectionGuard` bounds that:

* at most ``max_connections`` open at once, well below the process's descriptor limit, so
  git and registry work always find descriptors (:func:`connection_budget`);
* a request (headers and body) must arrive within ``read_seconds`` of the connection
  opening or of the previous response, else the connection is closed;
* when the budget is spent, the connection that has waited longest for its request is
  closed to make room (a slow client cannot lock out ``/healthz`` or a real webhook); a
  connection whose request the app is already serving is never cut for a newcomer, and
  when all of them are, the newcomer is answered 503 at once and closed.

:func:`guarded_protocol` plugs the guard into uvicorn's h11 protocol; ``serve`` uses it.
"""

from __future__ import annotations

import asyncio
import os
import resource
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "DEFAULT_READ_SECONDS",
    "MAX_CONNECTIONS",
    "ConnectionGuard",
    "accept_burst",
    "connection_budget",
    "guarded_protocol",
]

DEFAULT_READ_SECONDS = 10.0
"""Seconds a client has to send a whole request (a webhook body is at most 1 MiB)."""
MAX_CONNECTIONS = 512
"""The most connections served at once, however high the descriptor limit."""
_BUSY_BODY = b"too many connections\n"
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


def _open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 64  # no /proc: assume a typical start-up count


def accept_burst(max_connections: int) -> int:
    """How many connections to accept in one go (and the listen backlog): an eighth of
    the budget, so a burst of new connections cannot eat the descriptors kept in reserve."""
    return max(4, max_connections // 8)


def connection_budget() -> int:
    """How many HTTP connections to allow: half the descriptors still free, at most 512.

    The other half stays in reserve for registry connections, git processes and the
    state file, which must keep working while the HTTP side is under pressure.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    free = soft - _open_descriptors()
    return max(8, min(MAX_CONNECTIONS, free // 2))


@dataclass
class _Tally:
    """What the guard did, for the log and for tests."""

    evicted: int = 0
    refused: int = 0
    timed_out: int = 0


class ConnectionGuard:
    """The shared connection budget of every listener of one daemon."""

    def __init__(self, max_connections: int, read_seconds: float = DEFAULT_READ_SECONDS) -> None:
        if max_connections < 1 or read_seconds <= 0:
            raise ValueError("max_connections and read_seconds must be positive")
        self.max_connections = max_connections
        self.read_seconds = read_seconds
        self.tally = _Tally()
        self._waiting: OrderedDict[_Guarded, None] = OrderedDict()
        self._serving: set[_Guarded] = set()

    @property
    def open(self) -> int:
        """Connections now open."""
        return len(self._waiting) + len(self._serving)

    def admit(self, connection: _Guarded) -> bool:
        """Make room for ``connection`` if need be; False when everyone is being served."""
        if self.open >= self.max_connections:
            if not self._waiting:
                self.tally.refused += 1
                return False
            oldest = next(iter(self._waiting))
            self.tally.evicted += 1
            oldest.cut()
        self._waiting[connection] = None
        return True

    def reading(self, connection: _Guarded) -> None:
        """``connection`` waits for its next request."""
        self._serving.discard(connection)
        self._waiting[connection] = None
        self._waiting.move_to_end(connection)

    def serving(self, connection: _Guarded) -> None:
        """``connection``'s request arrived whole; the app answers it."""
        self._waiting.pop(connection, None)
        self._serving.add(connection)

    def gone(self, connection: _Guarded) -> None:
        """``connection`` closed."""
        self._waiting.pop(connection, None)
        self._serving.discard(connection)


class _Guarded(H11Protocol):
    """uvicorn's h11 protocol under a :class:`ConnectionGuard` (set by the factory)."""

    guard: ConnectionGuard

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._admitted = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.guard.admit(self):
            transport.write(_BUSY)
            transport.close()
            return
        self._admitted = True
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._admitted:
            self.guard.gone(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return
        super().data_received(data)
        if self.conn.their_state is h11.DONE and self._deadline is not None:
            self._disarm()
            self.guard.serving(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._admitted and not self.transport.is_closing():
            self.guard.reading(self)
            self._arm()

    def cut(self) -> None:
        """Close the connection now (evicted, or too slow to send its request)."""
        self._disarm()
        # uvicorn counts open connections for its own limit; the transport reports the
        # loss a loop turn later, too late for the newcomer this eviction made room for.
        self.connections.discard(self)
        self.guard.gone(self)
        self.transport.abort()

    def _too_slow(self) -> None:
        self._deadline = None
        self.guard.tally.timed_out += 1
        self.cut()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.guard.read_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def guarded_protocol(guard: ConnectionGuard) -> type[H11Protocol]:
    """An h11 protocol class whose connections ``guard`` admits, times and evicts."""
    return type("GuardedH11Protocol", (_Guarded,), {"guard": guard})
