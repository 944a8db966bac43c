"""``postBuild.substituteFrom`` ConfigMaps read from a real API server, beside Secrets and
inline variables, in Flux's precedence; a missing one fails the build unless optional."""

from __future__ import annotations

import json
from pathlib import Path

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.core.secrets import SecretData, SecretIndex

from .controlplane import ControlPlane
from .kustomization_support import Harness, kustomization, ready

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: out}
data:
  env: ${env}
  region: ${region}
  token: ${token}
  tier: ${tier}
"""


def _config_map(plane: ControlPlane, namespace: str, name: str, data: dict[str, str]) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": data}  # fmt: skip
    plane.kubectl("apply", "-f", "-", stdin=json.dumps(body))


async def test_configmaps_secrets_and_inline_variables_combine_in_flux_order(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    _config_map(control_plane, namespace, "defaults", {"env": "dev", "region": "eu", "tier": "a"})
    _config_map(control_plane, namespace, "overrides", {"region": "us"})
    harness = Harness(kube, namespace, tmp_path)
    harness.ctx.secrets = SecretIndex(
        {(namespace, "creds"): SecretData(namespace, "creds", {"token": b"t0k", "env": b"qa"})}
    )
    harness.publish({"deploy/out.yaml": TEMPLATE}, "main@sha1:" + "d" * 40)
    post = """\
  postBuild:
    substitute: {tier: inline}
    substituteFrom:
      - {kind: ConfigMap, name: defaults}
      - {kind: Secret, name: creds}
      - {kind: ConfigMap, name: overrides}
      - {kind: ConfigMap, name: not-there, optional: true}
"""
    outcome = await harness.run(kustomization(namespace, post))
    assert ready(outcome)[0] == "True", ready(outcome)
    data = json.loads(
        control_plane.kubectl(
            "get", "configmap", "out", "-n", namespace, "-o", "jsonpath={.data}"
        ).stdout
    )
    assert data == {"env": "qa", "region": "us", "token": "t0k", "tier": "inline"}


async def test_a_missing_configmap_fails_the_build_and_applies_nothing(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/out.yaml": TEMPLATE}, "main@sha1:" + "e" * 40)
    post = "  postBuild:\n    substituteFrom: [{kind: ConfigMap, name: vars}]\n"
    outcome = await harness.run(kustomization(namespace, post))
    status, reason, message = ready(outcome)
    assert (status, reason) == ("False", "BuildFailed")
    assert f"ConfigMap '{namespace}/vars' not found" in message
    listed = control_plane.kubectl("get", "configmaps", "-n", namespace, "-o", "name").stdout
    assert "configmap/out" not in listed

    _config_map(control_plane, namespace, "vars",
                {"env": "e", "region": "r", "token": "t", "tier": "x"})  # fmt: skip
    retried = await harness.run(kustomization(namespace, post))
    assert ready(retried)[0] == "True", "creating the ConfigMap is enough, as with Flux"
