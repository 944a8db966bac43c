"""Who may use the control API (``/api/...``): loopback clients, or holders of the token.

The API suspends, resumes and triggers objects, so it is not for whoever can reach the
webhook port.  Without a token it answers loopback clients only (127.0.0.0/8, ::1), even
when the port it shares with the webhooks listens on every interface.  With a token
(``--api-token-file`` or ``TAGPILOT_API_TOKEN`` for the daemon; the same variable, or
``TAGPILOT_API_TOKEN_FILE``, for the CLI), every request must carry
``Authorization: Bearer <token>``, compared in constant time.  The token never travels
in argv.  Used by :mod:`tagpilot.server.app` (the check) and the CLI (the header).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tagpilot.core.errors import InvalidInputError
from tagpilot.core.secrets import SecretValue

__all__ = [
    "TOKEN_ENV",
    "TOKEN_FILE_ENV",
    "ApiAccess",
    "auth_headers",
    "is_loopback",
    "read_token",
]

TOKEN_ENV = "TAGPILOT_API_TOKEN"
TOKEN_FILE_ENV = "TAGPILOT_API_TOKEN_FILE"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address, or ``localhost``) is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(file: Path | None, environ: Mapping[str, str]) -> SecretValue | None:
    """The API token from ``file``, else ``$TAGPILOT_API_TOKEN_FILE``, else the variable."""
    path = file or (Path(environ[TOKEN_FILE_ENV]) if environ.get(TOKEN_FILE_ENV) else None)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInputError(f"API token file {path}: cannot read it ({error})") from None
        if not text:
            raise InvalidInputError(f"API token file {path} is empty")
        return SecretValue(text.encode())
    value = environ.get(TOKEN_ENV, "").strip()
    return SecretValue(value.encode()) if value else None


def auth_headers(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``Authorization`` header the CLI sends, when a token is configured."""
    token = read_token(None, environ)
    return {"Authorization": f"Bearer {token.text()}"} if token is not None else {}


@dataclass(frozen=True)
class ApiAccess:
    """The API's gate: a token when configured, else loopback clients only."""

    token: SecretValue | None = field(default=None, repr=False)

    def refusal(self, client_host: str | None, authorization: str) -> tuple[int, str] | None:
        """None when the request may proceed, else its HTTP status and the reason."""
        if self.token is None:
            if client_host is not None and is_loopback(client_host):
                return None
            return 403, (
                "the control API answers loopback clients only; configure a token "
                f"(--api-token-file or {TOKEN_ENV}) to use it from elsewhere"
            )
        scheme, _, given = authorization.partition(" ")
        expected = self.token.reveal()
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected):
            return None
        return 401, "the control API needs its token: Authorization: Bearer <token>"
