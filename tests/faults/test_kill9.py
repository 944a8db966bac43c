"""``kill -9`` of ``tagpilot reconcile --once`` at random points, many times over.

Each round pushes a new image tag and starts a run, then SIGKILLs it: after a random delay
across the whole length of a run, or a random moment after a ``git`` child appeared (so
fetches, commits and pushes are hit every time).  About half the rounds kill the whole
process group (a container dying), the others only tagpilot itself (its git children
finish as orphans).  After every kill the state file opens, and the remote holds no
duplicate commit and no half-written file; a final run that is left alone commits the
newest tag exactly once, and the private directories killed runs left behind (unlocked SSH
keys) are gone.

The default run does 20 rounds; ``make fuzz`` (``-m slow``) does 200.  The random seed is
printed on failure; set ``TAGPILOT_KILL_SEED`` to replay it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from git_faults_procs import family, start_tagpilot, wait_group_gone
from git_faults_support import (
    Scene,
    assert_history_sound,
    committed_tags,
    deployed_tag,
    push_tag,
    reconcile_once,
    ssh_scene,
)

from e2e.e2e_support import FIRST_TAGS, TOKEN, USER
from servers.git import SshServer, git, run_sshd
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd
from tagpilot.adapters.store import SqliteStore


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: TOKEN})
    with run_registry(tmp_path / "registry", htpasswd=htpasswd) as running:
        seed(running.url, "games/blaster", FIRST_TAGS, user=USER, password=TOKEN)
        yield running


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    with run_sshd(tmp_path / "sshd") as server:
        yield server


@dataclass(frozen=True)
class Kill:
    """One round's plan: when to kill and what."""

    delay: float
    after_git_starts: bool
    whole_group: bool


@dataclass
class Tally:
    """What the kills hit, for the failure message and the sanity check."""

    rounds: int = 0
    during_git: int = 0
    after_exit: int = 0
    private_dirs_left: int = 0


def _git_running(pid: int) -> bool:
    for member in family(pid):
        try:
            if Path(f"/proc/{member}/comm").read_text().strip() in ("git", "ssh"):
                return True
        except OSError:
            continue
    return False


def _wait_for_git(process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        if _git_running(process.pid):
            return
        time.sleep(0.005)


def _kill(scene: Scene, plan: Kill, tally: Tally) -> None:
    process = start_tagpilot(
        ["reconcile", str(scene.cluster), "--once", "--state", str(scene.state)],
        cwd=scene.root, log=scene.root / "killed-runs.log", env=scene.env(),
    )  # fmt: skip
    if plan.after_git_starts:
        _wait_for_git(process, 60)
    time.sleep(plan.delay)
    tally.rounds += 1
    if process.poll() is not None:
        tally.after_exit += 1
        return
    tally.during_git += _git_running(process.pid)
    if plan.whole_group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.send_signal(signal.SIGKILL)
    process.wait()
    wait_group_gone(process.pid)
    tally.private_dirs_left += bool(scene.private_dirs())


def _assert_store_opens(scene: Scene) -> None:
    store = SqliteStore(scene.state)
    try:
        store.list_statuses()
        store.events(limit=1000)
    finally:
        store.close()


def _plan(rng: random.Random, span: float, round_number: int) -> Kill:
    if round_number % 2:
        return Kill(rng.uniform(0, 0.4), after_git_starts=True, whole_group=rng.random() < 0.5)
    return Kill(rng.uniform(0, span), after_git_starts=False, whole_group=rng.random() < 0.5)


@pytest.mark.parametrize(
    "rounds",
    [
        pytest.param(20, id="20-kills", marks=pytest.mark.timeout(300)),
        pytest.param(200, id="200-kills", marks=[pytest.mark.slow, pytest.mark.timeout(3600)]),
    ],
)
def test_kill_9_at_random_points_never_corrupts_the_remote_or_the_store_and_a_rerun_heals(
    tmp_path: Path, registry: RunningRegistry, sshd: SshServer, rounds: int
) -> None:
    chosen = int(os.environ.get("TAGPILOT_KILL_SEED") or random.SystemRandom().randrange(2**32))
    rng, tally, verified = random.Random(chosen), Tally(), dict[str, str]()
    scene = ssh_scene(tmp_path, registry, sshd)
    started = time.monotonic()
    first = reconcile_once(scene)
    assert first.returncode == 0, first.stdout + first.stderr
    span = time.monotonic() - started

    for round_number in range(rounds):
        newest = push_tag(scene, 100 + round_number)
        plan = _plan(rng, span, round_number)
        _kill(scene, plan, tally)
        try:
            _assert_store_opens(scene)
            assert_history_sound(scene, verified)
        except Exception as failure:
            where = f"seed {chosen}, round {round_number}, {plan}, {tally}"
            raise AssertionError(f"after the kill ({where}): {failure}") from failure

    alive = scene.temp / f"tagpilot-git-{os.getpid()}-in-use"  # a live owner's stays
    alive.mkdir()
    healed = reconcile_once(scene)
    assert healed.returncode == 0, healed.stdout + healed.stderr + f"\nseed {chosen}"
    assert deployed_tag(scene) == newest
    assert committed_tags(scene).count(newest) == 1
    assert_history_sound(scene, verified)
    git("fsck", "--no-progress", "--strict", cwd=scene.bare)
    assert scene.private_dirs() == [alive], "a killed run's private dir (its key) survived"
    assert tally.during_git >= rounds // 4, f"too few kills landed inside git: {tally}"
    assert tally.private_dirs_left, f"no kill left a private dir to clean up: {tally}"
    print(f"kill -9 rounds: {tally} (seed {chosen})")
