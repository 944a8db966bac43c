"""Git faults under ``tagpilot reconcile --once``: server down, push refused, history rewritten,
disk full.

Every piece is real: sshd with ``git-shell``, a registry behind a login, tagpilot as its own
process.  Each scenario checks three things: the failure is reported as a retryable
``GitOperationFailed`` (never a traceback), the remote holds nothing corrupt, and the next run
after the fault goes away pushes the update exactly once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_faults_servers import restartable_sshd
from git_faults_support import (
    Scene,
    assert_history_sound,
    committed_tags,
    push_tag,
    reconcile_once,
    ssh_scene,
    tag_name,
)

from e2e.e2e_support import DEPLOYMENT, DEV, FIRST_TAGS, TOKEN, USER, secret
from servers.git import SshServer, git, run_sshd
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd
from tagpilot.adapters.store import SqliteStore
from tagpilot.ports import ObjectKey

AUTOMATION = ObjectKey("ImageUpdateAutomation", "flux-system", "blaster-dev-automation")
FAILED_LINE = "✗ ImageUpdateAutomation flux-system/blaster-dev-automation"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: TOKEN})
    with run_registry(tmp_path / "registry", htpasswd=htpasswd) as running:
        seed(running.url, "games/blaster", FIRST_TAGS, user=USER, password=TOKEN)
        yield running


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def scene(tmp_path: Path, registry: RunningRegistry, sshd: SshServer) -> Scene:
    return _pushed_once(ssh_scene(tmp_path, registry, sshd))


def _pushed_once(scene: Scene) -> Scene:
    """The scene after a first good run (the mirror exists, ``.51`` is on develop)."""
    first = reconcile_once(scene)
    assert first.returncode == 0, first.stdout + first.stderr
    assert committed_tags(scene) == [tag_name(51)]
    return scene


def _automation_status(scene: Scene) -> dict[str, object]:
    store = SqliteStore(scene.state)
    try:
        status = store.get_status(AUTOMATION)
    finally:
        store.close()
    assert status is not None
    return status


def _conditions(scene: Scene) -> dict[object, dict[str, object]]:
    status = _automation_status(scene)
    return {c["type"]: c for c in status["conditions"]}  # type: ignore[attr-defined]


def assert_failed_retryably(scene: Scene, run: subprocess.CompletedProcess[str]) -> str:
    """The run failed cleanly with a retryable GitOperationFailed; return its message."""
    assert run.returncode == 1, run.stdout + run.stderr
    assert FAILED_LINE in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    conditions = _conditions(scene)
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "GitOperationFailed"
    assert conditions["Reconciling"]["reason"] == "ProgressingWithRetry", "must be retried"
    assert "Stalled" not in conditions, "a git fault must not stall the automation"
    assert not scene.private_dirs(), "the failed run left its private dir (keys) behind"
    return str(conditions["Ready"]["message"])


def test_a_stopped_git_server_fails_the_run_retryably_and_the_next_run_pushes(
    tmp_path: Path, registry: RunningRegistry
) -> None:
    with restartable_sshd(tmp_path / "sshd") as server:
        scene = _pushed_once(ssh_scene(tmp_path, registry, server.server))
        push_tag(scene, 52)
        server.stop()

        down = reconcile_once(scene)
        message = assert_failed_retryably(scene, down)
        assert "Connection refused" in message or "Could not read from remote" in message

        server.start()
        back = reconcile_once(scene)
        assert back.returncode == 0, back.stdout + back.stderr
    assert committed_tags(scene) == [tag_name(51), tag_name(52)]
    assert_history_sound(scene)


def _refuse_pushes(bare: Path, reason: str) -> Path:
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho '{reason}' >&2\nexit 1\n")
    hook.chmod(0o755)
    return hook


def test_a_push_refused_by_a_pre_receive_hook_is_reported_and_retried_without_loss(
    scene: Scene,
) -> None:
    push_tag(scene, 52)
    hook = _refuse_pushes(scene.bare, "develop is frozen for the release")

    refused = reconcile_once(scene)
    message = assert_failed_retryably(scene, refused)
    assert "develop is frozen for the release" in message
    assert "pre-receive hook declined" in message
    assert committed_tags(scene) == [tag_name(51)]

    hook.unlink()
    accepted = reconcile_once(scene)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert committed_tags(scene) == [tag_name(51), tag_name(52)]
    assert_history_sound(scene)


def _push_other_commit(scene: Scene, name: str, data: bytes) -> None:
    """Someone else pushes a commit that writes ``name`` to develop."""
    work = scene.root / "other-clone"
    git("clone", "--quiet", "--branch", "develop", str(scene.bare), str(work))
    (work / name).write_bytes(data)
    git("add", name, cwd=work)
    git("commit", "--quiet", "-m", f"add {name}", cwd=work)
    git("push", "--quiet", "origin", "HEAD:develop", cwd=work)
    shutil.rmtree(work)


def _mirror(scene: Scene) -> Path:
    (mirror,) = (scene.state_dir / "git").glob("*.git")
    return mirror


@pytest.mark.parametrize(
    "leftover",
    [
        pytest.param("refs/heads/develop.lock", id="branch-ref-lock"),
        pytest.param("worktrees/current/index.lock", id="worktree-index-lock"),
    ],
)
def test_a_lock_file_left_by_a_killed_run_does_not_block_the_next_runs(
    scene: Scene, leftover: str
) -> None:
    (_mirror(scene) / leftover).write_text("")
    _push_other_commit(scene, "assets.bin", b"someone else's change")  # the fetch moves develop
    push_tag(scene, 52)

    run = reconcile_once(scene)
    assert run.returncode == 0, run.stdout + run.stderr
    assert committed_tags(scene) == [tag_name(51), tag_name(52)]
    assert_history_sound(scene)


def _rewrite_develop(scene: Scene) -> tuple[str, set[str]]:
    """Force-push an unrelated history to develop; return its head and the old commits."""
    old = set(git("rev-list", "develop", cwd=scene.bare).split())
    work = scene.root / "rewrite"
    git("clone", "--quiet", "--branch", "develop", str(scene.bare), str(work))
    git("checkout", "--quiet", "--orphan", "fresh", cwd=work)
    deployment = (work / DEPLOYMENT).read_text().replace(tag_name(51), tag_name(42))
    (work / DEPLOYMENT).write_text(deployment)
    (work / "README.md").write_text("blaster, history squashed\n")
    git("commit", "--quiet", "--all", "-m", "squashed history", cwd=work)
    git("push", "--quiet", "--force", "origin", "fresh:develop", cwd=work)
    shutil.rmtree(work)
    return git("rev-parse", "develop", cwd=scene.bare), old


def test_a_force_pushed_unrelated_history_is_followed_and_the_old_one_never_pushed_back(
    scene: Scene,
) -> None:
    new_root, old_commits = _rewrite_develop(scene)
    push_tag(scene, 52)

    run = reconcile_once(scene)
    assert run.returncode == 0, run.stdout + run.stderr

    history = git("rev-list", "develop", cwd=scene.bare).split()
    assert history[1:] == [new_root], "one commit on top of the rewritten history"
    assert not old_commits & set(history), "the old history must not come back"
    assert git("show", f"develop:{DEPLOYMENT}", cwd=scene.bare).count(tag_name(52)) == 1
    assert git("show", "develop:README.md", cwd=scene.bare) == "blaster, history squashed"
    assert git("diff", "--stat", "develop~1", "develop", cwd=scene.bare).count("|") == 1


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (needs root and mount rights; skipped otherwise)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _fill(directory: Path, *, leave: int = 0) -> Path:
    """Write a file that takes every free byte of ``directory``'s file system but ``leave``."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    chunk = 1 << 16
    try:
        while chunk:
            try:
                os.write(descriptor, b"\0" * chunk)
            except OSError:
                chunk //= 2
        os.ftruncate(descriptor, max(0, os.fstat(descriptor).st_size - leave))
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_under_the_git_mirror_fails_the_fetch_retryably_and_the_next_run_pushes(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer, small_tmpfs: Path
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "git").symlink_to(small_tmpfs)  # mirror and worktree on the small disk
    scene = _pushed_once(ssh_scene(tmp_path, registry, sshd, state_dir=state_dir))
    push_tag(scene, 52)
    _push_other_commit(scene, "assets.bin", os.urandom(3 << 20))  # more than the disk has
    filler = _fill(small_tmpfs, leave=256 << 10)

    full = reconcile_once(scene)
    message = assert_failed_retryably(scene, full)
    assert "No space left on device" in message
    assert committed_tags(scene) == [tag_name(51)]

    filler.unlink()
    subprocess.run(["mount", "-o", "remount,size=16m", str(small_tmpfs)], check=True)
    again = reconcile_once(scene)
    assert again.returncode == 0, again.stdout + again.stderr
    assert committed_tags(scene) == [tag_name(51), tag_name(52)]
    assert_history_sound(scene)


