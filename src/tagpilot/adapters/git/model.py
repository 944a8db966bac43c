"""Values the git adapter takes and returns, and the errors it raises.

Built by the ImageUpdateAutomation reconciler (through the git port) from the automation's
``spec.git``, its GitRepository and their Secrets; consumed by :mod:`.flow`.  Secret fields
are excluded from ``repr`` so that a logged value never shows them.
"""

from __future__ import annotations

from tagpilot.core.errors import RetryableError, StalledError
from tagpilot.ports import CheckoutRef, CommitSpec, FlowResult, GitAuth, PushSpec, SigningKey

__all__ = [
    "CheckoutRef",
    "CommitSpec",
    "FlowResult",
    "GitAuth",
    "GitAuthError",
    "GitCommandError",
    "PushRejectedError",
    "PushSpec",
    "RedirectRefusedError",
    "SigningKey",
    "SigningKeyError",
    "SourceManagerError",
]


class GitCommandError(RetryableError):
    """A git command failed for a reason that may go away (network, server, timeout)."""

    reason = "GitOperationFailed"


class PushRejectedError(GitCommandError):
    """The remote refused the push because its branch moved (non-fast-forward, or a ref
    it could not lock or update because another writer got there first)."""


class GitAuthError(RetryableError):
    """Authentication or host verification failed: the Secret must change.

    Retried with backoff, as Flux does (and at once when a Secret changes): the usual fix
    is rotating the Secret, which changes no spec."""

    reason = "GitOperationFailed"


class RedirectRefusedError(StalledError):
    """The remote redirected to another origin, where the credentials are not sent; only
    a new URL in the spec fixes it."""

    reason = "GitOperationFailed"


class SigningKeyError(RetryableError):
    """The signing key in the Secret cannot be used (not a key, wrong passphrase); retried
    like :class:`GitAuthError`."""

    reason = "GitOperationFailed"


class SourceManagerError(RetryableError):
    """Flux's ``SourceManagerFailed``: the push branch cannot be worked out (retried)."""

    reason = "SourceManagerFailed"
