"""``tagpilot controller --controllers kustomize`` beside Flux's source-controller.

Another controller owns the GitRepository: here the test plays it, writing the object's
status through the status subresource as source-controller does (an artifact URL served by
a local HTTP server, its ``sha256:`` digest, its revision).  The controller only reads that
status: it applies the artifact's manifests, applies the next revision as soon as the
status names it (the Kustomization's interval is an hour), and reports a tarball that does
not match its digest with Flux's reason.  There is no kubelet: ``wait`` is off and the test
looks at what was applied.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .build import ControlPlaneBinaries
from .controller_support import apply, controller, install_crds, kubectl_json, wait_for
from .controlplane import ControlPlane, run_control_plane
from .install_support import export
from .kustomization_support import deployment, digest_of, tarball

SOURCE = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app, namespace: %(ns)s}
spec: {interval: 1m, url: https://git.example/app.git, ref: {branch: main}}
"""
KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app, namespace: %(ns)s}
spec:
  interval: 1h
  path: ./deploy
  prune: true
  wait: false
  targetNamespace: %(ns)s
  sourceRef: {kind: GitRepository, name: app}
"""


class ArtifactServer:
    """Serves tarballs over HTTP, as source-controller serves its artifacts."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def publish(self, name: str, files: dict[str, str]) -> tuple[str, str]:
        """A gzip tarball of ``files`` at ``/name``: its URL and ``sha256:`` digest."""
        data = tarball(files)
        self.files[f"/{name}"] = data
        host, port = self.http.server_address[:2]
        return f"http://{host!s}:{port}/{name}", digest_of(data)


@pytest.fixture
def artifacts() -> Iterator[ArtifactServer]:
    server = ArtifactServer()
    yield server
    server.http.shutdown()
    server.http.server_close()


def _source_controller_writes(
    plane: ControlPlane, namespace: str, url: str, digest: str, revision: str
) -> None:
    """What source-controller does after a fetch: the artifact in the status subresource."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {
        "observedGeneration": 1,
        "artifact": {
            "url": url, "digest": digest, "revision": revision, "path": "gitrepository/x.tar.gz",
            "lastUpdateTime": now,
        },
        "conditions": [{
            "type": "Ready", "status": "True", "reason": "Succeeded", "lastTransitionTime": now,
            "message": f"stored artifact for revision '{revision}'", "observedGeneration": 1,
        }],
    }  # fmt: skip
    plane.kubectl(
        "patch", "gitrepository", "app", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": status}),
    )  # fmt: skip


def _ready(plane: ControlPlane, namespace: str) -> tuple[str, str, str, str] | None:
    status = kubectl_json(plane, "kustomization", "app", "-n", namespace).get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), None)
    if ready is None:
        return None
    applied = str(status.get("lastAppliedRevision", ""))
    return ready["status"], ready["reason"], ready["message"], applied


def _image(plane: ControlPlane, namespace: str) -> str | None:
    found = plane.kubectl(
        "get", "deploy", "web", "-n", namespace,
        "-o", "jsonpath={.spec.template.spec.containers[0].image}", check=False,
    )  # fmt: skip
    return found.stdout if found.returncode == 0 else None


_DEPLOY_CRDS = (
    "gitrepositories.source.toolkit.fluxcd.io",
    "kustomizations.kustomize.toolkit.fluxcd.io",
)


def _deploy_crds_only(plane: ControlPlane) -> None:
    """The CRDs of a default Flux install: sources and Kustomizations, no image API."""
    documents = export("--source-crds", "--controllers=kustomize").split("\n---\n")
    crds = [d for d in documents if any(f"name: {name}\n" in d for name in _DEPLOY_CRDS)]
    assert len(crds) == len(_DEPLOY_CRDS)
    plane.kubectl("apply", "--server-side", "-f", "-", stdin="\n---\n".join(crds))
    plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")


@pytest.fixture(params=["image API served", "no image API"])
def cluster(
    request: pytest.FixtureRequest, kube_binaries: ControlPlaneBinaries,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ControlPlane, str]]:  # fmt: skip
    """A cluster with tagpilot's CRDs (the session's), or a fresh one without the image API
    (Flux's default install), and a namespace in it."""
    if request.param == "image API served":
        plane = request.getfixturevalue("control_plane")
        install_crds(plane)
        yield plane, request.getfixturevalue("namespace")
        return
    with run_control_plane(kube_binaries, tmp_path_factory.mktemp("flux-default")) as plane:
        _deploy_crds_only(plane)
        plane.kubectl("create", "namespace", "apps")
        yield plane, "apps"


def test_the_kustomize_controller_alone_applies_the_artifacts_another_controller_publishes(
    cluster: tuple[ControlPlane, str], artifacts: ArtifactServer, tmp_path: Path
) -> None:
    control_plane, namespace = cluster
    first = "main@sha1:" + "1" * 40
    url, digest = artifacts.publish("one.tar.gz", {"deploy/web.yaml": deployment("web", "web:1")})
    apply(control_plane, SOURCE % {"ns": namespace})
    _source_controller_writes(control_plane, namespace, url, digest, first)
    apply(control_plane, KUSTOMIZATION % {"ns": namespace})

    args = ["--controllers=kustomize"]
    with controller(
        control_plane.admin.kubeconfig, tmp_path / "ctl", namespace=namespace, args=args
    ):
        wait_for("the first revision applied", lambda: _image(control_plane, namespace) == "web:1")
        assert wait_for("the Kustomization Ready", lambda: _ready(control_plane, namespace)) == (
            "True",
            "ReconciliationSucceeded",
            f"Applied revision: {first}",
            first,
        )

        second = "main@sha1:" + "2" * 40
        url, digest = artifacts.publish(
            "two.tar.gz", {"deploy/web.yaml": deployment("web", "web:2")}
        )
        _source_controller_writes(control_plane, namespace, url, digest, second)
        wait_for(
            "the new revision applied at once (the interval is an hour)",
            lambda: _image(control_plane, namespace) == "web:2",
        )
        assert wait_for(
            "the Kustomization at the new revision",
            lambda: (found := _ready(control_plane, namespace)) and found[3] == second and found,
        ) == ("True", "ReconciliationSucceeded", f"Applied revision: {second}", second)

        third = "main@sha1:" + "3" * 40
        url, _ = artifacts.publish("three.tar.gz", {"deploy/web.yaml": deployment("web", "web:3")})
        _source_controller_writes(control_plane, namespace, url, "sha256:" + "0" * 64, third)
        status, reason, message, applied = wait_for(
            "the digest mismatch reported",
            lambda: (found := _ready(control_plane, namespace)) and found[0] == "False" and found,
        )
        assert (reason, applied) == ("ArtifactFailed", second)
        assert "digest" in message
        assert _image(control_plane, namespace) == "web:2", "a mismatching tarball is not applied"

    status = kubectl_json(control_plane, "gitrepository", "app", "-n", namespace)["status"]
    assert [c["message"] for c in status["conditions"]] == [
        f"stored artifact for revision '{third}'"
    ], "the GitRepository's status is its own controller's alone"
