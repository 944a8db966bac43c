"""Threaded loopback HTTP servers for tests, without the keep-alive stall.

``http.server`` writing headers and body in separate sends on a keep-alive connection stalls
about 40 ms per response (Nagle + delayed ACK); the handler here sets ``TCP_NODELAY`` and
writes each response in one go.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["QuietHandler", "serve"]


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler that logs nothing and replies in one write."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        return

    def reply(
        self,
        status: int,
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
        *,
        head: bool = False,
    ) -> None:
        """Send a complete response in one write."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers() if head else self._write_with_body(body)

    def _write_with_body(self, body: bytes) -> None:
        self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
        self._headers_buffer.append(body)  # type: ignore[attr-defined]
        self.flush_headers()

    def reply_json(
        self, status: int, document: object, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Send ``document`` as a JSON response."""
        body = json.dumps(document).encode()
        self.reply(status, body, [("Content-Type", "application/json"), *headers])


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run ``handler`` on a free loopback port in a thread; yield ``http://127.0.0.1:<port>``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
