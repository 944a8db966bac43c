"""Run one git command in an isolated environment and translate its failures.

Called by :mod:`.mirror`, :mod:`.workspace` and :mod:`.flow`.  Every failure becomes a
tagpilot error: :class:`GitAuthError` (Stalled) when the Secret is wrong (credentials, host
key), :class:`PushRejectedError` when the remote branch moved, :class:`GitCommandError`
otherwise.  Secrets and URL passwords are removed from git's stderr before it is quoted.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tagpilot.adapters.git.env import GitEnvironment
from tagpilot.adapters.git.model import (
    GitAuthError,
    GitCommandError,
    PushRejectedError,
    SigningKeyError,
)

__all__ = ["GitRunner", "redact"]

_URL_PASSWORD = re.compile(r"(?<=://)([^/@\s:]*):[^/@\s]*@")
_AUTH_HEADER = re.compile(r"(Authorization:\s*\w+\s+)\S+", re.IGNORECASE)
_MAX_QUOTED_LINES = 8

_HOST_KEY_HINTS = ("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED")
_AUTH_HINTS = (
    "Authentication failed",
    "Permission denied",
    "could not read Username",
    "could not read Password",
    "The requested URL returned error: 401",
    "The requested URL returned error: 403",
)
_REJECTED_HINTS = ("[rejected]", "non-fast-forward", "fetch first", "stale info")


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret, URL password and Authorization value replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\1:***@", text)
    return _AUTH_HEADER.sub(r"\1***", text)


@dataclass(frozen=True)
class GitRunner:
    """Runs ``git`` with one :class:`GitEnvironment` and a per-command timeout in seconds."""

    environment: GitEnvironment
    timeout: float = 60.0

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Run ``git args...`` and return its stdout (stripped); raise a tagpilot error."""
        full_env = {**self.environment.env, **(env or {})}
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd,
                env=full_env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitCommandError(
                f"git {args[0]} timed out after {self.timeout:g}s; the remote is slow or "
                "unreachable (raise the GitRepository timeout if the repository is large)"
            ) from exc
        if done.returncode != 0:
            raise self._error(args, done.stderr or done.stdout)
        return done.stdout.strip()

    def probe(self, *args: str, cwd: Path | None = None) -> str | None:
        """Stdout of ``git args...`` when it exits with 0, else None (for lookups)."""
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(self.environment.env),
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def _error(self, args: Sequence[str], stderr: str) -> Exception:
        lines = [ln for ln in redact(stderr, self.environment.secrets).splitlines() if ln.strip()]
        detail = "; ".join(lines[-_MAX_QUOTED_LINES:]) or "no output"
        command = f"git {args[0]}"
        if any(hint in stderr for hint in _HOST_KEY_HINTS):
            return GitAuthError(
                f"{command}: the server's SSH host key is not in the Secret's known_hosts "
                f"(or does not match it); fix known_hosts ({detail})"
            )
        if any(hint in stderr for hint in _AUTH_HINTS):
            return GitAuthError(
                f"{command}: authentication failed; check the credentials in the Secret ({detail})"
            )
        if "failed to sign the data" in stderr:
            return SigningKeyError(
                f"{command}: signing the commit failed; check the signing key and its "
                f"passphrase in the Secret ({detail})"
            )
        if args[0] == "push" and any(hint in stderr for hint in _REJECTED_HINTS):
            return PushRejectedError(f"{command}: rejected by the remote ({detail})")
        return GitCommandError(f"{command} failed: {detail}")
