"""``tagpilot run`` as a real process under hostile or broken conditions, all on loopback.

Slow clients flooding the HTTP port of a daemon with few file descriptors; the control
API on its own address with a token; a second daemon on the same state; a state store
that cannot be written; a stop while a scan or a git fetch hangs on a server that
accepts connections and never answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_support import tagpilot_env

from servers.manifests import secret
from servers.ocipush import seed
from servers.registry import RunningRegistry, free_port, run_registry

REPO = "team/app"
HOOK_TOKEN = "receiver-token-value"
API_TOKEN = "control-api-token-value"
OBJECT = "/api/v1/objects/ImageRepository/flux-system/app"
JSON = {"Content-Type": "application/json"}


def _wait(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def _cluster(tmp: Path, image_host: str, *, git_url: str | None = None) -> tuple[Path, str]:
    """An ImageRepository (hourly: only triggers scan it), a Receiver for it, and with
    ``git_url`` an automation on that repository.  Returns the cluster and the hook path."""
    cluster = tmp / "cluster"
    cluster.mkdir()
    (cluster / "repository.yaml").write_text(
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"
        "metadata:\n  name: app\n  namespace: flux-system\n"
        f"spec:\n  image: {image_host}/{REPO}\n  interval: 1h\n  timeout: 2m\n"
    )
    (cluster / "receiver.yaml").write_text(
        "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n"
        "  name: ci\n  namespace: flux-system\nspec:\n  type: generic\n"
        "  secretRef:\n    name: hook-token\n  resources:\n"
        "    - apiVersion: image.toolkit.fluxcd.io/v1\n      kind: ImageRepository\n"
        "      name: app\n"
    )
    (cluster / "hook-token.yaml").write_text(secret("hook-token", {"token": HOOK_TOKEN}))
    if git_url is not None:
        (cluster / "automation.yaml").write_text(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
            "metadata:\n  name: app-repo\n  namespace: flux-system\n"
            f"spec:\n  url: {git_url}\n  interval: 1h\n  timeout: 2m\n"
            "  ref:\n    branch: main\n---\n"
            "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\n"
            "metadata:\n  name: app\n  namespace: flux-system\nspec:\n  interval: 1h\n"
            "  sourceRef:\n    kind: GitRepository\n    name: app-repo\n"
            "  git:\n    commit:\n      author:\n        email: bot@example.com\n"
            "  update:\n    strategy: Setters\n"
        )
    digest = hashlib.sha256(f"{HOOK_TOKEN}ciflux-system".encode()).hexdigest()
    return cluster, f"/hook/{digest}"


class Daemon:
    """A ``tagpilot run`` process; ``nofile`` lowers its descriptor limit."""

    def __init__(
        self,
        cluster: Path,
        state: Path,
        log: Path,
        *extra: str,
        nofile: int | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
        http_address: str | None = None,
        wrapper: tuple[str, ...] = (),
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        address = http_address or f"127.0.0.1:{self.port}"
        self.log = log
        limit = [*wrapper] + ([] if nofile is None else ["prlimit", f"--nofile={nofile}:{nofile}"])
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*limit, sys.executable, "-m", "tagpilot", "run", str(cluster), "--state",
                 str(state), "--http-address", address, "--log-format", "json",
                 *extra],
                stdout=out, stderr=subprocess.STDOUT, env={**tagpilot_env(), **(env or {})},
            )  # fmt: skip
        if wait:
            _wait(self.ready, 60, f"readyz of the daemon (log: {log})")

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def status(self, base: str | None = None, **kwargs: Any) -> dict[str, Any]:
        found: dict[str, Any] = httpx.get((base or self.url) + OBJECT, timeout=5, **kwargs).json()
        return found.get("status", {})

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=60)


def _ready_condition(status: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in status.get("conditions", []) if c["type"] == "Ready"), {})


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    with run_registry(tmp_path / "registry") as running:
        seed(running.url, REPO, ["1.0.0"])
        yield running


@pytest.fixture
def daemon_in(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(cluster: Path, *extra: str, **options: Any) -> Daemon:
        log = options.pop("log", tmp_path / "daemon.log")
        state = options.pop("state", tmp_path / "state/state.db")
        daemon = Daemon(cluster, state, log, *extra, **options)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait(10)


# -- 1,100 slow clients ------------------------------------------------------------------


class SlowClients:
    """Connections that send half a request and then one byte a second, reconnecting
    whenever the server closes one, until stopped."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.open: list[socket.socket] = []
        self.connects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowClients:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self.open:
            sock.close()

    def _connect(self) -> None:
        sock = socket.socket()
        sock.settimeout(0.2)
        try:
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: tagpilot\r\nX-Slow: ")
        except OSError:
            sock.close()
            return
        sock.setblocking(False)
        self.open.append(sock)
        self.connects += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            alive = []
            for sock in self.open:
                try:
                    sock.send(b"a")
                    alive.append(sock)
                except OSError:
                    sock.close()
            self.open = alive
            for _ in range(min(self.count - len(self.open), 300)):
                if self._stop.is_set():
                    return
                self._connect()
            self._stop.wait(1.0)


