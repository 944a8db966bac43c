"""The OCI registry adapter: list tags and read digests over the distribution API.

Callers (the ImageRepository reconciler via the Registry port, ``tagpilot scan``, the bench)
use only what this package exports; the modules behind it are implementation.  Two clients
share every pure part (auth decisions, pagination, body decoding, retry timing, TLS
diagnosis): :class:`RegistryClient` (httpx, async) for the daemon and one-shot runs, and
:func:`scan_blocking` (``http.client``, no asyncio) for ``tagpilot scan``'s quick start.

Names are imported on first use, so importing one module of the package (as ``tagpilot scan``
does) does not load httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tagpilot.adapters.registry.blocking import scan_blocking
    from tagpilot.adapters.registry.client import Proxy, RegistryClient
    from tagpilot.adapters.registry.credentials import AuthConfig, Credentials
    from tagpilot.adapters.registry.errors import (
        CredentialsError,
        MalformedResponseError,
        ManifestNotFoundError,
        RateLimitedError,
        RegistryAuthError,
        RegistryError,
        RegistryTimeoutError,
        RegistryTLSError,
        RegistryUnavailableError,
        RepositoryNotFoundError,
    )
    from tagpilot.adapters.registry.limits import Limits
    from tagpilot.adapters.registry.tls import TLSConfig

_HOMES = {
    "AuthConfig": "credentials",
    "Credentials": "credentials",
    "CredentialsError": "errors",
    "Limits": "limits",
    "MalformedResponseError": "errors",
    "ManifestNotFoundError": "errors",
    "Proxy": "client",
    "RateLimitedError": "errors",
    "RegistryAuthError": "errors",
    "RegistryClient": "client",
    "RegistryError": "errors",
    "RegistryTLSError": "errors",
    "RegistryTimeoutError": "errors",
    "RegistryUnavailableError": "errors",
    "RepositoryNotFoundError": "errors",
    "TLSConfig": "tls",
    "scan_blocking": "blocking",
}

__all__ = [
    "AuthConfig",
    "Credentials",
    "CredentialsError",
    "Limits",
    "MalformedResponseError",
    "ManifestNotFoundError",
    "Proxy",
    "RateLimitedError",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryError",
    "RegistryTLSError",
    "RegistryTimeoutError",
    "RegistryUnavailableError",
    "RepositoryNotFoundError",
    "TLSConfig",
    "scan_blocking",
]


def __getattr__(name: str) -> object:
    """Import an exported name from the module that defines it, on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
