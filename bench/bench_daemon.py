"""The daemon: webhook-to-commit latency over SSH, and CPU and memory at scale.

Everything runs on loopback: registry 2.8 on tmpfs, OpenSSH ``sshd`` or the smart-HTTP git
server from ``tests/servers``, and ``tagpilot run`` as its own process.

* latency: 50 times, push a new tag, POST the generic Receiver's webhook and time until the
  bare repository's ``post-receive`` hook records the push; p50 and p95 against the bare
  cost of one ``git push`` of a one-line change over the same sshd.  Each delivery waits
  for the previous automation run to finish and for the daemon's trigger gap (one second),
  as separate CI builds would: what is measured is one delivery, not a queue.
* scale: 1,000 ImageRepositories of 100 tags, 1,000 ImagePolicies, 50 automations writing
  to 50 repositories on the smart-HTTP server, every interval one minute; after warm-up the
  daemon's CPU share (``/proc/<pid>/stat``) over ``SCALE_SECONDS`` (env
  ``BENCH_DAEMON_SECONDS``) and its peak RSS (``VmHWM``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Result
from bench.daemon_kit import (
    NS,
    Daemon,
    hook_path,
    percentile,
    read_stamps,
    receiver,
    secret,
    stamping_repo,
    start_daemon,
    wait,
)
from bench.manifests import automation_objects, image_objects, marked_deployment
from servers.git import SshServer, git, make_bare_repo, run_git_http, run_sshd
from servers.ocipush import seed
from servers.registry import fast_storage, run_registry

__all__ = ["LATENCY_ROUNDS", "SCALE_SECONDS", "run"]

LATENCY_ROUNDS = 50
SCALE_SECONDS = float(os.environ.get("BENCH_DAEMON_SECONDS", "180"))
SCALE_WARMUP_LIMIT = 600.0
REPOSITORIES, TAGS, AUTOMATIONS = 1_000, 100, 50
TRIGGER_GAP = 1.1


# -- latency -------------------------------------------------------------------------------


def _latency_cluster(root: Path, image: str, ssh: SshServer, bare: Path) -> Path:
    cluster = root / "cluster"
    cluster.mkdir()
    slow_polling = image_objects(NS, "app", image).replace("interval: 1m", "interval: 30m")
    (cluster / "images.yaml").write_text(slow_polling)
    automation = automation_objects(NS, "app", ssh.url(bare), "app-ssh").replace(
        "interval: 1m", "interval: 30m"
    )
    (cluster / "automation.yaml").write_text(automation)
    keys = {"identity": ssh.client_key, "known_hosts": ssh.known_hosts}
    (cluster / "secret.yaml").write_text(secret("app-ssh", keys))
    (cluster / "receiver.yaml").write_text(receiver("bench-ci", "app"))
    return cluster


def _delivery_latencies(
    daemon: Daemon, registry_url: str, stamps: Path, rounds: int
) -> list[float]:
    hook, latencies, last_post = daemon.url + hook_path("bench-ci"), [], 0.0
    with httpx.Client(timeout=10) as client:
        for number in range(1, rounds + 1):
            seed(registry_url, "bench/app", [f"1.0.{number}"])
            time.sleep(max(0.0, last_post + TRIGGER_GAP - time.monotonic()))
            last_post, posted = time.monotonic(), time.time()
            client.post(hook, json={"source": "bench"}).raise_for_status()
            pushed = _wait_for_push(stamps, number)
            latencies.append(pushed[0] - posted)
            _wait_idle(daemon, pushed[1])
    return latencies


def _wait_for_push(stamps: Path, number: int) -> tuple[float, str]:
    deadline = time.monotonic() + 30
    while len(found := read_stamps(stamps)) < number:
        if time.monotonic() > deadline:
            raise RuntimeError(f"push {number} did not arrive")
        time.sleep(0.002)
    return found[number - 1]


def _wait_idle(daemon: Daemon, sha: str) -> None:
    """Until the automation's run that pushed ``sha`` has finished (its status is written)."""
    wait(
        lambda: daemon.status("ImageUpdateAutomation", "app").get("lastPushCommit") == sha,
        30,
        f"the run that pushed {sha}",
        step=0.01,
    )


def _push_costs(ssh: SshServer, root: Path, rounds: int) -> list[float]:
    """The floor: one ``git push`` of a one-line commit over the same sshd, timed alone."""
    bare = root / "floor.git"
    make_bare_repo(bare, {"deploy.yaml": "v: 0\n"})
    (root / "id").write_bytes(ssh.client_key)
    (root / "id").chmod(0o600)
    (root / "kh").write_bytes(ssh.known_hosts)
    env = {
        "GIT_SSH_COMMAND": f"ssh -i {root / 'id'} -o IdentitiesOnly=yes "
        f"-o UserKnownHostsFile={root / 'kh'} -o StrictHostKeyChecking=yes -o BatchMode=yes"
    }
    work = root / "floor"
    git("clone", "--quiet", ssh.url(bare), str(work), env=env)
    costs = []
    for number in range(rounds):
        (work / "deploy.yaml").write_text(f"v: {number + 1}\n")
        git("commit", "--quiet", "--all", "-m", f"bump {number}", cwd=work)
        started = time.perf_counter()
        git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=work, env=env)
        costs.append(time.perf_counter() - started)
    return costs


