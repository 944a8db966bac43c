"""Registry etiquette for the async client: per-host concurrency and a request budget.

The registry client holds one :class:`HostLimiter` per registry host.  Budgets are per client
(per process), which is what a registry's rate limit sees.  :class:`Limits` and the retry
timing (:func:`backoff_delay`, :func:`parse_retry_after`) live in ``limits`` and are
re-exported here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tagpilot.adapters.registry.limits import Limits, backoff_delay, parse_retry_after

__all__ = ["HostLimiter", "Limits", "backoff_delay", "parse_retry_after"]


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