def test_a_state_file_on_a_full_disk_is_refused_with_a_clear_error(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer, small_tmpfs: Path
) -> None:
    scene = _pushed_once(ssh_scene(tmp_path, registry, sshd, state_dir=small_tmpfs))
    push_tag(scene, 52)
    _fill(small_tmpfs)

    full = reconcile_once(scene)
    assert full.returncode != 0
    assert f"cannot open state file {scene.state}" in full.stderr
    assert "Traceback" not in full.stdout + full.stderr
    assert committed_tags(scene) == [tag_name(51)]


def test_a_status_write_on_a_full_disk_is_reported_without_a_traceback(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer, small_tmpfs: Path
) -> None:
    scene = _pushed_once(ssh_scene(tmp_path, registry, sshd, state_dir=small_tmpfs))
    push_tag(scene, 52)
    _push_other_commit(scene, "assets.bin", os.urandom(3 << 20))  # the fetch eats what is left
    _fill(small_tmpfs, leave=256 << 10)

    full = reconcile_once(scene)
    assert full.returncode != 0
    assert "Traceback" not in full.stdout + full.stderr
    assert "disk is full" in full.stdout + full.stderr
    assert committed_tags(scene) == [tag_name(51)]


@pytest.mark.parametrize(
    ("push_lines", "field", "value"),
    [
        pytest.param("    push:\n      branch: develop\n      refspec: --mirror\n",
                     "spec.git.push.refspec", "'--mirror'", id="refspec-mirror"),
        pytest.param("    push:\n      branch: --all\n", "spec.git.push.branch", "'--all'",
                     id="branch-all"),
    ],
)  # fmt: skip
def test_a_push_spec_that_reads_as_a_git_option_stalls_and_the_remote_is_untouched(
    scene: Scene, push_lines: str, field: str, value: str
) -> None:
    automation = scene.root / DEV / "30-image-automation.yaml"
    text = automation.read_text()
    assert "    push:\n      branch: develop\n" in text
    automation.write_text(text.replace("    push:\n      branch: develop\n", push_lines))
    push_tag(scene, 52)
    refs_before = git("for-each-ref", cwd=scene.bare)

    run = reconcile_once(scene)

    assert run.returncode == 1, run.stdout + run.stderr
    assert FAILED_LINE in run.stdout
    assert f"invalid {field}: {value}" in run.stdout, run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert _conditions(scene)["Stalled"]["status"] == "True"
    assert git("for-each-ref", cwd=scene.bare) == refs_before


