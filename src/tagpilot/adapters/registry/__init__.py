"""The OCI registry adapter: list tags and read digests over the distribution API (httpx).

Callers (the ImageRepository reconciler via the Registry port, ``tagpilot scan``, the bench)
use only what this package exports; the modules behind it are implementation.
"""

from __future__ import annotations

import sys

# httpx's package imports its own command-line client (click, rich, pygments: about a third
# of `tagpilot scan`'s start-up) unless that module is unavailable.  tagpilot never runs it,
# so it is marked absent before httpx is first imported; httpx then skips it.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

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
from tagpilot.adapters.registry.ratelimit import Limits
from tagpilot.adapters.registry.tls import TLSConfig

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
]
