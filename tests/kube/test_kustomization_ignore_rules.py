"""``spec.ignore`` on the real API server: fields another writer owns are neither drift nor
reverted, everything else still is, and the rules are checked before anything is applied.

The "autoscaler" is ``kubectl scale`` (an Update of the scale subresource) and a second
server-side applier with its own field manager, as an HPA or a webhook writes them.
"""

from __future__ import annotations

from pathlib import Path

from tagpilot.adapters.kube.client import KubeClient

from .controlplane import ControlPlane
from .kustomization_support import Harness, deployment, kustomization, ready

REPLICAS = "  ignore:\n    - paths: [/spec/replicas]\n      target: {kind: Deployment}\n"
WEB = deployment("web", "registry.example/web:1").replace("spec:\n", "spec:\n  replicas: 2\n", 1)


def _get(control_plane: ControlPlane, namespace: str, path: str) -> str:
    return control_plane.kubectl(
        "get", "deployment", "web", "-n", namespace, "-o", f"jsonpath={path}"
    ).stdout


def _actions(outcome: object) -> str:
    return " ".join(e.message for e in outcome.events if e.type == "Normal")  # type: ignore[attr-defined]


async def test_replicas_another_writer_set_stay_while_other_drift_is_corrected(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/web.yaml": WEB}, "main@sha1:" + "1" * 40)
    ignoring = kustomization(namespace, REPLICAS)
    assert ready(await harness.run(ignoring))[0] == "True"
    assert _get(control_plane, namespace, "{.spec.replicas}") == "2"

    control_plane.kubectl("scale", "deployment", "web", "-n", namespace, "--replicas=5")
    version = _get(control_plane, namespace, "{.metadata.resourceVersion}")
    unchanged = await harness.run(ignoring)
    assert _get(control_plane, namespace, "{.spec.replicas}") == "5"
    assert _get(control_plane, namespace, "{.metadata.resourceVersion}") == version, (
        "an ignored difference is no drift: nothing is written"
    )
    assert "configured" not in _actions(unchanged)

    control_plane.kubectl(
        "set", "image", "deployment/web", "web=registry.example/web:tampered", "-n", namespace
    )
    corrected = await harness.run(ignoring)
    assert f"Deployment/{namespace}/web configured" in _actions(corrected)
    assert _get(control_plane, namespace, "{.spec.template.spec.containers[0].image}") == (
        "registry.example/web:1"
    )
    assert _get(control_plane, namespace, "{.spec.replicas}") == "5", "kept at its live value"

    await harness.run(kustomization(namespace))
    assert _get(control_plane, namespace, "{.spec.replicas}") == "2", "without the rule: reverted"


async def test_a_field_another_server_side_applier_owns_is_left_to_it(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/web.yaml": WEB}, "main@sha1:" + "1" * 40)
    ignoring = kustomization(namespace, REPLICAS)
    await harness.run(ignoring)
    scaled = (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata: {{name: web, namespace: {namespace}}}\nspec: {{replicas: 7}}\n"
    )
    control_plane.kubectl(
        "apply", "--server-side", "--force-conflicts", "--field-manager=autoscaler", "-f", "-",
        stdin=scaled,
    )  # fmt: skip
    tampered = WEB.replace("web:1", "web:2")
    harness.publish({"deploy/web.yaml": tampered}, "main@sha1:" + "2" * 40)

    applied = await harness.run(ignoring)

    assert ready(applied)[0] == "True"
    assert _get(control_plane, namespace, "{.spec.replicas}") == "7"
    owners = _get(control_plane, namespace, "{.metadata.managedFields[*].manager}")
    assert "autoscaler" in owners.split()
    assert _get(control_plane, namespace, "{.spec.template.spec.containers[0].image}") == (
        "registry.example/web:2"
    )


async def test_a_rule_that_cannot_work_stalls_before_anything_is_applied(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/web.yaml": WEB}, "main@sha1:" + "1" * 40)
    bad = "  ignore:\n    - paths: [/spec/replicas]\n      target: {kind: '(Deploy'}\n"

    outcome = await harness.run(kustomization(namespace, bad))

    status, reason, message = ready(outcome)
    assert (status, reason) == ("False", "InvalidInput")
    assert "spec.ignore[0].target.kind" in message
    assert any(c.type == "Stalled" for c in outcome.status.conditions)
    listed = control_plane.kubectl("get", "deployments", "-n", namespace, "-o", "name").stdout
    assert listed.strip() == ""
