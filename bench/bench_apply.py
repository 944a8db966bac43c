"""Applying a Kustomization of 500 objects on a real control plane: first apply, then again.

Scenario: 500 objects in 5 namespaces, per namespace 25 each of ConfigMap, Service, Deployment
and ServiceAccount, behind a kustomization.yaml, in a fresh control plane (etcd + kube-apiserver
with its audit log on) per peer, with a GitRepository naming them and a Kustomization of it
(``prune: true``, ``wait: false``, interval one hour). Measured: the wall time from creating the
Kustomization to its Ready condition naming the applied revision (first apply: every object
created), then from setting ``reconcile.fluxcd.io/requestedAt`` to
``status.lastHandledReconcileAt`` answering it (re-apply, nothing changed); and the API requests
of the peer's identity in each window (audit events at stage ResponseComplete). The peers:

* tagpilot: ``tagpilot controller --controllers kustomize`` (build with kustomize, the live
  objects listed per kind and namespace, a dry run per existing object deciding what to write,
  inventory, status);
* Flux: kustomize-controller built from its Go module by ``tests.kube.flux_build`` (the build
  is attempted on every run; where the module proxy refuses a dependency, the rows say so);

both beside a GitRepository whose status is written through the API as source-controller
leaves it, naming a gzip tarball of the files served over HTTP;
* the baseline, timed in the same run: ``kubectl apply --server-side -f`` of the same objects
  as rendered by ``kubectl kustomize`` (no inventory, no status), twice, on its own fresh
  control plane.

``BENCH_APPLY_OBJECTS`` changes the count (a multiple of 20).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.bench_cluster import ROOT, _started, requests_by_user
from bench.common import Result
from tagpilot.adapters.kube._tls import ssl_context
from tagpilot.adapters.kube.config import load_kubeconfig

sys.path.insert(0, str(ROOT / "tests"))  # bench_cluster did it too; said here for the reader

from tests.kube.build import BUILD_COMMAND, binaries
from tests.kube.controlplane import ControlPlane, kubectl_binary, run_control_plane
from tests.kube.flux_build import (
    KUSTOMIZE,
    FluxBinaries,
    ensure_kustomize_built,
    kustomize_binaries,
)

from servers.git import free_port
from servers.httpserver import QuietHandler, serve

__all__ = ["manifests", "run"]

NS = "flux-system"
NAMESPACES = 5
KINDS = ("ConfigMap", "Service", "Deployment", "ServiceAccount")
REVISION = "main@sha1:" + "b" * 40
TAGPILOT, FLUX, KUBECTL = "tagpilot controller", "Flux kustomize-controller", "kubectl apply"
_WAIT_LIMIT = 300.0


def _object(kind: str, namespace: str, name: str) -> str:
    head = f"kind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
    if kind == "ConfigMap":
        return f"apiVersion: v1\n{head}data:\n  value: {name}\n"
    if kind == "ServiceAccount":
        return f"apiVersion: v1\n{head}"
    if kind == "Service":
        return (
            f"apiVersion: v1\n{head}spec:\n  selector: {{app: {name}}}\n  ports: [{{port: 80}}]\n"
        )
    return (
        f"apiVersion: apps/v1\n{head}spec:\n  replicas: 1\n  selector:\n"
        f"    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n"
        f"      labels: {{app: {name}}}\n    spec:\n      containers:\n"
        f"        - {{name: app, image: 'registry.example/{name}:1.0.0'}}\n"
    )


def manifests(count: int) -> dict[str, str]:
    """The source's files: one per namespace with ``count / 5`` objects, and the
    kustomization.yaml listing them."""
    per_kind = count // (NAMESPACES * len(KINDS))
    files = {}
    for index in range(NAMESPACES):
        namespace = f"apply-{index}"
        documents = [
            _object(kind, namespace, f"{kind.lower()}-{number:03d}")
            for kind in KINDS
            for number in range(per_kind)
        ]
        files[f"{namespace}.yaml"] = "---\n".join(documents)
    files["kustomization.yaml"] = f"resources: {json.dumps(sorted(files))}\n"
    return files


def _tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _artifact_handler(data: bytes) -> type[QuietHandler]:
    """Serves the artifact tarball at any path (as source-controller serves one)."""

    class Artifact(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.reply(200, data, [("Content-Type", "application/gzip")])

    return Artifact


# -- the control plane ---------------------------------------------------------------------


def _kubectl(plane: ControlPlane, *args: str, stdin: str | None = None) -> str:
    """Admin ``kubectl`` without kubectl()'s 60 s limit; the error names what failed."""
    argv = [str(kubectl_binary()), f"--kubeconfig={plane.admin.kubeconfig}", *args]
    result = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args[:2])} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


