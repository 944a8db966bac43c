"""Registry failures users can act on, as tagpilot errors.

The registry client raises only these (chained ``from`` the httpx/ssl exception), so the
ImageRepository reconciler maps them to Flux reasons without knowing httpx.  Messages name
the registry and repository and say what to do; they never contain credentials or tokens.

::

    RetryableError
    └── RegistryError                 reason ReadOperationFailed
        ├── RegistryAuthError         reason AuthenticationFailed (401/403 after auth)
        ├── RepositoryNotFoundError   404 NAME_UNKNOWN (may appear later: retried)
        ├── ManifestNotFoundError     404 MANIFEST_UNKNOWN for a tag
        ├── RegistryTLSError          handshake or verification failed; names the CAs used
        ├── RegistryTimeoutError      the whole operation exceeded spec.timeout
        ├── RegistryUnavailableError  connection refused/reset, 5xx after retries
        ├── RateLimitedError          429/503 with a Retry-After beyond the cap
        └── MalformedResponseError    the answer is not what the distribution API promises
    InvalidInputError
    └── CredentialsError              a docker config or credential helper is unusable
"""

from __future__ import annotations

from tagpilot.core.errors import InvalidInputError, RetryableError

__all__ = [
    "CredentialsError",
    "MalformedResponseError",
    "ManifestNotFoundError",
    "RateLimitedError",
    "RegistryAuthError",
    "RegistryError",
    "RegistryTLSError",
    "RegistryTimeoutError",
    "RegistryUnavailableError",
    "RepositoryNotFoundError",
]


class RegistryError(RetryableError):
    """Base of every registry failure; a scan failure in Flux's terms."""

    reason = "ReadOperationFailed"


class RegistryAuthError(RegistryError):
    """The registry refused the credentials (or needs some and none are configured)."""

    reason = "AuthenticationFailed"


class RepositoryNotFoundError(RegistryError):
    """The registry does not know the repository (yet)."""


class ManifestNotFoundError(RegistryError):
    """The registry has no manifest for the requested tag."""


class RegistryTLSError(RegistryError):
    """The TLS handshake failed, e.g. the server certificate is not trusted."""


class RegistryTimeoutError(RegistryError):
    """The operation did not finish within the configured timeout."""


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached or kept failing with server errors."""


class RateLimitedError(RegistryError):
    """The registry asked us to wait longer than we are willing to wait now."""


class MalformedResponseError(RegistryError):
    """The registry's response does not follow the distribution API."""


class CredentialsError(InvalidInputError):
    """A docker config payload or credential helper cannot be used."""

    reason = "AuthenticationFailed"
