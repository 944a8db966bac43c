"""The git adapter: Flux's ImageUpdateAutomation git flow on the git CLI.

Called by the ImageUpdateAutomation reconciler (through the git port) and ``reconcile
--once``.  :func:`run_git_flow` is the entry point; the dataclasses describe its inputs and
result, and the error classes are what it raises besides ``StalledError``.
"""

from __future__ import annotations

from tagpilot.adapters.git.flow import ApplyFn, PushPlan, plan_push, run_git_flow
from tagpilot.adapters.git.model import (
    CheckoutRef,
    CommitSpec,
    FlowResult,
    GitAuth,
    GitAuthError,
    GitCommandError,
    PushRejectedError,
    PushSpec,
    RedirectRefusedError,
    SigningKey,
    SigningKeyError,
    SourceManagerError,
)

__all__ = [
    "ApplyFn",
    "CheckoutRef",
    "CommitSpec",
    "FlowResult",
    "GitAuth",
    "GitAuthError",
    "GitCommandError",
    "PushPlan",
    "PushRejectedError",
    "PushSpec",
    "RedirectRefusedError",
    "SigningKey",
    "SigningKeyError",
    "SourceManagerError",
    "plan_push",
    "run_git_flow",
]
