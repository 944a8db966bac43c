"""Registry credentials from docker config payloads and Docker credential helpers.

The registry clients ask :meth:`Credentials.helper_for` and :meth:`Credentials.static_for` for
the credentials of a registry (and repository) just before they authenticate; helpers are run
by ``credhelper``.  Sources, as ``docker login`` and Flux's keychain:

* ``auths`` entries (a ``kubernetes.io/dockerconfigjson`` Secret or ``~/.docker/config.json``):
  ``auth`` (base64 ``user:password``), ``username``/``password``, ``identitytoken`` (OAuth2
  refresh token), ``registrytoken`` (bearer token used as is); legacy ``.dockercfg`` payloads
  whose top level is the ``auths`` map are understood too;
* ``credHelpers`` (per registry) and ``credsStore`` (default):
  ``docker-credential-<name> get`` with the server URL on stdin, JSON on stdout.

Keys are matched like docker does, after normalising them (scheme, ``/v1/`` and trailing
slashes dropped; Docker Hub's many spellings folded into ``index.docker.io``): the longest key
that is the registry plus a path prefix of the repository wins, then the bare registry.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagpilot.adapters.registry.errors import CredentialsError
from tagpilot.core.errors import SourceLocation
from tagpilot.core.imageref import DOCKER_HUB

__all__ = ["AuthConfig", "Credentials", "helper_server_url", "normalise_registry_key"]

_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HUB_SERVER_URL = "https://index.docker.io/v1/"


@dataclass(frozen=True)
class AuthConfig:
    """One set of credentials for a registry; ``repr`` never shows the secrets."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    registry_token: str | None = field(default=None, repr=False)

    @property
    def has_basic(self) -> bool:
        """True when a username and password are available for Basic auth."""
        return bool(self.username) and self.password is not None

    def basic_header(self) -> str:
        """The ``Authorization: Basic`` header value for these credentials."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def normalise_registry_key(key: str) -> str:
    """``https://index.docker.io/v1/`` → ``index.docker.io``; ``http://r.io/a/`` → ``r.io/a``."""
    text = key.strip()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.rstrip("/")
    for suffix in ("/v1", "/v2"):
        text = text.removesuffix(suffix)
    host, slash, rest = text.partition("/")
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
    return f"{host}{slash}{rest}"


def _decode_auth(key: str, encoded: str, source: str) -> tuple[str, str]:
    location = SourceLocation(file=source, field=f"auths[{key!r}].auth")
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise CredentialsError(
            "not valid base64 (expected base64 of 'username:password')", location=location
        ) from error
    username, colon, password = decoded.partition(":")
    if not colon:
        raise CredentialsError(
            "decodes to a value without ':' (expected 'username:password')", location=location
        )
    return username, password


def _auth_entry(key: str, entry: Any, source: str) -> AuthConfig:
    if not isinstance(entry, Mapping):
        location = SourceLocation(file=source, field=f"auths[{key!r}]")
        raise CredentialsError(
            "expected an object with auth or username/password", location=location
        )
    username, password = entry.get("username"), entry.get("password")
    if entry.get("auth"):
        username, password = _decode_auth(key, str(entry["auth"]), source)
    return AuthConfig(
        username=username or None,
        password=password,
        identity_token=entry.get("identitytoken") or None,
        registry_token=entry.get("registrytoken") or None,
    )


def _parse_document(data: bytes | Mapping[str, Any], source: str) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise CredentialsError(
            f"not valid JSON ({type(error).__name__} at the first bad byte); expected a docker"
            " config object with an 'auths' map",
            location=SourceLocation(file=source),
        ) from error
    if not isinstance(document, dict):
        raise CredentialsError(
            "expected a JSON object with an 'auths' map", location=SourceLocation(file=source)
        )
    return document


def _auths_section(document: Mapping[str, Any]) -> Mapping[str, Any]:
    if "auths" in document:
        return document["auths"] or {}
    known = {"credHelpers", "credsStore", "HttpHeaders", "proxies", "currentContext"}
    return {k: v for k, v in document.items() if k not in known and isinstance(v, Mapping)}


@dataclass(frozen=True)
class Credentials:
    """Credentials for many registries, from one docker config payload."""

    auths: Mapping[str, AuthConfig] = field(default_factory=dict)
    cred_helpers: Mapping[str, str] = field(default_factory=dict)
    creds_store: str | None = None
    source: str = "docker config"

    @classmethod
    def from_dockerconfigjson(
        cls, data: bytes | Mapping[str, Any], *, source: str = ".dockerconfigjson"
    ) -> Credentials:
        """Read a ``kubernetes.io/dockerconfigjson`` payload (bytes or the decoded object)."""
        document = _parse_document(data, source)
        auths = {
            normalise_registry_key(key): _auth_entry(key, entry, source)
            for key, entry in _auths_section(document).items()
        }
        helpers = {
            normalise_registry_key(key): str(name)
            for key, name in (document.get("credHelpers") or {}).items()
        }
        store = document.get("credsStore") or None
        return cls(auths=auths, cred_helpers=helpers, creds_store=store, source=source)

    @classmethod
    def from_docker_config_file(cls, path: str | Path) -> Credentials:
        """Read a docker ``config.json`` file (credential helpers included)."""
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise CredentialsError(
                f"cannot read docker config: {error.strerror}",
                location=SourceLocation(file=str(path)),
            ) from error
        return cls.from_dockerconfigjson(data, source=str(path))

    def static_for(self, registry: str, path: str = "") -> AuthConfig | None:
        """The ``auths`` entry for ``registry``/``path``: longest path-prefix key, then host."""
        host = normalise_registry_key(registry)
        parts = path.split("/") if path else []
        for length in range(len(parts), 0, -1):
            found = self.auths.get(f"{host}/{'/'.join(parts[:length])}")
            if found:
                return found
        return self.auths.get(host)

    def helper_for(self, registry: str) -> str | None:
        """The credential helper name for ``registry`` (``credHelpers`` then ``credsStore``)."""
        return self.cred_helpers.get(normalise_registry_key(registry)) or self.creds_store

    def hosts(self) -> list[str]:
        """The registries this config has ``auths`` entries or a helper for (no secrets)."""
        return sorted({*self.auths, *self.cred_helpers})

    def no_entry_message(self, registry: str, path: str) -> str:
        """What to say when the registry wants credentials and this config has none for it."""
        host = normalise_registry_key(registry)
        helper = self.helper_for(registry)
        asked = f"; credential helper {helper!r} had none for it either" if helper else ""
        return (
            f"registry {registry} requires credentials for {path}, and {self.source} has none"
            f" for {host} (it has credentials for: {', '.join(self.hosts()) or 'no host'}{asked});"
            f" add an entry for {host} (tagpilot create secret registry NAME"
            f" --docker-server={registry} ...)"
        )


def helper_server_url(registry: str) -> str:
    """The server URL a credential helper is asked about for ``registry`` (as docker does)."""
    host = normalise_registry_key(registry)
    return _HUB_SERVER_URL if host == DOCKER_HUB else host
