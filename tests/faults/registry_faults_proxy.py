"""A chaos proxy for registry fault tests: a real registry behind it, scripted faults in front.

The fault tests point tagpilot at this proxy instead of the registry.  Every request is relayed
to the upstream registry (a fresh connection each, so a stopped registry shows at once); tag
lists are paginated like distribution v3 (``n``/``last``, ``Link: <...>; rel="next"``) so a
listing spans several requests.  Faults apply to tag-list requests only, in the order queued
with :meth:`ChaosProxy.inject`, or to every one with :meth:`ChaosProxy.always`: an HTTP status
(500, 429 with ``Retry-After``), a stall, a body cut mid-way with the connection dropped, a
replaced body (truncated JSON, garbage), raw non-HTTP bytes, or a ``Link`` pointing anywhere.
"""

from __future__ import annotations

import bisect
import http.client
import json
import re
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from servers.httpserver import QuietHandler

__all__ = ["ChaosProxy", "Fault", "LinkTarget", "run_chaos_proxy"]

_TAGS = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_RELAYED_HEADERS = ("authorization", "accept")
_DROPPED_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "link"}
_UPSTREAM_TIMEOUT = 30.0

LinkTarget = Callable[[str, int], str | None]
"""A page's ``Link`` target from the request path and the tag-list request number (None: no
link)."""

Headers = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Fault:
    """What the proxy does with one tag-list request; build one with the class methods."""

    kind: str = "pass"
    status: int = 200
    headers: Headers = ()
    body: bytes = b""
    seconds: float = 0.0
    keep: float = 1.0
    link: LinkTarget | None = None
    then: Callable[[], None] | None = None

    @classmethod
    def answer(cls, status: int, headers: Headers = (), body: bytes = b"") -> Fault:
        """Answer with ``status`` instead of asking the registry (500, 429 + Retry-After)."""
        return cls("answer", status=status, headers=headers, body=body)

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        """Say nothing for ``seconds`` (or until the proxy closes), then relay as usual."""
        return cls("stall", seconds=seconds)

    @classmethod
    def cut_body(cls, keep: float, then: Callable[[], None] | None = None) -> Fault:
        """Relay the page but send only ``keep`` of its body, run ``then``, drop the connection."""
        return cls("cut", keep=keep, then=then)

    @classmethod
    def replace_body(cls, body: bytes) -> Fault:
        """Relay status and headers, but with ``body`` (a complete HTTP message)."""
        return cls("replace", body=body)

    @classmethod
    def trickle(cls, seconds_per_byte: float) -> Fault:
        """Relay the page one body byte at a time, ``seconds_per_byte`` apart."""
        return cls("trickle", seconds=seconds_per_byte)

    @classmethod
    def raw(cls, data: bytes) -> Fault:
        """Write ``data`` (not HTTP at all) and close the connection."""
        return cls("raw", body=data)

    @classmethod
    def next_link(cls, target: LinkTarget) -> Fault:
        """Relay the page with ``Link: <target(path, n)>; rel="next"``."""
        return cls("link", link=target)


@dataclass
class _Plan:
    queued: list[Fault] = field(default_factory=list)
    persistent: Fault | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> Fault:
        with self.lock:
            if self.queued:
                return self.queued.pop(0)
            return self.persistent or Fault()


class ChaosProxy:
    """The running proxy: where it listens, what it was asked, and the faults to play."""

    def __init__(self, upstream: str, page_size: int, closing: threading.Event) -> None:
        self.upstream = upstream
        self.page_size = page_size
        self.url = ""
        self.tag_requests = 0
        """Tag-list requests received (pages and retries)."""
        self.closing = closing
        self._plan = _Plan()
        self._listings: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``, as an image reference wants it."""
        return self.url.removeprefix("http://")

    def inject(self, *faults: Fault) -> None:
        """Play ``faults`` on the next tag-list requests, one each, in order."""
        with self._plan.lock:
            self._plan.queued.extend(faults)

    def always(self, fault: Fault) -> None:
        """Play ``fault`` on every tag-list request once the queued faults are spent."""
        with self._plan.lock:
            self._plan.persistent = fault

    def heal(self) -> None:
        """Forget every fault: relay faithfully from now on."""
        with self._plan.lock:
            self._plan.queued.clear()
            self._plan.persistent = None

    def next_fault(self) -> tuple[Fault, int]:
        """The fault for a tag-list request that just arrived, and that request's number."""
        with self._lock:
            self.tag_requests += 1
            number = self.tag_requests
        return self._plan.take(), number

    def remember(self, name: str, tags: list[str]) -> None:
        """Keep the full tag list read for a first page, so later pages are one consistent list."""
        with self._lock:
            self._listings[name] = tags

    def listing(self, name: str) -> list[str] | None:
        """The tag list remembered for ``name``'s listing in progress, if any."""
        with self._lock:
            return self._listings.get(name)


