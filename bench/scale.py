"""The daemon at Flux's own target: 5,000 ImageRepositories x 400 tags (2,000,000 tags).

``make bench-scale`` (``python -m bench.scale [--size full|medium|small|tiny]``); not part
of ``make bench``.  On loopback: registry 2.8 seeded by writing its storage layout on tmpfs
(:mod:`bench.registry_layout`, a sample read back through the HTTP API first), the
smart-HTTP git server with one bare repository per automation, and ``tagpilot run``.

The policies mix semver ranges, numerical order on a value extracted from the tag, and
alphabetical order behind a filter; every repository also holds a few tags no policy
selects.  Each automation owns an equal share of the images, all in one Deployment.

Measured and written to ``bench/results/scale.json``:

* the first full scan: from the daemon's start until every repository has a scan result
  (and until every automation has pushed, and every policy has the expected tag);
* the steady state, over one interval and a half after that: the daemon's CPU share of
  one core, the registry's requests per interval (its own Prometheus counters), whether
  every repository was scanned again within the interval;
* peak RSS (``VmHWM``) and the state store's size on disk (database and WAL);
* new tag -> commit: a tag pushed to the registry, the Receiver's webhook posted, until
  the bare repository's ``post-receive`` hook fires; rounds spread over an interval, so
  some land while the periodic rescans run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import registry_layout
from bench.daemon_kit import (
    NS,
    ROOT,
    Daemon,
    hook_path,
    percentile,
    read_stamps,
    receiver,
    stamping_repo,
    start_daemon,
    wait,
)
from bench.manifests import automation_objects, image_objects, marked_deployment
from servers.git import free_port, run_git_http
from servers.ocipush import seed
from servers.registry import fast_storage, run_registry

__all__ = ["SIZES", "Size", "main"]


@dataclass(frozen=True)
class Size:
    """How many repositories, tags per repository and automations."""

    repositories: int
    tags: int
    automations: int


SIZES = {
    "full": Size(5_000, 400, 100),
    "medium": Size(1_000, 400, 20),
    "small": Size(200, 400, 10),
    "tiny": Size(30, 40, 3),
}
IMAGES = 8  # distinct manifests per repository; tag i names image i % IMAGES
NOISE = ("latest", "stable", "sha-0c3f9a1", "sha-7d2e4b8", "pr-1234")
PROBES = 20
TARGETS = {"peak_rss_mb": 500.0, "cpu_share_percent": 50.0, "latency_p50_s": 2.0, "store_mb": 200.0}


# -- the objects -----------------------------------------------------------------------------


def _tags(index: int, count: int) -> tuple[list[str], str, str]:
    """Repository ``index``'s tags, its ImagePolicy's ``spec.policy``-level YAML, and the
    tag that policy must select.  Three kinds in turn: semver, numerical on an extracted
    build number, alphabetical on a date behind a prefix."""
    selectable = count - len(NOISE)
    kind = index % 3
    if kind == 0:
        tags = [f"{1 + k // 100}.{k // 10 % 10}.{k % 10}" for k in range(selectable)]
        spec = "  policy:\n    semver:\n      range: '>=1.0.0'\n"
    elif kind == 1:
        tags = [f"main-{1000 + 7 * k}-{(k * 2654435761) % 16**7:07x}" for k in range(selectable)]
        spec = (
            "  filterTags:\n    pattern: '^main-(?P<build>[0-9]+)-[0-9a-f]+$'\n"
            "    extract: '$build'\n  policy:\n    numerical:\n      order: asc\n"
        )
    else:
        tags = [
            f"nightly-{2020 + k // 300}{k // 25 % 12 + 1:02d}{k % 25 + 1:02d}"
            for k in range(selectable)
        ]
        spec = (
            "  filterTags:\n    pattern: '^nightly-'\n"
            "  policy:\n    alphabetical:\n      order: asc\n"
        )
    return tags + list(NOISE), spec, tags[-1]


def _name(index: int) -> str:
    return f"app{index:04d}"


def _objects(name: str, image: str, policy: str, interval: str) -> str:
    semver = image_objects(NS, name, image).replace("interval: 1m", f"interval: {interval}")
    head, _, _ = semver.partition("  policy:\n")
    return head + policy + "---\n"


def _cluster(root: Path, size: Size, host: str, git_base: str, repos: Path, interval: str) -> Path:
    cluster = root / "cluster"
    cluster.mkdir()
    share = size.repositories // size.automations
    for app in range(size.automations):
        indexes = range(app * share, (app + 1) * share)
        images = [(f"{host}/scale/{_name(index)}", _name(index)) for index in indexes]
        files = {"deploy.yaml": marked_deployment(NS, images)}
        stamping_repo(repos / f"git{app:03d}.git", files, root / f"stamps-{app:03d}")
        body = "".join(
            _objects(name, image, _tags(index, size.tags)[1], interval)
            for index, (image, name) in zip(indexes, images, strict=True)
        )
        automation = automation_objects(NS, f"git{app:03d}", f"{git_base}/git{app:03d}.git")
        body += automation.replace("interval: 1m", f"interval: {interval}")
        (cluster / f"app{app:03d}.yaml").write_text(body)
    probes = "".join(
        receiver(f"probe-{_name(index)}", _name(index)) + "---\n" for index in _probes(size)
    )
    (cluster / "receivers.yaml").write_text(probes)
    return cluster


def _probes(size: Size) -> list[int]:
    """Semver repositories spread over the automations, one per automation at most."""
    share = size.repositories // size.automations
    chosen = [app * share + (-app * share) % 3 for app in range(size.automations)]
    step = max(1, len(chosen) // PROBES)
    return [index for index in chosen[::step] if index < size.repositories][:PROBES]


# -- reading the daemon ----------------------------------------------------------------------


def _items(daemon: Daemon, kind: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{daemon.url}/api/v1/objects", params={"kind": kind}, timeout=120)
    answer.raise_for_status()
    items: list[dict[str, object]] = answer.json()["items"]
    return items


def _status(item: dict[str, object]) -> dict[str, object]:
    status = item.get("status")
    return status if isinstance(status, dict) else {}


def _scan_times(daemon: Daemon) -> dict[str, str]:
    found = {}
    for item in _items(daemon, "ImageRepository"):
        result = _status(item).get("lastScanResult")
        if isinstance(result, dict) and result.get("scanTime"):
            found[str(item["name"])] = str(result["scanTime"])
    return found


def _latest_tags(daemon: Daemon) -> dict[str, str]:
    found = {}
    for item in _items(daemon, "ImagePolicy"):
        latest = _status(item).get("latestRef")
        if isinstance(latest, dict):
            found[str(item["name"])] = str(latest.get("tag"))
    return found


def _all_pushed(daemon: Daemon, automations: int) -> bool:
    items = _items(daemon, "ImageUpdateAutomation")
    return len(items) == automations and all(_status(i).get("lastPushCommit") for i in items)


def _registry_requests(metrics_url: str) -> dict[str, float]:
    """The registry's own request counters by handler and method."""
    counts: dict[str, float] = {}
    for line in httpx.get(metrics_url, timeout=30).text.splitlines():
        if line.startswith("registry_http_requests_total{"):
            labels, value = line.rsplit(" ", 1)
            fields = dict(
                part.split("=", 1) for part in labels[labels.index("{") + 1 : -1].split(",")
            )
            key = f"{fields['method'].strip(chr(34))} {fields['handler'].strip(chr(34))}"
            counts[key] = counts.get(key, 0.0) + float(value)
    return counts


