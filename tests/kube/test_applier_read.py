"""Reading the live copies of many objects at once, on a real API server: one list per kind
and namespace holding several of them; what it cannot read in bulk it leaves to a get."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tagpilot.adapters.cluster.applier import ApiApplier
from tagpilot.adapters.kube.client import KubeClient

from .controlplane import ControlPlane


def _object(kind: str, name: str, namespace: str | None, api_version: str = "v1") -> dict[str, Any]:
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


async def test_objects_sharing_a_kind_and_namespace_are_read_with_one_list(
    kube: KubeClient, namespace: str, control_plane: ControlPlane
) -> None:
    control_plane.kubectl("create", "configmap", "present", "-n", namespace)
    objects = [
        _object("ConfigMap", "present", namespace),
        _object("ConfigMap", "absent", namespace),
        _object("Secret", "alone-of-its-kind", namespace),
        _object("Widget", "unserved", namespace, "widgets.example.com/v1"),
        _object("ConfigMap", "without-namespace", None),
        _object("ConfigMap", "without-namespace-too", None),
    ]
    before = Counter(kube.requests)
    found = await ApiApplier(kube).read(objects)
    assert sorted(found) == [0, 1], "only the ConfigMaps of the namespace were read"
    live = found[0]
    assert live is not None and live["metadata"]["name"] == "present"
    assert live["kind"] == "ConfigMap", "listed items look like the objects a get returns"
    assert found[1] is None, "known to be absent"
    assert (kube.requests - before)["list"] == 1
    assert (kube.requests - before)["get"] == 0
