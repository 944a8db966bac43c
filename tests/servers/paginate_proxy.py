"""A read-only proxy adding distribution-v3 tag pagination in front of registry 2.8.

Registry 2.8 ignores ``?n=``/``?last=`` on ``tags/list``; this proxy emulates the OCI spec:
tags sorted lexically, ``last`` exclusive, at most ``n`` per page (or ``default_n`` when the
client sends none), and ``Link: </v2/<name>/tags/list?last=X&n=N>; rel="next"`` while more
remain.  Other GET/HEAD requests pass through.  It is an emulation for testing Link-following
clients, not a registry.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

from .httpserver import QuietHandler, serve

__all__ = ["run_paginate_proxy"]

_TAGS = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "link", "content-type"}


def _upstream(
    base: str, method: str, path: str, headers: dict[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=30)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _page(
    tags: list[str], query: dict[str, list[str]], name: str, default_n: int
) -> tuple[list[str], str | None]:
    last = query.get("last", [None])[0]
    if last is not None:
        tags = [t for t in tags if t > last]
    size = int(query.get("n", [str(default_n)])[0] or 0)
    if not size or len(tags) <= size:
        return tags, None
    tags = tags[:size]
    following = f"/v2/{name}/tags/list?" + urllib.parse.urlencode({"last": tags[-1], "n": size})
    return tags, f'<{following}>; rel="next"'


def _make_handler(upstream: str, default_n: int) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def _forward_headers(self) -> dict[str, str]:
            return {
                k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")
            }

        def do_GET(self, head: bool = False) -> None:
            url = urllib.parse.urlsplit(self.path)
            match = _TAGS.match(url.path)
            method = "HEAD" if head else "GET"
            status, headers, body = _upstream(
                upstream, method, url.path if match else self.path, self._forward_headers()
            )
            kept = [(k, v) for k, v in headers if k.lower() not in _HOP]
            if not match or status != 200:
                return self.reply(
                    status,
                    body,
                    kept + [(k, v) for k, v in headers if k.lower() == "content-type"],
                    head=head,
                )
            document = json.loads(body)
            tags, link = _page(
                sorted(document.get("tags") or []),
                urllib.parse.parse_qs(url.query),
                match["name"],
                default_n,
            )
            extra = [("Link", link)] if link else []
            out = json.dumps({"name": document["name"], "tags": tags}).encode()
            return self.reply(
                200, out, [*kept, *extra, ("Content-Type", "application/json")], head=head
            )

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

    return Handler


@contextmanager
def run_paginate_proxy(upstream: str, *, default_n: int = 0) -> Iterator[str]:
    """Serve the paginating proxy for ``upstream`` (an ``http://`` registry URL); yield its URL."""
    with serve(_make_handler(upstream, default_n)) as base:
        yield base
