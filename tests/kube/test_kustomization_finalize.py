"""The deletion policy against a real API server when the Kustomization names a
``serviceAccountName``: objects are deleted as that account, a failure keeps the finalizer
(an error to retry), and an account that no longer exists leaves the objects with a Warning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.api.kustomization import Kustomization, KustomizationStatus
from tagpilot.core.errors import RetryableError
from tagpilot.reconcile.kustomization_finalize import finalize_kustomization

from .controlplane import ControlPlane
from .kustomization_support import DEPLOYER, Harness, config_map, kustomization, ready

ALL = "get, list, watch, create, update, patch, delete"


async def _applied(
    harness: Harness, namespace: str, extra: str
) -> tuple[Kustomization, KustomizationStatus]:
    harness.publish({"deploy/a.yaml": config_map("a", "1")}, "main@sha1:" + "9" * 40)
    ks = kustomization(namespace, extra)
    outcome = await harness.run(ks)
    assert ready(outcome)[0] == "True", ready(outcome)
    return ks, outcome.status


async def test_objects_are_deleted_as_the_service_account(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=DEPLOYER % {"ns": namespace, "verbs": ALL})
    harness = Harness(kube, namespace, tmp_path)
    ks, status = await _applied(harness, namespace, "  serviceAccountName: deployer\n")
    assert harness.ctx.applier is not None
    events = await finalize_kustomization(ks, status, harness.ctx.applier, harness.ctx.clock)
    assert [e.message for e in events] == [f"ConfigMap/{namespace}/a deleted"]
    gone = control_plane.kubectl("get", "configmap", "a", "-n", namespace, check=False)
    assert gone.returncode != 0


async def test_an_account_that_may_not_delete_keeps_the_finalizer_with_an_error(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    ks, status = await _applied(harness, namespace, "")
    control_plane.kubectl(
        "apply", "-f", "-", stdin=DEPLOYER % {"ns": namespace, "verbs": "get, list"}
    )
    limited = ks.model_copy(
        update={"spec": ks.spec.model_copy(update={"service_account_name": "deployer"})}
    )
    assert harness.ctx.applier is not None
    with pytest.raises(RetryableError) as caught:
        await finalize_kustomization(limited, status, harness.ctx.applier, harness.ctx.clock)
    assert caught.value.reason == "PruneFailed"
    assert f"ConfigMap/{namespace}/a" in caught.value.message
    control_plane.kubectl("get", "configmap", "a", "-n", namespace)  # still there


async def test_a_missing_service_account_leaves_the_objects_and_warns(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=DEPLOYER % {"ns": namespace, "verbs": ALL})
    harness = Harness(kube, namespace, tmp_path)
    ks, status = await _applied(harness, namespace, "  serviceAccountName: deployer\n")
    control_plane.kubectl("delete", "serviceaccount", "deployer", "-n", namespace)
    assert harness.ctx.applier is not None
    events = await finalize_kustomization(ks, status, harness.ctx.applier, harness.ctx.clock)
    assert [(e.type, e.reason) for e in events] == [("Warning", "PruneFailed")]
    assert f"ConfigMap/{namespace}/a" in events[0].message
    control_plane.kubectl("get", "configmap", "a", "-n", namespace)  # left in place
