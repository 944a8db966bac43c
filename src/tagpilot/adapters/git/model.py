"""Values the git adapter takes and returns, and the errors it raises.

Built by the ImageUpdateAutomation reconciler (through the git port) from the automation's
``spec.git``, its GitRepository and their Secrets; consumed by :mod:`.flow`.  Secret fields
are excluded from ``repr`` so that a logged value never shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from tagpilot.core.errors import RetryableError, StalledError

__all__ = [
    "CheckoutRef",
    "CommitSpec",
    "FlowResult",
    "GitAuth",
    "GitAuthError",
    "GitCommandError",
    "PushRejectedError",
    "PushSpec",
    "SigningKey",
    "SigningKeyError",
    "SourceManagerError",
]


@dataclass(frozen=True)
class GitAuth:
    """Credentials and trust material for one remote, as found in a GitRepository Secret.

    SSH uses ``identity_pem`` (OpenSSH private key, optionally ``identity_passphrase``) and
    ``known_hosts`` (required: unknown hosts are refused, never trusted on first use).
    HTTPS uses ``username``/``password`` (Basic) or ``bearer_token``, ``ca_pem`` for a
    private CA and ``cert_pem``/``key_pem`` for a client certificate.
    """

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    identity_pem: bytes | None = field(default=None, repr=False)
    known_hosts: bytes | None = None
    ca_pem: bytes | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = field(default=None, repr=False)
    identity_passphrase: bytes | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """Every secret string that must never appear in a message or log."""
        values = (self.password, self.bearer_token)
        return tuple(v for v in values if v)


@dataclass(frozen=True)
class SigningKey:
    """A commit signing key: ``gpg`` (armored private key) or ``ssh`` (OpenSSH private key)."""

    kind: Literal["gpg", "ssh"]
    key: bytes = field(repr=False)
    passphrase: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CommitSpec:
    """Author, message and time of the automation commit.

    ``message`` may be a callable: it is called after the setters ran, so a template can
    see the changes of that attempt.
    """

    author_name: str
    """May be empty (Flux allows it); the e-mail is then used as the name."""
    author_email: str
    message: str | Callable[[], str]
    when: datetime

    def render_message(self) -> str:
        """The message text, evaluating the callable form."""
        return self.message() if callable(self.message) else self.message


@dataclass(frozen=True)
class CheckoutRef:
    """Flux's ``GitRepositoryRef``; precedence when several are set: commit > name > tag >
    semver > branch, and an empty ref means branch ``master``."""

    branch: str = ""
    tag: str = ""
    semver: str = ""
    name: str = ""
    commit: str = ""


@dataclass(frozen=True)
class PushSpec:
    """Flux's ``spec.git.push``: target branch, an extra refspec and push options."""

    branch: str = ""
    refspec: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowResult:
    """What one run of the git flow did.

    ``source_revision`` is Flux's ``observedSourceRevision``: ``<branch>@sha1:<sha>`` of the
    pushed commit when pushing to the checkout branch, else of the checkout commit.
    """

    changed: bool
    source_revision: str
    checkout_commit: str
    pushed_commit: str | None = None
    pushed_branch: str | None = None
    refspecs: tuple[str, ...] = ()
    attempts: int = 1


class GitCommandError(RetryableError):
    """A git command failed for a reason that may go away (network, server, timeout)."""

    reason = "GitOperationFailed"


class PushRejectedError(GitCommandError):
    """The remote refused the push because its branch moved (non-fast-forward)."""


class GitAuthError(StalledError):
    """Authentication or host verification failed: the Secret must change."""

    reason = "GitOperationFailed"


class SigningKeyError(StalledError):
    """The signing key in the Secret cannot be used (not a key, wrong passphrase)."""

    reason = "GitOperationFailed"


class SourceManagerError(RetryableError):
    """Flux's ``SourceManagerFailed``: the push branch cannot be worked out (retried)."""

    reason = "SourceManagerFailed"
