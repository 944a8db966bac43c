"""Flux's ImageUpdateAutomation git flow as one call: fetch, checkout, apply, commit, push.

Called by the ImageUpdateAutomation reconciler (through the git port) and ``reconcile
--once``.  The caller's ``apply(worktree) -> changed`` runs the setters in between.  Unlike
Flux, a push to the checkout branch that is rejected because the branch moved is retried on
the new head (fetch, new worktree, apply again), a bounded number of times; nothing is ever
forced over someone else's commit on the checkout branch.  A remote that refuses to update
the branch because another writer holds it (``failed to update ref``, ``cannot lock ref``)
moved too, and is retried the same way.  User values (refs, refspec, push options) are
checked before any git command runs, and a password in the URL moves to the credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tagpilot.adapters.git.credentials import url_without_credentials
from tagpilot.adapters.git.env import isolated_env
from tagpilot.adapters.git.mirror import Mirror
from tagpilot.adapters.git.model import (
    CheckoutRef,
    CommitSpec,
    FlowResult,
    GitAuth,
    GitCommandError,
    PushRejectedError,
    PushSpec,
    SigningKey,
    SourceManagerError,
)
from tagpilot.adapters.git.refnames import check_checkout, check_push
from tagpilot.adapters.git.runner import GitRunner
from tagpilot.adapters.git.signing import signing_environment
from tagpilot.adapters.git.workspace import (
    DEFAULT_BRANCH,
    Checkout,
    commit_all,
    push,
    resolve_checkout,
    worktree,
)

__all__ = ["ApplyFn", "KnownFn", "PushPlan", "plan_push", "run_git_flow"]

ApplyFn = Callable[[Path], bool]
"""The caller's step between checkout and commit: edit files under the path, say if changed."""
KnownFn = Callable[[str], bool]
"""Asked with the base commit before the worktree is made: True skips it (nothing to do)."""

_CANNOT_INFER = (
    "failed configuring source manager: push spec not provided, and cannot be inferred from "
    ".spec.git.checkout.ref or GitRepository .spec.ref"
)


@dataclass(frozen=True)
class PushPlan:
    """Flux's ``configurePush`` outcome: where to push and whether to switch (and force)."""

    branch: str
    switch_branch: bool
    refspec: str = ""
    options: Mapping[str, str] | None = None

    @property
    def force(self) -> bool:
        """Flux's ``GitForcePushBranch`` (default on) forces only a switched push branch."""
        return self.switch_branch


def plan_push(checkout: CheckoutRef | None, spec: PushSpec | None) -> PushPlan:
    """Work out the push branch per Flux; raise :class:`SourceManagerError` if impossible."""
    spec = spec or PushSpec()
    checkout_branch = checkout.branch if checkout else ""
    if spec.branch:
        compared = checkout_branch if _is_set(checkout) else DEFAULT_BRANCH
        return PushPlan(spec.branch, spec.branch != compared, spec.refspec, dict(spec.options))
    if not checkout_branch:
        raise SourceManagerError(_CANNOT_INFER)
    return PushPlan(checkout_branch, False, spec.refspec, dict(spec.options))


def _is_set(ref: CheckoutRef | None) -> bool:
    return ref is not None and ref != CheckoutRef()


def run_git_flow(
    url: str,
    *,
    state_dir: Path,
    auth: GitAuth,
    checkout: CheckoutRef | None,
    push_spec: PushSpec | None,
    commit: CommitSpec,
    apply: ApplyFn,
    signing: SigningKey | None = None,
    timeout: float = 60.0,
    max_attempts: int = 3,
    known_result: KnownFn | None = None,
) -> FlowResult:
    """Run the whole flow against ``url`` with the mirror under ``state_dir``.

    Raises :class:`SourceManagerError` (no push branch), ``StalledError`` (URL, ref,
    refspec or push option must change), ``GitAuthError`` (the Secret must change; retried)
    or :class:`GitCommandError` (retry later).  ``known_result(base)`` returning True ends
    an attempt up-to-date before any worktree is made: the caller knows ``apply`` would
    change nothing at ``base``.
    """
    check_checkout(checkout)
    check_push(push_spec)
    plan = plan_push(checkout, push_spec)
    url, auth = url_without_credentials(url, auth)
    mirror = Mirror.for_url(state_dir, url)
    with (
        isolated_env(url, auth) as environment,
        signing_environment(signing, environment) as signed_env,
        mirror.locked(),
    ):
        git = GitRunner(signed_env, timeout=timeout)
        mirror.ensure(git)
        run = _Run(mirror, git, plan, checkout, commit, apply, signing is not None, known_result)
        return run.until_pushed(max_attempts)


@dataclass(frozen=True)
class _Run:
    mirror: Mirror
    git: GitRunner
    plan: PushPlan
    checkout: CheckoutRef | None
    commit: CommitSpec
    apply: ApplyFn
    signed: bool
    known_result: KnownFn | None = None

    def until_pushed(self, max_attempts: int) -> FlowResult:
        for attempt in range(1, max_attempts + 1):
            self.mirror.fetch(self.git)
            try:
                return self.attempt(attempt)
            except PushRejectedError:
                if attempt == max_attempts:
                    raise
        raise AssertionError("unreachable: the loop returns or raises")

    def attempt(self, attempt: int) -> FlowResult:
        checkout = resolve_checkout(self.mirror, self.git, self.checkout)
        base = self._base(checkout)
        if self.known_result is not None and self.known_result(base):
            return _up_to_date(checkout, attempt)
        path = worktree(self.mirror, self.git, base)
        if not self.apply(path):
            return _up_to_date(checkout, attempt)
        sha = commit_all(self.git, path, self.commit, signed=self.signed)
        if sha is None:
            return _up_to_date(checkout, attempt)
        self._push(path, sha)
        revision = checkout.revision
        if not self.plan.switch_branch:
            revision = f"{self.plan.branch}@sha1:{sha}"
        refspecs = (self.plan.refspec,) if self.plan.refspec else ()
        return FlowResult(True, revision, checkout.sha, sha, self.plan.branch, refspecs, attempt)

    def _base(self, checkout: Checkout) -> str:
        if not self.plan.switch_branch:
            return checkout.sha
        existing = self.mirror.resolve(self.git, f"refs/heads/{self.plan.branch}")
        return existing or checkout.sha

    def _push(self, path: Path, sha: str) -> None:
        options = self.plan.options or {}
        target = [f"HEAD:refs/heads/{self.plan.branch}"]
        push(self.git, path, self.mirror.url, target, options=options, force=self.plan.force)
        self.mirror.set_branch(self.git, self.plan.branch, sha)
        if not self.plan.refspec:
            return
        try:
            push(self.git, path, self.mirror.url, [self.plan.refspec], options=options,
                 force=self.plan.force)  # fmt: skip
        except PushRejectedError as exc:
            # Only the branch push is retried; the refspec target is someone else's business.
            raise GitCommandError(f"failed to push refspec {self.plan.refspec!r}: {exc}") from exc


def _up_to_date(checkout: Checkout, attempt: int) -> FlowResult:
    return FlowResult(
        changed=False, source_revision=checkout.revision, checkout_commit=checkout.sha,
        attempts=attempt,
    )  # fmt: skip
