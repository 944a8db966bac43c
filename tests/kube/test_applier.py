"""Server-side apply per object, on a real API server: created, configured, unchanged
without a write, cluster-scoped kinds, kinds whose CRD arrives later, deletes, and the
immutable-field errors Flux recreates objects for."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tagpilot.adapters.cluster.applier import ApiApplier, UnknownKindError, is_immutable
from tagpilot.adapters.kube.client import KubeClient
from tagpilot.core.errors import StalledError, TagpilotError

from .controlplane import ControlPlane


def _config_map(namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": namespace, "labels": {"app": "web"}},
            "data": data}  # fmt: skip


def _deployment(namespace: str, *, app: str = "web", image: str = "web:1") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}},
                         "spec": {"containers": [{"name": "web", "image": image}]}},
        },
    }  # fmt: skip


async def test_an_object_is_created_then_unchanged_without_a_write_then_configured(
    kube: KubeClient, namespace: str
) -> None:
    applier = ApiApplier(kube)
    created = await applier.apply(_config_map(namespace, {"a": "1"}))
    assert created.action == "created"
    version = created.live["metadata"]["resourceVersion"]
    again = await applier.apply(_config_map(namespace, {"a": "1"}))
    assert again.action == "unchanged"
    live = await applier.get(_config_map(namespace, {}))
    assert live is not None and live["metadata"]["resourceVersion"] == version, "no write"
    changed = await applier.apply(_config_map(namespace, {"a": "2"}))
    assert changed.action == "configured" and changed.live["data"] == {"a": "2"}
    managers = {m["manager"] for m in changed.live["metadata"]["managedFields"]}
    assert managers == {"kustomize-controller"}


async def test_a_field_changed_by_hand_is_put_back_and_drift_is_detected(
    kube: KubeClient, namespace: str, control_plane: ControlPlane
) -> None:
    applier = ApiApplier(kube)
    await applier.apply(_deployment(namespace))
    control_plane.kubectl("-n", namespace, "set", "image", "deployment/web", "web=web:hacked")
    restored = await applier.apply(_deployment(namespace))
    assert restored.action == "configured"
    containers = restored.live["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == "web:1"


async def test_cluster_scoped_objects_and_kinds_whose_crd_arrives_later(
    kube: KubeClient, control_plane: ControlPlane
) -> None:
    applier = ApiApplier(kube)
    name = f"applied-{secrets.token_hex(3)}"
    created = await applier.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    assert created.action == "created"
    plural = f"widgets{secrets.token_hex(2)}"
    group = "example.tagpilot.test"
    widget = {"apiVersion": f"{group}/v1", "kind": plural.capitalize(),
              "metadata": {"name": "w", "namespace": name}, "spec": {"size": 3}}  # fmt: skip
    with pytest.raises(UnknownKindError, match="is its CRD installed"):
        await applier.apply(widget)
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": plural, "singular": plural[:-1], "kind": plural.capitalize()},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                     "openAPIV3Schema": {"type": "object",
                                         "x-kubernetes-preserve-unknown-fields": True}}}]},
    }  # fmt: skip
    await applier.apply(crd)
    control_plane.kubectl("wait", "--for=condition=Established", f"crd/{plural}.{group}")
    assert (await applier.apply(widget)).action == "created"


async def test_delete_reports_whether_the_object_was_there(
    kube: KubeClient, namespace: str
) -> None:
    applier = ApiApplier(kube)
    await applier.apply(_config_map(namespace, {"a": "1"}))
    assert await applier.delete(_config_map(namespace, {})) is True
    assert await applier.delete(_config_map(namespace, {})) is False
    assert await applier.get(_config_map(namespace, {})) is None


async def test_an_immutable_field_is_recognised_for_recreation(
    kube: KubeClient, namespace: str
) -> None:
    applier = ApiApplier(kube)
    await applier.apply(_deployment(namespace))
    with pytest.raises(TagpilotError) as raised:
        await applier.apply(_deployment(namespace, app="other"))
    assert is_immutable(raised.value), str(raised.value)


async def test_a_namespaced_object_without_a_namespace_is_refused_by_name(kube: KubeClient) -> None:
    applier = ApiApplier(kube)
    orphan = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "lost"}}
    with pytest.raises(StalledError, match="ConfigMap/lost: namespace not specified"):
        await applier.apply(orphan)