def _other_ssh_key(directory: Path) -> str:
    directory.mkdir()
    key = directory / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30
    )
    return key.read_text()


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param("identity", "authentication failed", id="key-the-server-does-not-know"),
        pytest.param("known_hosts", "known_hosts", id="known-hosts-without-the-server"),
    ],
)
def test_a_wrong_git_secret_is_retried_and_the_run_after_it_is_fixed_pushes(
    scene: Scene, sshd: SshServer, fault: str, expected: str
) -> None:
    # Flux retries credential failures with backoff (Reconciling=ProgressingWithRetry):
    # the user rotates the Secret and the automation recovers without a spec change.
    secret_file = scene.cluster / "flux-system/secrets/flux-ssh-auth.yaml"
    good = secret_file.read_text()
    wrong = {
        "identity": _other_ssh_key(scene.root / "other-key"),
        "known_hosts": "example.invalid " + sshd.known_hosts.decode().split(" ", 1)[1],
    }
    data = {"identity": sshd.client_key.decode(), "known_hosts": sshd.known_hosts.decode()}
    secret_file.write_text(secret("flux-ssh-auth", {**data, fault: wrong[fault]}))
    push_tag(scene, 52)

    failed = reconcile_once(scene)
    assert expected in assert_failed_retryably(scene, failed)

    secret_file.write_text(good)
    fixed = reconcile_once(scene)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert committed_tags(scene) == [tag_name(51), tag_name(52)]
    assert_history_sound(scene)
