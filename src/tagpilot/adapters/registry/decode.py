"""Decoding a registry response body within a size cap, inflating gzip/deflate ourselves.

Shared by both registry clients: each feeds the raw bytes it reads from the wire into a
:class:`BodyReader`.  A ``Content-Encoding: gzip`` body is inflated piece by piece with zlib's
``max_length``, so 3 MB on the wire never becomes gigabytes in memory: no more than the cap
(plus one network chunk) is ever held, and a body that does not inflate is a one-line error.
"""

from __future__ import annotations

import zlib

from tagpilot.adapters.registry.errors import MalformedResponseError
from tagpilot.core.tags import escape_untrusted

__all__ = ["READ_CHUNK", "BodyReader"]

READ_CHUNK = 64 * 1024
"""Bytes asked of the socket at a time by the synchronous lister."""

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _decoder(content_encoding: str, host: str) -> zlib._Decompress | None:
    encodings = [
        part.strip().lower()
        for part in content_encoding.split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]
    if not encodings:
        return None
    if len(encodings) > 1 or encodings[0] not in _WBITS:
        raise MalformedResponseError(
            f"registry {host} answered with Content-Encoding {escape_untrusted(content_encoding)},"
            " which was not asked for (tagpilot accepts gzip and deflate)"
        )
    return zlib.decompressobj(_WBITS[encodings[0]])


class _Sink:
    """Collects decoded bytes and refuses the body once it passes ``cap``."""

    def __init__(self, cap: int, host: str, what: str) -> None:
        self.data = bytearray()
        self.raw = 0
        self._cap = cap
        self._host = host
        self._what = what

    def room(self) -> int:
        return self._cap - len(self.data) + 1

    def add(self, piece: bytes, raw: int = 0) -> None:
        self.data += piece
        self.raw += raw
        if len(self.data) > self._cap or self.raw > self._cap:
            mib = self._cap / (1024 * 1024)
            raise MalformedResponseError(
                f"registry {self._host} sent a {self._what} larger than {mib:g} MiB"
                f"{' once decompressed' if self.raw < len(self.data) else ''}; refusing it"
                " (a compression bomb or a runaway answer)"
            )


class BodyReader:
    """Turns the raw pieces of one response body into its decoded bytes, at most ``cap``.

    Raises :class:`MalformedResponseError` for an oversized, unknown-encoded or corrupt body.
    """

    def __init__(self, content_encoding: str | None, cap: int, host: str) -> None:
        self._decoder = _decoder(content_encoding or "", host)
        self._sink = _Sink(cap, host, "response")
        self._host = host

    def feed(self, chunk: bytes) -> None:
        """Add one piece of the body as it came off the wire."""
        if self._decoder is None:
            self._sink.add(chunk, len(chunk))
            return
        self._sink.add(b"", len(chunk))
        pending = chunk
        while pending:
            try:
                self._sink.add(self._decoder.decompress(pending, self._sink.room()))
            except zlib.error as error:
                raise MalformedResponseError(
                    f"registry {self._host} sent a compressed body that does not decompress"
                    f" ({error})"
                ) from error
            pending = self._decoder.unconsumed_tail
            if self._decoder.eof:
                return

    def finish(self) -> bytes:
        """The decoded body; a compressed body cut short is refused."""
        if self._decoder is not None and self._sink.raw and not self._decoder.eof:
            raise MalformedResponseError(
                f"registry {self._host} sent a compressed body that ends before its end (truncated)"
            )
        return bytes(self._sink.data)
