"""The ``GitSource`` port on the git CLI: a GitRepository's ref, fetched and stored as an artifact.

Called by the GitRepository reconciler.  It reuses the persistent mirror of the remote (the
same one ImageUpdateAutomation pushes through, under the same lock): each fetch brings only
what is new.  The ref is resolved as source-controller does (commit > name > semver > tag >
branch, no ref meaning branch ``master``) and gets Flux's revision string; the commit's tree
is exported with Flux's ignore rules and archived (see :mod:`.export`).

Artifacts live under ``<state>/artifacts/gitrepository/<namespace>/<name>/``, one directory
per (commit, ``spec.ignore``) holding ``tree/`` and ``<commit>.tar.gz``.  A directory is
built under a temporary name and renamed into place, so a reader never sees half of one, and
an existing one is reused as it is (an unchanged remote stores nothing new).  The newest two
are kept, like Flux's default artifact retention.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tagpilot.adapters.git.credentials import url_without_credentials
from tagpilot.adapters.git.env import isolated_env
from tagpilot.adapters.git.export import (
    Archive,
    apply_ignore,
    export_commit,
    ignore_rules,
    write_archive,
)
from tagpilot.adapters.git.mirror import Mirror
from tagpilot.adapters.git.model import GitCommandError
from tagpilot.adapters.git.refnames import check_checkout
from tagpilot.adapters.git.runner import GitRunner
from tagpilot.adapters.git.workspace import DEFAULT_BRANCH, Checkout, resolve_checkout
from tagpilot.core.errors import RetryableError
from tagpilot.ports import CheckoutRef, GitSourceFetch, SourceArtifact

__all__ = ["RETAINED_ARTIFACTS", "CliGitSource", "fetch_artifact", "resolve_source_ref"]

RETAINED_ARTIFACTS = 2
"""Artifacts kept per GitRepository: the current one and the one before (Flux's default)."""
_TEMP_PREFIX = ".tmp-"
_META = "artifact.json"


class CliGitSource:
    """Implements ``tagpilot.ports.GitSource`` with mirrors and artifacts under ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    async def fetch(self, request: GitSourceFetch) -> SourceArtifact:
        """Fetch and store in a worker thread; the mirror's lock serialises one remote's users."""
        return await asyncio.to_thread(fetch_artifact, request, self.state_dir)


def fetch_artifact(request: GitSourceFetch, state_dir: Path) -> SourceArtifact:
    """Fetch ``request.url``, resolve the ref, and return the stored (or reused) artifact."""
    check_checkout(request.ref)
    url, auth = url_without_credentials(request.url, request.auth)
    mirror = Mirror.for_url(state_dir, url)
    with isolated_env(url, auth) as environment, mirror.locked():
        git = GitRunner(environment, timeout=request.timeout_seconds)
        mirror.ensure(git)
        mirror.fetch(git)
        checkout = resolve_source_ref(mirror, git, request.ref)
        home = _Store(state_dir, request)
        return home.existing(checkout) or home.create(mirror, git, checkout)


def resolve_source_ref(mirror: Mirror, git: GitRunner, ref: CheckoutRef | None) -> Checkout:
    """``ref`` resolved in the freshly fetched mirror, with source-controller's precedence and
    its message for a branch or tag the remote does not have."""
    ref = ref or CheckoutRef()
    if not (ref.commit or ref.name):
        if ref.semver:
            ref = CheckoutRef(semver=ref.semver)  # semver wins over tag and branch
        elif ref.tag:
            _must_exist(mirror, git, f"refs/tags/{ref.tag}")
        else:
            _must_exist(mirror, git, f"refs/heads/{ref.branch or DEFAULT_BRANCH}")
    checkout = resolve_checkout(mirror, git, ref)
    if ref.commit and ref.branch:
        _must_be_on_branch(mirror, git, checkout.sha, ref.branch)
    return checkout


def _must_be_on_branch(mirror: Mirror, git: GitRunner, sha: str, branch: str) -> None:
    """Flux clones only the branch, so a commit that is not on it is not found."""
    full_ref = f"refs/heads/{branch}"
    _must_exist(mirror, git, full_ref)
    on_branch = git.probe("merge-base", "--is-ancestor", sha, full_ref, cwd=mirror.path)
    if on_branch is None:
        raise GitCommandError(
            f"unable to clone '{mirror.url}': commit '{sha}' is not on branch '{branch}'"
        )


def _must_exist(mirror: Mirror, git: GitRunner, full_ref: str) -> None:
    if mirror.resolve(git, full_ref) is None:
        raise GitCommandError(f"unable to clone '{mirror.url}': couldn't find remote ref "
                              f'"{full_ref}"')  # fmt: skip


@dataclass(frozen=True)
class _Store:
    """Where one GitRepository's artifacts live, and how one is stored or found."""

    state_dir: Path
    request: GitSourceFetch

    @property
    def home(self) -> Path:
        return self.state_dir / "artifacts" / self.relative

    @property
    def relative(self) -> str:
        return f"gitrepository/{self.request.namespace}/{self.request.name}"

    def _directory(self, commit: str) -> Path:
        # The ignore rules are part of the artifact's identity: a changed spec.ignore
        # stores a new tree for the same commit.
        rules = hashlib.sha256((self.request.ignore or "\0").encode()).hexdigest()[:12]
        return self.home / f"{commit}-{rules}"

    def existing(self, checkout: Checkout) -> SourceArtifact | None:
        """The artifact already stored for ``checkout``, if any."""
        directory = self._directory(checkout.sha)
        try:
            meta = json.loads((directory / _META).read_text())
        except (OSError, ValueError):
            return None
        archive = Archive(str(meta["digest"]), int(meta["size"]))
        return self._artifact(checkout, directory, archive, created=False)

    def create(self, mirror: Mirror, git: GitRunner, checkout: Checkout) -> SourceArtifact:
        """Export ``checkout``'s tree and archive it, atomically; drop old artifacts."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=self.home))
            archive = self._fill(mirror, git, checkout, scratch)
            final = self._directory(checkout.sha)
            shutil.rmtree(final, ignore_errors=True)  # a directory without its metadata
            scratch.rename(final)
            self._prune(keep=final)
        except OSError as exc:
            raise RetryableError(
                f"failed to store artifact under {self.relative}: {exc.strerror or exc}",
                reason="StorageOperationFailed",
            ) from exc
        return self._artifact(checkout, final, archive, created=True)

    def _fill(self, mirror: Mirror, git: GitRunner, checkout: Checkout, scratch: Path) -> Archive:
        tree = scratch / "tree"
        export_commit(git, mirror.path, checkout.sha, tree, scratch)
        apply_ignore(tree, ignore_rules(tree, self.request.ignore))
        archive = write_archive(tree, scratch / f"{checkout.sha}.tar.gz")
        meta = {"digest": archive.digest, "size": archive.size}
        (scratch / _META).write_text(json.dumps(meta))
        return archive

    def _prune(self, keep: Path) -> None:
        """Remove leftovers of killed runs and all but the newest artifacts."""
        stored = [p for p in self.home.iterdir() if p.is_dir() and p != keep]
        for path in stored:
            if path.name.startswith(_TEMP_PREFIX):
                shutil.rmtree(path, ignore_errors=True)
        done = sorted(
            (p for p in stored if not p.name.startswith(_TEMP_PREFIX) and p.exists()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for path in done[RETAINED_ARTIFACTS - 1 :]:
            shutil.rmtree(path, ignore_errors=True)

    def _artifact(
        self, checkout: Checkout, directory: Path, archive: Archive, *, created: bool
    ) -> SourceArtifact:
        tarball = directory / f"{checkout.sha}.tar.gz"
        return SourceArtifact(
            revision=checkout.revision,
            commit=checkout.sha,
            tree=directory / "tree",
            path=f"{self.relative}/{checkout.sha}.tar.gz",
            url=tarball.as_uri(),
            digest=archive.digest,
            size=archive.size,
            created=created,
        )