def _store_mb(state: Path) -> float:
    files = [state, state.with_name(state.name + "-wal"), state.with_name(state.name + "-shm")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


# -- phases ----------------------------------------------------------------------------------


@contextmanager
def _registry_metrics() -> Iterator[str]:
    """The registry's Prometheus endpoint, switched on through its environment overrides."""
    port = free_port()
    saved = {
        k: os.environ.get(k)
        for k in ("REGISTRY_HTTP_DEBUG_ADDR", "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED")
    }
    os.environ["REGISTRY_HTTP_DEBUG_ADDR"] = f"127.0.0.1:{port}"
    os.environ["REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED"] = "true"
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _seed(
    data: Path, size: Size
) -> tuple[list[registry_layout.Image], list[tuple[str, list[str]]], float]:
    needed = registry_layout.inodes_needed(size.repositories, size.tags, IMAGES)
    data.mkdir(parents=True, exist_ok=True)
    free = os.statvfs(data).f_favail
    if free < needed:
        raise SystemExit(
            f"{data}: {free} free inodes, the layout needs about {needed}; free some, or "
            "remount /dev/shm with more (mount -o remount,nr_inodes=8m /dev/shm)"
        )
    images = registry_layout.make_images(IMAGES)
    repositories = [(f"scale/{_name(i)}", _tags(i, size.tags)[0]) for i in range(size.repositories)]
    started = time.monotonic()
    registry_layout.write(data, repositories, images)
    return images, repositories, time.monotonic() - started


def _first_scan(daemon: Daemon, size: Size, started: float, limit: float) -> dict[str, float]:
    scanned_at = pushed_at = None
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and (scanned_at is None or pushed_at is None):
        if scanned_at is None and len(_scan_times(daemon)) == size.repositories:
            scanned_at = time.monotonic() - started
            print(f"  every repository scanned after {scanned_at:.0f} s", file=sys.stderr)
        if pushed_at is None and _all_pushed(daemon, size.automations):
            pushed_at = time.monotonic() - started
            print(f"  every automation pushed after {pushed_at:.0f} s", file=sys.stderr)
        time.sleep(5)
    if scanned_at is None or pushed_at is None:
        raise RuntimeError(f"the first scan did not finish within {limit:.0f} s")
    return {"first_full_scan_s": scanned_at, "all_automations_pushed_s": pushed_at}


def _check_policies(daemon: Daemon, size: Size) -> int:
    latest = _latest_tags(daemon)
    wrong = [
        name
        for index in range(size.repositories)
        if latest.get(name := _name(index)) != _tags(index, size.tags)[2]
    ]
    if wrong:
        raise RuntimeError(f"{len(wrong)} policies chose another tag, e.g. {wrong[:3]}")
    return len(latest)


def _steady(daemon: Daemon, metrics_url: str, interval: float, window: float) -> dict[str, object]:
    before_scans, before_requests = _scan_times(daemon), _registry_requests(metrics_url)
    started, cpu = time.monotonic(), daemon.cpu_seconds()
    time.sleep(window)
    wall = time.monotonic() - started
    share = (daemon.cpu_seconds() - cpu) / wall
    after_requests, after_scans = _registry_requests(metrics_url), _scan_times(daemon)
    rescanned = sum(1 for name, when in after_scans.items() if before_scans.get(name) != when)
    now = datetime.now(UTC)
    oldest = max(
        (now - datetime.fromisoformat(when)).total_seconds() for when in after_scans.values()
    )
    in_window = {
        key: after_requests.get(key, 0.0) - before_requests.get(key, 0.0)
        for key in after_requests
        if after_requests.get(key, 0.0) != before_requests.get(key, 0.0)
    }
    # Rescans come in waves (every repository was first scanned at start-up), so the
    # window's rate scaled to one interval can land between waves: per rescan says more.
    per_interval = {key: round(count * interval / wall, 1) for key, count in in_window.items()}
    return {
        "window_s": round(wall, 1),
        "cpu_share_percent": round(share * 100, 2),
        "repositories_rescanned_in_window": rescanned,
        "oldest_scan_age_s": round(oldest, 1),
        "registry_requests_in_window": in_window,
        "registry_requests_per_rescan": round(sum(in_window.values()) / max(1, rescanned), 2),
        "registry_requests_per_interval": per_interval,
        "registry_requests_per_interval_total": round(sum(per_interval.values()), 1),
    }


def _latencies(
    daemon: Daemon, registry_url: str, root: Path, size: Size, spread: float
) -> list[float]:
    share = size.repositories // size.automations
    latencies = []
    probes = _probes(size)
    gap = spread / max(1, len(probes))
    with httpx.Client(timeout=30) as client:
        for number, index in enumerate(probes, start=1):
            stamps = root / f"stamps-{index // share:03d}"
            before = len(read_stamps(stamps))
            started = time.monotonic()
            seed(registry_url, f"scale/{_name(index)}", [f"9.0.{number}"])
            posted = time.time()
            client.post(daemon.url + hook_path(f"probe-{_name(index)}"), json={}).raise_for_status()
            try:
                latencies.append(_pushed_after(stamps, before, number) - posted)
            except RuntimeError:
                latencies.append(math.inf)  # counted as a miss: p50 and p95 show it
            print(f"  probe {number}: {latencies[-1]:.2f} s", file=sys.stderr)
            time.sleep(max(0.0, started + gap - time.monotonic()))
    return latencies


def _p95(latencies: list[float]) -> float | None:
    finite = [latency for latency in latencies if not math.isinf(latency)]
    if len(finite) < len(latencies):
        return math.inf if len(latencies) - len(finite) > len(latencies) // 20 else max(finite)
    return round(percentile(latencies, 95), 3) if len(latencies) > 1 else None


def _pushed_after(stamps: Path, before: int, number: int) -> float:
    """When the next push after the ``before`` ones recorded in ``stamps`` arrived."""
    wait(lambda: len(read_stamps(stamps)) > before, 120, f"the push for probe {number}", 0.005)
    return read_stamps(stamps)[before][0]


def measure(size: Size, *, interval_s: float, name: str) -> dict[str, object]:
    """Seed, start everything, measure; the figures as JSON-ready data."""
    interval = f"{interval_s:g}s"
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="tagpilot-bench-scale-") as tmp,
        fast_storage() as storage,
        _registry_metrics() as metrics_url,
    ):
        root, repos = Path(tmp), Path(tmp) / "repos"
        repos.mkdir()
        print(f"seeding {size.repositories} x {size.tags} tags ...", file=sys.stderr)
        images, repositories, seeding = _seed(storage / "registry/data", size)
        with run_registry(storage / "registry") as registry, run_git_http(repos) as git_server:
            sample = repositories[:: max(1, len(repositories) // 25)]
            checked = registry_layout.check_sample(registry.url, sample, images)
            cluster = _cluster(root, size, registry.host, git_server.base_url, repos, interval)
            print("starting the daemon ...", file=sys.stderr)
            started = time.monotonic()
            with start_daemon(cluster, root) as daemon:
                first = _first_scan(daemon, size, started, limit=3600)
                policies = _check_policies(daemon, size)
                time.sleep(30)  # the start-up wave's stragglers
                print(f"steady state for {1.5 * interval_s:.0f} s ...", file=sys.stderr)
                steady = _steady(daemon, metrics_url, interval_s, 1.5 * interval_s)
                print(
                    f"  {json.dumps(steady)}; peak RSS {daemon.peak_rss_mb():.0f} MB",
                    file=sys.stderr,
                )
                print("new tag -> commit ...", file=sys.stderr)
                latencies = _latencies(daemon, registry.url, root, size, interval_s)
                peak = daemon.peak_rss_mb()
                store = _store_mb(root / "state.db")
    result = {
        "size": name,
        **asdict(size),
        "tags_total": size.repositories * size.tags,
        "interval_s": interval_s,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seeding_s": round(seeding, 1),
        "layout_checked_requests": checked,
        "policies_checked": policies,
        **{key: round(value, 1) for key, value in first.items()},
        **steady,
        "peak_rss_mb": round(peak, 1),
        "store_mb": round(store, 1),
        "latency_rounds": len(latencies),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": _p95(latencies),
        "latency_missed": sum(1 for latency in latencies if math.isinf(latency)),
        "targets": TARGETS | {"rescan_within_interval": True},
    }
    result["met"] = {
        "peak_rss_mb": result["peak_rss_mb"] < TARGETS["peak_rss_mb"],
        "cpu_share_percent": steady["cpu_share_percent"] < TARGETS["cpu_share_percent"],  # type: ignore[operator]
        "latency_p50_s": result["latency_p50_s"] < TARGETS["latency_p50_s"],
        "store_mb": result["store_mb"] < TARGETS["store_mb"],
        "rescan_within_interval": steady["repositories_rescanned_in_window"] == size.repositories,
    }
    return result


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    """Parse the arguments, run the bench, print and write the JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--interval", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/scale.json")
    args = parser.parse_args(argv)
    # SIGTERM (and SIGINT, which a shell's background job ignores) unwind the context
    # managers: the daemon, the registry and the git server stop, tmpfs is freed.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_on_signal)
    result = measure(SIZES[args.size], interval_s=args.interval, name=args.size)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    # A missed commit is an infinite latency; JSON has no infinity, so it is written as null.
    finite = {k: None if isinstance(v, float) and math.isinf(v) else v for k, v in result.items()}
    text = json.dumps(finite, indent=2) + "\n"
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
