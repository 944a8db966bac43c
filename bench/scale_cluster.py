"""The scale bench in cluster mode: one ``tagpilot controller`` against two shards.

``make bench-scale-cluster`` (``python -m bench.scale_cluster [--repositories N] ...``); not
part of ``make bench``.  The objects of ``bench.scale`` (ImageRepositories of 400 tags on a
registry seeded through its storage layout, ImagePolicies mixing semver, numerical with
``extract`` and alphabetical, ImageUpdateAutomations with their GitRepositories on the
smart-HTTP git server) are Kubernetes objects in a real control plane (etcd + kube-apiserver,
audit log on).  Half the automations, with their images, carry Flux's sharding label
``sharding.fluxcd.io/key: shard1``, the other half ``shard2``.  Two phases, each on a fresh
control plane and fresh git repositories (the registry is shared):

* ``unsharded``: one controller process handling everything;
* ``sharded``: two processes, each with ``--watch-label-selector`` for its shard and leader
  election on, so each holds its own Lease as the install's shard Deployments do.

Per process, and summed: the first full scan (from the start until every repository of
its shard has a scan result, read from the process's own ``tagpilot_repository_tags``
gauges; checked afterwards through the API: every ImageRepository Ready with its tags,
every policy on the expected tag), the steady-state CPU share of one core (git children
included), peak RSS (``VmHWM``), API requests per minute (audit events of its identity),
registry requests per interval (its own ``tagpilot_registry_requests_total``; the
registry's counters give the total), and new tag -> pushed commit (a tag pushed over HTTP,
``reconcile.fluxcd.io/requestedAt`` set on its ImageRepository, until the bare repository's
``post-receive`` hook fires; rounds alternate between the shards).  The steady-state window
is two intervals by default; its figures are also given per rescan, since rescans come in
waves that a window catches whole or not.  The repositories each process scanned show that
every shard handled its half and only its half.  Written to
``bench/results/scale-cluster.json`` with the ratios sharded / unsharded.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import registry_layout
from bench.bench_cluster import _apply
from bench.cluster_process import controllers, first_scan, ownership, steady
from bench.daemon_kit import NS, ROOT, read_stamps, stamping_repo, wait
from bench.manifests import automation_objects, marked_deployment
from bench.scale import Size, _exit_on_signal, _name, _objects, _registry_metrics, _seed, _tags
from servers.git import GitHttpServer, run_git_http
from servers.ocipush import seed
from servers.registry import fast_storage, run_registry

# The control-plane harness imports ``servers`` as a top-level package, from the tests directory.
sys.path.insert(0, str(ROOT / "tests"))

from tests.kube.build import binaries
from tests.kube.controller_support import (
    install_crds,
)
from tests.kube.controlplane import ControlPlane, run_control_plane

__all__ = ["SHARDS", "main", "measure"]

SHARD_LABEL = "sharding.fluxcd.io/key"
SHARDS = ("shard1", "shard2")


# -- the objects -----------------------------------------------------------------------------


def _shard_of(app: int, size: Size) -> str:
    """The first half of the automations (and their images) is shard1, the rest shard2."""
    return SHARDS[0] if app < size.automations // 2 else SHARDS[1]


def _labelled(manifests: str, shard: str) -> str:
    return manifests.replace("metadata:\n", f"metadata:\n  labels:\n    {SHARD_LABEL}: {shard}\n")


def _objects_yaml(size: Size, host: str, git: GitHttpServer, repos: Path, interval: str) -> str:
    """Make one stamping bare repository per automation under ``repos``; every object as one
    YAML stream, each automation's objects labelled with its shard."""
    share = size.repositories // size.automations
    body = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NS}\n---\n"
    for app in range(size.automations):
        indexes = range(app * share, (app + 1) * share)
        images = [(f"{host}/scale/{_name(index)}", _name(index)) for index in indexes]
        bare = stamping_repo(
            repos / f"git{app:03d}.git",
            {"deploy.yaml": marked_deployment(NS, images)},
            repos / f"stamps-{app:03d}",
        )
        chunk = "".join(
            _objects(name, image, _tags(index, size.tags)[1], interval)
            for index, (image, name) in zip(indexes, images, strict=True)
        )
        automation = automation_objects(NS, f"git{app:03d}", git.url(bare))
        chunk += automation.replace("interval: 1m", f"interval: {interval}")
        body += _labelled(chunk, _shard_of(app, size))
    return body


