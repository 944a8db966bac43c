"""The cluster controller beside Flux's own image controllers, on the same objects.

Scenario: 1,000 ImageRepositories of 100 tags (registry 2.8 on tmpfs), 1,000 ImagePolicies,
50 GitRepositories and 50 ImageUpdateAutomations writing to 50 repositories on the smart-HTTP
git server, every interval one minute, all in a real control plane (etcd + kube-apiserver with
its audit log on). Each peer gets a fresh control plane and fresh git repositories; the
registry and the git server are shared. The peers:

* Flux: image-reflector-controller and image-automation-controller built by
  ``tests.kube.flux_build``, run out of cluster against the apiserver, each as its own
  client-certificate identity, leader election off, upstream CRDs;
* tagpilot: ``tagpilot controller --watch-all-namespaces --concurrent 4``, one process, the
  same CRDs (tagpilot's are compatible).

Once every automation has pushed and a pause has let the start-up wave finish, a window of
``BENCH_CLUSTER_SECONDS`` (default 180) measures CPU share (``/proc/<pid>/stat``, finished
child processes included, as tagpilot runs git where Flux uses go-git in process), peak RSS
(``VmHWM``) and API requests per minute (audit events at stage ResponseComplete, counted by
``user.username``). Then a few rounds of new tag -> pushed commit: push a tag, set the
ImageRepository's ``reconcile.fluxcd.io/requestedAt`` annotation, time until the bare
repository's ``post-receive`` hook fires. ``BENCH_CLUSTER_QUICK=1`` runs 100 repositories and
10 automations with a 30 s window and two rounds. A peer that cannot run here is reported as
not available in the rows' notes (its figures NaN); the other still runs.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.common import Result
from bench.daemon_kit import read_stamps as _stamps
from bench.daemon_kit import wait as _wait
from bench.manifests import automation_objects, image_objects, marked_deployment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from tests.kube.build import BUILD_COMMAND, binaries  # noqa: E402
from tests.kube.controlplane import (  # noqa: E402
    ControlPlane,
    Identity,
    kubectl_binary,
    run_control_plane,
)
from tests.kube.flux_build import (  # noqa: E402
    AUTOMATION,
    FLUX_BUILD_COMMAND,
    REFLECTOR,
    FluxBinaries,
    flux_binaries,
)

from servers.git import free_port, make_bare_repo, run_git_http  # noqa: E402
from servers.ocipush import seed  # noqa: E402
from servers.registry import fast_storage, run_registry  # noqa: E402

__all__ = ["Scale", "requests_by_user", "run"]

NS = "flux-system"
TICKS = os.sysconf("SC_CLK_TCK")
FLUX, TAGPILOT = "Flux image controllers", "tagpilot controller"
_READY_LIMIT = 120.0


@dataclass(frozen=True)
class Scale:
    """How big one run is, and how long it measures."""

    repositories: int
    tags: int
    automations: int
    window: float
    latency_rounds: int
    warmup_limit: float
    settle: float

    @classmethod
    def from_environment(cls) -> Scale:
        """The full scenario, or the quick one with ``BENCH_CLUSTER_QUICK=1``."""
        quick = os.environ.get("BENCH_CLUSTER_QUICK") == "1"
        window = float(os.environ.get("BENCH_CLUSTER_SECONDS", "30" if quick else "180"))
        if quick:
            return cls(100, 100, 10, window, 2, 300.0, 10.0)
        return cls(1_000, 100, 50, window, 5, 900.0, 30.0)

    def describe(self) -> str:
        """The scenario in one phrase, for the rows' notes."""
        return (
            f"{self.repositories} repos x {self.tags} tags, {self.repositories} policies, "
            f"{self.automations} automations over git http, 1m intervals; "
            f"{self.window:g} s window"
        )


# -- objects -------------------------------------------------------------------------------


def _repo_name(index: int) -> str:
    return f"app{index:04d}"


def _seed_registry(registry_url: str, storage: Path, scale: Scale) -> None:
    """One repository of ``tags`` pushed for real, then its storage hard-linked for the rest."""
    seed(registry_url, "scale/app0000", [f"1.0.{number}" for number in range(scale.tags)])
    repositories = storage / "docker/registry/v2/repositories/scale"
    for index in range(1, scale.repositories):
        shutil.copytree(
            repositories / "app0000", repositories / _repo_name(index), copy_function=os.link
        )


def _stamping_hook(bare: Path, stamps: Path) -> None:
    hook = bare / "hooks/post-receive"
    hook.write_text(
        f"#!/bin/sh\nwhile read old new ref; do echo \"$(date +%s.%N) $new\" >> '{stamps}'; done\n"
    )
    hook.chmod(0o755)