def _latency(rounds: int) -> list[Result]:
    with (
        tempfile.TemporaryDirectory(prefix="tagpilot-bench-daemon-") as tmp,
        fast_storage() as data,
    ):
        root = Path(tmp)
        with run_registry(data / "registry") as registry, run_sshd(root / "sshd") as ssh:
            image = f"{registry.host}/bench/app"
            seed(registry.url, "bench/app", ["1.0.0"])
            stamps = root / "stamps"
            files = {"deploy.yaml": marked_deployment(NS, [(image, "app")])}
            bare = stamping_repo(root / "app.git", files, stamps)
            with start_daemon(_latency_cluster(root, image, ssh, bare), root) as daemon:
                wait(lambda: bool(daemon.status("ImageUpdateAutomation", "app")), 60, "startup")
                latencies = _delivery_latencies(daemon, registry.url, stamps, rounds)
            floor = _push_costs(ssh, root, rounds)
    note = f"{rounds} tags, ssh on loopback, each delivery after the last run finished"
    return [
        Result("daemon: webhook -> pushed commit p50", "tagpilot run", statistics.median(latencies),
               "git push alone (p50)", statistics.median(floor), target="p50 < 1 s", note=note),
        Result("daemon: webhook -> pushed commit p95", "tagpilot run", percentile(latencies, 95),
               "git push alone (p95)", percentile(floor, 95), target="info", note=note),
    ]  # fmt: skip


# -- scale ---------------------------------------------------------------------------------


def _seed_scale(registry_url: str, storage: Path) -> None:
    """One repository of ``TAGS`` tags pushed for real, then its storage cloned (shared blobs)."""
    seed(registry_url, "scale/app0000", [f"1.0.{number}" for number in range(TAGS)])
    repositories = storage / "docker/registry/v2/repositories/scale"
    for index in range(1, REPOSITORIES):
        # Hard links: the registry only reads these link files, and copying is the slow part.
        shutil.copytree(
            repositories / "app0000", repositories / f"app{index:04d}", copy_function=os.link
        )


def _scale_cluster(root: Path, host: str, git_base: str, repos: Path) -> Path:
    cluster = root / "cluster"
    cluster.mkdir()
    per_app = REPOSITORIES // AUTOMATIONS
    for app in range(AUTOMATIONS):
        names = [f"app{index:04d}" for index in range(app * per_app, (app + 1) * per_app)]
        images = [(f"{host}/scale/{name}", name) for name in names]
        make_bare_repo(repos / f"app{app:02d}.git", {"deploy.yaml": marked_deployment(NS, images)})
        body = "".join(image_objects(NS, name, image) for image, name in images)
        body += automation_objects(NS, f"git{app:02d}", f"{git_base}/app{app:02d}.git", None)
        (cluster / f"app{app:02d}.yaml").write_text(body)
    return cluster


def _all_pushed(daemon: Daemon) -> bool:
    answer = httpx.get(
        f"{daemon.url}/api/v1/objects", params={"kind": "ImageUpdateAutomation"}, timeout=60
    )
    items = answer.json()["items"]
    return len(items) == AUTOMATIONS and all(i["status"].get("lastPushCommit") for i in items)


def _steady_state(daemon: Daemon, seconds: float) -> tuple[float, float, float]:
    """CPU share of one core (daemon alone, and with its git children) and peak RSS in MB."""
    started, own, total = time.monotonic(), daemon.cpu_seconds(), daemon.cpu_seconds(children=True)
    time.sleep(seconds)
    wall = time.monotonic() - started
    own_share = (daemon.cpu_seconds() - own) / wall
    total_share = (daemon.cpu_seconds(children=True) - total) / wall
    return own_share, total_share, daemon.peak_rss_mb()


def _scale(seconds: float) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="tagpilot-bench-scale-") as tmp, fast_storage() as data:
        root, repos = Path(tmp), Path(tmp) / "repos"
        repos.mkdir()
        with run_registry(data / "registry") as registry, run_git_http(repos) as git_server:
            _seed_scale(registry.url, data / "registry/data")
            cluster = _scale_cluster(root, registry.host, git_server.base_url, repos)
            with start_daemon(cluster, root) as daemon:
                warm = time.monotonic()
                wait(lambda: _all_pushed(daemon), SCALE_WARMUP_LIMIT, "every automation's push", 5)
                warmup = time.monotonic() - warm
                time.sleep(30)  # let the startup wave's stragglers finish
                own, total, peak = _steady_state(daemon, seconds)
    scale = (
        f"{REPOSITORIES} repos x {TAGS} tags, {REPOSITORIES} policies, {AUTOMATIONS} automations"
        f" over git http, 1m intervals; {seconds:g} s after {warmup:.0f} s warm-up"
    )
    return [
        Result("daemon scale: CPU share (steady state)", "tagpilot run", own * 100,
               "budget", 25.0, unit="%", target="< 25% of one core",
               note=f"{scale}; with git children {total * 100:.1f}%"),
        Result("daemon scale: peak RSS", "tagpilot run", peak, "budget", 300.0, unit="MB",
               target="< 300 MB", note=scale),
    ]  # fmt: skip


def run(*, rounds: int = LATENCY_ROUNDS, scale_seconds: float = SCALE_SECONDS) -> list[Result]:
    """The latency rows, then the scale rows (``scale_seconds`` 0 skips the scale run)."""
    results = _latency(rounds)
    if scale_seconds > 0:
        results += _scale(scale_seconds)
    return results
