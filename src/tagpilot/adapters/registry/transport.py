"""One registry request with etiquette: host limits, retries, and httpx errors translated.

Used by the registry client for every request (registry and token service).  Bodies are read
within ``Limits.max_response_bytes`` and the operation's time budget (see ``body``).  When to
retry and for how long is decided in ``retries``, shared with the synchronous lister.  TLS
failures are never retried and say which CAs were trusted.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType

import httpx

from tagpilot.adapters.registry.body import buffered, read_capped
from tagpilot.adapters.registry.errors import (
    MalformedResponseError,
    RegistryError,
    RegistryTimeoutError,
    RegistryTLSError,
    RegistryUnavailableError,
)
from tagpilot.adapters.registry.ratelimit import HostLimiter, Limits, backoff_delay
from tagpilot.adapters.registry.retries import (
    MIN_REQUEST_TIMEOUT,
    RETRY_STATUSES,
    Budget,
    retry_wait,
)
from tagpilot.adapters.registry.tls import ClientTLS
from tagpilot.adapters.registry.tlsdiag import (
    PROBE_SECONDS,
    CertificateFacts,
    certificate_facts,
    diagnosed_error,
    is_diagnosed,
    speaks_tls_despite,
    ssl_cause,
    tls_error,
    unverified_context,
)

__all__ = ["Deadline", "Transport", "read_certificate"]

_BACKSTOP_GRACE_SECONDS = 0.5
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
"""Environment variables that send HTTPS through a proxy (httpx's ``trust_env``)."""

_BUDGET: ContextVar[Budget | None] = ContextVar("registry_time_budget", default=None)


class Deadline:
    """Time limit for one client operation (auth + all pages), as Flux's ``spec.timeout``.

    Each request gets the time that is left as its httpx timeout, so httpx ends a stalled
    request cleanly; an ``asyncio.timeout`` slightly later is only a backstop.
    """

    def __init__(self, seconds: float, what: str) -> None:
        self._budget = Budget.start(seconds, what)
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
    return any(os.environ.get(name) for name in PROXY_VARIABLES)


def _check_body_time() -> None:
    # an answer is arriving, only too slowly: say so rather than "did not answer"
    budget = _BUDGET.get()
    if budget is not None and budget.remaining() <= 0:
        raise budget.expired()


async def read_certificate(host: str, port: int, timeout: float) -> CertificateFacts | None:
    """The server's leaf certificate, read without verifying it; ``None`` if that fails."""
    try:
        async with asyncio.timeout(min(timeout, PROBE_SECONDS)):
            _, writer = await asyncio.open_connection(host, port, ssl=unverified_context())
            try:
                der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            finally:
                writer.transport.abort()  # nothing was sent: no need to wait for a TLS goodbye
        return certificate_facts(der) if der else None
    except (OSError, TimeoutError, ValueError, ssl.SSLError):
        return None


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
            if response.status_code not in RETRY_STATUSES:
                return response
            retry_after = response.headers.get("retry-after")
            await asyncio.sleep(
                retry_wait(response.status_code, retry_after, host, attempt, self._limits)
            )

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
            cause = ssl_cause(error)
            timed_out = isinstance(error, httpx.TimeoutException)
            speaks = cause is not None and speaks_tls_despite(cause)
            if speaks or timed_out:
                raise await self._failure(error, httpx.URL(url)) from error
            return False
        return True

    async def _handshake(self, url: httpx.URL) -> bool:
        """A bare TLS handshake, nothing sent: does the port speak TLS at all?"""
        budget = _BUDGET.get()
        seconds = budget.remaining() if budget is not None else PROBE_SECONDS
        try:
            async with asyncio.timeout(max(seconds, MIN_REQUEST_TIMEOUT)):
                _, writer = await asyncio.open_connection(
                    url.host, url.port or 443, ssl=unverified_context(), server_hostname=url.host
                )
        except TimeoutError as error:
            if budget is not None:
                raise budget.expired(url.netloc.decode()) from error
            raise RegistryTimeoutError(f"registry {url.netloc.decode()} did not answer") from error
        except ssl.SSLError as error:
            return speaks_tls_despite(error)
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
                left = budget.request_timeout()
                request.extensions["timeout"] = httpx.Timeout(left).as_dict()
            self.requests_sent += 1
            response = await self._http.send(request, stream=True)
            try:
                cap = self._limits.max_response_bytes
                body = await read_capped(response, cap, host, _check_body_time)
            finally:
                await response.aclose()
            return buffered(response, body)

    async def _failure(self, error: Exception, url: httpx.URL) -> RegistryError:
        """``_translate``, with a closer look at a certificate that failed verification."""
        host = url.netloc.decode()
        cause = ssl_cause(error)
        if cause is None or not is_diagnosed(cause):
            return self._translate(error, host)
        assert isinstance(cause, ssl.SSLCertVerificationError)
        budget = _BUDGET.get()
        left = budget.remaining() if budget is not None else PROBE_SECONDS
        facts = await read_certificate(url.host, url.port or 443, left) if left > 0 else None
        return diagnosed_error(cause, facts, host, self._trust())

    def _translate(self, error: Exception, host: str) -> RegistryError:
        if isinstance(error, httpx.TimeoutException):
            budget = _BUDGET.get()
            if budget is not None:
                return budget.expired(host)
            return RegistryTimeoutError(f"registry {host} did not answer in time ({error!s})")
        cause = ssl_cause(error)
        if cause is not None:
            return tls_error(cause, host, self._trust())
        if isinstance(error, httpx.ProxyError):
            return RegistryUnavailableError(f"proxy refused the connection to {host}: {error}")
        if isinstance(error, httpx.RemoteProtocolError) and "illegal" in str(error).lower():
            return MalformedResponseError(f"registry {host} sent invalid HTTP: {error}")
        detail = str(error) or type(error).__name__
        return RegistryUnavailableError(f"cannot reach registry {host}: {detail}")