def _cluster_yaml(scale: Scale, host: str, git_base: str, repos: Path, stamps: Path) -> str:
    """Make the bare repositories under ``repos``; return every object as one YAML stream."""
    per_app = scale.repositories // scale.automations
    body = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NS}\n---\n"
    for app in range(scale.automations):
        names = [_repo_name(index) for index in range(app * per_app, (app + 1) * per_app)]
        images = [(f"{host}/scale/{name}", name) for name in names]
        bare = repos / f"app{app:02d}.git"
        make_bare_repo(bare, {"deploy.yaml": marked_deployment(NS, images)})
        if app == 0:
            _stamping_hook(bare, stamps)
        body += "".join(image_objects(NS, name, image, insecure=True) for image, name in images)
        body += automation_objects(NS, f"app{app:02d}", f"{git_base}/{repos.name}/app{app:02d}.git")
    return body


# -- processes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Process:
    """One controller process and the identity its requests carry in the audit log."""

    label: str
    user: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """User and system time, its finished children's included (tagpilot's git commands,
        which Flux does in process with go-git)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(fields[index]) for index in (11, 12, 13, 14)) / TICKS

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"{self.label}: no VmHWM in /proc status")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def _started(
    label: str, identity: Identity, argv: list[str], ready_url: str, log: Path
) -> Iterator[_Process]:
    env = {**os.environ, "KUBECONFIG": str(identity.kubeconfig), "PYTHONPATH": str(ROOT / "src")}
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:

        def ready() -> bool:
            if process.poll() is not None:
                tail = log.read_text(errors="replace").splitlines()[-10:]
                raise RuntimeError(f"{label} exited with {process.returncode}: " + "\n".join(tail))
            return _answers(ready_url)

        _wait(ready, _READY_LIMIT, f"{label} at {ready_url}")
        yield _Process(label, identity.user, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _flux(plane: ControlPlane, work: Path, target: FluxBinaries) -> Iterator[list[_Process]]:
    """Both Flux controllers, each with its own identity, ports and storage."""
    reflector_storage = work / "reflector-storage"
    reflector_storage.mkdir()
    extras = {REFLECTOR: [f"--storage-path={reflector_storage}"], AUTOMATION: []}
    with ExitStack() as stack:
        processes = []
        for name, extra in extras.items():
            health = f"127.0.0.1:{free_port()}"
            argv = [
                str(target.executable(name)),
                f"--metrics-addr=127.0.0.1:{free_port()}",
                f"--health-addr={health}",
                "--enable-leader-election=false",
                "--log-encoding=json",
                *extra,
            ]
            identity = plane.identity(f"flux-{name}", ("system:masters",))
            ready = f"http://{health}/readyz"
            log = work / f"{name}.log"
            processes.append(stack.enter_context(_started(name, identity, argv, ready, log)))
        yield processes


@contextmanager
def _tagpilot(plane: ControlPlane, work: Path) -> Iterator[list[_Process]]:
    """``tagpilot controller`` as one process (cluster-admin identity until RBAC is exported)."""
    identity = plane.identity("tagpilot-controller", ("system:masters",))
    address = f"127.0.0.1:{free_port()}"
    argv = [
        sys.executable, "-m", "tagpilot", "controller", "--kubeconfig", str(identity.kubeconfig),
        "--watch-all-namespaces", "--state-dir", str(work / "state"),
        "--http-address", address, "--concurrent", "4",
    ]  # fmt: skip
    with _started(TAGPILOT, identity, argv, f"http://{address}/readyz", work / "tagpilot.log") as p:
        yield [p]


def _tagpilot_missing() -> str:
    """Why ``tagpilot controller`` cannot run here ('' when it can)."""
    result = subprocess.run(
        [sys.executable, "-m", "tagpilot", "controller", "--help"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=60, check=False,
    )  # fmt: skip
    if result.returncode == 0:
        return ""
    said = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
    return f"`tagpilot controller --help` fails in this build ({said})"


def _flux_missing(target: FluxBinaries) -> str:
    """Why Flux's controllers cannot run here ('' when they can), in one short phrase."""
    unbuilt = [name for name in (REFLECTOR, AUTOMATION) if not target.executable(name).is_file()]
    refused = [f"{name}@{target.version(name)}" for name in unbuilt if target.why_missing(name)]
    if refused:
        return f"the Go module proxy refuses {' and '.join(refused)} (HTTP 403), so not built"
    return f"{' and '.join(unbuilt)} not built (run {FLUX_BUILD_COMMAND})" if unbuilt else ""


# -- measuring -----------------------------------------------------------------------------


