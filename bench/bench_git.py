"""The git flow on a large repository: the persistent mirror vs a fresh clone per run.

Generates a bare repository of 20,000 files and 2,000 commits with ``git fast-import``,
serves it with a real ``sshd`` on loopback, and times one automation run (fetch, worktree,
commit of one changed file, push) with tagpilot's mirror against ``git clone`` + commit +
push, which is what a controller without a cache does on every run.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from tests.servers.git import SshServer, git, run_sshd

from bench.common import Result, best_of
from tagpilot.adapters.git import CheckoutRef, CommitSpec, GitAuth, run_git_flow

__all__ = ["make_large_repo", "run"]

FILES = 20_000
COMMITS = 2_000
FILES_PER_DIR = 200
ROUNDS = 3


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def _path(index: int) -> str:
    return f"apps/team{index // FILES_PER_DIR:03d}/app{index:05d}.yaml"


def _manifest(index: int, version: int) -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{index}\nspec:\n"
        f"  template:\n    spec:\n      containers:\n      - name: app\n"
        f"        image: registry.example.com/app{index}:1.{version}.0\n"
    )


def _stream(commits: int, files: int) -> Iterator[bytes]:
    for number in range(commits):
        when = 1_700_000_000 + number
        header = f"commit refs/heads/main\ncommitter bench <bench@example.com> {when} +0000\n"
        yield header.encode() + _data(f"commit {number}")
        first = number * 7 % files
        changed = range(files) if number == 0 else range(first, first + 10)
        for index in changed:
            yield f"M 100644 inline {_path(index % files)}\n".encode()
            yield _data(_manifest(index % files, number))
        yield b"\n"


def make_large_repo(path: Path, *, files: int = FILES, commits: int = COMMITS) -> None:
    """A bare repo at ``path``: ``files`` manifests, ``commits`` commits on ``main``."""
    git("init", "--quiet", "--bare", "--initial-branch=main", str(path))
    process = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull},
    )  # fmt: skip
    assert process.stdin is not None
    for chunk in _stream(commits, files):
        process.stdin.write(chunk)
    process.stdin.close()
    if process.wait() != 0:
        raise RuntimeError("git fast-import failed")
    git("gc", "--quiet", cwd=path)


def _bump(worktree: Path, round_number: int) -> bool:
    target = worktree / _path(0)
    target.write_text(_manifest(0, 10_000 + round_number))
    return True


def _clone_run(server: SshServer, repo: Path, scratch: Path, number: int, depth: int) -> None:
    auth_env = {
        "GIT_SSH_COMMAND": (
            f"ssh -i {scratch / 'id'} -o IdentitiesOnly=yes -o UserKnownHostsFile={scratch / 'kh'}"
            " -o StrictHostKeyChecking=yes -o BatchMode=yes"
        )
    }
    work = scratch / f"clone{number}"
    shallow = ["--depth", str(depth)] if depth else []
    git("clone", "--quiet", *shallow, "--branch", "main", server.url(repo), str(work), env=auth_env)
    _bump(work, number)
    git("commit", "--quiet", "--all", "-m", "bump", cwd=work)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=work, env=auth_env)
    subprocess.run(["rm", "-rf", str(work)], check=True)


def run() -> list[Result]:
    """Time mirror runs and fresh-clone runs against the same served repository."""
    with tempfile.TemporaryDirectory(prefix="tagpilot-bench-git-") as tmp:
        root = Path(tmp)
        repo = root / "big.git"
        make_large_repo(repo)
        with run_sshd(root / "sshd") as server:
            return _measure(server, repo, root)


def _measure(server: SshServer, repo: Path, root: Path) -> list[Result]:
    auth = GitAuth(identity_pem=server.client_key, known_hosts=server.known_hosts)
    numbers = count()
    commit = CommitSpec("bot", "bot@example.com", "bump", datetime.now(UTC))

    def mirror_run() -> None:
        number = next(numbers)
        run_git_flow(
            server.url(repo), state_dir=root / "state", auth=auth,
            checkout=CheckoutRef(branch="main"), push_spec=None, commit=commit,
            apply=lambda worktree: _bump(worktree, number),
        )  # fmt: skip

    mirror_run()  # the first run fills the mirror; steady state is what repeats
    mirror = best_of(mirror_run, rounds=ROUNDS)
    (root / "id").write_bytes(server.client_key)
    (root / "id").chmod(0o600)
    (root / "kh").write_bytes(server.known_hosts)
    full = best_of(lambda: _clone_run(server, repo, root, next(numbers), 0), rounds=ROUNDS)
    shallow = best_of(lambda: _clone_run(server, repo, root, next(numbers), 1), rounds=ROUNDS)
    scale = f"{FILES} files, {COMMITS} commits, ssh on loopback"
    return [
        Result("git run: mirror vs fresh clone", "tagpilot mirror", mirror,
               "git clone + commit + push", full, target="<= 0.2 (5x faster)", note=scale),
        Result("git run: mirror vs shallow clone", "tagpilot mirror", mirror,
               "git clone --depth 1 + commit + push", shallow, target="info", note=scale),
    ]  # fmt: skip
