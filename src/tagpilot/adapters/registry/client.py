"""The OCI distribution client tagpilot scans registries with (httpx, async).

Called by the ImageRepository reconciler (through the Registry port), ``tagpilot scan`` and the
benchmarks.  It lists tags (following ``Link: <...>; rel="next"``), and reads a tag's manifest
digest with ``HEAD``.  It does not ping ``/v2/``: the first request goes straight to the
resource, and its 401 carries the challenge (with the scope), so an anonymous public
repository costs one request and a private one three on the first scan.  Challenges and
bearer tokens are cached per registry and scope, so a repeated scan is one request again.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from types import TracebackType

# httpx's package imports its own command-line client (click, rich, pygments) unless that
# module is unavailable.  tagpilot never runs it, so it is marked absent before httpx is first
# imported; httpx then skips it.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx

from tagpilot.adapters.registry.auth import (
    Challenge,
    TokenCache,
    TokenRequest,
    pull_scope,
    unusable_realm,
)
from tagpilot.adapters.registry.authstate import AuthState
from tagpilot.adapters.registry.credentials import AuthConfig, Credentials, helper_server_url
from tagpilot.adapters.registry.credhelper import (
    HELPER_TIMEOUT_SECONDS,
    cannot_run,
    helper_answer,
    helper_program,
    helper_timed_out,
)
from tagpilot.adapters.registry.pages import (
    MANIFEST_ACCEPT,
    TagListing,
    check_status,
    read_digest,
)
from tagpilot.adapters.registry.ratelimit import Limits
from tagpilot.adapters.registry.tls import TLSConfig, client_tls
from tagpilot.adapters.registry.transport import Deadline, Transport
from tagpilot.core.imageref import Repository, parse_repository
from tagpilot.core.tags import ScannedTags

__all__ = ["Proxy", "RegistryClient"]


@dataclass(frozen=True)
class Proxy:
    """An explicit HTTP(S) proxy (``proxySecretRef``): address plus optional credentials."""

    address: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def to_httpx(self) -> httpx.Proxy:
        """The proxy as httpx wants it (credentials sent as Proxy-Authorization)."""
        auth = (self.username, self.password or "") if self.username else None
        return httpx.Proxy(self.address, auth=auth)


class RegistryClient:
    """Lists tags and reads digests from OCI registries; use as an async context manager."""

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        tls: TLSConfig | None = None,
        insecure: bool = False,
        timeout: float = 30.0,
        limits: Limits | None = None,
        proxy: Proxy | None = None,
    ) -> None:
        self._credentials = credentials
        self._tls = tls
        self._insecure = insecure
        self._timeout = max(timeout, 1.0)
        self._limits = limits or Limits()
        verified = client_tls(tls)
        self._http = httpx.AsyncClient(
            verify=verified.context,
            timeout=self._timeout,
            proxy=proxy.to_httpx() if proxy else None,
            trust_env=proxy is None,
            limits=httpx.Limits(max_keepalive_connections=self._limits.max_concurrency * 2),
        )
        self._transport = Transport(
            self._http, self._limits, self._describe_trust, verified, direct=proxy is None
        )
        self._tokens = TokenCache()
        self._state = AuthState(credentials, self._tokens)
        self._schemes: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests this client has sent (retries and token requests included)."""
        return self._transport.requests_sent

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def repository(self, image: str | Repository) -> Repository:
        """``image`` parsed with this client's ``insecure`` setting (repositories pass through)."""
        if isinstance(image, Repository):
            return image
        return parse_repository(image, insecure=self._insecure, field=None)

    async def list_tags(self, image: str | Repository) -> list[str]:
        """All valid tags of the repository, in the registry's order, following pagination."""
        return list((await self.scan_tags(image)).tags)

    async def scan_tags(self, image: str | Repository) -> ScannedTags:
        """The valid tags (as :meth:`list_tags`) and the count of those that break the grammar."""
        repository = self.repository(image)
        async with self._deadline(f"listing tags of {repository}"):
            return await self._list_all(repository)

    async def head_digest(self, image: str | Repository, tag: str) -> str:
        """The manifest digest (``Docker-Content-Digest``) of ``tag``."""
        repository = self.repository(image)
        async with self._deadline(f"reading the digest of {repository}:{tag}"):
            base = await self._base_url(repository)
            url = f"{base}/v2/{repository.path}/manifests/{tag}"
            response = await self._request("HEAD", url, repository, {"Accept": MANIFEST_ACCEPT})
        check_status(response, repository, f"manifest {tag}")
        return read_digest(response, repository, tag)

    def _deadline(self, what: str) -> Deadline:
        return Deadline(self._timeout, what)

    async def _list_all(self, repository: Repository) -> ScannedTags:
        listing = TagListing(repository, self._limits.max_tags)
        url: str | None = listing.first_url(
            await self._base_url(repository), self._limits.page_size
        )
        while url is not None:
            listing.start_page(url)
            url = listing.read(await self._request("GET", url, repository, {}), url)
        return listing.result()

    async def _base_url(self, repository: Repository) -> str:
        """``https://`` unless the registry may speak plain HTTP and does not speak TLS.

        As go-containerregistry's ping: registries whose scheme is ``http`` (insecure, local,
        loopback, RFC 1918) are tried over HTTPS first, once per client.
        """
        registry = repository.registry
        if repository.scheme == "https":
            return f"https://{registry}"
        async with self._locks.setdefault(f"scheme {registry}", asyncio.Lock()):
            chosen = self._schemes.get(registry)
            if chosen is None:
                speaks_tls = await self._transport.speaks_tls(f"https://{registry}/v2/")
                chosen = self._schemes[registry] = "https" if speaks_tls else "http"
        return f"{chosen}://{registry}"

    async def _request(
        self, method: str, url: str, repository: Repository, headers: dict[str, str]
    ) -> httpx.Response:
        scope = pull_scope(repository.path)
        for attempt in (1, 2):
            authorization = await self._authorization(repository, scope)
            sent = dict(headers, Authorization=authorization) if authorization else headers
            response = await self._transport.send(httpx.Request(method, url, headers=sent))
            if response.status_code != 401:
                return response
            self._state.learn(response, repository, scope, attempt, authorization)
        return response

    async def _authorization(self, repository: Repository, scope: str) -> str | None:
        challenge = self._state.challenge(repository.registry)
        if challenge is None:
            return None
        auth = await self._resolve_auth(repository)
        header = self._state.header(repository, challenge, scope, auth)
        if header is not None:
            return header
        base = await self._base_url(repository)
        request = self._state.token_request(challenge, scope, auth, base)
        response = await self._send_token_request(request, challenge)
        return self._state.accept_token(response, repository, challenge, scope, auth)

    async def _send_token_request(
        self, request: TokenRequest, challenge: Challenge
    ) -> httpx.Response:
        try:
            built = httpx.Request(
                request.method, request.url, headers=request.all_headers(), content=request.body()
            )
        except httpx.InvalidURL as error:
            raise unusable_realm(challenge) from error
        return await self._transport.send(built)

    async def _resolve_auth(self, repository: Repository) -> AuthConfig | None:
        registry = repository.registry
        async with self._locks.setdefault(f"auth {registry}", asyncio.Lock()):
            if not self._state.resolved(registry):
                found = None
                credentials = self._credentials
                helper = credentials.helper_for(registry) if credentials else None
                if helper:
                    found = await _run_helper(helper, helper_server_url(registry))
                if found is None and credentials is not None:
                    found = credentials.static_for(registry, repository.path)
                self._state.remember(registry, found)
        return self._state.auth(registry)

    def _describe_trust(self) -> str:
        return self._tls.describe_trust() if self._tls else "system trust store"


async def _run_helper(name: str, server_url: str) -> AuthConfig | None:
    """Run ``docker-credential-<name> get`` without blocking the event loop."""
    program = helper_program(name)
    try:
        process = await asyncio.create_subprocess_exec(
            program,
            "get",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as error:
        raise cannot_run(program, error) from error
    try:
        async with asyncio.timeout(HELPER_TIMEOUT_SECONDS):
            out, err = await process.communicate(server_url.encode())
    except TimeoutError as error:
        process.kill()
        raise helper_timed_out(program) from error
    return helper_answer(program, server_url, process.returncode, out, err)
