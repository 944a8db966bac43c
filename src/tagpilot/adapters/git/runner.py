"""Run one git command in an isolated environment and translate its failures.

Called by :mod:`.mirror`, :mod:`.workspace` and :mod:`.flow`.  Every failure becomes a
tagpilot error: :class:`GitAuthError` (Retryable) when the Secret is wrong (credentials, host
key), :class:`RedirectRefusedError` (Stalled) when a remote holding credentials redirects to
another origin (checked after successful commands too: git follows the redirect), and
:class:`PushRejectedError` when the remote branch moved (a non-fast-forward, or a ref the
remote could not update because another writer held it), :class:`GitCommandError` otherwise.
Secrets and URL passwords are removed from git's stderr before it is quoted.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tagpilot.adapters.git.credentials import origin
from tagpilot.adapters.git.env import GitEnvironment
from tagpilot.adapters.git.model import (
    GitAuthError,
    GitCommandError,
    PushRejectedError,
    RedirectRefusedError,
    SigningKeyError,
)
from tagpilot.adapters.git.stopping import Finished, StoppingError, spawn

__all__ = ["GitRunner", "redact", "remote_moved"]

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
# "[remote rejected]" alone also means a hook said no; these say another writer won the race.
_RACE_HINTS = ("failed to update ref", "cannot lock ref", "failed to lock")
_REDIRECTED_TO = re.compile(
    r"redirecting to (\S+)|could not read (?:Username|Password) for '([^']+)'"
)
_REDIRECT_STATUS = re.compile(r"The requested URL returned error: (30[0-9])")


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
        done = self._spawn(args, cwd, full_env, stdin)
        refused = self._refused_redirect(args, done.stderr)
        if refused is not None:
            raise refused
        if done.returncode != 0:
            raise self._error(args, done.stderr or done.stdout)
        return done.stdout.strip()

    def probe(self, *args: str, cwd: Path | None = None) -> str | None:
        """Stdout of ``git args...`` when it exits with 0, else None (for lookups).

        A refused redirect is raised all the same: it is never a "not found".
        """
        done = self._spawn(args, cwd, self.environment.env, None)
        refused = self._refused_redirect(args, done.stderr)
        if refused is not None:
            raise refused
        return done.stdout.strip() if done.returncode == 0 else None

    def _spawn(
        self, args: Sequence[str], cwd: Path | None, env: Mapping[str, str], stdin: str | None
    ) -> Finished:
        try:
            return spawn(args, cwd=cwd, env=env, stdin=stdin, timeout=self.timeout)
        except subprocess.TimeoutExpired as exc:
            raise GitCommandError(
                f"git {args[0]} timed out after {self.timeout:g}s; the remote is slow or "
                "unreachable (raise the GitRepository timeout if the repository is large)"
            ) from exc
        except StoppingError as exc:
            raise GitCommandError(str(exc)) from exc

    def _refused_redirect(self, args: Sequence[str], stderr: str) -> Exception | None:
        """The error for a redirect away from the origin the credentials belong to, if any."""
        home = self.environment.guarded_origin
        if not home or not stderr:
            return None
        for match in _REDIRECTED_TO.finditer(stderr):
            elsewhere = origin(match.group(1) or match.group(2))
            if elsewhere and elsewhere != home:
                return RedirectRefusedError(
                    f"git {args[0]}: the remote {home} redirected to another origin, "
                    f"{elsewhere}; the credentials are not sent there (they belong to {home} "
                    "only). Point the GitRepository URL at the new address if it is trusted"
                )
        status = _REDIRECT_STATUS.search(stderr)
        if status is None:
            return None
        return RedirectRefusedError(
            f"git {args[0]}: the remote {home} answered with a redirect (HTTP "
            f"{status.group(1)}), which is not followed with credentials: they are not sent "
            "to another origin. Point the GitRepository URL at the final address"
        )

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
        if args[0] == "push" and remote_moved(stderr):
            return PushRejectedError(f"{command}: rejected by the remote ({detail})")
        return GitCommandError(f"{command} failed: {detail}")


def remote_moved(stderr: str) -> bool:
    """True when a push failed because the remote branch moved under it (worth a retry)."""
    if any(hint in stderr for hint in _REJECTED_HINTS):
        return True
    return "[remote rejected]" in stderr and any(hint in stderr for hint in _RACE_HINTS)
