"""What the Kustomization tests against a real API server share: a reconcile context with
one GitRepository source whose artifact is a tarball made here, and small readers.

The GitRepository's status naming the artifact is put in the state store, as the
GitRepository reconciler leaves it.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tagpilot.adapters.clock import SystemClock
from tagpilot.adapters.cluster.applier import ApiApplier
from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kustomize.builder import KustomizeBuilder
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.kustomization import Kustomization
from tagpilot.api.loader import load_text
from tagpilot.api.meta import NamespacedName
from tagpilot.api.source import GitRepository
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.kustomization import reconcile_kustomization

__all__ = [
    "DEPLOYER",
    "Harness",
    "config_map",
    "deployment",
    "digest_of",
    "kustomization",
    "ready",
    "tarball",
]

SOURCE = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app, namespace: %(ns)s}
spec: {interval: 1m, url: https://git.example/app.git, ref: {branch: main}}
"""


def kustomization(namespace: str, extra: str = "") -> Kustomization:
    text = f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: app, namespace: {namespace}}}
spec:
  interval: 5m
  path: ./deploy
  prune: true
  targetNamespace: {namespace}
  sourceRef: {{kind: GitRepository, name: app}}
{extra}"""
    obj = load_text(text, file="ks.yaml").objects[0].obj
    assert isinstance(obj, Kustomization)
    return obj


def tarball(files: dict[str, str]) -> bytes:
    """A gzip tarball of ``files`` (path to text), as source-controller packs an artifact."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def digest_of(data: bytes) -> str:
    """An artifact's ``sha256:`` digest."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _artifact(tmp: Path, files: dict[str, str]) -> tuple[str, str]:
    """A tarball of ``files`` as a source artifact: its file:// URL and digest."""
    data = tarball(files)
    path = tmp / f"artifact-{secrets.token_hex(3)}.tar.gz"
    path.write_bytes(data)
    return path.as_uri(), digest_of(data)


class Harness:
    """A reconcile context on the real API server with one GitRepository source."""

    def __init__(self, kube: KubeClient, namespace: str, tmp: Path) -> None:
        self.namespace, self.tmp = namespace, tmp
        source = load_text(SOURCE % {"ns": namespace}, file="source.yaml").objects[0].obj
        assert isinstance(source, GitRepository)
        self.ctx = ReconcileContext(
            clock=SystemClock(),
            store=SqliteStore(":memory:"),
            registry=None,  # type: ignore[arg-type]
            git_repositories={NamespacedName(namespace, "app"): source},
            applier=ApiApplier(kube),
            builder=KustomizeBuilder(),
        )

    def publish(self, files: dict[str, str], revision: str) -> None:
        url, digest = _artifact(self.tmp, files)
        artifact = {
            "url": url,
            "digest": digest,
            "revision": revision,
            "path": "x",
            "lastUpdateTime": datetime.now(UTC).isoformat(),
        }
        self.ctx.store.put_status(
            ObjectKey("GitRepository", self.namespace, "app"), {"artifact": artifact}
        )

    async def run(self, ks: Kustomization) -> Any:
        outcome = await reconcile_kustomization(ks, self.ctx, generation=1)
        self.ctx.store.put_status(
            ObjectKey("Kustomization", ks.namespace, ks.name), outcome.document
        )
        return outcome


DEPLOYER = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: %(ns)s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: %(ns)s}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [%(verbs)s]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: %(ns)s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects: [{kind: ServiceAccount, name: deployer, namespace: %(ns)s}]
"""
"""ServiceAccount ``deployer`` allowed ``verbs`` on the namespace's ConfigMaps only (a
Kustomization's ``serviceAccountName``)."""


def deployment(name: str, image: str) -> str:
    """A Deployment of one container, ``name`` running ``image``."""
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: {name}, image: "{image}"}}]}}
"""


def config_map(name: str, value: str, annotations: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{annotations}"
        f"data:\n  value: {value!r}\n"
    )


def ready(outcome: Any) -> tuple[str, str, str]:
    ready = next(c for c in outcome.status.conditions if c.type == "Ready")
    return ready.status, ready.reason, ready.message
