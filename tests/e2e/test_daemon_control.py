"""Controlling a running ``tagpilot run``: suspend/resume, ``get``, signatures, bursts, SIGTERM.

Everything is real and on loopback: the registry behind a deploy-token login, git over
OpenSSH with the runbook's ``flux-ssh-auth`` Secret, the daemon as its own process, and the
CLI talking to it over ``--server``.  Intervals are stretched to 30 minutes, so anything that
happens after startup came from a webhook or an API request, never from polling.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from e2e_support import FIRST_TAGS, TOKEN, USER, app_repo, secret, tagpilot_env, write_cluster

from servers.git import SshServer, free_port, git, run_sshd
from servers.ocipush import seed
from servers.registry import RunningRegistry, run_registry, write_htpasswd
from tagpilot.adapters.store import SqliteStore
from tagpilot.cli.main import cli
from tagpilot.ports import ObjectKey

NAMESPACE = "flux-system"
REPOSITORY, POLICY = "blaster-dev-repo", "blaster-dev-policy"
AUTOMATION = "blaster-dev-automation"
HOOK_TOKEN = "generic-receiver-token"
HMAC_TOKEN = "hmac-receiver-token"
DEPLOYMENT = "k8s/dev/50-app-deployment.yaml"


def _wait(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _receiver(cluster: Path, name: str, kind: str, token: str) -> str:
    """A Receiver ``name`` of type ``kind`` for the blaster ImageRepository; its hook path."""
    (cluster / f"flux-system/{name}.yaml").write_text(
        "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n"
        f"  name: {name}\n  namespace: {NAMESPACE}\nspec:\n  type: {kind}\n"
        f"  secretRef:\n    name: {name}-token\n  resources:\n"
        "    - apiVersion: image.toolkit.fluxcd.io/v1\n      kind: ImageRepository\n"
        f"      name: {REPOSITORY}\n"
    )
    (cluster / f"flux-system/secrets/{name}-token.yaml").write_text(
        secret(f"{name}-token", {"token": token})
    )
    return "/hook/" + hashlib.sha256(f"{token}{name}{NAMESPACE}".encode()).hexdigest()


class Daemon:
    """A ``tagpilot run`` process with its HTTP address and log."""

    def __init__(self, cluster: Path, state: Path, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tagpilot", "run", str(cluster), "--state", str(state),
                 "--http-address", self.url.removeprefix("http://"), "--log-format", "json"],
                stdout=out, stderr=subprocess.STDOUT, env=tagpilot_env(),
            )  # fmt: skip
        _wait(self.ready, 30, f"readyz of the daemon (log: {log.read_text()[-2000:]})")

    def ready(self) -> bool:
        """Whether /readyz answers 200."""
        try:
            return httpx.get(self.url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def status(self, kind: str, name: str) -> dict[str, Any]:
        """The object's stored status, through the JSON API."""
        answer = httpx.get(f"{self.url}/api/v1/objects/{kind}/{NAMESPACE}/{name}", timeout=5)
        answer.raise_for_status()
        status: dict[str, Any] = answer.json()["status"]
        return status

    def repository_scans(self) -> float:
        """How many ImageRepository reconciles the daemon counted (its /metrics)."""
        text = httpx.get(self.url + "/metrics", timeout=5).text
        prefix = 'tagpilot_reconcile_total{kind="ImageRepository"'
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))

    def stop(self) -> int:
        """SIGTERM; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """Make sure the process is gone (after a failed test)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass(frozen=True)
