"""Loopback HTTP servers for the redirect tests: a redirector and a git server that records.

:func:`recording_git_server` serves the bare repos under a root through the real
``git http-backend`` (the same CGI bridge as ``servers.git_http``) and records the
``Authorization`` header of every request it receives; paths under ``/moved/`` answer a
``302`` to the same path without that prefix on the same origin.  :func:`redirector`
answers every request with a ``302`` to the same path on another base URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from servers.git_http import _Handler as GitBackendHandler
from servers.httpserver import QuietHandler, serve

__all__ = ["RecordingServer", "recording_git_server", "redirector"]

_MOVED = "/moved/"


@dataclass
class RecordingServer:
    """A running recording git server: its base URL and what it saw."""

    base_url: str = ""
    requests: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)


@contextmanager
def recording_git_server(root: str, credentials: str | None = None) -> Iterator[RecordingServer]:
    """Serve ``root``'s bare repos; Basic auth with ``name:password`` when given."""
    record = RecordingServer()

    class Handler(GitBackendHandler):
        def _serve(self) -> None:
            record.requests.append(f"{self.command} {self.path}")
            if header := self.headers.get("Authorization"):
                record.authorizations.append(header)
            if self.path.startswith(_MOVED):
                location = record.base_url + "/" + self.path.removeprefix(_MOVED)
                self._reply(302, [("Location", location)], b"")
                return
            super()._serve()

        def log_message(self, format: str, *args: object) -> None:
            return

    Handler.root = root
    Handler.credentials = credentials
    with serve(Handler) as url:
        record.base_url = url
        yield record


@contextmanager
def redirector(target: str) -> Iterator[str]:
    """Answer every GET and POST with ``302`` to the same path under ``target``."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self.reply(302, headers=[("Location", target + self.path)])

        def do_POST(self) -> None:
            self.do_GET()

    with serve(Handler) as url:
        yield url
