"""A minimal Docker token service (the Bearer flow of Docker Hub, GHCR, Harbor) for registry 2.8.

Run in-process with :func:`run_token_server`; the registry is configured with
``auth.token`` (realm = this server's ``/token``, ``rootcertbundle`` = the signing certificate).
Policy: a known user (HTTP Basic on ``GET /token``) gets every action asked for; an OAuth2
``POST /token`` with ``grant_type=refresh_token`` and a known refresh token gets the same;
with ``anonymous_pull`` callers without credentials get ``pull`` only; wrong credentials get
401.  Tokens are ES256 JWTs with an ``x5c`` header that the registry checks.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .httpserver import QuietHandler, serve

__all__ = ["TokenPolicy", "TokenServer", "run_token_server"]


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class TokenPolicy:
    """Who gets tokens, and a count of the tokens issued (for request-economy tests)."""

    users: Mapping[str, str]
    refresh_tokens: Mapping[str, str] = field(default_factory=dict)
    anonymous_pull: bool = False
    service: str = "tagpilot-test"
    issuer: str = "tagpilot-test-issuer"
    ttl: int = 300
    issued: int = 0


@dataclass(frozen=True)
class TokenServer:
    """A running token service: its realm URL and its policy (with the issue counter)."""

    realm: str
    policy: TokenPolicy


class _Signer:
    def __init__(self, key_path: Path, cert_path: Path) -> None:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self._key = key
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        der = cert.public_bytes(serialization.Encoding.DER)
        self._x5c = [base64.b64encode(der).decode()]

    def sign(self, claims: dict[str, object]) -> str:
        header = {"typ": "JWT", "alg": "ES256", "x5c": self._x5c}
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        r, s = decode_dss_signature(
            self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _access(scopes: list[str], subject: str | None) -> list[dict[str, object]]:
    access: list[dict[str, object]] = []
    for scope in scopes:
        for one in scope.split(" "):
            kind, _, rest = one.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = [a for a in actions.split(",") if a and (subject is not None or a == "pull")]
            access.append({"type": kind, "name": name, "actions": granted})
    return access


def _make_handler(signer: _Signer, policy: TokenPolicy) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def _deny(self) -> None:
            self.reply_json(
                401,
                {"errors": [{"code": "UNAUTHORIZED"}]},
                [("WWW-Authenticate", 'Basic realm="token"')],
            )

        def _grant(self, subject: str | None, params: Mapping[str, list[str]]) -> None:
            now = int(time.time())
            claims = {
                "iss": policy.issuer,
                "sub": subject or "",
                "aud": params.get("service", [policy.service])[0],
                "exp": now + policy.ttl,
                "nbf": now - 10,
                "iat": now,
                "jti": secrets.token_hex(8),
                "access": _access(params.get("scope", []), subject),
            }
            token = signer.sign(claims)
            policy.issued += 1
            self.reply_json(200, {"token": token, "access_token": token, "expires_in": policy.ttl})

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/token":
                return self.reply_json(404, {"error": "not found"})
            authorization = self.headers.get("Authorization", "")
            subject = None
            if authorization.startswith("Basic "):
                name, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
                if not hmac.compare_digest(policy.users.get(name, "\0"), password):
                    return self._deny()
                subject = name
            elif not policy.anonymous_pull:
                return self._deny()
            return self._grant(subject, urllib.parse.parse_qs(url.query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            refresh = form.get("refresh_token", [""])[0]
            subject = policy.refresh_tokens.get(refresh)
            if form.get("grant_type") != ["refresh_token"] or subject is None:
                return self.reply_json(401, {"error": "invalid_grant"})
            return self._grant(subject, form)

    return Handler


@contextmanager
def run_token_server(key_path: Path, cert_path: Path, policy: TokenPolicy) -> Iterator[TokenServer]:
    """Serve tokens signed with ``key_path`` on a free loopback port."""
    handler = _make_handler(_Signer(key_path, cert_path), policy)
    with serve(handler) as base:
        yield TokenServer(realm=f"{base}/token", policy=policy)