def test_slow_clients_cannot_starve_healthz_webhooks_or_scans(
    tmp_path: Path, registry: RunningRegistry, daemon_in: Callable[..., Daemon]
) -> None:
    cluster, hook = _cluster(tmp_path, registry.host)
    daemon = daemon_in(cluster, nofile=256)
    _wait(lambda: daemon.status().get("lastScanResult", {}).get("tagCount") == 1, 30, "scan")
    with SlowClients(daemon.port, 1100) as flood:
        _wait(lambda: flood.connects >= 1100, 60, "1,100 slow connections")
        health = [httpx.get(daemon.url + "/healthz", timeout=5).status_code for _ in range(10)]
        seed(registry.url, REPO, ["1.1.0"])
        delivered = httpx.post(daemon.url + hook, json={}, timeout=5)
        _wait(
            lambda: daemon.status().get("lastScanResult", {}).get("tagCount") == 2,
            30,
            "the webhook's scan during the flood",
        )
    assert health == [200] * 10
    assert delivered.status_code == 200, delivered.text
    assert daemon.process.poll() is None
    assert daemon.stop() == 0
    log = daemon.log.read_text()
    assert len(log) < 200_000, f"{len(log)} bytes of log"
    assert log.count("out of system resource") <= 5


# -- the control API -----------------------------------------------------------------------


