"""A persistent bare mirror of one remote under the state directory.

Called by :mod:`.flow`: each run takes the mirror's lock (one writer per remote at a time,
across processes), fetches only what is new, and makes throw-away worktrees from it.  The
directory name is a hash of the URL, so credentials or odd characters in URLs never become
paths.  Its worktree lives next to it (see :func:`.workspace.worktree`).
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tagpilot.adapters.git.runner import GitRunner

__all__ = ["BRANCH_REFSPEC", "TAG_REFSPEC", "Mirror"]

BRANCH_REFSPEC = "+refs/heads/*:refs/heads/*"
"""All remote branches map onto the mirror's own branches (Flux's GitAllBranchReferences)."""

TAG_REFSPEC = "+refs/tags/*:refs/tags/*"
"""Tags are fetched for tag and semver checkouts."""


@dataclass(frozen=True)
class Mirror:
    """The bare mirror of ``url`` at ``path``; build with :meth:`for_url`."""

    url: str
    path: Path

    @classmethod
    def for_url(cls, state_dir: Path, url: str) -> Mirror:
        """The mirror of ``url`` under ``state_dir/git`` (created lazily by :meth:`ensure`)."""
        key = hashlib.sha256(url.encode()).hexdigest()[:24]
        return cls(url=url, path=state_dir / "git" / f"{key}.git")

    @property
    def worktrees_dir(self) -> Path:
        """Where this mirror's worktree lives."""
        return self.path.with_suffix(".worktrees")

    @contextmanager
    def locked(self) -> Iterator[Mirror]:
        """Hold the mirror's exclusive lock (blocking) for the duration of the block."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_suffix(".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure(self, git: GitRunner) -> None:
        """Create the bare repository if missing; clear lock files a killed run left behind.

        Call only while holding :meth:`locked`.
        """
        if not (self.path / "HEAD").exists():
            shutil.rmtree(self.path, ignore_errors=True)
            shutil.rmtree(self.worktrees_dir, ignore_errors=True)
            git.run("init", "--quiet", "--bare", "--", str(self.path))
            # An automatic gc must not outlive the run as a detached background process.
            git.run("config", "gc.autoDetach", "false", cwd=self.path)
        self._clear_stale_locks()

    def _clear_stale_locks(self) -> None:
        # Every git process that writes this mirror runs under our exclusive flock, so a
        # ``*.lock`` file seen while holding it belongs to a run that was killed mid-write
        # (kill -9, OOM, power loss).  git never removes those itself: one left on a ref
        # would fail every later fetch.
        for lock in self.path.rglob("*.lock"):
            if "objects" not in lock.relative_to(self.path).parts:
                lock.unlink(missing_ok=True)

    def fetch(self, git: GitRunner, *refspecs: str) -> None:
        """Fetch ``refspecs`` (default: all branches and tags) from the remote, pruning."""
        wanted = refspecs or (BRANCH_REFSPEC, TAG_REFSPEC)
        # Not --quiet: git names a redirect it followed only then, and the runner checks it.
        git.run(
            "fetch", "--prune", "--no-write-fetch-head", "--", self.url, *wanted,
            cwd=self.path,
        )  # fmt: skip

    def resolve(self, git: GitRunner, ref: str) -> str | None:
        """The commit SHA ``ref`` names in the mirror, or None."""
        found = git.probe(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
            cwd=self.path,
        )  # fmt: skip
        return found or None

    def set_branch(self, git: GitRunner, branch: str, sha: str) -> None:
        """Record that the remote ``branch`` now points at ``sha`` (after our own push)."""
        git.run("update-ref", "--", f"refs/heads/{branch}", sha, cwd=self.path)