def _crds() -> str:
    """The Kustomization and GitRepository CRDs (tagpilot's export; Flux's are compatible)."""
    exported = subprocess.run(
        [sys.executable, "-m", "tagpilot", "install", "--export", "--source-crds",
         "--controllers=source,kustomize"],
        capture_output=True, text=True, check=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    ).stdout  # fmt: skip
    documents = exported.split("\n---\n")
    return "\n---\n".join(d for d in documents if "kind: CustomResourceDefinition" in d)


def _namespaces(plane: ControlPlane, names: list[str]) -> None:
    text = "".join(
        f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {n}}}\n" for n in names
    )
    _kubectl(plane, "apply", "-f", "-", stdin=text)


def _written_source(plane: ControlPlane, url: str, digest: str) -> str:
    """The GitRepository, and the status source-controller would give it; its revision."""
    _kubectl(plane, "apply", "-f", "-", stdin=(
        f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
        f"metadata: {{name: bench, namespace: {NS}}}\n"
        f"spec: {{interval: 1h, url: 'http://127.0.0.1/bench.git', ref: {{branch: main}}}}\n"
    ))  # fmt: skip
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {
        "observedGeneration": 1,
        "artifact": {"path": "bench.tar.gz", "url": url, "revision": REVISION, "digest": digest,
                     "lastUpdateTime": now},
        "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
                        "message": f"stored artifact for revision '{REVISION}'",
                        "lastTransitionTime": now, "observedGeneration": 1}],
    }  # fmt: skip
    _kubectl(
        plane, "patch", "gitrepository", "bench", "-n", NS, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": status}),
    )  # fmt: skip
    return REVISION


KUSTOMIZATION = f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: bench, namespace: {NS}}}
spec:
  interval: 1h
  path: ./
  prune: true
  wait: false
  timeout: 10m
  sourceRef: {{kind: GitRepository, name: bench}}
"""


_KS_PATH = f"/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/{NS}/kustomizations/bench"


def _status(api: httpx.Client) -> dict[str, Any]:
    """The Kustomization's status (one GET as admin: no kubectl process per poll)."""
    response = api.get(_KS_PATH)
    response.raise_for_status()
    return dict(response.json().get("status") or {})


def _ready(status: dict[str, Any]) -> bool:
    ready = [c for c in status.get("conditions") or () if c.get("type") == "Ready"]
    return bool(ready) and ready[0].get("status") == "True"


def _wait_status(api: httpx.Client, done: Callable[[dict[str, Any]], bool], what: str) -> None:
    deadline = time.monotonic() + _WAIT_LIMIT
    while not done(status := _status(api)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}: {json.dumps(status)[-600:]}")
        time.sleep(0.05)


@dataclass(frozen=True)
class _Figures:
    """One peer's measurements: seconds and API requests, first apply and re-apply."""

    first: float
    again: float
    first_requests: float
    again_requests: float


def _window(plane: ControlPlane, user: str, action: Callable[[], None]) -> tuple[float, float]:
    """Seconds ``action`` takes and the requests ``user`` made meanwhile."""
    assert plane.audit_log is not None
    offset = plane.audit_log.stat().st_size
    started = time.monotonic()
    action()
    took = time.monotonic() - started
    time.sleep(1.0)  # the audit backend writes a moment after the response
    counts = requests_by_user(plane.audit_log, offset, plane.audit_log.stat().st_size)
    return took, float(counts[user])


