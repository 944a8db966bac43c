"""Registry etiquette: per-host concurrency, a request budget, and how long to wait on retries.

The registry client holds one :class:`HostLimiter` per registry host and asks
:func:`backoff_delay` / :func:`parse_retry_after` how long to sleep before a retry.  Budgets
are per client (per process), which is what a registry's rate limit sees.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ["HostLimiter", "Limits", "backoff_delay", "parse_retry_after"]


@dataclass(frozen=True)
class Limits:
    """How politely to talk to one registry host."""

    max_concurrency: int = 8
    """Requests in flight per host at once."""
    requests_per_second: float | None = None
    """Sustained request budget per host (token bucket); ``None`` means unlimited."""
    burst: int = 20
    """Requests allowed at once before the budget applies."""
    max_attempts: int = 4
    """Tries per request for 5xx, 429/503 and connection errors (first try included)."""
    backoff_base: float = 0.25
    """First backoff in seconds; doubles per attempt, with full jitter."""
    backoff_cap: float = 10.0
    """Longest single backoff in seconds."""
    max_retry_after: float = 30.0
    """Longest ``Retry-After`` we sleep through; beyond it the request fails as rate limited."""
    page_size: int | None = None
    """``n`` sent on tag listing; ``None`` lets the registry choose its page size."""
    max_response_bytes: int = 16 * 1024 * 1024
    """Largest response body, after decoding (gzip), in bytes; a larger one is refused.

    16 MiB holds one page of over 100,000 tags of the longest legal length; registries that
    return every tag in one page (no ``n``) stay far below it.
    """
    max_tags: int = 1_000_000
    """Most distinct tags one listing may hold (about 100 MB); past it the listing is refused."""


class _TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._capacity = float(max(burst, 1))
        self._tokens = self._capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens < 1:
                wait = (1 - self._tokens) / self._rate
                await asyncio.sleep(wait)
                self._stamp = time.monotonic()
                self._tokens = 1.0
            self._tokens -= 1


class HostLimiter:
    """Bounds concurrency and request rate for one registry host."""

    def __init__(self, limits: Limits) -> None:
        self._semaphore = asyncio.Semaphore(max(limits.max_concurrency, 1))
        rate = limits.requests_per_second
        self._bucket = _TokenBucket(rate, limits.burst) if rate else None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot (and spend one budget token) for the duration of a request."""
        async with self._semaphore:
            if self._bucket is not None:
                await self._bucket.take()
            yield


def backoff_delay(attempt: int, limits: Limits, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff for retry number ``attempt`` (1 for the first retry)."""
    ceiling = min(limits.backoff_cap, limits.backoff_base * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)
