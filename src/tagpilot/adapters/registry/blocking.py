"""A synchronous tag lister on ``http.client``: what ``tagpilot scan`` runs, without asyncio.

A one-shot listing needs neither an event loop nor httpx; both cost more to import than the
listing itself takes.  :func:`scan_blocking` behaves as :meth:`RegistryClient.scan_tags`: the
same scheme choice, auth handshake, pagination guards, body cap and decoding, retries, time
budget and messages, because every decision is made by the modules both clients share
(``authstate``, ``pages``, ``decode``, ``retries``, ``tlsdiag``).  Only the sockets differ.

It talks to the registry directly: when a proxy is configured (``--proxy`` or the
environment), :func:`can_list_directly` says no and the caller uses :class:`RegistryClient`.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass

from tagpilot.adapters.registry.answer import Reply, ReplyHeaders
from tagpilot.adapters.registry.auth import TokenRequest, pull_scope
from tagpilot.adapters.registry.authstate import AuthState
from tagpilot.adapters.registry.credentials import Credentials
from tagpilot.adapters.registry.credhelper import resolve_blocking
from tagpilot.adapters.registry.decode import READ_CHUNK, BodyReader
from tagpilot.adapters.registry.errors import (
    MalformedResponseError,
    RegistryError,
    RegistryTimeoutError,
    RegistryTLSError,
    RegistryUnavailableError,
)
from tagpilot.adapters.registry.limits import Limits, backoff_delay
from tagpilot.adapters.registry.pages import (
    TagListing,
)
from tagpilot.adapters.registry.retries import RETRY_STATUSES, Budget, retry_wait
from tagpilot.adapters.registry.tls import TLSConfig, client_tls
from tagpilot.adapters.registry.tlsdiag import (
    PROBE_SECONDS,
    diagnosed_error,
    fetch_certificate,
    is_diagnosed,
    speaks_tls_despite,
    ssl_cause,
    tls_error,
    unverified_context,
)
from tagpilot.core.imageref import Repository
from tagpilot.core.tags import ScannedTags, escape_untrusted

__all__ = ["ENVIRONMENT_PROXIES", "can_list_directly", "scan_blocking"]

ENVIRONMENT_PROXIES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
)
"""Variables that would send the listing through a proxy (as httpx's ``trust_env``)."""
_HOP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
_ACCEPT_ENCODING = "gzip, deflate"
_FINAL = (RegistryTLSError, MalformedResponseError, RegistryTimeoutError)


def can_list_directly(proxy: str | None) -> bool:
    """Whether :func:`scan_blocking` can serve: no explicit proxy and none in the environment."""
    return not proxy and not any(os.environ.get(name) for name in ENVIRONMENT_PROXIES)


def scan_blocking(
    repository: Repository,
    *,
    credentials: Credentials | None = None,
    tls: TLSConfig | None = None,
    timeout: float = 30.0,
    limits: Limits | None = None,
) -> ScannedTags:
    """The valid tags of ``repository`` in the registry's order, and the count dropped.

    Raises the same :class:`~tagpilot.adapters.registry.errors.RegistryError` family, with the
    same messages, as ``RegistryClient.scan_tags``.
    """
    lister = _Lister(credentials, tls, limits or Limits())
    budget = Budget.start(max(timeout, 1.0), f"listing tags of {repository}")
    try:
        return lister.list_all(repository, budget)
    finally:
        lister.close()


@dataclass(frozen=True)
class _Target:
    """Where one request goes."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def netloc(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"

    @classmethod
    def parse(cls, url: str) -> _Target:
        parts = urllib.parse.urlsplit(url)
        default = 443 if parts.scheme == "https" else 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, parts.hostname or "", parts.port or default, path)


class _Lister:
    """One listing's connections, auth state and trust; closed when the listing ends."""

    def __init__(self, credentials: Credentials | None, tls: TLSConfig | None, limits: Limits):
        self._credentials = credentials
        self._state = AuthState(credentials)
        self._trust = tls.describe_trust() if tls else "system trust store"
        self._tls = client_tls(tls)
        self._limits = limits
        self._budget = Budget.start(30.0, "listing tags")
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}
        self._schemes: dict[str, str] = {}

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def list_all(self, repository: Repository, budget: Budget) -> ScannedTags:
        self._budget = budget
        listing = TagListing(repository, self._limits.max_tags)
        url: str | None = listing.first_url(self._base_url(repository), self._limits.page_size)
        while url is not None:
            listing.start_page(url)
            url = listing.read(self._request(url, repository), url)
        return listing.result()

    def _base_url(self, repository: Repository) -> str:
        """As the async client: an ``http`` registry is tried over HTTPS first."""
        registry = repository.registry
        if repository.scheme == "https":
            return f"https://{registry}"
        chosen = self._schemes.get(registry)
        if chosen is None:
            speaks_tls = self._speaks_tls(_Target.parse(f"https://{registry}/v2/"))
            chosen = self._schemes[registry] = "https" if speaks_tls else "http"
        return f"{chosen}://{registry}"

    def _request(self, url: str, repository: Repository) -> Reply:
        scope = pull_scope(repository.path)
        target = _Target.parse(url)
        for attempt in (1, 2):
            authorization = self._authorization(repository, scope)
            headers = {"Authorization": authorization} if authorization else {}
            response = self._send(target, "GET", headers)
            if response.status_code != 401:
                return response
            self._state.learn(response, repository, scope, attempt, authorization)
        return response

    def _authorization(self, repository: Repository, scope: str) -> str | None:
        registry = repository.registry
        challenge = self._state.challenge(registry)
        if challenge is None:
            return None
        if not self._state.resolved(registry):
            found = None
            if self._credentials is not None:
                found = resolve_blocking(self._credentials, registry, repository.path)
            self._state.remember(registry, found)
        auth = self._state.auth(registry)
        header = self._state.header(repository, challenge, scope, auth)
        if header is not None:
            return header
        request = self._state.token_request(challenge, scope, auth, self._base_url(repository))
        response = self._send_token_request(request)
        return self._state.accept_token(response, repository, challenge, scope, auth)

    def _send_token_request(self, request: TokenRequest) -> Reply:
        target = _Target.parse(request.url)
        return self._send(target, request.method, request.all_headers(), request.body())

    def _send(
        self, target: _Target, method: str, headers: dict[str, str], body: bytes | None = None
    ) -> Reply:
        """Send one request, retrying transient failures; raise a :class:`RegistryError`."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send_once(target, method, headers, body)
            except (OSError, http.client.HTTPException) as error:
                failure = self._failure(error, target)
                if attempt >= self._limits.max_attempts or isinstance(failure, _FINAL):
                    raise failure from error
                self._sleep(backoff_delay(attempt, self._limits))
                continue
            if response.status_code not in RETRY_STATUSES:
                return response
            retry_after = response.headers.get("retry-after")
            status = response.status_code
            self._sleep(retry_wait(status, retry_after, target.netloc, attempt, self._limits))

    def _sleep(self, seconds: float) -> None:
        # the async client's backstop ends a wait that outlasts the budget: so does this
        left = self._budget.remaining()
        if seconds >= left:
            time.sleep(max(left, 0.0))
            raise self._budget.expired()
        time.sleep(seconds)

    def _connection(self, target: _Target) -> http.client.HTTPConnection:
        key = (target.scheme, target.host, target.port)
        connection = self._connections.get(key)
        if connection is None:
            if target.scheme == "https":
                self._tls.before_https()
                connection = http.client.HTTPSConnection(
                    target.host, target.port, context=self._tls.context
                )
            else:
                connection = http.client.HTTPConnection(target.host, target.port)
            self._connections[key] = connection
        return connection

    def _drop(self, target: _Target) -> None:
        connection = self._connections.pop((target.scheme, target.host, target.port), None)
        if connection is not None:
            connection.close()

    def _send_once(
        self, target: _Target, method: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        if self._budget.remaining() <= 0:
            raise self._budget.expired(target.netloc)
        connection = self._connection(target)
        connection.timeout = self._budget.request_timeout()
        if connection.sock is not None:
            connection.sock.settimeout(connection.timeout)
        sent = {"Accept": "*/*", "Accept-Encoding": _ACCEPT_ENCODING, **headers}
        try:
            connection.request(method, target.path, body=body, headers=sent)
            response = connection.getresponse()
            reader = BodyReader(response.getheader("content-encoding"), self._cap, target.netloc)
            while chunk := response.read(READ_CHUNK):
                if self._budget.remaining() <= 0:
                    raise self._budget.expired()  # arriving, only too slowly
                reader.feed(chunk)
            content = reader.finish()
        except BaseException:
            self._drop(target)
            raise
        if response.will_close:
            self._drop(target)
        pairs = tuple((k, v) for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS)
        return Reply(response.status, ReplyHeaders(pairs), content)

    @property
    def _cap(self) -> int:
        return self._limits.max_response_bytes

    def _speaks_tls(self, target: _Target) -> bool:
        """As the async transport: a bare handshake, then a verified ping if it speaks TLS."""
        if not self._handshake(target):
            return False
        try:
            self._send_once(target, "GET", {}, None)
        except (OSError, http.client.HTTPException) as error:
            cause = ssl_cause(error)
            speaks = cause is not None and speaks_tls_despite(cause)
            if speaks or isinstance(error, TimeoutError):
                raise self._failure(error, target) from error
            return False
        return True

    def _handshake(self, target: _Target) -> bool:
        """A bare TLS handshake, nothing sent: does the port speak TLS at all?"""
        seconds = self._budget.request_timeout()
        try:
            with (
                socket.create_connection((target.host, target.port), timeout=seconds) as raw,
                unverified_context().wrap_socket(raw, server_hostname=target.host),
            ):
                return True
        except TimeoutError as error:
            raise self._budget.expired(target.netloc) from error
        except ssl.SSLError as error:
            return speaks_tls_despite(error)
        except OSError:
            return False  # nothing listens: plain HTTP will say so

    def _failure(self, error: BaseException, target: _Target) -> RegistryError:
        """A socket, TLS or HTTP failure as a registry error, as the async transport says it."""
        host = target.netloc
        if isinstance(error, RegistryError):
            return error
        cause = ssl_cause(error)
        if cause is not None and is_diagnosed(cause):
            assert isinstance(cause, ssl.SSLCertVerificationError)
            left = min(self._budget.remaining(), PROBE_SECONDS)
            facts = fetch_certificate(target.host, target.port, left) if left > 0 else None
            return diagnosed_error(cause, facts, host, self._trust)
        if cause is not None:
            return tls_error(cause, host, self._trust)
        if isinstance(error, TimeoutError):
            return self._budget.expired(host)
        if isinstance(error, http.client.HTTPException) and not isinstance(
            error, http.client.RemoteDisconnected
        ):
            return MalformedResponseError(f"registry {host} sent invalid HTTP: {_detail(error)}")
        detail = str(error) or type(error).__name__
        return RegistryUnavailableError(f"cannot reach registry {host}: {detail}")


def _detail(error: http.client.HTTPException) -> str:
    """What was wrong with the answer; the server wrote it, so it is escaped."""
    if isinstance(error, http.client.BadStatusLine):
        line = str(error.args[0]) if error.args else ""
        return f"illegal status line: {escape_untrusted(line.rstrip())}"
    return escape_untrusted(str(error)) if str(error) else type(error).__name__
