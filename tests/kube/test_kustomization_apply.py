"""The Kustomization reconciler against a real API server: a source artifact built with
kustomize, applied in stages, re-applied without writes, pruned, waited for, and refused
with Flux's reasons when the input is bad.

The source artifact is a tarball made here (what a GitRepository's artifact is); the
GitRepository's status naming it is put in the state store, as the GitRepository reconciler
leaves it.  There is no kubelet: a Deployment becomes Ready because the test writes its
status through the API, as a cluster's controllers would.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.adapters.kustomize.build_support import Sops, make_key

from tagpilot.adapters.clock import SystemClock
from tagpilot.adapters.cluster.applier import ApiApplier
from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kustomize.builder import KustomizeBuilder
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.kustomization import Kustomization
from tagpilot.api.loader import load_text
from tagpilot.api.meta import NamespacedName
from tagpilot.api.source import GitRepository
from tagpilot.core.secrets import SecretData, SecretIndex
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.kustomization import reconcile_kustomization

from .controlplane import ControlPlane

SOURCE = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app, namespace: %(ns)s}
spec: {interval: 1m, url: https://git.example/app.git, ref: {branch: main}}
"""


def _kustomization(namespace: str, extra: str = "") -> Kustomization:
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


def _artifact(tmp: Path, files: dict[str, str]) -> tuple[str, str]:
    """A gzip tarball of ``files``, as a source artifact: its file:// URL and digest."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    path = tmp / f"artifact-{secrets.token_hex(3)}.tar.gz"
    path.write_bytes(buffer.getvalue())
    return path.as_uri(), "sha256:" + hashlib.sha256(buffer.getvalue()).hexdigest()


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


def _config_map(name: str, value: str, annotations: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{annotations}"
        f"data:\n  value: {value!r}\n"
    )


def _ready(outcome: Any) -> tuple[str, str, str]:
    ready = next(c for c in outcome.status.conditions if c.type == "Ready")
    return ready.status, ready.reason, ready.message


async def test_a_revision_is_applied_then_reapplied_without_writes_then_pruned(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    keep = "  annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}\n"
    files = {
        "deploy/a.yaml": _config_map("a", "1"),
        "deploy/b.yaml": _config_map("b", "1"),
        "deploy/kept.yaml": _config_map("kept", "1", keep),
    }
    harness.publish(files, "main@sha1:" + "1" * 40)
    ks = _kustomization(namespace)
    first = await harness.run(ks)
    assert _ready(first) == (
        "True",
        "ReconciliationSucceeded",
        f"Applied revision: main@sha1:{'1' * 40}",
    )
    assert first.status.last_applied_revision == "main@sha1:" + "1" * 40
    ids = sorted(e.id for e in first.status.inventory.entries)
    assert ids == [f"{namespace}_{n}__ConfigMap" for n in ("a", "b", "kept")]
    assert first.events[0].message == "\n".join(
        f"ConfigMap/{namespace}/{n} created" for n in ("a", "b", "kept")
    )
    labels = control_plane.kubectl(
        "get", "configmap", "a", "-n", namespace, "-o", "jsonpath={.metadata.labels}"
    ).stdout
    assert "kustomize.toolkit.fluxcd.io/name" in labels

    version = control_plane.kubectl(
        "get", "configmap", "a", "-n", namespace, "-o", "jsonpath={.metadata.resourceVersion}"
    ).stdout
    again = await harness.run(ks)
    assert [e.type for e in again.events] == ["Trace"], "nothing changed, nothing announced"
    assert (
        control_plane.kubectl(
            "get", "configmap", "a", "-n", namespace, "-o", "jsonpath={.metadata.resourceVersion}"
        ).stdout
        == version
    )

    harness.publish({"deploy/a.yaml": _config_map("a", "2")}, "main@sha1:" + "2" * 40)
    pruned = await harness.run(ks)
    assert _ready(pruned)[0] == "True"
    gone = control_plane.kubectl("get", "configmap", "b", "-n", namespace, check=False)
    assert gone.returncode != 0, "b left the build and was pruned"
    control_plane.kubectl("get", "configmap", "kept", "-n", namespace)  # the opt-out stays
    assert [e.id for e in pruned.status.inventory.entries] == [f"{namespace}_a__ConfigMap"]


async def test_wait_reports_a_failed_rollout_with_flux_reason(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    deployment = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1}]}
"""
    harness.publish({"deploy/web.yaml": deployment}, "main@sha1:" + "3" * 40)
    ks = _kustomization(namespace, "  wait: true\n  timeout: 30s\n")
    # No kubelet: the rollout's failure is written the way the deployment controller would.
    import asyncio  # noqa: PLC0415

    async def fail_rollout() -> None:
        while (
            control_plane.kubectl("get", "deploy", "web", "-n", namespace, check=False).returncode
            != 0
        ):
            await asyncio.sleep(0.2)
        status = (
            '{"status": {"observedGeneration": 1, "conditions": [{"type": "Progressing", '
            '"status": "False", "reason": "ProgressDeadlineExceeded"}]}}'
        )
        control_plane.kubectl(
            "patch",
            "deploy",
            "web",
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            status,
        )

    outcome, _ = await asyncio.gather(harness.run(ks), fail_rollout())
    status, reason, message = _ready(outcome)
    assert (status, reason) == ("False", "HealthCheckFailed")
    assert f"Deployment/{namespace}/web" in message