_Start = Callable[[ControlPlane, Path], AbstractContextManager[str]]


_Prepare = Callable[[ControlPlane, httpx.Client], str]
"""Puts the GitRepository in place once the controller runs; returns the revision to apply."""


def _controller_run(start: _Start, crds: str, prepare: _Prepare) -> _Figures:
    """One controller on a fresh control plane: the Kustomization created, then requested."""
    with tempfile.TemporaryDirectory(prefix="tagpilot-bench-apply-") as tmp:
        work = Path(tmp)
        (work / "kube").mkdir()
        with run_control_plane(binaries(), work / "kube", audit=True) as plane:
            _kubectl(plane, "apply", "--server-side", "-f", "-", stdin=crds)
            _kubectl(plane, "wait", "--for=condition=Established", "--timeout=120s", "crd", "--all")
            _namespaces(plane, [NS, *(f"apply-{i}" for i in range(NAMESPACES))])
            config = load_kubeconfig(plane.admin.kubeconfig)
            api = httpx.Client(base_url=config.server, verify=ssl_context(config), trust_env=False)
            with api, start(plane, work) as user:
                revision = prepare(plane, api)

                def first() -> None:
                    _kubectl(plane, "apply", "-f", "-", stdin=KUSTOMIZATION)
                    _wait_status(api, lambda s: s.get("lastAppliedRevision") == revision
                                 and _ready(s), "the first apply")  # fmt: skip

                def again() -> None:
                    token = datetime.now(UTC).isoformat()
                    _kubectl(plane, "annotate", "--overwrite", "kustomization", "bench", "-n", NS,
                             f"reconcile.fluxcd.io/requestedAt={token}")  # fmt: skip
                    _wait_status(api, lambda s: s.get("lastHandledReconcileAt") == token
                                 and _ready(s), "the re-apply")  # fmt: skip

                first_took, first_requests = _window(plane, user, first)
                time.sleep(2.0)  # what the first apply set off settles before the next window
                again_took, again_requests = _window(plane, user, again)
    return _Figures(first_took, again_took, first_requests, again_requests)


@contextmanager
def _tagpilot(plane: ControlPlane, work: Path) -> Iterator[str]:
    identity = plane.identity("tagpilot-controller", ("system:masters",))
    address = f"127.0.0.1:{free_port()}"
    argv = [
        sys.executable, "-m", "tagpilot", "controller", "--kubeconfig", str(identity.kubeconfig),
        "--controllers=kustomize", "--watch-all-namespaces",
        "--state-dir", str(work / "state"), "--http-address", address,
    ]  # fmt: skip
    ready = f"http://{address}/readyz"
    with _started(TAGPILOT, identity, argv, ready, work / "tagpilot.log"):
        yield identity.user


@contextmanager
def _flux(plane: ControlPlane, work: Path, target: FluxBinaries) -> Iterator[str]:
    identity = plane.identity("flux-kustomize-controller", ("system:masters",))
    health = f"127.0.0.1:{free_port()}"
    argv = [
        str(target.executable(KUSTOMIZE)), f"--metrics-addr=127.0.0.1:{free_port()}",
        f"--health-addr={health}", "--enable-leader-election=false", "--log-encoding=json",
    ]  # fmt: skip
    with _started(FLUX, identity, argv, f"http://{health}/readyz", work / "flux.log"):
        yield identity.user