def fetch_upstream(
    base: str, method: str, path: str, headers: dict[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request to the upstream registry on a fresh connection (``OSError`` if it is down)."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(
        url.hostname or "127.0.0.1", url.port or 80, timeout=_UPSTREAM_TIMEOUT
    )
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def paginate(
    tags: list[str], query: dict[str, list[str]], name: str, page_size: int
) -> tuple[list[str], str | None]:
    """One page of ``tags`` (sorted) after ``last``, and the next page's link target if any."""
    last = query.get("last", [None])[0]
    if last is not None:
        tags = tags[bisect.bisect_right(tags, last) :]
    size = int(query.get("n", [str(page_size)])[0] or 0)
    if not size or len(tags) <= size:
        return tags, None
    tags = tags[:size]
    following = urllib.parse.urlencode({"last": tags[-1], "n": size})
    return tags, f"/v2/{name}/tags/list?{following}"


def _make_handler(proxy: ChaosProxy) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self._handle(head=False)

        def do_HEAD(self) -> None:
            self._handle(head=True)

        def _handle(self, head: bool) -> None:
            url = urllib.parse.urlsplit(self.path)
            match = _TAGS.match(url.path)
            if match is None or head:
                return self._relay(head)
            fault, number = proxy.next_fault()
            return _play(self, proxy, fault, number, match["name"], url.query)

        def _relay(self, head: bool) -> None:
            try:
                status, headers, body = fetch_upstream(
                    proxy.upstream, "HEAD" if head else "GET", self.path, relayed_headers(self)
                )
            except OSError:
                return drop(self)
            kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED_HEADERS]
            self.reply(status, body, kept, head=head)

    return Handler


def relayed_headers(handler: QuietHandler) -> dict[str, str]:
    """The request headers the registry needs: credentials and the accepted media types."""
    return {k: v for k, v in handler.headers.items() if k.lower() in _RELAYED_HEADERS}


def drop(handler: QuietHandler) -> None:
    """Close the client's connection without (the rest of) an answer."""
    handler.close_connection = True
    with suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)


def _page(
    handler: QuietHandler, proxy: ChaosProxy, name: str, query: str
) -> tuple[int, list[tuple[str, str]], bytes, str | None] | None:
    """The page the registry would serve (status, headers, body, next link), or None if down."""
    parsed = urllib.parse.parse_qs(query)
    tags = proxy.listing(name) if "last" in parsed else None
    if tags is not None and not _upstream_alive(proxy):
        return None
    if tags is None:
        try:
            status, headers, body = fetch_upstream(
                proxy.upstream, "GET", f"/v2/{name}/tags/list", relayed_headers(handler)
            )
        except OSError:
            return None
        if status != 200:
            return status, headers, body, None
        tags = sorted(json.loads(body).get("tags") or [])
        proxy.remember(name, tags)
    page, link = paginate(tags, parsed, name, proxy.page_size)
    body = json.dumps({"name": name, "tags": page}).encode()
    return 200, [("Content-Type", "application/json")], body, link


def _upstream_alive(proxy: ChaosProxy) -> bool:
    """Whether the registry still answers: later pages come from the remembered list, but a
    registry that died mid-listing must fail them as it would."""
    try:
        fetch_upstream(proxy.upstream, "GET", "/v2/", {})
    except OSError:
        return False
    return True


def _play(
    handler: QuietHandler, proxy: ChaosProxy, fault: Fault, number: int, name: str, query: str
) -> None:
    if fault.kind == "answer":
        return handler.reply(fault.status, fault.body, fault.headers)
    if fault.kind == "raw":
        handler.wfile.write(fault.body)
        return drop(handler)
    if fault.kind == "stall" and proxy.closing.wait(fault.seconds):
        return drop(handler)
    page = _page(handler, proxy, name, query)
    if page is None:
        return drop(handler)
    status, headers, body, link = page
    if fault.kind == "link" and fault.link is not None:
        link = fault.link(handler.path, number)
    kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED_HEADERS]
    kept += [("Link", f'<{link}>; rel="next"')] if link else []
    if fault.kind in ("cut", "trickle"):
        return _send_in_pieces(handler, proxy, status, kept, body, fault)
    return handler.reply(status, fault.body if fault.kind == "replace" else body, kept)


def _send_in_pieces(
    handler: QuietHandler,
    proxy: ChaosProxy,
    status: int,
    headers: Headers,
    body: bytes,
    fault: Fault,
) -> None:
    """Send the whole head, then the body cut short (``cut``) or byte by byte (``trickle``)."""
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if fault.kind == "trickle":
        for index in range(len(body)):
            handler.wfile.write(body[index : index + 1])
            if proxy.closing.wait(fault.seconds):
                break
        return drop(handler)
    handler.wfile.write(body[: int(len(body) * fault.keep)])
    if fault.then is not None:
        fault.then()
    return drop(handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up on a stalled or cut answer is expected here: stay quiet."""


@contextmanager
def run_chaos_proxy(upstream: str, *, page_size: int = 0) -> Iterator[ChaosProxy]:
    """Serve a chaos proxy for ``upstream`` (``http://host:port``) on loopback; yield it.

    ``page_size`` is the page length when the client sends no ``n`` (0: one page).
    """
    closing = threading.Event()
    proxy = ChaosProxy(upstream, page_size, closing)
    server = _Server(("127.0.0.1", 0), _make_handler(proxy))
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        closing.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