def _shard_repositories(size: Size) -> dict[str, set[str]]:
    share = size.repositories // size.automations
    found: dict[str, set[str]] = {shard: set() for shard in SHARDS}
    for index in range(share * size.automations):
        found[_shard_of(index // share, size)].add(_name(index))
    return found


def _items(plane: ControlPlane, kind: str) -> list[dict[str, Any]]:
    got = plane.kubectl("get", kind, "-n", NS, "-o", "json")
    items: list[dict[str, Any]] = json.loads(got.stdout)["items"]
    return items


def _status(item: dict[str, Any]) -> dict[str, Any]:
    status = item.get("status")
    return status if isinstance(status, dict) else {}


def _ready(item: dict[str, Any]) -> bool:
    conditions = _status(item).get("conditions")
    return any(
        isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True"
        for c in conditions or []
    )


def _check_api(plane: ControlPlane, size: Size, pushed: dict[str, str]) -> dict[str, int]:
    """Every ImageRepository Ready with its tags, every policy on its tag, through the API."""
    repositories = _items(plane, "imagerepositories")
    not_ready = [
        str(item["metadata"]["name"])
        for item in repositories
        if not _ready(item)
        or int(_status(item).get("lastScanResult", {}).get("tagCount", 0)) < size.tags
    ]
    if not_ready or len(repositories) != size.repositories:
        raise RuntimeError(f"{len(not_ready)} ImageRepositories not Ready with their tags")
    wrong = []
    for item in _items(plane, "imagepolicies"):
        name = str(item["metadata"]["name"])
        expected = pushed.get(name) or _tags(int(name.removeprefix("app")), size.tags)[2]
        latest = _status(item).get("latestRef")
        if not isinstance(latest, dict) or latest.get("tag") != expected:
            wrong.append(name)
    if wrong:
        raise RuntimeError(f"{len(wrong)} policies chose another tag, e.g. {wrong[:3]}")
    return {"repositories_ready": len(repositories), "policies_checked": size.repositories}


def _all_pushed(plane: ControlPlane, size: Size, limit: float) -> None:
    def pushed() -> bool:
        items = _items(plane, "imageupdateautomations")
        return sum(bool(_status(i).get("lastPushCommit")) for i in items) == size.automations

    wait(pushed, limit, "every automation's first push", step=5)


def _delivery(plane: ControlPlane, registry_url: str, stamps: Path, name: str, tag: str) -> float:
    """Push ``tag`` to ``name``, ask for a scan; seconds until the automation's push lands."""
    before = len(read_stamps(stamps))
    seed(registry_url, f"scale/{name}", [tag])
    asked = time.time()
    plane.kubectl(
        "annotate", "--overwrite", "-n", NS, "imagerepository", name,
        f"reconcile.fluxcd.io/requestedAt={asked}",
    )  # fmt: skip
    wait(lambda: len(read_stamps(stamps)) > before, 120, f"the push for {name}:{tag}", 0.01)
    return round(read_stamps(stamps)[before][0] - asked, 3)


def _latencies(
    plane: ControlPlane, setting: _Setting, repos: Path, pushed: dict[str, str],
    numbers: Iterator[int],
) -> dict[str, list[float]]:  # fmt: skip
    """New tag -> pushed commit, alternating between the shards' automations."""
    size = setting.size
    share, half = size.repositories // size.automations, size.automations // 2
    found: dict[str, list[float]] = {shard: [] for shard in SHARDS}
    for round_ in range(setting.rounds):
        shard = SHARDS[round_ % 2]
        app = (round_ // 2) % half + (0 if shard == SHARDS[0] else half)
        index = app * share + (-app * share) % 3  # a semver repository of that automation
        name, tag = _name(index), f"9.{next(numbers)}.0"
        pushed[name] = tag
        found[shard].append(
            _delivery(plane, setting.registry_url, repos / f"stamps-{app:03d}", name, tag)
        )
        print(f"  {shard} {name}:{tag}: {found[shard][-1]:.2f} s", file=sys.stderr)
        time.sleep(2)  # lets the automation record its push before its next round
    return found


# -- the phases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setting:
    """What both phases share: the size, the timings and the servers."""

    size: Size
    interval: float
    window: float
    rounds: int
    registry_host: str
    registry_url: str
    metrics_url: str
    git: GitHttpServer
    logs: Path | None


def _plan(phase: str, size: Size) -> list[tuple[str, str | None, set[str]]]:
    owned = _shard_repositories(size)
    if phase == "unsharded":
        return [("all", None, set().union(*owned.values()))]
    return [(shard, f"{SHARD_LABEL} in ({shard})", owned[shard]) for shard in SHARDS]


def _phase(
    phase: str, setting: _Setting, work: Path, pushed: dict[str, str], numbers: Iterator[int]
) -> dict[str, Any]:
    """One phase on a fresh control plane and fresh git repositories."""
    size = setting.size
    repos = setting.git.root / phase
    repos.mkdir()
    interval = f"{setting.interval:g}s"
    objects = _objects_yaml(size, setting.registry_host, setting.git, repos, interval)
    (work / "kube").mkdir(parents=True)
    with run_control_plane(binaries(), work / "kube", audit=True) as plane:
        install_crds(plane)
        applied = time.monotonic()
        _apply(plane, objects, "the scenario's objects")
        apply_s = time.monotonic() - applied
        print(
            f"{phase}: {size.repositories} repositories applied in {apply_s:.0f} s", file=sys.stderr
        )
        with controllers(plane, work, _plan(phase, size)) as processes:
            first_scan(processes, size.tags, limit=1800)
            _all_pushed(plane, size, limit=900)
            pushed_s = round(time.monotonic() - min(p.started for p in processes), 1)
            checked = _check_api(plane, size, pushed)
            time.sleep(30)  # the start-up wave's stragglers
            print(f"{phase}: steady state for {setting.window:.0f} s ...", file=sys.stderr)
            window = steady(plane, processes, setting.metrics_url, setting.interval, setting.window)
            latencies = _latencies(plane, setting, repos, pushed, numbers)
            leases = sorted(str(item["metadata"]["name"]) for item in _items(plane, "leases"))
            for process in processes:
                process.figures |= ownership(process, size.tags)
                if setting.logs is not None:
                    setting.logs.mkdir(parents=True, exist_ok=True)
                    shutil.copy(process.running.log, setting.logs / f"{phase}-{process.label}.log")
            figures = [p.figures for p in processes]
            every = list(itertools.chain(*latencies.values()))
            return {
                "objects_applied_s": round(apply_s, 1),
                "all_automations_pushed_s": pushed_s,
                **checked,
                "leases": leases,
                "processes": {p.label: p.figures for p in processes},
                "total": {
                    **window,
                    "first_full_scan_s": max(float(f["first_full_scan_s"]) for f in figures),
                    **{key: round(sum(f[key] for f in figures), 1) for key in _SUMMED},
                    "latency_p50_s": round(statistics.median(every), 3),
                },
                "latency_s": latencies,
                "latency_p50_s_by_shard": {
                    shard: round(statistics.median(values), 3)
                    for shard, values in latencies.items()
                },
            }


_SUMMED = ("peak_rss_mb", "repositories_scanned", "objects_synced")


def _comparison(unsharded: dict[str, Any], sharded: dict[str, Any]) -> dict[str, Any]:
    """Sharded / unsharded, summed over the shards; and each shard's share of the work."""
    one, two = unsharded["total"], sharded["total"]
    ratios = {
        key: round(two[key] / one[key], 2) if one[key] else None
        for key in two
        if isinstance(two[key], (int, float)) and key != "window_s"
    }
    processes = sharded["processes"]
    shares = {
        label: round(int(f["repositories_scanned"]) / int(one["repositories_scanned"]), 3)
        for label, f in processes.items()
    }
    return {"sharded_over_unsharded": ratios, "share_of_repositories_per_shard": shares}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Seed the registry, run both phases (``args`` as :func:`main` parses them); the figures
    as JSON-ready data."""
    size = Size(args.repositories, args.tags, args.automations)
    load_before = os.getloadavg()
    numbers = iter(range(1, 1_000_000))
    pushed: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="tagpilot-bench-scale-cluster-") as tmp,
        fast_storage() as storage,
        _registry_metrics() as metrics_url,
    ):
        print(f"seeding {size.repositories} x {size.tags} tags ...", file=sys.stderr)
        images, repositories, seeding = _seed(storage / "registry/data", size)
        (Path(tmp) / "repos").mkdir()
        with (
            run_registry(storage / "registry") as registry,
            run_git_http(Path(tmp) / "repos") as git,
        ):
            sample = repositories[:: max(1, len(repositories) // 25)]
            checked = registry_layout.check_sample(registry.url, sample, images)
            setting = _Setting(
                size, args.interval, args.window, args.rounds, registry.host, registry.url,
                metrics_url, git, args.logs,
            )  # fmt: skip
            phases = {
                phase: _phase(phase, setting, Path(tmp) / phase, pushed, numbers)
                for phase in ("unsharded", "sharded")
            }
    return {
        **{key: getattr(size, key) for key in ("repositories", "tags", "automations")},
        "tags_total": size.repositories * size.tags,
        "shards": list(SHARDS),
        "interval_s": args.interval,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seeding_s": round(seeding, 1),
        "layout_checked_requests": checked,
        **phases,
        **_comparison(phases["unsharded"], phases["sharded"]),
    }


def main(argv: list[str]) -> int:
    """Parse the arguments, run the bench, print and write the JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale_cluster", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--repositories", type=int, default=1_000)
    parser.add_argument("--tags", type=int, default=400, help="per repository (default 400)")
    parser.add_argument("--automations", type=int, default=20, help="an even number (default 20)")
    parser.add_argument("--interval", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument(
        "--window", type=float, help="steady-state seconds (default: two intervals)"
    )
    parser.add_argument("--rounds", type=int, default=10, help="new tag -> commit rounds")
    parser.add_argument("--logs", type=Path, help="keep each controller's log in this directory")
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/scale-cluster.json")
    args = parser.parse_args(argv)
    args.window = args.window or 2 * args.interval
    if args.automations % 2 or args.repositories % args.automations:
        parser.error("--automations must be even and divide --repositories")
    # The controller processes run this checkout's package.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
    )
    # SIGTERM and SIGINT unwind the context managers: controllers, control planes and servers
    # stop, tmpfs is freed.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    _write(
        {**measure(args), "finished": datetime.now(UTC).isoformat(timespec="seconds")}, args.output
    )
    return 0


def _write(result: dict[str, Any], output: Path) -> None:
    """Print the figures and write them to ``output``."""
    text = json.dumps(result, indent=2) + "\n"
    sys.stdout.write(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
