"""One run's working copy: resolve the checkout ref, make a worktree, commit, push.

Called by :mod:`.flow` while it holds the mirror's lock.  The worktree is detached (no
local branch is checked out), so fetches into the mirror's ``refs/heads`` never conflict
with it; pushes name their destination explicitly (``HEAD:refs/heads/<branch>``).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from tagpilot.adapters.git.mirror import Mirror
from tagpilot.adapters.git.model import CheckoutRef, CommitSpec, GitCommandError
from tagpilot.adapters.git.runner import GitRunner
from tagpilot.core.errors import StalledError, TagpilotError
from tagpilot.core.semver import Constraints, SemverError, parse_version

__all__ = [
    "DEFAULT_BRANCH",
    "Checkout",
    "commit_all",
    "push",
    "push_option_args",
    "resolve_checkout",
    "worktree",
]

DEFAULT_BRANCH = "master"
"""Flux clones ``master`` when no ref is given, not the remote's HEAD branch."""


@dataclass(frozen=True)
class Checkout:
    """The resolved checkout: commit SHA, Flux revision string and branch ("" if none)."""

    sha: str
    revision: str
    branch: str = ""


def resolve_checkout(mirror: Mirror, git: GitRunner, ref: CheckoutRef | None) -> Checkout:
    """Resolve ``ref`` in the freshly fetched mirror with Flux's precedence
    commit > name > tag > semver > branch."""
    ref = ref or CheckoutRef()
    if ref.commit:
        return _checkout_commit(mirror, git, ref)
    if ref.name:
        sha = _require(mirror, git, ref.name, fetch=f"+{ref.name}:{ref.name}", what="ref")
        return Checkout(sha=sha, revision=f"{ref.name}@sha1:{sha}")
    if ref.tag:
        sha = _require(mirror, git, f"refs/tags/{ref.tag}", what="tag")
        return Checkout(sha=sha, revision=f"{ref.tag}@sha1:{sha}")
    if ref.semver:
        tag = _highest_matching_tag(mirror, git, ref.semver)
        sha = _require(mirror, git, f"refs/tags/{tag}", what="tag")
        return Checkout(sha=sha, revision=f"{tag}@sha1:{sha}")
    branch = ref.branch or DEFAULT_BRANCH
    sha = _require(mirror, git, f"refs/heads/{branch}", what="branch")
    return Checkout(sha=sha, revision=f"{branch}@sha1:{sha}", branch=branch)


def _highest_matching_tag(mirror: Mirror, git: GitRunner, semver_range: str) -> str:
    try:
        constraints = Constraints.parse(semver_range)
    except SemverError as exc:
        raise StalledError(
            f"invalid checkout semver range: {exc}", reason="GitOperationFailed"
        ) from exc
    tags = git.run("for-each-ref", "--format=%(refname:strip=2)", "refs/tags", cwd=mirror.path)
    matching = []
    for tag in tags.splitlines():
        try:
            version = parse_version(tag)
        except SemverError:
            continue
        if constraints.check(version):
            matching.append((version, tag))
    if not matching:
        raise GitCommandError(
            f"failed to checkout source: no tag matches semver range {semver_range!r}"
        )
    return max(matching, key=lambda pair: pair[0])[1]


def _checkout_commit(mirror: Mirror, git: GitRunner, ref: CheckoutRef) -> Checkout:
    sha = _require(mirror, git, ref.commit, fetch=ref.commit, what="commit")
    if ref.branch:
        return Checkout(sha=sha, revision=f"{ref.branch}@sha1:{sha}", branch="")
    return Checkout(sha=sha, revision=f"sha1:{sha}")


def _require(mirror: Mirror, git: GitRunner, ref: str, *, what: str, fetch: str = "") -> str:
    sha = mirror.resolve(git, ref)
    if sha is None and fetch:
        git.probe("fetch", "--no-write-fetch-head", "--", mirror.url, fetch, cwd=mirror.path)
        sha = mirror.resolve(git, ref)
    if sha is None:
        raise GitCommandError(
            f"failed to checkout source: {what} {ref.removeprefix('refs/heads/')!r} "
            "not found in the remote repository"
        )
    return sha


def worktree(mirror: Mirror, git: GitRunner, sha: str) -> Path:
    """The mirror's detached worktree, clean and at ``sha``.

    The worktree is kept between runs and moved with ``checkout --force`` + ``clean``, so a
    run writes only the files that differ instead of the whole tree (writing 20,000 files
    is what dominates a fresh clone).  Anything left by a crash or by the previous run's
    edits is discarded; if the worktree is unusable it is rebuilt from scratch.
    """
    path = mirror.worktrees_dir / "current"
    if (path / ".git").is_file():
        try:
            git.run("checkout", "--quiet", "--force", "--detach", "--end-of-options", sha, cwd=path)
            git.run("clean", "--quiet", "-ffdx", cwd=path)
            return path
        except TagpilotError:
            pass  # a lock or a broken index left by a crash: rebuild below
    shutil.rmtree(path, ignore_errors=True)
    git.run("worktree", "prune", cwd=mirror.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    git.run(
        "worktree", "add", "--quiet", "--force", "--detach", "--", str(path), sha, cwd=mirror.path
    )
    return path


def commit_all(git: GitRunner, path: Path, spec: CommitSpec, *, signed: bool) -> str | None:
    """Stage every change in the worktree and commit it; None when nothing changed."""
    git.run("add", "--all", cwd=path)
    if git.probe("diff", "--cached", "--quiet", cwd=path) is not None:
        return None
    sign = "--gpg-sign" if signed else "--no-gpg-sign"
    git.run(
        "commit", "--quiet", "--no-verify", "--allow-empty-message", "--cleanup=verbatim",
        sign, "--file=-",
        cwd=path, stdin=spec.render_message(), env=_identity_env(spec),
    )  # fmt: skip
    return git.run("rev-parse", "HEAD", cwd=path)


def _identity_env(spec: CommitSpec) -> dict[str, str]:
    # git refuses an empty author name; Flux allows it, so fall back to the e-mail.
    name = spec.author_name or spec.author_email
    when = spec.when if spec.when.tzinfo else spec.when.replace(tzinfo=UTC)
    date = f"{int(when.timestamp())} {when.strftime('%z')}"
    env = {}
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"] = name
        env[f"GIT_{role}_EMAIL"] = spec.author_email
        env[f"GIT_{role}_DATE"] = date
    return env


def push_option_args(options: Mapping[str, str]) -> list[str]:
    """``--push-option`` arguments: ``k=v``, or just ``k`` for an empty value (as Flux)."""
    return [
        f"--push-option={k}={v}" if v else f"--push-option={k}" for k, v in sorted(options.items())
    ]


def push(
    git: GitRunner,
    path: Path,
    url: str,
    refspecs: Sequence[str],
    *,
    options: Mapping[str, str],
    force: bool,
) -> None:
    """Push ``refspecs`` from the worktree to ``url`` with push options, forced if asked."""
    flags = ["--force"] if force else []
    # Not --quiet: git names a redirect it followed only then, and the runner checks it.
    git.run("push", *flags, *push_option_args(options), "--", url, *refspecs, cwd=path)
