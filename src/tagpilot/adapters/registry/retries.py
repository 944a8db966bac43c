"""When to retry a registry request, how long to wait, and the time budget of an operation.

Shared by both registry clients.  Retries cover connection errors, 5xx and 429/503;
``Retry-After`` is honoured up to ``Limits.max_retry_after`` and beyond that the request fails
at once with :class:`RateLimitedError` saying until when.  An operation (auth + every page)
has one :class:`Budget`, Flux's ``spec.timeout``; each request gets the time that is left.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from tagpilot.adapters.registry.errors import (
    RateLimitedError,
    RegistryError,
    RegistryTimeoutError,
    RegistryUnavailableError,
)
from tagpilot.adapters.registry.limits import Limits, backoff_delay, parse_retry_after
from tagpilot.core.timefmt import rfc3339

__all__ = ["MIN_REQUEST_TIMEOUT", "RETRY_STATUSES", "Budget", "retry_wait"]

RETRY_STATUSES = frozenset({500, 502, 503, 504, 429})
"""Statuses worth another try."""
_RATE_LIMIT_STATUSES = frozenset({429, 503})
MIN_REQUEST_TIMEOUT = 0.01
"""Shortest time a request is given, so a nearly spent budget still fails as a timeout."""


@dataclass(frozen=True)
class Budget:
    """The time one operation may take, and the message when it is spent."""

    ends_at: float
    seconds: float
    what: str

    @classmethod
    def start(cls, seconds: float, what: str) -> Budget:
        """A budget of ``seconds`` from now for ``what`` (e.g. "listing tags of X")."""
        return cls(time.monotonic() + seconds, seconds, what)

    def remaining(self) -> float:
        """Seconds left (negative once spent)."""
        return self.ends_at - time.monotonic()

    def request_timeout(self) -> float:
        """What one request may take now: the time left, never less than a sliver."""
        return max(self.remaining(), MIN_REQUEST_TIMEOUT)

    def expired(self, host: str | None = None) -> RegistryTimeoutError:
        """The timeout error; without ``host``, an answer was arriving, but too slowly."""
        who = f"registry {host} did not answer" if host else "the registry did not finish answering"
        return RegistryTimeoutError(
            f"{self.what} timed out after {self.seconds:g}s: {who} in time"
            " (spec.timeout / --timeout)"
        )


def _until(seconds: float) -> str:
    return rfc3339(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))


def _gave_up(status: int, host: str, wait: float | None, limits: Limits) -> RegistryError:
    tries = limits.max_attempts
    if status == 429:
        return RateLimitedError(
            f"registry {host} kept rate limiting (HTTP 429) after {tries} attempts",
            retry_after=wait,
        )
    return RegistryUnavailableError(
        f"registry {host} kept failing with HTTP {status} after {tries} attempts",
        retry_after=wait,
    )


def retry_wait(
    status: int, retry_after: str | None, host: str, attempt: int, limits: Limits
) -> float:
    """Seconds to sleep before retrying a request that got ``status`` on try ``attempt``.

    Raises :class:`RateLimitedError` when the registry asks for a longer wait than we accept,
    and the matching error once ``limits.max_attempts`` tries are spent.
    """
    wait = None
    if status in _RATE_LIMIT_STATUSES:
        wait = parse_retry_after(retry_after)
    if wait is not None and wait > limits.max_retry_after:
        raise RateLimitedError(
            f"registry {host} is rate limiting (HTTP {status}); retry after {_until(wait)}"
            f" (in {wait:.0f}s)",
            retry_after=wait,
        )
    if attempt >= limits.max_attempts:
        raise _gave_up(status, host, wait, limits)
    return wait if wait is not None else backoff_delay(attempt, limits)
