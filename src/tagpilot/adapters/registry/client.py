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
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from tagpilot.adapters.registry.auth import (
    Challenge,
    TokenCache,
    fetch_token,
    parse_challenge,
    pull_scope,
)
from tagpilot.adapters.registry.credentials import AuthConfig, Credentials
from tagpilot.adapters.registry.errors import RegistryAuthError
from tagpilot.adapters.registry.pages import (
    MANIFEST_ACCEPT,
    TagListing,
    check_status,
    next_page_url,
    read_digest,
    read_tags_page,
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
        self._challenges: dict[str, Challenge] = {}
        self._tokens = TokenCache()
        self._auth: dict[str, AuthConfig | None] = {}
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
        url = f"{await self._base_url(repository)}/v2/{repository.path}/tags/list"
        if self._limits.page_size:
            url += f"?n={self._limits.page_size}"
        listing = TagListing(repository, self._limits.max_tags)
        next_url: str | None = url
        while next_url is not None:
            listing.start_page(next_url)
            response = await self._request("GET", next_url, repository, {})
            check_status(response, repository, "tag list")
            listing.add_page(read_tags_page(response, repository))
            next_url = next_page_url(response, next_url, listing.pages_read, repository)
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
            await self._learn_challenge(response, repository, scope, attempt, authorization)
        return response

    async def _learn_challenge(
        self,
        response: httpx.Response,
        repository: Repository,
        scope: str,
        attempt: int,
        authorization: str | None,
    ) -> None:
        registry = repository.registry
        challenge = parse_challenge(response.headers.get("www-authenticate"))
        if challenge is None:
            raise RegistryAuthError(f"registry {registry} answered 401 without a usable challenge")
        if attempt == 2 or (authorization and challenge.scheme == "basic"):
            raise RegistryAuthError(self._refused(repository))
        self._challenges[registry] = challenge
        self._tokens.drop(registry, scope)

    def _no_entry(self, repository: Repository, auth: AuthConfig | None) -> str | None:
        """What to say when the docker config has no credentials for the registry, or None."""
        if auth is not None or self._credentials is None:
            return None
        return self._credentials.no_entry_message(repository.registry, repository.path)

    def _refused(self, repository: Repository) -> str:
        registry = repository.registry
        auth = self._auth.get(registry)
        if (missing := self._no_entry(repository, auth)) is not None:
            return missing
        who = "anonymous access" if auth is None else "the credentials"
        source = self._credentials.source if self._credentials else "no docker config"
        return (
            f"registry {registry} refused {who} (from {source}) for repository"
            f" {repository.path}; check the credentials and that they may pull it"
        )

    async def _authorization(self, repository: Repository, scope: str) -> str | None:
        challenge = self._challenges.get(repository.registry)
        if challenge is None:
            return None
        auth = await self._resolve_auth(repository)
        if challenge.scheme == "basic":
            if (missing := self._no_entry(repository, auth)) is not None:
                raise RegistryAuthError(missing)
            if auth is None or not auth.has_basic:
                raise RegistryAuthError(
                    f"registry {repository.registry} requires a username and password and none"
                    " are configured for it (secretRef / --docker-config)"
                )
            return auth.basic_header()
        return await self._bearer(repository, challenge, scope, auth)

    async def _bearer(
        self, repository: Repository, challenge: Challenge, scope: str, auth: AuthConfig | None
    ) -> str:
        if auth is not None and auth.registry_token:
            return f"Bearer {auth.registry_token}"
        registry = repository.registry
        token = self._tokens.get(registry, scope)
        if token is None:
            source = self._credentials.source if self._credentials else "no docker config"
            base = await self._base_url(repository)
            refused = self._no_entry(repository, auth)
            token, expires_in = await fetch_token(
                self._transport.send, challenge, scope, auth, source, base, refused
            )
            self._tokens.put(registry, scope, token, expires_in)
        return f"Bearer {token}"

    async def _resolve_auth(self, repository: Repository) -> AuthConfig | None:
        registry = repository.registry
        async with self._locks.setdefault(f"auth {registry}", asyncio.Lock()):
            if registry not in self._auth:
                found = None
                if self._credentials is not None:
                    found = await self._credentials.resolve(registry, repository.path)
                self._auth[registry] = found
        return self._auth[registry]

    def _describe_trust(self) -> str:
        return self._tls.describe_trust() if self._tls else "system trust store"
