"""A forward HTTP proxy with Basic ``Proxy-Authorization``, for ``proxySecretRef`` tests.

Handles absolute-URI ``GET``/``HEAD`` requests for ``http://`` targets; ``CONNECT`` (HTTPS
tunnels) is refused with 405.  Records the targets it forwarded.
"""

from __future__ import annotations

import base64
import http.client
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .httpserver import QuietHandler, serve

__all__ = ["ProxyLog", "run_forward_proxy"]

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-authorization"}


@dataclass
class ProxyLog:
    """What the proxy forwarded, in order."""

    forwarded: list[str] = field(default_factory=list)


def _make_handler(user: str, password: str, log: ProxyLog) -> type[QuietHandler]:
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(QuietHandler):
        def _forward(self, head: bool) -> None:
            if self.headers.get("Proxy-Authorization") != expected:
                challenge = [("Proxy-Authenticate", 'Basic realm="proxy"')]
                return self.reply(407, b"proxy credentials required", challenge, head=head)
            target = urllib.parse.urlsplit(self.path)
            log.forwarded.append(self.path)
            connection = http.client.HTTPConnection(
                target.hostname or "", target.port or 80, timeout=30
            )
            try:
                path = target.path + (f"?{target.query}" if target.query else "")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                connection.request("HEAD" if head else "GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
                return self.reply(response.status, body, kept, head=head)
            finally:
                connection.close()

        def do_GET(self) -> None:
            self._forward(head=False)

        def do_HEAD(self) -> None:
            self._forward(head=True)

        def do_CONNECT(self) -> None:
            self.reply(405, b"no tunnels here")

    return Handler


@contextmanager
def run_forward_proxy(user: str, password: str) -> Iterator[tuple[str, ProxyLog]]:
    """Serve the proxy on a free loopback port; yield its URL and its log."""
    log = ProxyLog()
    with serve(_make_handler(user, password, log)) as url:
        yield url, log
