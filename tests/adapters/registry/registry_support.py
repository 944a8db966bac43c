"""Shared names of the registry adapter tests: seeded data, credentials, helper builders.

Kept out of ``conftest.py`` so test modules import them by a unique module name.
"""

from __future__ import annotations

import base64
import json
import stat
from dataclasses import dataclass
from pathlib import Path

from servers.registry import RunningRegistry
from servers.token_server import TokenServer
from tagpilot.adapters.registry import Limits

__all__ = [
    "APP_TAGS",
    "CA_ENVIRONMENT",
    "FAST_RETRIES",
    "MANY_TAGS",
    "PASSWORD",
    "REFRESH_TOKEN",
    "USER",
    "Seeded",
    "TokenRegistry",
    "basic_entry",
    "docker_config",
    "install_credential_helper",
]

APP_TAGS = ("1.0.0", "1.1.0", "2.0.0-rc.1", "latest", "sha256-0123abcd.sig")
USER, PASSWORD = "alice", "s3cret-Pa55"
REFRESH_TOKEN = "refresh-token-for-alice"
MANY_TAGS = 10_000
CA_ENVIRONMENT = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NIX_SSL_CERT_FILE",
)
FAST_RETRIES = Limits(max_attempts=3, backoff_base=0.01, backoff_cap=0.05, max_retry_after=2)


@dataclass(frozen=True)
class Seeded:
    """A running registry and the digest of the image its repositories hold."""

    registry: RunningRegistry
    digest: str

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``, the registry part of image names."""
        return self.registry.host


@dataclass(frozen=True)
class TokenRegistry:
    """A registry using Bearer tokens, and its token service."""

    seeded: Seeded
    tokens: TokenServer


def docker_config(host: str, **entry: str) -> bytes:
    """A ``.dockerconfigjson`` payload with one ``auths`` entry for ``host``."""
    return json.dumps({"auths": {host: entry}}).encode()


def basic_entry(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    """An ``auths`` entry in the ``auth`` (base64 user:password) form."""
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def install_credential_helper(
    directory: Path, name: str, answers: dict[str, dict[str, str]]
) -> None:
    """A real ``docker-credential-<name>`` executable answering from a fixed table."""
    script = directory / f"docker-credential-{name}"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"answers = {json.dumps(answers)!r}\n"
        "server = sys.stdin.read().strip()\n"
        "found = json.loads(answers).get(server)\n"
        "if found is None:\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
        "print(json.dumps(found))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