class Stack:
    """The loopback world of one test: registry, app repo, cluster, hook paths."""

    tmp: Path
    registry: RunningRegistry
    bare: Path
    cluster: Path
    generic_hook: str
    hmac_hook: str

    def deployed_tag(self) -> str:
        """The tag in the app repo's marked Deployment on ``develop``."""
        text = git("show", f"develop:{DEPLOYMENT}", cwd=self.bare)
        marked = next(line for line in text.splitlines() if "$imagepolicy" in line)
        return marked.split("#")[0].strip().rsplit(":", 1)[-1]

    def head(self) -> str:
        """The remote ``develop`` commit."""
        return git("rev-parse", "develop", cwd=self.bare)

    def push_tag(self, tag: str) -> None:
        """A new tag of the blaster image in the registry."""
        seed(self.registry.url, "games/blaster", [tag], user=USER, password=TOKEN)

    def daemon(self, name: str = "daemon") -> Daemon:
        """Start ``tagpilot run`` over the cluster with this test's state file."""
        return Daemon(self.cluster, self.tmp / "state.db", self.tmp / f"{name}.log")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@contextmanager
def _stack(tmp: Path, sshd: SshServer) -> Iterator[Stack]:
    htpasswd = write_htpasswd(tmp / "htpasswd", {USER: TOKEN})
    with run_registry(tmp / "registry", htpasswd=htpasswd) as registry:
        seed(registry.url, "games/blaster", FIRST_TAGS, user=USER, password=TOKEN)
        bare = app_repo(tmp, registry)
        identity = {"identity": sshd.client_key.decode(), "known_hosts": sshd.known_hosts.decode()}
        cluster = write_cluster(tmp, registry, sshd.url(bare), identity)
        for manifest in cluster.glob("blaster/dev/*.yaml"):
            # Only startup, webhooks and the API may run anything while a test watches.
            manifest.write_text(manifest.read_text().replace("interval: 1m", "interval: 30m"))
        generic = _receiver(cluster, "blaster-ci", "generic", HOOK_TOKEN)
        signed = _receiver(cluster, "blaster-signed", "generic-hmac", HMAC_TOKEN)
        yield Stack(tmp, registry, bare, cluster, generic, signed)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, sshd: SshServer) -> Iterator[Stack]:
    """One world for the tests that only talk to a running daemon (starting one is slow)."""
    with _stack(tmp_path_factory.mktemp("shared"), sshd) as stack:
        yield stack


@pytest.fixture(scope="module")
def running(shared: Stack) -> Iterator[Daemon]:
    """The shared daemon, after its first commit (polling) landed."""
    daemon = shared.daemon()
    try:
        _wait(lambda: shared.deployed_tag() == "dev-20251115.51", 30, "the first commit")
        yield daemon
    finally:
        daemon.stop()
        daemon.kill()


_build_numbers = count(60)


def _new_tag() -> str:
    """A dev tag newer than any tag pushed before (tests may run in any order)."""
    return f"dev-20251115.{next(_build_numbers)}"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_suspended_automation_commits_nothing_until_it_is_resumed(
    shared: Stack, running: Daemon
) -> None:
    stack, tag = shared, _new_tag()
    before = stack.head()
    try:
        _suspend_push_and_resume(stack, running, tag, before)
    finally:  # the other tests share this daemon
        _cli("resume", "image", "update", AUTOMATION, "--server", running.url, "--no-wait")


def _suspend_push_and_resume(stack: Stack, running: Daemon, tag: str, before: str) -> None:
    suspended = _cli("suspend", "image", "update", AUTOMATION, "--server", running.url)
    assert "suspended" in suspended

    stack.push_tag(tag)
    assert httpx.post(running.url + stack.generic_hook, json={}, timeout=5).status_code == 200
    _wait(
        lambda: running.status("ImagePolicy", POLICY).get("latestRef", {}).get("tag") == tag,
        20,
        "the policy to pick the new tag",
    )
    time.sleep(1.5)  # the automation was triggered by the policy; it must stay quiet
    assert stack.head() == before, "a suspended automation pushed a commit"

    resumed = _cli("resume", "image", "update", AUTOMATION, "--server", running.url)
    assert "resumed" in resumed
    _wait(lambda: stack.deployed_tag() == tag, 20, "the commit after resume")
    assert git("rev-parse", "develop~1", cwd=stack.bare) == before


