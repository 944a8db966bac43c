"""``dependsOn`` (the built-in check and ``readyExpr``) and ``kubeConfig``, on the real API
server: nothing is applied while a dependency is not ready, and a Kustomization aimed at
another cluster is refused rather than applied here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.api.kustomization import Kustomization
from tagpilot.api.loader import load_text
from tagpilot.api.meta import NamespacedName
from tagpilot.ports import ObjectKey

from .controlplane import ControlPlane
from .kustomization_support import Harness, config_map, kustomization, ready

REVISION = "main@sha1:" + "1" * 40


def _infra(namespace: str, generation: int = 3) -> Kustomization:
    text = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata: {{name: infra, namespace: {namespace}, generation: {generation}}}\n"
        "spec: {interval: 5m, prune: true, sourceRef: {kind: GitRepository, name: app}}\n"
    )
    obj = load_text(text, file="infra.yaml").objects[0].obj
    assert isinstance(obj, Kustomization)
    return obj


def _infra_status(ready: str, observed: int = 3, applied: str = REVISION) -> dict[str, Any]:
    return {
        "observedGeneration": observed,
        "lastAppliedRevision": applied,
        "conditions": [{"type": "Ready", "status": ready, "reason": "X", "message": "",
                        "lastTransitionTime": "2026-12-03T00:00:00Z"}],
    }  # fmt: skip


def _scene(kube: KubeClient, namespace: str, tmp_path: Path, infra: dict[str, Any] | None) -> Any:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/a.yaml": config_map("a", "1")}, REVISION)
    if infra is not None:
        harness.ctx.kustomizations = {NamespacedName(namespace, "infra"): _infra(namespace)}
        harness.ctx.store.put_status(ObjectKey("Kustomization", namespace, "infra"), infra)
    return harness


def _applied(control_plane: ControlPlane, namespace: str) -> bool:
    found = control_plane.kubectl("get", "configmap", "a", "-n", namespace, check=False)
    return found.returncode == 0


ALWAYS = "dep.metadata.generation == dep.status.observedGeneration"


@pytest.mark.parametrize(
    ("infra", "depends", "outcome"),
    [
        pytest.param(None, "- name: infra", ("False", "DependencyNotReady", "not found"),
                     id="missing-dependency"),
        pytest.param(_infra_status("False"), "- name: infra",
                     ("False", "DependencyNotReady", "is not ready"), id="dependency-not-ready"),
        pytest.param(_infra_status("True", observed=2), "- name: infra",
                     ("False", "DependencyNotReady", "is not ready"),
                     id="dependency-generation-not-observed"),
        pytest.param(_infra_status("True", applied="main@sha1:" + "0" * 40), "- name: infra",
                     ("False", "DependencyNotReady", "is not ready"),
                     id="same-source-older-revision"),
        pytest.param(_infra_status("True"), "- name: infra",
                     ("True", "ReconciliationSucceeded", "Applied revision"),
                     id="dependency-ready"),
        pytest.param(_infra_status("False"), f"- name: infra\n      readyExpr: '{ALWAYS}'",
                     ("True", "ReconciliationSucceeded", "Applied revision"),
                     id="ready-expr-replaces-the-built-in-check"),
        pytest.param(_infra_status("True", observed=2),
                     f"- name: infra\n      readyExpr: '{ALWAYS}'",
                     ("False", "DependencyNotReady", "readyExpr"), id="ready-expr-false"),
        pytest.param(_infra_status("True"), "- name: infra\n      readyExpr: 'dep.('",
                     ("False", "InvalidCELExpression", "spec.dependsOn[0].readyExpr"),
                     id="ready-expr-that-does-not-compile"),
    ],
)  # fmt: skip
async def test_nothing_is_applied_until_every_dependency_is_ready(
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    control_plane: ControlPlane,
    infra: dict[str, Any] | None,
    depends: str,
    outcome: tuple[str, str, str],
) -> None:
    harness = _scene(kube, namespace, tmp_path, infra)

    result = await harness.run(kustomization(namespace, f"  dependsOn:\n    {depends}\n"))

    status, reason, message = ready(result)
    assert (status, reason) == outcome[:2]
    assert outcome[2] in message
    assert _applied(control_plane, namespace) is (status == "True")


async def test_a_kustomization_for_another_cluster_is_refused_and_nothing_applied_here(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = _scene(kube, namespace, tmp_path, None)
    remote = "  kubeConfig: {secretRef: {name: prod-kubeconfig}}\n"

    result = await harness.run(kustomization(namespace, remote))

    status, reason, message = ready(result)
    assert (status, reason) == ("False", "ReconciliationFailed")
    assert "spec.kubeConfig is not supported" in message
    assert any(c.type == "Stalled" for c in result.status.conditions)
    assert not _applied(control_plane, namespace)
