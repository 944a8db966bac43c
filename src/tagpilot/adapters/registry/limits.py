"""How politely to talk to a registry, and how long to wait before a retry.

Shared by the async registry client and the synchronous lister ``tagpilot scan`` uses; no
asyncio here, so the command's start-up does not pay for it.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

__all__ = ["Limits", "backoff_delay", "parse_retry_after"]


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
