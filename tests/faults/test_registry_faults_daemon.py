"""``tagpilot run`` as a real process while its registry is stopped and started again.

The daemon polls an anonymous ``docker-registry`` every few seconds.  When the registry goes
away the process must keep serving (``/healthz`` 200), the ImageRepository's status and events
must say the scan failed and keep the last good scan result, and once the registry is back on
its port the daemon must scan again by itself, finding the tag pushed meanwhile.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry_faults_support import RegistryProcess, run_registry_process

from servers.ocipush import seed
from servers.registry import fast_storage, free_port

REPO = "team/app"
FIRST_TAGS = ["1.0.0", "1.1.0"]
NEW_TAG = "1.2.0"
INTERVAL_SECONDS = 3
OBJECT_PATH = "/api/v1/objects/ImageRepository/flux-system/app"
EVENTS_PATH = "/api/v1/events?kind=ImageRepository&namespace=flux-system&name=app"


class Daemon:
    """A ``tagpilot run`` process on a free loopback port, logging JSON to ``log``."""

    def __init__(self, cluster: Path, state: Path, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = log
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tagpilot", "run", str(cluster), "--state", str(state),
                 "--http-address", self.url.removeprefix("http://"), "--log-format", "json"],
                stdout=out, stderr=subprocess.STDOUT, env=environment,
            )  # fmt: skip

    def get(self, path: str) -> httpx.Response:
        """``GET path`` on the daemon's HTTP server."""
        return httpx.get(self.url + path, timeout=5)

    def status(self) -> dict[str, Any]:
        """The ImageRepository's stored status, or ``{}`` while the daemon is not answering."""
        try:
            status: dict[str, Any] = self.get(OBJECT_PATH).json().get("status", {})
        except httpx.HTTPError:
            return {}
        return status

    def stop(self) -> int:
        """SIGTERM and wait for the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def _ready(status: dict[str, Any]) -> dict[str, Any]:
    found = [c for c in status.get("conditions", ()) if c["type"] == "Ready"]
    return found[0] if found else {}


def _wait(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def _cluster(tmp_path: Path, registry: RegistryProcess) -> Path:
    cluster = tmp_path / "cluster"
    cluster.mkdir()
    (cluster / "app-repository.yaml").write_text(
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\n"
        "metadata:\n  name: app\n  namespace: flux-system\n"
        f"spec:\n  image: {registry.host}/{REPO}\n  interval: {INTERVAL_SECONDS}s\n"
    )
    return cluster


@pytest.fixture
def registry() -> Iterator[RegistryProcess]:
    with fast_storage() as storage, run_registry_process(storage / "registry") as running:
        seed(running.url, REPO, FIRST_TAGS)
        yield running


@pytest.fixture
def daemon(tmp_path: Path, registry: RegistryProcess) -> Iterator[Daemon]:
    running = Daemon(_cluster(tmp_path, registry), tmp_path / "state.db", tmp_path / "daemon.log")
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


def _scanned(daemon: Daemon, count: int) -> Callable[[], bool]:
    def check() -> bool:
        status = daemon.status()
        scan = status.get("lastScanResult", {})
        return _ready(status).get("status") == "True" and scan.get("tagCount") == count

    return check


def _failing(daemon: Daemon) -> Callable[[], bool]:
    return lambda: _ready(daemon.status()).get("status") == "False"


def test_the_daemon_outlives_a_stopped_registry_and_rescans_when_it_returns(
    daemon: Daemon, registry: RegistryProcess
) -> None:
    _wait(_scanned(daemon, len(FIRST_TAGS)), 30, f"the first scan (log: {daemon.log})")
    good_scan = daemon.status()["lastScanResult"]

    registry.stop()
    _wait(_failing(daemon), 20, "the failed scan to show in the status")
    health = [daemon.get("/healthz").status_code for _ in range(5)]
    failed = daemon.status()
    ready = _ready(failed)
    reconciling = [c for c in failed["conditions"] if c["type"] == "Reconciling"]
    events = daemon.get(EVENTS_PATH).json()["items"]

    registry.start()
    seed(registry.url, REPO, [NEW_TAG])
    _wait(_scanned(daemon, len(FIRST_TAGS) + 1), 30, "the scan after the registry returned")
    recovered = daemon.status()["lastScanResult"]
    alive = daemon.process.poll() is None
    code = daemon.stop()

    assert health == [200] * 5
    assert ready["reason"] == "ReadOperationFailed"
    assert f"cannot reach registry {registry.host}" in ready["message"]
    assert [c["reason"] for c in reconciling] == ["ProgressingWithRetry"]
    assert failed["lastScanResult"] == good_scan, "a failed scan keeps the last good result"
    assert any(e["type"] == "Warning" and "cannot reach registry" in e["message"] for e in events)
    assert recovered["latestTags"][0] == NEW_TAG
    assert alive and code == 0
