"""The ``tagpilot run`` process the daemon benchmarks drive, and their shared helpers.

``bench_daemon`` and ``bench.scale`` start the daemon with :func:`daemon`, read its CPU
time and peak RSS through ``/proc``, deliver webhooks to generic Receivers and time
pushes with a bare repository's ``post-receive`` hook.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.git import free_port, make_bare_repo  # noqa: E402

__all__ = [
    "HOOK_TOKEN",
    "NS",
    "Daemon",
    "hook_path",
    "percentile",
    "read_stamps",
    "receiver",
    "secret",
    "stamping_repo",
    "start_daemon",
    "wait",
]

NS = "flux-system"
HOOK_TOKEN = "bench-receiver-token"
TICKS = os.sysconf("SC_CLK_TCK")


def secret(name: str, values: dict[str, bytes]) -> str:
    """A Secret manifest in ``NS`` holding ``values``."""
    data = "".join(
        f"  {key}: {base64.b64encode(value).decode()}\n" for key, value in values.items()
    )
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {NS}\ndata:\n{data}"
    )


def receiver(name: str, targets: str) -> str:
    """A generic Receiver waking ImageRepository ``targets``, and its token Secret."""
    return (
        "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n"
        f"  name: {name}\n  namespace: {NS}\nspec:\n  type: generic\n"
        f"  secretRef:\n    name: {name}-token\n  resources:\n"
        f"    - apiVersion: image.toolkit.fluxcd.io/v1\n      kind: ImageRepository\n"
        f"      name: {targets}\n---\n" + secret(f"{name}-token", {"token": HOOK_TOKEN.encode()})
    )


def hook_path(name: str) -> str:
    """The webhook path of Receiver ``name`` (Flux's digest of token, name and namespace)."""
    return "/hook/" + hashlib.sha256(f"{HOOK_TOKEN}{name}{NS}".encode()).hexdigest()


@dataclass(frozen=True)
class Daemon:
    """A running ``tagpilot run`` process, read through ``/proc`` and its JSON API."""

    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self, *, children: bool = False) -> float:
        """User and system CPU time so far (with waited-for children when asked)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        if children:
            ticks += int(fields[13]) + int(fields[14])
        return ticks / TICKS

    def peak_rss_mb(self) -> float:
        """Peak resident memory (``VmHWM``) in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")

    def status(self, kind: str, name: str) -> dict[str, object]:
        """An object's status through the daemon's JSON API."""
        answer = httpx.get(f"{self.url}/api/v1/objects/{kind}/{NS}/{name}", timeout=30)
        answer.raise_for_status()
        status: dict[str, object] = answer.json()["status"]
        return status


@contextmanager
def start_daemon(cluster: Path, work: Path, *extra: str) -> Iterator[Daemon]:
    """Run ``tagpilot run`` on ``cluster`` with its state under ``work``; SIGTERM on exit."""
    url = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    with (work / "daemon.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tagpilot", "run", str(cluster), "--state",
             str(work / "state.db"), "--http-address", url.removeprefix("http://"), *extra],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        running = Daemon(process, url)
        wait(lambda: _ready(url), 120, "the daemon's /readyz")
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait(predicate: Callable[[], bool], seconds: float, what: str, step: float = 0.2) -> None:
    """Poll ``predicate`` every ``step`` seconds until true; raise after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise RuntimeError(f"timed out after {seconds:g} s waiting for {what}")


def percentile(values: list[float], percent: int) -> float:
    """The ``percent``-th percentile of ``values`` (inclusive method)."""
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def stamping_repo(path: Path, files: dict[str, str], stamps: Path) -> Path:
    """A bare repo whose ``post-receive`` hook appends the wall time and new SHA of a push."""
    make_bare_repo(path, files)
    hook = path / "hooks/post-receive"
    hook.write_text(
        f"#!/bin/sh\nwhile read old new ref; do echo \"$(date +%s.%N) $new\" >> '{stamps}'; done\n"
    )
    hook.chmod(0o755)
    return path


def read_stamps(path: Path) -> list[tuple[float, str]]:
    """(wall time, new commit) of each push ``stamping_repo``'s hook recorded, in order."""
    lines = path.read_text().splitlines() if path.exists() else []
    return [(float(when), sha) for when, sha in (line.split() for line in lines)]