def _rows(output: str, header_start: str) -> list[str]:
    """The rows of the table whose header starts with ``header_start``."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith("NAME"):
            break
        rows.append(line)
    return rows


def test_get_image_all_shows_three_tables_of_ready_objects(running: Daemon) -> None:
    _wait(
        lambda: (
            running.status("ImageUpdateAutomation", AUTOMATION).get("lastPushCommit") is not None
        ),
        10,
        "the automation's status",
    )
    output = _cli("get", "image", "all", "--server", running.url)

    headers = [line for line in output.splitlines() if line.startswith("NAME")]
    assert len(headers) == 3, output
    for header, name in zip(
        headers,
        [f"imagerepository/{REPOSITORY}", f"imagepolicy/{POLICY}",
         f"imageupdateautomation/{AUTOMATION}"],
        strict=True,
    ):  # fmt: skip
        rows = _rows(output, header)
        assert len(rows) == 1 and rows[0].startswith(name), output
        columns = [column.strip() for column in header.split("\t")]
        assert rows[0].split("\t")[columns.index("READY")].strip() == "True", output


def test_a_wrongly_signed_webhook_is_refused_and_scans_nothing(
    shared: Stack, running: Daemon
) -> None:
    stack = shared
    scanned = running.status("ImageRepository", REPOSITORY)["lastScanResult"]["scanTime"]
    scans = running.repository_scans()
    body = json.dumps({"source": "ci"}).encode()
    wrong = hmac.new(b"not-the-token", body, hashlib.sha256).hexdigest()

    refused = httpx.post(
        running.url + stack.hmac_hook, content=body,
        headers={"X-Signature": f"sha256={wrong}", "Content-Type": "application/json"},
        timeout=5,
    )  # fmt: skip
    assert refused.status_code == 401
    assert HMAC_TOKEN not in refused.text

    time.sleep(1.0)
    assert running.status("ImageRepository", REPOSITORY)["lastScanResult"]["scanTime"] == scanned
    assert running.repository_scans() == scans

    right = hmac.new(HMAC_TOKEN.encode(), body, hashlib.sha256).hexdigest()
    accepted = httpx.post(
        running.url + stack.hmac_hook, content=body,
        headers={"X-Signature": f"sha256={right}", "Content-Type": "application/json"},
        timeout=5,
    )  # fmt: skip
    assert accepted.status_code == 200, "the control: a correct signature is accepted"
    _wait(lambda: running.repository_scans() > scans, 10, "the signed delivery's scan")


async def _burst(
    base: str, hook: str, deliveries: int, concurrency: int
) -> tuple[list[int], list[float]]:
    """POST ``deliveries`` webhooks (``concurrency`` at once) while timing /healthz probes."""
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def deliver() -> int:
            async with gate:
                return (await client.post(base + hook, json={"source": "ci"})).status_code

        async def probe(done: asyncio.Event) -> list[float]:
            seconds = []
            async with httpx.AsyncClient(timeout=10) as prober:
                while not done.is_set():
                    started = time.monotonic()
                    assert (await prober.get(base + "/healthz")).status_code == 200
                    seconds.append(time.monotonic() - started)
                    await asyncio.sleep(0.05)
            return seconds

        done = asyncio.Event()
        prober = asyncio.create_task(probe(done))
        codes = await asyncio.gather(*(deliver() for _ in range(deliveries)))
        done.set()
        return list(codes), await prober


def test_a_burst_of_a_thousand_webhooks_is_coalesced_into_a_few_scans(
    shared: Stack, running: Daemon
) -> None:
    stack, tag = shared, _new_tag()
    scans = running.repository_scans()
    stack.push_tag(tag)

    codes, probes = asyncio.run(_burst(running.url, stack.generic_hook, 1000, 8))

    assert codes == [200] * 1000
    assert probes and max(probes) < 2.0, f"/healthz was slow during the burst: {max(probes):.2f}s"
    _wait(lambda: stack.deployed_tag() == tag, 20, "the burst's commit")
    time.sleep(1.0)  # let a trailing re-run (triggered while scanning) finish
    extra = running.repository_scans() - scans
    assert 1 <= extra < 20, f"{extra} scans for 1000 deliveries"


def _slow_pushes(bare: Path, marker: Path) -> None:
    hook = bare / "hooks/pre-receive"
    hook.write_text(f"#!/bin/sh\ncat >/dev/null\ntouch '{marker}'\nsleep 2\n")
    hook.chmod(0o755)


def test_sigterm_during_a_push_lets_the_push_finish_and_exits_zero(
    tmp_path: Path, sshd: SshServer
) -> None:
    with _stack(tmp_path, sshd) as stack:
        _sigterm_during_a_push(stack)


def _sigterm_during_a_push(stack: Stack) -> None:
    before = stack.head()
    marker = stack.tmp / "push-started"
    _slow_pushes(stack.bare, marker)
    daemon = stack.daemon()
    try:
        _wait(marker.exists, 30, "the first push to reach the server")
        daemon.process.send_signal(signal.SIGTERM)
        code = daemon.process.wait(timeout=60)
    finally:
        daemon.kill()
    assert code == 0, daemon.log.read_text()[-2000:]
    assert git("rev-list", "--count", f"{before}..develop", cwd=stack.bare) == "1"
    assert stack.deployed_tag() == "dev-20251115.51"
    git("fsck", "--strict", "--no-dangling", cwd=stack.bare)

    pushed = stack.head()
    marker.unlink()
    again = stack.daemon("restart")
    try:
        ran = again.status("ImageUpdateAutomation", AUTOMATION).get("lastAutomationRunTime")
        _wait(
            lambda: (
                again.status("ImageUpdateAutomation", AUTOMATION).get("lastAutomationRunTime")
                != ran
            ),
            20,
            "the restarted automation to run",
        )
    finally:
        assert again.stop() == 0
    assert stack.head() == pushed, "a restart must not push again"
    assert not marker.exists(), "a restart must not even try to push"


async def _deliver_while_stopping(daemon: Daemon, hook: str, deliveries: int) -> int:
    """POST webhooks, SIGTERM the daemon half a second in; count the accepted ones."""
    accepted = 0
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(timeout=10) as client:

        async def deliver() -> None:
            nonlocal accepted
            async with gate:
                try:
                    answer = await client.post(daemon.url + hook, json={"source": "ci"})
                    accepted += answer.status_code == 200
                except httpx.HTTPError:
                    pass  # the daemon has stopped listening: expected once SIGTERM lands

        sending = asyncio.gather(*(deliver() for _ in range(deliveries)))
        await asyncio.sleep(0.5)
        daemon.process.send_signal(signal.SIGTERM)
        await sending
    return accepted


def test_sigterm_under_a_burst_of_webhooks_exits_zero_and_leaves_whole_state(
    tmp_path: Path, sshd: SshServer
) -> None:
    with _stack(tmp_path, sshd) as stack:
        daemon = stack.daemon()
        try:
            _wait(lambda: stack.deployed_tag() == "dev-20251115.51", 30, "the first commit")
            stack.push_tag("dev-20251115.59")
            accepted = asyncio.run(_deliver_while_stopping(daemon, stack.generic_hook, 400))
            code = daemon.process.wait(timeout=60)
        finally:
            daemon.kill()
        assert code == 0, daemon.log.read_text()[-2000:]
        assert accepted > 0
        git("fsck", "--strict", "--no-dangling", cwd=stack.bare)
        assert stack.deployed_tag() in {"dev-20251115.51", "dev-20251115.59"}
        store = SqliteStore(stack.tmp / "state.db")
        key = ObjectKey("ImageUpdateAutomation", NAMESPACE, AUTOMATION)
        assert store.get_status(key) is not None
        store.close()
