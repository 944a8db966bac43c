"""``tagpilot run`` as a real process: polling, a webhook, a refused webhook, restart, SIGTERM.

Registry (deploy-token login) and git smart HTTP are real and on loopback.  The automation's
interval is a minute, so a commit that shows up within seconds of a webhook came from the
webhook, not from polling.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from e2e_support import FIRST_TAGS, TOKEN, USER, app_repo, secret, tagpilot_env, write_cluster

from servers.git import GitHttpServer, free_port, git, run_git_http
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd

GIT_USER, GIT_PASSWORD = "flux", "git-http-password"
HOOK_TOKEN = "receiver-token-value"


def _receiver(cluster: Path) -> str:
    (cluster / "flux-system/receiver.yaml").write_text(
        "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n"
        "  name: blaster-ci\n  namespace: flux-system\nspec:\n  type: generic\n"
        "  secretRef:\n    name: webhook-token\n  resources:\n"
        "    - apiVersion: image.toolkit.fluxcd.io/v1\n      kind: ImageRepository\n"
        "      name: blaster-dev-repo\n"
    )
    (cluster / "flux-system/secrets/webhook-token.yaml").write_text(
        secret("webhook-token", {"token": HOOK_TOKEN})
    )
    digest = hashlib.sha256(f"{HOOK_TOKEN}blaster-ciflux-system".encode()).hexdigest()
    return f"/hook/{digest}"


def _slow_polling(tmp: Path) -> None:
    """Ten-minute intervals: a commit that shows up within a minute came from a webhook."""
    for path in (tmp / "clusters/my-cluster/blaster/dev").glob("*.yaml"):
        path.write_text(path.read_text().replace("interval: 1m\n", "interval: 10m\n"))


def _wait(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Daemon:
    """A ``tagpilot run`` process and its HTTP address."""

    def __init__(self, cluster: Path, state: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tagpilot", "run", str(cluster), "--state", str(state),
                 "--http-address", f"127.0.0.1:{self.port}", "--log-format", "json"],
                stdout=out, stderr=subprocess.STDOUT, env=tagpilot_env(),
            )  # fmt: skip
        _wait(self.ready, 60, f"readyz of the daemon (log: {self.log.read_text()[-2000:]})")

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: TOKEN})
    with run_registry(tmp_path / "registry", htpasswd=htpasswd) as running:
        seed(running.url, "games/blaster", FIRST_TAGS, user=USER, password=TOKEN)
        yield running


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitHttpServer]:
    repos = tmp_path / "repos"
    repos.mkdir()
    with run_git_http(repos, credentials=f"{GIT_USER}:{GIT_PASSWORD}") as server:
        yield server


def _refusals(daemon: Daemon) -> int:
    return daemon.log.read_text().count("manifest edit refused")


def _head_line(bare: Path) -> str:
    return git("show", "develop:k8s/dev/50-app-deployment.yaml", cwd=bare).splitlines()[20]


def test_the_daemon_polls_answers_webhooks_and_stops_cleanly(
    tmp_path: Path, registry: RunningRegistry, git_server: GitHttpServer
) -> None:
    bare = app_repo(tmp_path, registry, git_server.root)
    auth = {"username": GIT_USER, "password": GIT_PASSWORD}
    cluster = write_cluster(tmp_path, registry, f"{git_server.base_url}/blaster.git", auth)
    hook = _receiver(cluster)
    _slow_polling(tmp_path)
    state = tmp_path / "state/state.db"
    daemon = Daemon(cluster, state, tmp_path / "daemon.log")
    try:
        _wait(lambda: "dev-20251115.51" in _head_line(bare), 60, "the first commit (polling)")
        first = git("rev-parse", "develop", cwd=bare)

        refused = httpx.post(daemon.url + "/hook/" + "0" * 64, json={}, timeout=5)
        assert refused.status_code == 404

        seed(registry.url, "games/blaster", ["dev-20251115.52"], user=USER, password=TOKEN)
        delivered = httpx.post(daemon.url + hook, json={"source": "ci"}, timeout=5)
        assert delivered.status_code == 200, delivered.text
        _wait(lambda: "dev-20251115.52" in _head_line(bare), 60, "the webhook's commit")
        assert git("rev-parse", "develop~1", cwd=bare) == first

        metrics = httpx.get(daemon.url + "/metrics", timeout=5).text
        assert 'tagpilot_webhook_deliveries_total{receiver="flux-system/blaster-ci"' in metrics
        assert "tagpilot_pushes_total" in metrics
    finally:
        code = daemon.stop()
    assert code == 0
    assert TOKEN not in daemon.log.read_text() and GIT_PASSWORD not in daemon.log.read_text()

    pushed = git("rev-parse", "develop", cwd=bare)
    before = len(daemon.log.read_text())
    again = Daemon(cluster, state, tmp_path / "daemon.log")
    try:
        time.sleep(3)
    finally:
        assert again.stop() == 0
    assert git("rev-parse", "develop", cwd=bare) == pushed, "a restart must not push again"
    runs = [
        (line["kind"], line["name"])
        for line in map(json.loads, daemon.log.read_text()[before:].splitlines())
        if line.get("event") == "reconciled"
    ]
    assert sorted(runs) == [
        ("GitRepository", "blaster-dev"),
        ("ImagePolicy", "blaster-dev-policy"),
        ("ImageRepository", "blaster-dev-repo"),
        ("ImageUpdateAutomation", "blaster-dev-automation"),
    ], "at start every object runs exactly once"


def test_a_manifest_edit_reloads_and_a_broken_edit_keeps_the_last_good_objects(
    tmp_path: Path, registry: RunningRegistry, git_server: GitHttpServer
) -> None:
    bare = app_repo(tmp_path, registry, git_server.root)
    auth = {"username": GIT_USER, "password": GIT_PASSWORD}
    cluster = write_cluster(tmp_path, registry, f"{git_server.base_url}/blaster.git", auth)
    policy_file = tmp_path / "clusters/my-cluster/blaster/dev/20-blaster-images-dev.yaml"
    daemon = Daemon(cluster, tmp_path / "state.db", tmp_path / "daemon.log")
    try:
        _wait(lambda: "dev-20251115.51" in _head_line(bare), 60, "the first commit")
        good = policy_file.read_text()
        policy_file.write_text(good.replace("order: asc", "order: sideways"))
        _wait(lambda: _refusals(daemon) == 1, 60, "the refusal of a bad value")
        policy_file.write_text(good.replace("  policy:\n", "  policy: [unclosed\n"))
        _wait(lambda: _refusals(daemon) == 2, 60, "the refusal of broken YAML")
        assert daemon.ready()
        policy_file.write_text(good.replace("order: asc", "order: desc"))
        _wait(lambda: "dev-20251115.42" in _head_line(bare), 60, "the reloaded policy's commit")
    finally:
        assert daemon.stop() == 0


def _slow_pre_receive(bare: Path, started: Path, seconds: int) -> None:
    """A remote hook that marks the push as in flight, then holds it for ``seconds``."""
    hook = bare / "hooks/pre-receive"
    hook.write_text(f"#!/bin/sh\ntouch '{started}'\nsleep {seconds}\n")
    hook.chmod(0o755)


def _daemon_pushing(
    tmp_path: Path, registry: RunningRegistry, git_server: GitHttpServer, hold: int
) -> tuple[Daemon, Path]:
    """A daemon whose first push is held by the remote's hook; returns it and the bare repo."""
    bare = app_repo(tmp_path, registry, git_server.root)
    started = tmp_path / "push-in-flight"
    _slow_pre_receive(bare, started, hold)
    auth = {"username": GIT_USER, "password": GIT_PASSWORD}
    cluster = write_cluster(tmp_path, registry, f"{git_server.base_url}/blaster.git", auth)
    daemon = Daemon(cluster, tmp_path / "state/state.db", tmp_path / "daemon.log")
    _wait(started.exists, 60, "the push to reach the remote's hook")
    return daemon, bare


def test_sigterm_lets_a_push_in_flight_finish(
    tmp_path: Path, registry: RunningRegistry, git_server: GitHttpServer
) -> None:
    daemon, bare = _daemon_pushing(tmp_path, registry, git_server, hold=4)
    assert daemon.stop() == 0
    assert "dev-20251115.51" in _head_line(bare), "the push in flight was cut short"


def test_a_second_ctrl_c_exits_at_once_while_a_push_is_in_flight(
    tmp_path: Path, registry: RunningRegistry, git_server: GitHttpServer
) -> None:
    daemon, _ = _daemon_pushing(tmp_path, registry, git_server, hold=20)
    daemon.process.send_signal(signal.SIGINT)
    time.sleep(2)
    waiting = daemon.process.poll() is None
    started = time.monotonic()
    daemon.process.send_signal(signal.SIGINT)
    code = daemon.process.wait(timeout=30)
    assert waiting, "the first Ctrl-C lets the push in flight finish"
    assert code == 130
    assert time.monotonic() - started < 5
    assert "second stop signal" in daemon.log.read_text()
