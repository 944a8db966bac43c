"""Reading a registry response body within a size cap, decoding gzip/deflate ourselves.

Used by the transport for every response.  httpx would inflate a ``Content-Encoding: gzip``
body in one go, so 3 MB on the wire could become gigabytes in memory before anything looked
at it.  Here the raw bytes are streamed and inflated piece by piece with zlib's
``max_length``, so no more than the cap (plus one network chunk) is ever held; the time
budget is checked between pieces, and a body that does not inflate is a one-line error.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import httpx

from tagpilot.adapters.registry.errors import MalformedResponseError
from tagpilot.core.tags import escape_untrusted

__all__ = ["buffered", "read_capped"]

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_HOP_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


def _decoder(response: httpx.Response, host: str) -> zlib._Decompress | None:
    encodings = [
        part.strip().lower()
        for part in response.headers.get("content-encoding", "").split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]
    if not encodings:
        return None
    if len(encodings) > 1 or encodings[0] not in _WBITS:
        shown = escape_untrusted(response.headers.get("content-encoding", ""))
        raise MalformedResponseError(
            f"registry {host} answered with Content-Encoding {shown}, which was not asked for"
            " (tagpilot accepts gzip and deflate)"
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


def _inflate(decoder: zlib._Decompress, chunk: bytes, sink: _Sink, host: str) -> None:
    pending = chunk
    while pending:
        try:
            sink.add(decoder.decompress(pending, sink.room()))
        except zlib.error as error:
            raise MalformedResponseError(
                f"registry {host} sent a compressed body that does not decompress ({error})"
            ) from error
        pending = decoder.unconsumed_tail
        if decoder.eof:
            return


async def read_capped(
    response: httpx.Response, cap: int, host: str, check_time: Callable[[], None]
) -> bytes:
    """The decoded body of a streamed ``response``, at most ``cap`` bytes.

    ``check_time`` is called between pieces and raises when the operation's time is up.
    Raises :class:`MalformedResponseError` for an oversized, unknown-encoded or corrupt body.
    """
    decoder = _decoder(response, host)
    sink = _Sink(cap, host, "response")
    async for chunk in response.aiter_raw():
        check_time()
        if decoder is None:
            sink.add(chunk, len(chunk))
            continue
        sink.add(b"", len(chunk))
        _inflate(decoder, chunk, sink, host)
    if decoder is not None and sink.raw and not decoder.eof:
        raise MalformedResponseError(
            f"registry {host} sent a compressed body that ends before its end (truncated)"
        )
    return bytes(sink.data)


def buffered(response: httpx.Response, body: bytes) -> httpx.Response:
    """A complete response carrying the already decoded ``body`` (encoding headers dropped)."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=response.extensions,
    )