def requests_by_user(audit_log: Path, start: int, end: int) -> Counter[str]:
    """Completed API requests per username between two byte offsets of the audit log."""
    counts: Counter[str] = Counter()
    with audit_log.open("rb") as log:
        log.seek(start)
        chunk = log.read(end - start)
    for line in chunk.splitlines():
        event = json.loads(line)
        if event.get("stage") == "ResponseComplete":
            counts[event.get("user", {}).get("username", "?")] += 1
    return counts


def _automations(plane: ControlPlane) -> list[dict[str, object]]:
    got = plane.kubectl("get", "imageupdateautomations", "-n", NS, "-o", "json")
    items: list[dict[str, object]] = json.loads(got.stdout)["items"]
    return items


def _pushed(item: dict[str, object]) -> str:
    status = item.get("status")
    return str(status.get("lastPushCommit") or "") if isinstance(status, dict) else ""


def _pushed_by(name: str, plane: ControlPlane) -> str:
    got = plane.kubectl("get", "imageupdateautomation", "-n", NS, name, "-o", "json")
    return _pushed(json.loads(got.stdout))


@dataclass(frozen=True)
class _Figures:
    """One peer's measurements."""

    cpu_share: float
    peak_rss_mb: float
    requests_per_minute: float
    latency_p50: float
    warmup: float
    detail: str


def _measure(
    plane: ControlPlane, processes: list[_Process], scale: Scale, registry_url: str,
    stamps: Path, tags: Iterator[str],
) -> _Figures:  # fmt: skip
    started = time.monotonic()
    every = scale.automations

    def all_pushed() -> bool:
        return sum(bool(_pushed(item)) for item in _automations(plane)) >= every

    with suppress(RuntimeError):  # measured anyway: the note gives the warm-up as the limit
        _wait(all_pushed, scale.warmup_limit, "every automation's first push", step=5)
    warmup = time.monotonic() - started
    time.sleep(scale.settle)
    assert plane.audit_log is not None
    audit_start, cpu_start = plane.audit_log.stat().st_size, [p.cpu_seconds() for p in processes]
    wall_start = time.monotonic()
    time.sleep(scale.window)
    wall = time.monotonic() - wall_start
    cpu = sum(p.cpu_seconds() - before for p, before in zip(processes, cpu_start, strict=True))
    counts = requests_by_user(plane.audit_log, audit_start, plane.audit_log.stat().st_size)
    per_minute = {p.label: counts[p.user] * 60 / wall for p in processes}
    latencies = _latencies(plane, scale, registry_url, stamps, tags)
    rss = {p.label: p.peak_rss_mb() for p in processes}
    detail = ", ".join(
        f"{label} {rss[label]:.0f} MB {per_minute[label]:.0f} req/min" for label in rss
    )
    return _Figures(
        cpu / wall * 100,
        sum(rss.values()),
        sum(per_minute.values()),
        statistics.median(latencies) if latencies else math.nan,
        warmup,
        f"{detail}; latencies {', '.join(f'{value:.2f} s' for value in latencies) or 'none'}",
    )


def _one_delivery(plane: ControlPlane, stamps: Path) -> float:
    """Ask for a scan of app0000 now; seconds until its repository receives the push."""
    before = len(_stamps(stamps))
    asked = time.time()
    plane.kubectl(
        "annotate", "--overwrite", "-n", NS, "imagerepository", "app0000",
        f"reconcile.fluxcd.io/requestedAt={asked}",
    )  # fmt: skip
    _wait(lambda: len(_stamps(stamps)) > before, 180, "the pushed commit", step=0.01)
    when, sha = _stamps(stamps)[before]
    # The next round starts once the run that pushed has recorded it: one delivery at a time.
    _wait(lambda: _pushed_by("app00", plane) == sha, 120, f"the run that pushed {sha}", 0.5)
    return when - asked


def _latencies(
    plane: ControlPlane, scale: Scale, registry_url: str, stamps: Path, tags: Iterator[str]
) -> list[float]:
    """New tag -> pushed commit, each round after the previous push is recorded."""
    latencies = []
    for _ in range(scale.latency_rounds):
        seed(registry_url, "scale/app0000", [next(tags)])
        latencies.append(_one_delivery(plane, stamps))
    return latencies


# -- the run -------------------------------------------------------------------------------

_Start = Callable[[ControlPlane, Path], AbstractContextManager[list[_Process]]]


def _apply(plane: ControlPlane, manifests: str, what: str) -> None:
    """``kubectl apply --server-side`` of one big stream (longer than kubectl()'s 60 s limit)."""
    argv = [str(kubectl_binary()), f"--kubeconfig={plane.admin.kubeconfig}"]
    argv += ["apply", "--server-side", "-f", "-"]
    result = subprocess.run(
        argv, input=manifests, capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"applying {what} failed: {result.stderr.strip()[-2000:]}")


