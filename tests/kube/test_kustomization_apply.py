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
import sys
from pathlib import Path

import pytest
from tests.adapters.kustomize.build_support import Sops, make_key

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.core.secrets import SecretData, SecretIndex

from .controlplane import ControlPlane
from .kustomization_support import Harness, config_map, deployment, kustomization, ready


async def test_a_revision_is_applied_then_reapplied_without_writes_then_pruned(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    keep = "  annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}\n"
    files = {
        "deploy/a.yaml": config_map("a", "1"),
        "deploy/b.yaml": config_map("b", "1"),
        "deploy/kept.yaml": config_map("kept", "1", keep),
    }
    harness.publish(files, "main@sha1:" + "1" * 40)
    ks = kustomization(namespace)
    first = await harness.run(ks)
    assert ready(first) == (
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

    harness.publish({"deploy/a.yaml": config_map("a", "2")}, "main@sha1:" + "2" * 40)
    pruned = await harness.run(ks)
    assert ready(pruned)[0] == "True"
    gone = control_plane.kubectl("get", "configmap", "b", "-n", namespace, check=False)
    assert gone.returncode != 0, "b left the build and was pruned"
    control_plane.kubectl("get", "configmap", "kept", "-n", namespace)  # the opt-out stays
    assert [e.id for e in pruned.status.inventory.entries] == [f"{namespace}_a__ConfigMap"]


async def test_wait_reports_a_failed_rollout_with_flux_reason(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/web.yaml": deployment("web", "web:1")}, "main@sha1:" + "3" * 40)
    ks = kustomization(namespace, "  wait: true\n  timeout: 30s\n")
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
    status, reason, message = ready(outcome)
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
            {"deploy/a.yaml": config_map("a", "${missing}")},
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
    harness.publish({**files, "deploy/ok.yaml": config_map("ok", "1")}, "main@sha1:" + "4" * 40)
    outcome = await harness.run(kustomization(namespace, extra))
    status, got_reason, message = ready(outcome)
    assert (status, got_reason) == ("False", reason), message
    assert says in message
    listed = control_plane.kubectl("get", "configmaps", "-n", namespace, "-o", "name").stdout
    assert "configmap/ok" not in listed, "nothing is applied half-way"


async def test_a_missing_artifact_is_waited_for(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    outcome = await harness.run(kustomization(namespace))
    assert ready(outcome)[:2] == ("False", "ArtifactFailed")
    assert "Source artifact not found" in ready(outcome)[2]


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
    ks = kustomization(namespace, "  decryption: {provider: sops, secretRef: {name: sops-age}}\n")
    outcome = await harness.run(ks)
    assert ready(outcome)[0] == "True", ready(outcome)
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
    ks = kustomization(namespace, "  serviceAccountName: deployer\n")
    harness.publish({"deploy/a.yaml": config_map("a", "1")}, "main@sha1:" + "6" * 40)
    allowed = await harness.run(ks)
    assert ready(allowed)[0] == "True", ready(allowed)
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n"
    harness.publish(
        {"deploy/a.yaml": config_map("a", "1"), "deploy/s.yaml": secret}, "main@sha1:" + "7" * 40
    )
    refused = await harness.run(ks)
    status, reason, message = ready(refused)
    assert (status, reason) == ("False", "ReconciliationFailed")
    assert "system:serviceaccount:" + namespace + ":deployer" in message
    assert "forbidden" in message.lower()
