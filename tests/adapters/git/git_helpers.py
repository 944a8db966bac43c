"""Helpers shared by the git adapter tests: the test remote, apply callbacks, test secrets."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from servers.git import git
from tagpilot.adapters.git import (
    CheckoutRef,
    CommitSpec,
    FlowResult,
    GitAuth,
    PushSpec,
    SigningKey,
    run_git_flow,
)

__all__ = [
    "GPG_PASSPHRASE",
    "HTTP_PASSWORD",
    "HTTP_USER",
    "MAIN",
    "FlowCase",
    "GpgKey",
    "Remote",
    "next_id",
    "set_image",
]

GPG_PASSPHRASE = "gpg-pass-never-shown"
HTTP_USER = "alice"
HTTP_PASSWORD = "pw-Zq8-never-shown"
_counter = itertools.count()


def next_id() -> int:
    """A number unique within the test session."""
    return next(_counter)


@dataclass(frozen=True)
class Remote:
    """A bare repository served over SSH and HTTP(S), with helpers to inspect it."""

    path: Path
    initial: str

    def head(self, branch: str) -> str | None:
        """The SHA of ``branch`` on the remote, or None when it does not exist."""
        out = git("for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}", cwd=self.path)
        return out or None

    def show(self, rev: str, file: str) -> str:
        """The content of ``file`` at ``rev``."""
        return git("show", f"{rev}:{file}", cwd=self.path)

    def log(self, rev: str, fmt: str = "%s") -> list[str]:
        """``git log --format=fmt rev`` lines, newest first."""
        return git("log", f"--format={fmt}", rev, cwd=self.path).splitlines()

    def push_from_other_clone(self, files: dict[str, str], branch: str = "main") -> str:
        """Another writer commits ``files`` on ``branch`` and pushes; returns the new SHA."""
        work = self.path.with_name(f"{self.path.name}.other{next(_counter)}")
        git("clone", "--quiet", "--branch", branch, str(self.path), str(work))
        for name, text in files.items():
            (work / name).write_text(text)
        git("add", "--all", cwd=work)
        git("commit", "--quiet", "-m", "someone else", cwd=work)
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
        return git("rev-parse", "HEAD", cwd=work)


@dataclass(frozen=True)
class GpgKey:
    """An armored OpenPGP private key, its passphrase and a GNUPGHOME with its public key."""

    armored: bytes
    passphrase: str
    home: Path


def set_image(tag: str) -> Callable[[Path], bool]:
    """An ``apply`` callback that writes ``image: app:<tag>`` and reports a change if any."""

    def apply(worktree: Path) -> bool:
        target = worktree / "deploy.yaml"
        new = f"image: app:{tag}\n"
        changed = target.read_text() != new
        target.write_text(new)
        return changed

    return apply


MAIN = CheckoutRef(branch="main")


@dataclass(frozen=True)
class FlowCase:
    """One remote reached over one transport, with everything a flow run needs."""

    url: str
    auth: GitAuth
    remote: Remote
    state_dir: Path
    commit: CommitSpec

    def run(
        self,
        apply: Callable[[Path], bool],
        *,
        checkout: CheckoutRef | None = MAIN,
        push: PushSpec | None = None,
        signing: SigningKey | None = None,
        auth: GitAuth | None = None,
        commit: CommitSpec | None = None,
    ) -> FlowResult:
        """Run the git flow against this remote; arguments override the case's defaults."""
        return run_git_flow(
            self.url, state_dir=self.state_dir, auth=auth or self.auth, checkout=checkout,
            push_spec=push, commit=commit or self.commit, apply=apply, signing=signing,
        )  # fmt: skip
