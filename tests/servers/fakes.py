"""Misbehaving registries for failure tests: scripted answers, stalls, and non-HTTP garbage.

Only for behaviour a real registry cannot be made to show (rate limits, 5xx, junk bodies,
pagination loops, a server that never answers).  Each runs in a thread on a free port.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from .httpserver import QuietHandler, serve

__all__ = ["Answer", "Script", "run_garbage_server", "run_scripted", "run_stalling_server"]


@dataclass(frozen=True)
class Answer:
    """One scripted HTTP response."""

    status: int = 200
    body: bytes = b""
    headers: Sequence[tuple[str, str]] = ()


@dataclass
class Script:
    """Maps each request path (with query) to an answer; records what was asked."""

    respond: Callable[[str, str], Answer]
    requests: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def run_scripted(script: Script) -> Iterator[str]:
    """Serve ``script`` over HTTP; yield ``http://127.0.0.1:<port>``."""

    class Handler(QuietHandler):
        def _answer(self, head: bool) -> None:
            method = "HEAD" if head else "GET"
            script.requests.append((method, self.path))
            answer = script.respond(method, self.path)
            self.reply(answer.status, answer.body, answer.headers, head=head)

        def do_GET(self) -> None:
            self._answer(head=False)

        def do_HEAD(self) -> None:
            self._answer(head=True)

    with serve(Handler) as base:
        yield base


@contextmanager
def _raw_server(on_connection: Callable[[socket.socket], None]) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(connection)
            on_connection(connection)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()
        listener.close()


@contextmanager
def run_stalling_server() -> Iterator[str]:
    """Accept connections and never answer; yield ``host:port``."""
    with _raw_server(lambda connection: None) as host:
        yield host


@contextmanager
def run_garbage_server(payload: bytes = b"SSH-2.0-OpenSSH_9.2 not http\r\n\r\n") -> Iterator[str]:
    """Answer every connection with ``payload`` (not HTTP) and close; yield ``host:port``."""

    def answer(connection: socket.socket) -> None:
        try:
            connection.recv(65536)
            connection.sendall(payload)
        finally:
            connection.close()

    with _raw_server(answer) as host:
        yield host
