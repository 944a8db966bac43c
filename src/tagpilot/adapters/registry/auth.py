"""The registry auth handshake: ``WWW-Authenticate`` challenges and cached bearer tokens.

Used by both registry clients (through ``authstate``).  A registry answers 401 with
``Basic realm=...`` or ``Bearer realm=...,service=...,scope=...``; for Bearer we ask the realm
(the token service) for a token for ``repository:<path>:pull`` — anonymously, with Basic
credentials, or with an OAuth2 refresh token (``identitytoken``) — and cache it per
(registry, scope) until it expires (``expires_in``, default 60 s as in the Docker token spec).

The realm may be on another host, as with Docker Hub; like Docker, we send it the registry's
credentials (Basic, or the refresh token), since the registry chose it.  A realm on a weaker
scheme than the registry (``http://`` announced over ``https://``) is refused: it would put
the credentials and the token on the wire in cleartext.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from tagpilot.adapters.registry.answer import Answer
from tagpilot.adapters.registry.credentials import AuthConfig
from tagpilot.adapters.registry.errors import MalformedResponseError, RegistryAuthError
from tagpilot.core.tags import escape_untrusted

__all__ = [
    "Challenge",
    "TokenCache",
    "TokenRequest",
    "check_realm",
    "parse_challenge",
    "pull_scope",
    "read_token",
    "token_request",
    "unusable_realm",
]

_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
_DEFAULT_EXPIRES_IN = 60.0
_EXPIRY_MARGIN = 5.0
_CLIENT_ID = "tagpilot"


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header: ``basic`` or ``bearer`` plus its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        """The token service URL (Bearer) or the protection space name (Basic)."""
        return self.params.get("realm", "")


def parse_challenge(header: str | None) -> Challenge | None:
    """Parse ``Bearer realm="...",service="..."`` or ``Basic realm="..."``; ``None`` otherwise."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() not in ("basic", "bearer"):
        return None
    params = {m[1].lower(): m[2] if m[2] is not None else m[3] for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


def pull_scope(path: str) -> str:
    """The token scope that lists tags and reads manifests of repository ``path``."""
    return f"repository:{path}:pull"


class TokenCache:
    """Bearer tokens per (registry, scope), kept until shortly before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, registry: str, scope: str) -> str | None:
        """The cached token, or ``None`` if absent or about to expire."""
        entry = self._tokens.get((registry, scope))
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def put(self, registry: str, scope: str, token: str, expires_in: float) -> None:
        """Remember ``token`` for ``expires_in`` seconds (minus a safety margin)."""
        lifetime = max(expires_in - _EXPIRY_MARGIN, expires_in / 2)
        self._tokens[(registry, scope)] = (token, time.monotonic() + lifetime)

    def drop(self, registry: str, scope: str) -> None:
        """Forget a token the registry refused."""
        self._tokens.pop((registry, scope), None)


@dataclass(frozen=True)
class TokenRequest:
    """The request that asks a token service for a token; each client sends it its own way."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    form: dict[str, str] | None = field(default=None, repr=False)

    def body(self) -> bytes | None:
        """The form, URL-encoded, for a POST; ``None`` for a GET."""
        return None if self.form is None else urllib.parse.urlencode(self.form).encode()

    def all_headers(self) -> dict[str, str]:
        """The headers, with the form's content type when there is a form."""
        if self.form is None:
            return self.headers
        return dict(self.headers, **{"Content-Type": "application/x-www-form-urlencoded"})


def unusable_realm(challenge: Challenge) -> MalformedResponseError:
    """The error for a realm that is not a URL a request can be sent to."""
    return MalformedResponseError(
        f"bearer challenge names an unusable realm: {escape_untrusted(challenge.realm)}"
    )


def _check_url(challenge: Challenge) -> None:
    try:
        parts = urllib.parse.urlsplit(challenge.realm)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as error:
        raise unusable_realm(challenge) from error
    if not parts.hostname or not port_ok or any(c.isspace() for c in challenge.realm):
        raise unusable_realm(challenge)


def token_request(
    challenge: Challenge, scope: str, auth: AuthConfig | None, registry_url: str
) -> TokenRequest:
    """The token request for ``scope``; a realm that is unusable or weaker than
    ``registry_url``'s scheme is refused first."""
    check_realm(challenge, registry_url)
    _check_url(challenge)
    service = challenge.params.get("service", "")
    if auth is not None and auth.identity_token:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": auth.identity_token,
            "service": service,
            "scope": scope,
            "client_id": _CLIENT_ID,
        }
        return TokenRequest("POST", challenge.realm, form=form)
    query = urllib.parse.urlencode({"service": service, "scope": scope})
    separator = "&" if "?" in challenge.realm else "?"
    headers = {"Authorization": auth.basic_header()} if auth is not None and auth.has_basic else {}
    return TokenRequest("GET", f"{challenge.realm}{separator}{query}", headers)


def _who(auth: AuthConfig | None, source: str) -> str:
    if auth is None:
        return "anonymous access"
    if auth.identity_token:
        return f"the identity token from {source}"
    return f"user {auth.username!r} from {source}"


def check_realm(challenge: Challenge, registry_url: str) -> None:
    """Refuse a realm that is not HTTP(S), or is plain HTTP for a registry reached over HTTPS."""
    realm = challenge.realm
    scheme = realm.partition(":")[0].lower()
    if scheme not in ("http", "https"):
        raise MalformedResponseError(
            f"bearer challenge has no usable realm: {escape_untrusted(realm)}"
        )
    registry_scheme = registry_url.partition(":")[0].lower()
    if registry_scheme == "https" and scheme == "http":
        host = urllib.parse.urlsplit(registry_url).netloc
        raise RegistryAuthError(
            f"registry {host} (HTTPS) sends clients to a token service on plain HTTP"
            f" ({escape_untrusted(realm)}); refusing to send credentials or ask for a token"
            " in cleartext: the registry's token realm must use https://"
        )


def _parse_token(content: bytes, realm: str) -> tuple[str, float]:
    try:
        document = json.loads(content)
        token = document.get("token") or document.get("access_token")
        expires_in = float(document.get("expires_in") or _DEFAULT_EXPIRES_IN)
    except (ValueError, AttributeError, TypeError) as error:
        raise MalformedResponseError(
            f"token service {escape_untrusted(realm)} did not answer with a JSON object"
        ) from error
    if not isinstance(token, str) or not token:
        raise MalformedResponseError(
            f"token service {escape_untrusted(realm)} answered without a 'token' or 'access_token'"
        )
    return token, expires_in


def read_token(
    response: Answer,
    challenge: Challenge,
    scope: str,
    auth: AuthConfig | None,
    source: str,
    refused: str | None = None,
) -> tuple[str, float]:
    """The token and its lifetime in seconds from the token service's ``response``.

    ``refused`` replaces the message when the token service says no (401/403).
    """
    realm = escape_untrusted(challenge.realm)
    if response.status_code in (401, 403):
        raise RegistryAuthError(
            refused
            or f"token service {realm} refused {_who(auth, source)} for {scope}"
            f" (HTTP {response.status_code}); check the registry credentials"
        )
    if response.status_code != 200:
        raise RegistryAuthError(
            f"token service {realm} answered HTTP {response.status_code} for {scope}"
        )
    return _parse_token(response.content, challenge.realm)