def _peer_run(
    peer: str, start: _Start, scale: Scale, registry_host: str, registry_url: str,
    git_root: Path, git_base: str, crds: Path, tags: Iterator[str],
) -> _Figures:  # fmt: skip
    """One peer on a fresh control plane and fresh git repositories."""
    slug = peer.split(maxsplit=1)[0].lower()
    with tempfile.TemporaryDirectory(prefix=f"tagpilot-bench-cluster-{slug}-") as tmp:
        work = Path(tmp)
        (work / "kube").mkdir()
        repos = git_root / slug
        repos.mkdir()
        stamps = work / "stamps"
        objects = _cluster_yaml(scale, registry_host, git_base, repos, stamps)
        with run_control_plane(binaries(), work / "kube", audit=True) as plane:
            _apply(plane, crds.read_text() if crds.is_file() else _crd_stream(crds), "the CRDs")
            plane.kubectl("wait", "--for=condition=Established", "--timeout=120s", "crd", "--all")
            _apply(plane, objects, "the scenario's objects")
            with start(plane, work) as processes:
                return _measure(plane, processes, scale, registry_url, stamps, tags)


def _crd_stream(directory: Path) -> str:
    return "\n---\n".join(path.read_text() for path in sorted(directory.glob("*.yaml")))


def _rows(scale: Scale, figures: dict[str, _Figures], reasons: dict[str, str]) -> list[Result]:
    notes = [scale.describe()]
    for peer in (FLUX, TAGPILOT):
        found = figures.get(peer)
        if found is None:
            notes.append(f"{peer} not available: {reasons[peer]}")
        else:
            notes.append(f"{peer}: warm-up {found.warmup:.0f} s, {found.detail}")
    note = "; ".join(notes)

    def value(peer: str, field: str) -> float:
        found = figures.get(peer)
        return float(getattr(found, field)) if found else math.nan

    rows = [
        ("cluster: CPU share (steady state)", "cpu_share", "%", "<= Flux"),
        ("cluster: peak RSS", "peak_rss_mb", "MB", "<= Flux"),
        ("cluster: API requests per minute", "requests_per_minute", "/min", "<= Flux"),
        ("cluster: new tag -> pushed commit p50", "latency_p50", "s", "< Flux"),
    ]
    return [
        Result(name, TAGPILOT, value(TAGPILOT, field), FLUX, value(FLUX, field),
               unit=unit, target=target, note=note)
        for name, field, unit, target in rows
    ]  # fmt: skip


def _reasons(target: FluxBinaries) -> dict[str, str]:
    """Why each peer cannot run here ('' for a peer that can)."""
    if binaries().missing():
        shared = f"the control plane is not built (run {BUILD_COMMAND})"
    elif not target.crds():
        shared = f"the upstream CRDs are not gathered (run {FLUX_BUILD_COMMAND})"
    else:
        return {FLUX: _flux_missing(target), TAGPILOT: _tagpilot_missing()}
    return {FLUX: shared, TAGPILOT: shared}


def run(*, scale: Scale | None = None) -> list[Result]:
    """Flux's run, then tagpilot's, on the same scenario; rows as tagpilot / Flux."""
    scale = scale or Scale.from_environment()
    target = flux_binaries()
    reasons = _reasons(target)
    starts: dict[str, _Start] = {
        FLUX: lambda plane, work: _flux(plane, work, target),
        TAGPILOT: _tagpilot,
    }
    runnable = [peer for peer in (FLUX, TAGPILOT) if not reasons[peer]]
    figures: dict[str, _Figures] = {}
    if not runnable:
        return _rows(scale, figures, reasons)
    tags = (f"2.0.{number}" for number in itertools.count(1))
    with (
        tempfile.TemporaryDirectory(prefix="tagpilot-bench-cluster-") as tmp,
        fast_storage() as data,
    ):
        git_root = Path(tmp) / "repos"
        git_root.mkdir()
        with run_registry(data / "registry") as registry, run_git_http(git_root) as git_server:
            _seed_registry(registry.url, data / "registry/data", scale)
            for peer in runnable:
                print(f"bench_cluster: {peer} ...", file=sys.stderr, flush=True)
                try:
                    figures[peer] = _peer_run(
                        peer, starts[peer], scale, registry.host, registry.url, git_root,
                        git_server.base_url, target.crd_dir, tags,
                    )  # fmt: skip
                except Exception as exc:  # one peer failing must not lose the other's figures
                    reasons[peer] = f"failed: {exc}"
    return _rows(scale, figures, reasons)
