"""One registry request with etiquette: host limits, retries, and httpx errors translated.

Used by the registry client for every request (registry and token service).  Bodies are read
within ``Limits.max_response_bytes`` and the operation's time budget (see ``body``).  Retries cover
connection errors, 5xx and 429/503; ``Retry-After`` is honoured up to ``Limits.max_retry_after``
and beyond that the request fails at once with :class:`RateLimitedError` saying until when.
TLS failures are never retried and say which CAs were trusted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import ssl
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType

import httpx

from tagpilot.adapters.registry.body import buffered, read_capped
from tagpilot.adapters.registry.errors import (
    MalformedResponseError,
    RateLimitedError,
    RegistryError,
    RegistryTimeoutError,
    RegistryTLSError,
    RegistryUnavailableError,
)
from tagpilot.adapters.registry.ratelimit import (
    HostLimiter,
    Limits,
    backoff_delay,
    parse_retry_after,
)
from tagpilot.adapters.registry.tls import ClientTLS
from tagpilot.adapters.registry.tlsdiag import (
    DIAGNOSED,
    PROBE_SECONDS,
    describe_verification,
    read_certificate,
    tls_hint,
    unverified_context,
)
from tagpilot.core.timefmt import rfc3339

__all__ = ["Deadline", "Transport"]

_RETRY_STATUSES = frozenset({500, 502, 503, 504, 429})
_RATE_LIMIT_STATUSES = frozenset({429, 503})
_NOT_TLS = (
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "HTTP_REQUEST",
)


_NOT_FAILURES = (ssl.SSLWantReadError, ssl.SSLWantWriteError)
_BACKSTOP_GRACE_SECONDS = 0.5
_MIN_REQUEST_TIMEOUT = 0.01
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@dataclass(frozen=True)
class _Budget:
    ends_at: float
    seconds: float
    what: str

    def remaining(self) -> float:
        return self.ends_at - time.monotonic()

    def expired(self, host: str | None = None) -> RegistryTimeoutError:
        # without a host, the backstop fired: an answer was arriving, but too slowly
        who = f"registry {host} did not answer" if host else "the registry did not finish answering"
        return RegistryTimeoutError(
            f"{self.what} timed out after {self.seconds:g}s: {who} in time"
            " (spec.timeout / --timeout)"
        )


_BUDGET: ContextVar[_Budget | None] = ContextVar("registry_time_budget", default=None)


class Deadline:
    """Time limit for one client operation (auth + all pages), as Flux's ``spec.timeout``.

    Each request gets the time that is left as its httpx timeout, so httpx ends a stalled
    request cleanly; an ``asyncio.timeout`` slightly later is only a backstop.
    """

    def __init__(self, seconds: float, what: str) -> None:
        self._budget = _Budget(time.monotonic() + seconds, seconds, what)
        self._backstop = asyncio.timeout(seconds + _BACKSTOP_GRACE_SECONDS)
        self._token = _BUDGET.set(self._budget)

    async def __aenter__(self) -> None:
        await self._backstop.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _BUDGET.reset(self._token)
        try:
            await self._backstop.__aexit__(exc_type, exc, tb)
        except TimeoutError as error:
            raise self._budget.expired() from error


def _proxied_by_environment() -> bool:
    return any(os.environ.get(name) for name in _PROXY_VARIABLES)


def _check_body_time() -> None:
    # an answer is arriving, only too slowly: say so rather than "did not answer"
    budget = _BUDGET.get()
    if budget is not None and budget.remaining() <= 0:
        raise budget.expired()


def _ssl_cause(error: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) and not isinstance(seen, _NOT_FAILURES):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _until(seconds: float) -> str:
    return rfc3339(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))


class Transport:
    """Sends requests through an ``httpx.AsyncClient`` under per-host limits, with retries."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        limits: Limits,
        trust: Callable[[], str],
        tls: ClientTLS,
        *,
        direct: bool = False,
    ) -> None:
        self._http = http
        self._limits = limits
        self._trust = trust
        self._tls = tls
        self._direct = direct
        self._hosts: dict[str, HostLimiter] = {}
        self.requests_sent = 0
        """Requests put on the wire (retries included); for tests and benchmarks."""

    def _limiter(self, host: str) -> HostLimiter:
        limiter = self._hosts.get(host)
        if limiter is None:
            limiter = self._hosts[host] = HostLimiter(self._limits)
        return limiter

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, retrying transient failures; raise a :class:`RegistryError`."""
        host = request.url.netloc.decode()
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self._limits.max_attempts
            try:
                response = await self._send_once(host, request)
            except (httpx.TransportError, ssl.SSLError) as error:
                failure = await self._failure(error, request.url)
                final = RegistryTLSError | MalformedResponseError | RegistryTimeoutError
                if last or isinstance(failure, final):
                    raise failure from error
                await asyncio.sleep(backoff_delay(attempt, self._limits))
                continue
            if response.status_code not in _RETRY_STATUSES:
                return response
            await self._wait_before_retry(response, host, attempt, last)

    async def speaks_tls(self, url: str) -> bool:
        """Whether ``url`` (an ``https://`` ping) answers over TLS; one try, no retries.

        A TLS server that refuses us (untrusted certificate, client certificate required)
        speaks TLS: that error is raised (by this ping, or by the request that follows a bare
        handshake), since falling back to HTTP would only hide it.
        """
        host = httpx.URL(url).netloc.decode()
        # a bare handshake rules plain HTTP out without the system trust store; when the port
        # does speak TLS, the verified ping below says whether we trust it
        direct = self._direct and not _proxied_by_environment()
        if direct and not await self._handshake(httpx.URL(url)):
            self.requests_sent += 1  # it stood in for the ping
            return False
        try:
            await self._send_once(host, httpx.Request("GET", url))
        except (httpx.TransportError, ssl.SSLError) as error:
            cause = _ssl_cause(error)
            timed_out = isinstance(error, httpx.TimeoutException)
            speaks = cause is not None and not any(s in str(cause) for s in _NOT_TLS)
            if speaks or timed_out:
                raise await self._failure(error, httpx.URL(url)) from error
            return False
        return True

    async def _handshake(self, url: httpx.URL) -> bool:
        """A bare TLS handshake, nothing sent: does the port speak TLS at all?"""
        budget = _BUDGET.get()
        seconds = budget.remaining() if budget is not None else PROBE_SECONDS
        try:
            async with asyncio.timeout(max(seconds, _MIN_REQUEST_TIMEOUT)):
                _, writer = await asyncio.open_connection(
                    url.host, url.port or 443, ssl=unverified_context(), server_hostname=url.host
                )
        except TimeoutError as error:
            if budget is not None:
                raise budget.expired(url.netloc.decode()) from error
            raise RegistryTimeoutError(f"registry {url.netloc.decode()} did not answer") from error
        except ssl.SSLError as error:
            return not any(marker in str(error) for marker in _NOT_TLS)
        except OSError:
            return False  # nothing listens: plain HTTP will say so
        writer.transport.abort()  # nothing was sent: no need to wait for a TLS goodbye
        return True

    async def _send_once(self, host: str, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            self._tls.before_https()
        async with self._limiter(host).slot():
            budget = _BUDGET.get()
            if budget is not None:
                if budget.remaining() <= 0:
                    raise budget.expired(host)
                left = max(budget.remaining(), _MIN_REQUEST_TIMEOUT)
                request.extensions["timeout"] = httpx.Timeout(left).as_dict()
            self.requests_sent += 1
            response = await self._http.send(request, stream=True)
            try:
                cap = self._limits.max_response_bytes
                body = await read_capped(response, cap, host, _check_body_time)
            finally:
                await response.aclose()
            return buffered(response, body)

    async def _wait_before_retry(
        self, response: httpx.Response, host: str, attempt: int, last: bool
    ) -> None:
        status = response.status_code
        wait = None
        if status in _RATE_LIMIT_STATUSES:
            wait = parse_retry_after(response.headers.get("retry-after"))
        if wait is not None and wait > self._limits.max_retry_after:
            raise RateLimitedError(
                f"registry {host} is rate limiting (HTTP {status}); retry after {_until(wait)}"
                f" (in {wait:.0f}s)",
                retry_after=wait,
            )
        if last:
            raise self._gave_up(status, host, wait)
        await asyncio.sleep(wait if wait is not None else backoff_delay(attempt, self._limits))

    def _gave_up(self, status: int, host: str, wait: float | None) -> RegistryError:
        tries = self._limits.max_attempts
        if status == 429:
            return RateLimitedError(
                f"registry {host} kept rate limiting (HTTP 429) after {tries} attempts",
                retry_after=wait,
            )
        return RegistryUnavailableError(
            f"registry {host} kept failing with HTTP {status} after {tries} attempts",
            retry_after=wait,
        )

    async def _failure(self, error: Exception, url: httpx.URL) -> RegistryError:
        """``_translate``, with a closer look at a certificate that failed verification."""
        host = url.netloc.decode()
        cause = _ssl_cause(error)
        if not isinstance(cause, ssl.SSLCertVerificationError):
            return self._translate(error, host)
        if cause.verify_code not in DIAGNOSED:
            return self._translate(error, host)
        budget = _BUDGET.get()
        left = budget.remaining() if budget is not None else PROBE_SECONDS
        facts = await read_certificate(url.host, url.port or 443, left) if left > 0 else None
        reason, hint = describe_verification(cause, facts)
        return RegistryTLSError(
            f"TLS with {host} failed: {reason}; trusted CAs: {self._trust()}; {hint}"
        )

    def _translate(self, error: Exception, host: str) -> RegistryError:
        if isinstance(error, httpx.TimeoutException):
            budget = _BUDGET.get()
            if budget is not None:
                return budget.expired(host)
            return RegistryTimeoutError(f"registry {host} did not answer in time ({error!s})")
        cause = _ssl_cause(error)
        if cause is not None:
            reason = getattr(cause, "verify_message", None) or cause.reason or str(cause)
            return RegistryTLSError(
                f"TLS with {host} failed: {reason}; trusted CAs: {self._trust()}; {tls_hint(cause)}"
            )
        if isinstance(error, httpx.ProxyError):
            return RegistryUnavailableError(f"proxy refused the connection to {host}: {error}")
        if isinstance(error, httpx.RemoteProtocolError) and "illegal" in str(error).lower():
            return MalformedResponseError(f"registry {host} sent invalid HTTP: {error}")
        detail = str(error) or type(error).__name__
        return RegistryUnavailableError(f"cannot reach registry {host}: {detail}")
