"""Docker credential helpers: ``docker-credential-<name> get``, server URL on stdin, JSON out.

Both registry clients run helpers named by a docker config's ``credHelpers``/``credsStore``:
the async client through asyncio, the synchronous lister with :func:`run_helper_blocking`.
What a helper's answer means (credentials, "none for this server", a failure) is decided here
once, in :func:`helper_answer`.
"""

from __future__ import annotations

import json
import subprocess

from tagpilot.adapters.registry.credentials import AuthConfig, Credentials, helper_server_url
from tagpilot.adapters.registry.errors import CredentialsError

__all__ = [
    "HELPER_TIMEOUT_SECONDS",
    "cannot_run",
    "helper_answer",
    "helper_program",
    "helper_timed_out",
    "resolve_blocking",
    "run_helper_blocking",
]

HELPER_TIMEOUT_SECONDS = 30.0
"""Longest a credential helper may take."""
_IDENTITY_TOKEN_USERNAME = "<token>"


def helper_program(name: str) -> str:
    """The executable of credential helper ``name``."""
    return f"docker-credential-{name}"


def cannot_run(program: str, error: OSError) -> CredentialsError:
    """The error for a helper that could not be started."""
    return CredentialsError(
        f"credential helper {program!r} cannot be run: {error.strerror}"
        " (install it or remove it from credHelpers/credsStore)"
    )


def helper_timed_out(program: str) -> CredentialsError:
    """The error for a helper that did not finish in time."""
    return CredentialsError(
        f"credential helper {program!r} did not answer within {HELPER_TIMEOUT_SECONDS:g}s"
    )


def helper_answer(
    program: str, server_url: str, returncode: int | None, out: bytes, err: bytes
) -> AuthConfig | None:
    """What a finished helper said: credentials, or ``None`` when it has none for the server."""
    if returncode != 0:
        if b"credentials not found" in (out + err).lower():
            return None
        raise CredentialsError(
            f"credential helper {program!r} failed for {server_url} (exit {returncode})"
        )
    try:
        answer = json.loads(out)
        username, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError) as error:
        raise CredentialsError(
            f"credential helper {program!r} printed no JSON object with Username and Secret"
        ) from error
    if username == _IDENTITY_TOKEN_USERNAME:
        return AuthConfig(identity_token=secret)
    return AuthConfig(username=username, password=secret)


def run_helper_blocking(name: str, server_url: str) -> AuthConfig | None:
    """Run ``docker-credential-<name> get`` and wait for it; ``None`` when it has nothing."""
    program = helper_program(name)
    try:
        done = subprocess.run(
            [program, "get"],
            input=server_url.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT_SECONDS,
            check=False,
        )
    except OSError as error:
        raise cannot_run(program, error) from error
    except subprocess.TimeoutExpired as error:
        raise helper_timed_out(program) from error
    return helper_answer(program, server_url, done.returncode, done.stdout, done.stderr)


def resolve_blocking(credentials: Credentials, registry: str, path: str) -> AuthConfig | None:
    """Credentials for ``registry``: a helper's answer if one is configured, else ``auths``."""
    helper = credentials.helper_for(registry)
    if helper:
        found = run_helper_blocking(helper, helper_server_url(registry))
        if found is not None:
            return found
    return credentials.static_for(registry, path)
