"""The ``Registry`` port over ``RegistryClient``s, one per distinct way of connecting.

Clients are kept for the life of the pool, keyed by credentials, TLS material, proxy,
``insecure`` and timeout, so a rescan reuses keep-alive connections and cached tokens and
an unchanged repository costs one request.
"""

from __future__ import annotations

import hashlib

from tagpilot.adapters.registry.client import Proxy, RegistryClient
from tagpilot.adapters.registry.credentials import Credentials
from tagpilot.adapters.registry.ratelimit import Limits
from tagpilot.adapters.registry.tls import TLSConfig
from tagpilot.core.tags import ScannedTags
from tagpilot.ports import RegistryAccess

__all__ = ["RegistryPool"]


class RegistryPool:
    """Implements ``tagpilot.ports.Registry``; close it with ``aclose``."""

    def __init__(self, limits: Limits | None = None) -> None:
        self._limits = limits
        self._clients: dict[str, RegistryClient] = {}

    async def list_tags(self, access: RegistryAccess) -> ScannedTags:
        """Every valid tag of ``access.image``, in the registry's order, and the count dropped."""
        return await self._client(access).scan_tags(access.image)

    async def head_digest(self, access: RegistryAccess, tag: str) -> str:
        """The manifest digest of ``access.image:tag``."""
        return await self._client(access).head_digest(access.image, tag)

    async def aclose(self) -> None:
        """Close every client."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def _client(self, access: RegistryAccess) -> RegistryClient:
        key = _fingerprint(access)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._build(access)
        return client

    def _build(self, access: RegistryAccess) -> RegistryClient:
        credentials = None
        if access.docker_config is not None:
            credentials = Credentials.from_dockerconfigjson(
                access.docker_config.reveal(), source=access.docker_config_source
            )
        tls = None
        if access.tls is not None:
            tls = TLSConfig(
                ca_pem=access.tls.ca_pem.reveal() if access.tls.ca_pem else None,
                cert_pem=access.tls.cert_pem.reveal() if access.tls.cert_pem else None,
                key_pem=access.tls.key_pem.reveal() if access.tls.key_pem else None,
                source=access.tls.source,
            )
        proxy = None
        if access.proxy is not None:
            password = access.proxy.password.text() if access.proxy.password else None
            proxy = Proxy(access.proxy.address, access.proxy.username, password)
        return RegistryClient(
            credentials=credentials,
            tls=tls,
            insecure=access.insecure,
            timeout=access.timeout_seconds,
            limits=self._limits,
            proxy=proxy,
        )


def _fingerprint(access: RegistryAccess) -> str:
    """A digest of how to connect (never the secrets themselves as a readable key)."""
    digest = hashlib.sha256()
    parts: list[bytes] = [
        str(access.insecure).encode(),
        str(access.timeout_seconds).encode(),
        access.docker_config.reveal() if access.docker_config else b"",
    ]
    if access.tls is not None:
        for value in (access.tls.ca_pem, access.tls.cert_pem, access.tls.key_pem):
            parts.append(value.reveal() if value else b"")
    if access.proxy is not None:
        parts += [access.proxy.address.encode(), (access.proxy.username or "").encode()]
        parts.append(access.proxy.password.reveal() if access.proxy.password else b"")
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()
