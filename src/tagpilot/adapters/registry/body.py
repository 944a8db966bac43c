"""Reading an httpx response body within a size cap, decoding gzip/deflate ourselves.

Used by the async transport for every response.  httpx would inflate a ``Content-Encoding:
gzip`` body in one go; here the raw bytes are streamed into a :class:`BodyReader` (see
``decode``), and the time budget is checked between pieces.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tagpilot.adapters.registry.decode import BodyReader

__all__ = ["buffered", "read_capped"]

_HOP_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


async def read_capped(
    response: httpx.Response, cap: int, host: str, check_time: Callable[[], None]
) -> bytes:
    """The decoded body of a streamed ``response``, at most ``cap`` bytes.

    ``check_time`` is called between pieces and raises when the operation's time is up.
    Raises :class:`MalformedResponseError` for an oversized, unknown-encoded or corrupt body.
    """
    reader = BodyReader(response.headers.get("content-encoding"), cap, host)
    async for chunk in response.aiter_raw():
        check_time()
        reader.feed(chunk)
    return reader.finish()


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