@pytest.mark.parametrize(
    ("files", "extra", "reason", "says"),
    [
        pytest.param(
            {"deploy/kustomization.yaml": "resources: [../../outside.yaml]\n"},
            "",
            "BuildFailed",
            "outside",
            id="a-path-escaping-the-source-is-refused",
        ),
        pytest.param(
            {"deploy/kustomization.yaml": "resources:\n- https://example.com/x.yaml\n"},
            "",
            "BuildFailed",
            "remote",
            id="a-remote-base-is-refused",
        ),
        pytest.param(
            {"deploy/a.yaml": _config_map("a", "${missing}")},
            "  postBuild: {substitute: {other: x}}\n",
            "BuildFailed",
            "missing",
            id="an-undefined-variable-is-refused",
        ),
        pytest.param(
            {"deploy/kustomization.yaml": "resources: [nope.yaml]\n"},
            "",
            "BuildFailed",
            "nope.yaml",
            id="a-broken-kustomization-is-refused",
        ),
    ],
)
async def test_bad_input_fails_with_flux_reason_and_applies_nothing(
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    control_plane: ControlPlane,
    files: dict[str, str],
    extra: str,
    reason: str,
    says: str,
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({**files, "deploy/ok.yaml": _config_map("ok", "1")}, "main@sha1:" + "4" * 40)
    outcome = await harness.run(_kustomization(namespace, extra))
    status, got_reason, message = _ready(outcome)
    assert (status, got_reason) == ("False", reason), message
    assert says in message
    listed = control_plane.kubectl("get", "configmaps", "-n", namespace, "-o", "name").stdout
    assert "configmap/ok" not in listed, "nothing is applied half-way"


async def test_a_missing_artifact_is_waited_for(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    outcome = await harness.run(_kustomization(namespace))
    assert _ready(outcome)[:2] == ("False", "ArtifactFailed")
    assert "Source artifact not found" in _ready(outcome)[2]


async def test_sops_secrets_are_decrypted_with_the_decryption_secret(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    key = make_key()
    secret_file = tmp_path / "secret.yaml"
    secret_file.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
        "stringData:\n  password: s3cret-value\n"
    )
    home = tmp_path / "sops-home"
    home.mkdir()
    Sops(Path(sys.executable).parent / "sops", home).encrypt_in_place(secret_file, key.recipient)
    assert "s3cret-value" not in secret_file.read_text()
    harness = Harness(kube, namespace, tmp_path)
    harness.ctx.secrets = SecretIndex(
        {
            (namespace, "sops-age"): SecretData(
                namespace, "sops-age", {"age.agekey": key.identity.encode()}
            )
        }
    )
    harness.publish({"deploy/secret.yaml": secret_file.read_text()}, "main@sha1:" + "5" * 40)
    ks = _kustomization(namespace, "  decryption: {provider: sops, secretRef: {name: sops-age}}\n")
    outcome = await harness.run(ks)
    assert _ready(outcome)[0] == "True", _ready(outcome)
    value = control_plane.kubectl(
        "get", "secret", "db", "-n", namespace, "-o", "jsonpath={.data.password}"
    ).stdout
    assert base64.b64decode(value) == b"s3cret-value"
    assert "s3cret-value" not in repr(outcome.status) + repr(outcome.events)


async def test_service_account_name_applies_with_that_accounts_rights_only(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    rbac = f"""\
apiVersion: v1
kind: ServiceAccount
metadata: {{name: deployer, namespace: {namespace}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: configmaps-only, namespace: {namespace}}}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: deployer, namespace: {namespace}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmaps-only}}
subjects: [{{kind: ServiceAccount, name: deployer, namespace: {namespace}}}]
"""
    control_plane.kubectl("apply", "-f", "-", stdin=rbac)
    harness = Harness(kube, namespace, tmp_path)
    ks = _kustomization(namespace, "  serviceAccountName: deployer\n")
    harness.publish({"deploy/a.yaml": _config_map("a", "1")}, "main@sha1:" + "6" * 40)
    allowed = await harness.run(ks)
    assert _ready(allowed)[0] == "True", _ready(allowed)
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n"
    harness.publish(
        {"deploy/a.yaml": _config_map("a", "1"), "deploy/s.yaml": secret}, "main@sha1:" + "7" * 40
    )
    refused = await harness.run(ks)
    status, reason, message = _ready(refused)
    assert (status, reason) == ("False", "ReconciliationFailed")
    assert "system:serviceaccount:" + namespace + ":deployer" in message
    assert "forbidden" in message.lower()