def test_the_control_api_on_its_own_address_needs_the_token_and_the_cli_sends_it(
    tmp_path: Path, registry: RunningRegistry, daemon_in: Callable[..., Daemon]
) -> None:
    cluster, _ = _cluster(tmp_path, registry.host)
    api = f"127.0.0.1:{free_port()}"
    token = {"TAGPILOT_API_TOKEN": API_TOKEN}
    daemon = daemon_in(cluster, "--api-address", api, env=token)
    suspend = OBJECT + "/suspend"
    on_webhook_port = httpx.post(daemon.url + suspend, json={}, headers=JSON, timeout=5)
    anonymous = httpx.post(f"http://{api}{suspend}", json={}, headers=JSON, timeout=5)
    huge = httpx.post(
        f"http://{api}{OBJECT}/reconcile", content=b"{" + b" " * (8 << 20) + b"}",
        headers={**JSON, "Authorization": f"Bearer {API_TOKEN}"}, timeout=10,
    )  # fmt: skip
    suspend_cli = [sys.executable, "-m", "tagpilot", "suspend", "image", "repository", "app",
                   "-n", "flux-system", "--server", f"http://{api}"]  # fmt: skip
    tokenless = subprocess.run(
        suspend_cli, env=tagpilot_env(), capture_output=True, text=True, timeout=60, check=False
    )
    cli = subprocess.run(
        suspend_cli, env={**tagpilot_env(), **token},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert on_webhook_port.status_code == 404
    assert anonymous.status_code == 401
    assert huge.status_code == 413
    assert tokenless.returncode == 1
    assert "the control API needs its token" in tokenless.stderr
    assert cli.returncode == 0, cli.stdout + cli.stderr
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    suspended = httpx.get(f"http://{api}{OBJECT}", headers=headers, timeout=5).json()["suspended"]
    assert suspended is True
    assert daemon.stop() == 0
    assert API_TOKEN not in daemon.log.read_text()


# The daemon runs in a network namespace of its own whose loopback device also holds a
# documentation address (RFC 5737): a client connecting to it there is not a loopback client,
# and no traffic leaves the namespace.
REMOTE = "192.0.2.1"
OWN_NETWORK = (
    "unshare", "--net", "sh", "-c",
    f'ip link set lo up && ip addr add {REMOTE}/32 dev lo && exec "$@"', "sh",
)  # fmt: skip
_CLIENT = """
import json, sys, time, httpx
port, hook, obj = sys.argv[1], sys.argv[2], sys.argv[3]
remote, local = f"http://{REMOTE}:{port}", f"http://127.0.0.1:{port}"
json_headers = {"Content-Type": "application/json"}
deadline = time.monotonic() + 60
while True:
    try:
        if httpx.get(local + "/readyz", timeout=2).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    if time.monotonic() > deadline:
        sys.exit("the daemon on 0.0.0.0 never became ready")
    time.sleep(0.2)
refused = httpx.post(remote + obj + "/suspend", json={}, headers=json_headers, timeout=5)
webhook = httpx.post(remote + hook, json={}, timeout=5)
suspended = httpx.get(local + obj, timeout=5).json()["suspended"]
allowed = httpx.post(local + obj + "/suspend", json={}, headers=json_headers, timeout=5)
print(json.dumps({"refused": [refused.status_code, refused.text], "webhook": webhook.status_code,
                  "suspended": suspended, "allowed": allowed.status_code}))
""".replace("{REMOTE}", REMOTE)


def _in_own_network(pid: int) -> bool:
    """Whether ``pid`` already runs in a network namespace other than ours.

    The wrapper's command line names tagpilot from the start (its arguments do), so only the
    namespace link itself says that ``unshare`` has made the new one.
    """
    try:
        return os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
    except FileNotFoundError:
        return False


def test_on_a_port_open_to_all_the_api_answers_loopback_clients_only(
    tmp_path: Path, registry: RunningRegistry
) -> None:
    """Webhooks from the network still work; an anonymous suspend from it is refused."""
    cluster, hook = _cluster(tmp_path, registry.host)
    port = free_port()
    daemon = Daemon(
        cluster, tmp_path / "state.db", tmp_path / "daemon.log", wait=False,
        http_address=f"0.0.0.0:{port}", wrapper=OWN_NETWORK,
    )  # fmt: skip
    try:
        # only once the wrapper has made the namespace is there one to enter
        _wait(lambda: _in_own_network(daemon.process.pid), 30, "the daemon's namespace")
        client = subprocess.run(
            ["nsenter", f"--net=/proc/{daemon.process.pid}/ns/net", sys.executable, "-c",
             _CLIENT, str(port), hook, OBJECT],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        assert daemon.stop() == 0
    assert client.returncode == 0, client.stderr + daemon.log.read_text()[-2000:]
    seen = json.loads(client.stdout)
    assert seen["refused"][0] == 403 and "loopback clients only" in seen["refused"][1]
    assert seen["webhook"] == 200
    assert seen["suspended"] is False
    assert seen["allowed"] == 200


def test_a_non_loopback_api_address_without_a_token_is_refused(
    tmp_path: Path, registry: RunningRegistry
) -> None:
    cluster, _ = _cluster(tmp_path, registry.host)
    run = subprocess.run(
        [sys.executable, "-m", "tagpilot", "run", str(cluster), "--state",
         str(tmp_path / "state.db"), "--api-address", "0.0.0.0:9798"],
        env=tagpilot_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--api-address 0.0.0.0:9798" in run.stderr and "needs a token" in run.stderr


# -- one daemon per state directory ----------------------------------------------------


def test_a_second_daemon_on_the_same_state_refuses_naming_the_first(
    tmp_path: Path, registry: RunningRegistry, daemon_in: Callable[..., Daemon]
) -> None:
    cluster, _ = _cluster(tmp_path, registry.host)
    first = daemon_in(cluster)
    second = daemon_in(cluster, log=tmp_path / "second.log", wait=False)
    assert second.process.wait(timeout=60) == 1
    message = (tmp_path / "second.log").read_text()
    assert f"in use by another tagpilot run (PID {first.process.pid})" in message
    assert "Traceback" not in message
    assert first.ready()
    assert first.stop() == 0
    third = daemon_in(cluster, log=tmp_path / "third.log")
    assert third.stop() == 0, "the lock goes with the process that held it"


# -- a state store that cannot be written ------------------------------------------------


def test_a_store_that_cannot_be_written_is_one_log_line_and_shows_in_readyz_and_status(
    tmp_path: Path, registry: RunningRegistry, daemon_in: Callable[..., Daemon]
) -> None:
    cluster, hook = _cluster(tmp_path, registry.host)
    state = tmp_path / "state/state.db"
    daemon = daemon_in(cluster, state=state)
    _wait(lambda: daemon.status().get("lastScanResult", {}).get("tagCount") == 1, 30, "scan")
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the file
    try:
        assert httpx.post(daemon.url + hook, json={}, timeout=5).status_code == 200
        _wait(lambda: not daemon.ready(), 30, "readyz to report the store")
        readyz = httpx.get(daemon.url + "/readyz", timeout=5).text
        ready = _ready_condition(daemon.status())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "the state store cannot be written" in readyz and "locked" in readyz
    assert (ready["status"], ready["reason"]) == ("False", "StateStoreFailed")
    assert httpx.post(daemon.url + hook, json={}, timeout=5).status_code == 200
    _wait(daemon.ready, 30, "readyz once the store takes writes again")
    assert daemon.stop() == 0
    failures = [ln for ln in daemon.log.read_text().splitlines() if "reconcile failed" in ln]
    assert 1 <= len(failures) <= 2
    assert "database is locked" in failures[0]
    assert "Traceback" not in daemon.log.read_text()


# -- stopping while the network hangs ----------------------------------------------------


class SilentServer:
    """Accepts TCP connections and never answers: a registry or git server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_sigterm_cancels_a_hung_scan_at_once(
    tmp_path: Path, silent: SilentServer, daemon_in: Callable[..., Daemon]
) -> None:
    cluster, _ = _cluster(tmp_path, silent.host)
    daemon = daemon_in(cluster)
    _wait(lambda: bool(silent.accepted), 30, "the scan to reach the silent registry")
    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10


def test_sigterm_cuts_a_hung_git_fetch_short(
    tmp_path: Path, silent: SilentServer, registry: RunningRegistry,
    daemon_in: Callable[..., Daemon],
) -> None:  # fmt: skip
    cluster, _ = _cluster(tmp_path, registry.host, git_url=f"http://{silent.host}/app.git")
    daemon = daemon_in(cluster)
    _wait(lambda: bool(silent.accepted), 30, "git to reach the silent server")
    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10, "the fetch waited for the GitRepository's timeout"