def _kubectl_run(rendered: str) -> _Figures:
    """``kubectl apply --server-side`` of the rendered objects, twice, on a fresh plane."""
    with tempfile.TemporaryDirectory(prefix="tagpilot-bench-apply-kubectl-") as tmp:
        work = Path(tmp)
        (work / "kube").mkdir()
        manifest = work / "rendered.yaml"
        manifest.write_text(rendered)
        with run_control_plane(binaries(), work / "kube", audit=True) as plane:
            _namespaces(plane, [f"apply-{i}" for i in range(NAMESPACES)])
            identity = plane.identity("kubectl-bench", ("system:masters",))
            argv = [
                str(kubectl_binary()), f"--kubeconfig={identity.kubeconfig}", "apply",
                "--server-side", "--field-manager=kubectl-bench", "-f", str(manifest),
            ]  # fmt: skip

            def apply() -> None:
                subprocess.run(argv, capture_output=True, check=True, timeout=900)

            first_took, first_requests = _window(plane, identity.user, apply)
            again_took, again_requests = _window(plane, identity.user, apply)
    return _Figures(first_took, again_took, first_requests, again_requests)


def _rows(count: int, figures: dict[str, _Figures], reasons: dict[str, str]) -> list[Result]:
    notes = [f"{count} objects (ConfigMap, Service, Deployment, ServiceAccount in {NAMESPACES} "
             "namespaces), prune on, wait off, fresh control plane per peer"]  # fmt: skip
    for peer in (TAGPILOT, FLUX, KUBECTL):
        found = figures.get(peer)
        if found is None:
            notes.append(f"{peer} not available: {reasons.get(peer) or 'not run'}")
        else:
            notes.append(
                f"{peer}: {found.first:.2f} s / {found.first_requests:.0f} requests first, "
                f"{found.again:.2f} s / {found.again_requests:.0f} requests again"
            )
    note = "; ".join(notes)

    def value(peer: str, field: str) -> float:
        found = figures.get(peer)
        return float(getattr(found, field)) if found else math.nan

    rows = [
        (f"apply {count} objects: first apply", "first", "s"),
        (f"apply {count} objects: no-change re-apply", "again", "s"),
        (f"apply {count} objects: API requests, first", "first_requests", "rq"),
        (f"apply {count} objects: API requests, again", "again_requests", "rq"),
    ]
    results = []
    for baseline, target in ((KUBECTL, "info"), (FLUX, "<= Flux")):
        for name, field, unit in rows:
            results.append(Result(
                name, TAGPILOT, value(TAGPILOT, field), baseline, value(baseline, field),
                unit=unit, target=target, note=note,
            ))  # fmt: skip
    return results


def run() -> list[Result]:
    """tagpilot's controller, Flux's (when it builds) and kubectl, on the same objects."""
    count = int(os.environ.get("BENCH_APPLY_OBJECTS", "500"))
    if binaries().missing():
        why = f"the control plane is not built (run {BUILD_COMMAND})"
        return _rows(count, {}, {TAGPILOT: why, FLUX: why, KUBECTL: why})
    target = kustomize_binaries()
    reasons = {FLUX: ensure_kustomize_built(target)}
    files = manifests(count)
    figures: dict[str, _Figures] = {}
    with tempfile.TemporaryDirectory(prefix="tagpilot-bench-apply-src-") as tmp:
        served = Path(tmp)
        data = _tarball(files)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        source = served / "source"
        source.mkdir()
        for name, text in files.items():
            (source / name).write_text(text)
        rendered = subprocess.run(
            [str(kubectl_binary()), "kustomize", str(source)],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip
        crds = _crds()
        starts: dict[str, _Start] = {
            TAGPILOT: _tagpilot,
            FLUX: lambda plane, work: _flux(plane, work, target),
        }
        with serve(_artifact_handler(data)) as base:

            def prepare(plane: ControlPlane, api: httpx.Client) -> str:
                return _written_source(plane, f"{base}/bench.tar.gz", digest)

            for peer in (TAGPILOT, FLUX, KUBECTL):
                if reasons.get(peer):
                    continue
                print(f"bench_apply: {peer} ...", file=sys.stderr, flush=True)
                try:
                    if peer == KUBECTL:
                        figures[peer] = _kubectl_run(rendered)
                    else:
                        figures[peer] = _controller_run(starts[peer], crds, prepare)
                except Exception as exc:  # one peer failing must not lose the others' figures
                    reasons[peer] = f"failed: {exc}"
    return _rows(count, figures, reasons)
