"""One ``tagpilot controller`` process under measurement, for ``bench.scale_cluster``.

:func:`controllers` starts processes with the test harness's ``start_controller``, each as its
own client-certificate identity (so the apiserver's audit log counts its requests apart) with
its own state directory and HTTP port.  A :class:`ControllerProcess` is read through
``/proc`` (CPU time, git children included; ``VmHWM``), its ``/metrics`` (the repositories it
scanned, its registry requests and reconciles) and its JSON log (the objects its watches
gave it).  :func:`steady` turns a window of those counters into rates and per-scan figures.
"""

from __future__ import annotations

import re
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_cluster import requests_by_user
from bench.daemon_kit import NS, ROOT, Daemon
from bench.scale import _registry_requests

# The control-plane harness imports ``servers`` as a top-level package, from the tests directory.
sys.path.insert(0, str(ROOT / "tests"))

from tests.kube.controller_support import RunningController, start_controller
from tests.kube.controlplane import ControlPlane

__all__ = ["ControllerProcess", "controllers", "first_scan", "ownership", "steady"]

_TAGS_SERIES = re.compile(r'^tagpilot_repository_tags\{name="([^"]+)",namespace="[^"]*"\} (\S+)$')


@dataclass
class ControllerProcess:
    """One controller process, the identity of its API requests and the repositories it owns."""

    label: str
    selector: str | None
    user: str
    running: RunningController
    expected: set[str]
    started: float
    first_scan_s: float | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> str:
        """Its ``/metrics`` page (Prometheus text)."""
        with urllib.request.urlopen(self.running.url + "/metrics", timeout=30) as answer:
            text: str = answer.read().decode()
        return text

    def scanned(self, tags: int) -> set[str]:
        """The repositories whose last scan (in this process) found at least ``tags`` tags."""
        found = set()
        for line in self.metrics().splitlines():
            match = _TAGS_SERIES.match(line)
            if match and float(match[2]) >= tags:
                found.add(match[1])
        return found

    def counter(self, name: str) -> dict[str, float]:
        """One counter's samples by label set, from this process's ``/metrics``."""
        found = {}
        for line in self.metrics().splitlines():
            if line.startswith(name + "{"):
                labels, value = line.rsplit(" ", 1)
                found[labels[len(name) :]] = float(value)
        return found

    def synced_objects(self) -> int | None:
        """The objects its watches gave it, from its ``watches synced`` log line."""
        for line in self.running.lines():
            if line.get("event") == "watches synced":
                return int(line["objects"])
        return None


@contextmanager
def controllers(
    plane: ControlPlane, work: Path, plan: list[tuple[str, str | None, set[str]]]
) -> Iterator[list[ControllerProcess]]:
    """Start one process per ``(label, selector, repositories)``, each with its own identity."""
    with ExitStack() as stack:
        processes = []
        for label, selector, expected in plan:
            identity = plane.identity(f"tagpilot-{label}", ("system:masters",))
            args = ["--enable-leader-election", "--concurrent=4", "--log-format=json"]
            args += [f"--watch-label-selector={selector}"] if selector else []
            started = time.monotonic()
            running = start_controller(identity.kubeconfig, work / label, namespace=NS, args=args)
            stack.callback(running.stop, signal.SIGTERM, 120.0)
            processes.append(
                ControllerProcess(label, selector, identity.user, running, expected, started)
            )
        yield processes


def first_scan(processes: list[ControllerProcess], tags: int, limit: float) -> None:
    """Wait until each process has scanned all its repositories (``tags`` tags or more each);
    record when in ``first_scan_s``."""
    deadline = time.monotonic() + limit
    while any(p.first_scan_s is None for p in processes):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the first full scan did not finish within {limit:.0f} s")
        for process in processes:
            if process.first_scan_s is None and process.scanned(tags) >= process.expected:
                process.first_scan_s = round(time.monotonic() - process.started, 1)
                print(f"  {process.label}: scanned after {process.first_scan_s} s", file=sys.stderr)
        time.sleep(2)


def _total(samples: dict[str, float], needle: str = "") -> float:
    return sum(value for labels, value in samples.items() if needle in labels)


def _window_counts(process: ControllerProcess) -> dict[str, float]:
    """What one process has done so far: CPU seconds (git children included), registry
    requests and ImageRepository scans, by its own counters."""
    cpu = Daemon(process.running.process, process.running.url).cpu_seconds(children=True)
    registry = _total(process.counter("tagpilot_registry_requests_total"))
    scans = _total(process.counter("tagpilot_reconcile_total"), "ImageRepository")
    return {"cpu_s": cpu, "registry_requests": registry, "scans": scans}


def _rates(counts: dict[str, float], wall: float, interval: float) -> dict[str, float]:
    """A window's counts as rates, and per scan: the rescans come in waves (every
    repository was first scanned at start-up), so a window holds whole waves or not and the
    per-scan figures compare two runs best."""
    scans = max(counts["scans"], 1.0)
    return {
        "cpu_share_percent": round(counts["cpu_s"] / wall * 100, 2),
        "api_requests_per_minute": round(counts["api_requests"] * 60 / wall, 1),
        "registry_requests_per_interval": round(counts["registry_requests"] * interval / wall, 1),
        "repository_scans_per_interval": round(counts["scans"] * interval / wall, 1),
        "cpu_ms_per_scan": round(counts["cpu_s"] * 1000 / scans, 2),
        "api_requests_per_scan": round(counts["api_requests"] / scans, 3),
        "registry_requests_per_scan": round(counts["registry_requests"] / scans, 3),
    }


def steady(
    plane: ControlPlane, processes: list[ControllerProcess], metrics_url: str, interval: float,
    window: float,
) -> dict[str, Any]:  # fmt: skip
    """Each process's window counts (raw, in ``figures["window"]``) and rates; the totals."""
    assert plane.audit_log is not None
    audit_start = plane.audit_log.stat().st_size
    registry_before = _registry_requests(metrics_url)
    before = [_window_counts(process) for process in processes]
    started = time.monotonic()
    time.sleep(window)
    wall = time.monotonic() - started
    users = requests_by_user(plane.audit_log, audit_start, plane.audit_log.stat().st_size)
    total = dict.fromkeys(("cpu_s", "registry_requests", "scans", "api_requests"), 0.0)
    for process, earlier in zip(processes, before, strict=True):
        counts = {key: value - earlier[key] for key, value in _window_counts(process).items()}
        counts = {key: round(value, 2) for key, value in counts.items()}
        counts["api_requests"] = users[process.user]
        total = {key: total[key] + counts[key] for key in total}
        process.figures |= {"window": counts, **_rates(counts, wall, interval)}
    registry = sum(_registry_requests(metrics_url).values()) - sum(registry_before.values())
    return {
        "window_s": round(wall, 1),
        "window": total,
        "registry_requests_per_interval_seen_by_the_registry": round(registry * interval / wall, 1),
        **_rates(total, wall, interval),
    }


def ownership(process: ControllerProcess, tags: int) -> dict[str, Any]:
    """What the process handled: its first scan, peak RSS, the objects its watches gave it,
    the repositories it scanned (its own gauges) and how many of those are not its shard's."""
    scanned = process.scanned(tags)
    return {
        "selector": process.selector,
        "first_full_scan_s": process.first_scan_s,
        "peak_rss_mb": round(Daemon(process.running.process, process.running.url).peak_rss_mb(), 1),
        "objects_synced": process.synced_objects() or 0,
        "repositories_expected": len(process.expected),
        "repositories_scanned": len(scanned),
        "repositories_scanned_outside_its_shard": len(scanned - process.expected),
    }
