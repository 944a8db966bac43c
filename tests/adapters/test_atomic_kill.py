"""A write in place killed with ``kill -9`` leaves no stray file that a later run keeps.

``sops decrypt -i`` and ``setters apply`` replace files through a temporary file beside
them.  The process is stopped at the worst moment — the temporary file complete (for
``sops decrypt -i`` the whole plaintext), the rename not yet done — by a test-only wrapper
that pauses ``os.replace`` and lets the test send SIGKILL.  The leftover carries a name
tagpilot recognises, and the next run removes it, so ``git add -A`` after
that run commits no plaintext.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from servers.git import git
from tagpilot.adapters.atomic import TEMP_MARK, is_leftover, remove_leftovers, write_atomically
from tagpilot.adapters.files import update_tree
from tagpilot.cli.main import cli
from tagpilot.core.setters import PolicyTarget

_PAUSED_RUN = """
import os, sys, time
from pathlib import Path

flag, target, *argv = sys.argv[1:]
real_replace = os.replace

def paused(source, destination, *args, **kwargs):
    if Path(source).name.startswith("." + Path(target).name + "."):
        Path(flag + ".part").write_text(str(source))
        real_replace(flag + ".part", flag)  # the parent never reads a half-written flag
        time.sleep(120)
    return real_replace(source, destination, *args, **kwargs)

os.replace = paused
sys.argv = ["tagpilot", *argv]
from tagpilot.cli.main import main
main()
"""

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: registry
  namespace: flux-system
stringData:
  password: hunter2-plaintext
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}
"""


def _kill_before_rename(target: Path, *argv: str, env: dict[str, str], flag: Path) -> Path:
    """Run ``tagpilot argv`` until it is about to rename its temporary file; SIGKILL it.

    ``flag`` (outside the repository) receives the temporary file's path at that moment.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_RUN, str(flag), str(target), *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            error = process.stderr.read() if process.stderr else b""
            pytest.fail(f"the run never reached its rename: {error!r}")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    if process.stderr is not None:
        process.stderr.close()
    return Path(flag.read_text())


def _age_key(directory: Path) -> tuple[Path, str]:
    key = directory / "keys.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
    ).stdout.strip()
    return key, recipient


def _environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home), **extra)
    return env


def _untracked(repo: Path) -> list[str]:
    git("add", "-A", cwd=repo)
    return git("diff", "--cached", "--name-only", cwd=repo).split()


def test_sops_decrypt_in_place_killed_before_its_rename_leaves_a_leftover_the_next_run_removes(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    key, recipient = _age_key(tmp_path)
    secret = repo / "secret.yaml"
    secret.write_text(SECRET)
    encrypted = CliRunner().invoke(cli, ["sops", "encrypt", "-i", str(secret), "--age", recipient])
    assert encrypted.exit_code == 0, encrypted.output
    env = _environment(tmp_path, SOPS_AGE_KEY_FILE=str(key))

    leftover = _kill_before_rename(
        secret, "sops", "decrypt", "-i", str(secret), env=env, flag=tmp_path / "paused"
    )

    assert leftover.parent == repo and is_leftover(leftover.name)
    assert "hunter2-plaintext" in leftover.read_text()  # the kill hit the worst moment
    assert "hunter2-plaintext" not in secret.read_text()

    rerun = subprocess.run(
        [sys.executable, "-m", "tagpilot", "sops", "decrypt", "-i", str(secret)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in repo.iterdir()) == [".git", "secret.yaml"]
    assert _untracked(repo) == ["secret.yaml"]


def test_setters_apply_killed_before_its_rename_leaves_a_leftover_the_next_run_removes(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    git("init", "-q", cwd=repo)
    deployment = repo / "apps" / "deployment.yaml"
    deployment.write_text(DEPLOYMENT)
    argv = ["setters", "apply", str(repo), "--policy", "flux-system:app=ghcr.io/org/app:1.2.0"]
    env = _environment(tmp_path)

    leftover = _kill_before_rename(deployment, *argv, env=env, flag=tmp_path / "paused")

    assert leftover.parent == deployment.parent and is_leftover(leftover.name)
    assert "ghcr.io/org/app:1.2.0" in leftover.read_text()
    assert deployment.read_text() == DEPLOYMENT

    rerun = subprocess.run(
        [sys.executable, "-m", "tagpilot", *argv],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert "ghcr.io/org/app:1.2.0" in deployment.read_text()
    assert sorted(p.name for p in deployment.parent.iterdir()) == ["deployment.yaml"]
    assert _untracked(repo) == ["apps/deployment.yaml"]


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        pytest.param(f".secret.yaml{TEMP_MARK}a1b2_c3d4", True, id="our-temporary-file"),
        pytest.param(".secret.yaml.a1b2c3d4", False, id="another-tools-hidden-file"),
        pytest.param(f"secret.yaml{TEMP_MARK}a1b2c3d4", False, id="not-hidden"),
        pytest.param(".sourceignore", False, id="dotfile"),
    ],
)
def test_only_our_temporary_names_count_as_leftovers(name: str, ours: bool) -> None:
    assert is_leftover(name) is ours


def test_removing_leftovers_beside_one_file_spares_every_other_file(tmp_path: Path) -> None:
    names = [
        f".a.yaml{TEMP_MARK}x1",
        f".b.yaml{TEMP_MARK}x2",
        ".a.yaml.keep",
        "a.yaml",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    removed = remove_leftovers(tmp_path, "a.yaml")
    assert [p.name for p in removed] == [f".a.yaml{TEMP_MARK}x1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])


def test_an_atomic_write_keeps_the_mode_and_leaves_nothing_beside(tmp_path: Path) -> None:
    target = tmp_path / "secret.yaml"
    target.write_text("old")
    target.chmod(0o600)
    write_atomically(target, b"new", sync=True)
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.yaml"]


@pytest.mark.parametrize(
    ("dry_run", "kept"), [(False, False), (True, True)], ids=["run", "dry-run"]
)
def test_the_update_pass_removes_leftovers_in_its_tree_unless_it_is_a_dry_run(
    tmp_path: Path, dry_run: bool, kept: bool
) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "deployment.yaml").write_text(DEPLOYMENT)
    leftover = tmp_path / "apps" / f".deployment.yaml{TEMP_MARK}k1ll3d"
    leftover.write_text("half")
    table = {"flux-system:app": PolicyTarget("ghcr.io/org/app", "1.2.0")}
    result = update_tree(tmp_path, table, dry_run=dry_run)
    assert result.changes
    assert leftover.exists() is kept
