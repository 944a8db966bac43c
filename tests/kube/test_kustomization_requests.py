"""What applying a Kustomization asks of the API server, object by object.

Flux's manager reads the live objects, dry-runs each existing one and writes only the
drifted ones.  Here the live copies come from one list per kind and namespace, so: a first
apply writes each new object once (nothing to dry-run against), a re-apply that changes
nothing costs one dry run per object and no write, and an object edited in the cluster is
found by its dry run and written back.  Counted with the client's own request counter.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tagpilot.adapters.kube.client import KubeClient

from .controlplane import ControlPlane
from .kustomization_support import DEPLOYER, Harness, config_map, kustomization, ready

COUNT = 6
FILES = {f"deploy/{n}.yaml": config_map(f"cm-{n}", "1") for n in range(COUNT)}


def _requests(kube: KubeClient, before: Counter[str]) -> dict[str, int]:
    spent = kube.requests - before
    return {verb: spent[verb] for verb in ("get", "list", "apply") if spent[verb]}


async def test_each_object_costs_one_request_unless_it_drifted(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish(FILES, "main@sha1:" + "1" * 40)
    ks = kustomization(namespace)
    await harness.run(ks)  # discovery and connections warmed up; objects created
    for n in range(COUNT):
        control_plane.kubectl("delete", "configmap", f"cm-{n}", "-n", namespace)

    before = Counter(kube.requests)
    first = await harness.run(ks)
    assert ready(first)[0] == "True"
    assert _requests(kube, before) == {"list": 1, "apply": COUNT}, "created without dry runs"

    before = Counter(kube.requests)
    again = await harness.run(ks)
    assert [e.type for e in again.events] == ["Trace"], "nothing changed, nothing announced"
    assert _requests(kube, before) == {"list": 1, "apply": COUNT}, "a dry run each, no write"

    control_plane.kubectl(
        "patch",
        "configmap",
        "cm-2",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"data":{"value":"x"}}',
    )
    before = Counter(kube.requests)
    drifted = await harness.run(ks)
    assert drifted.events[0].message == f"ConfigMap/{namespace}/cm-2 configured"
    assert _requests(kube, before) == {"list": 1, "apply": COUNT + 1}, "the drifted one written"
    value = control_plane.kubectl(
        "get", "configmap", "cm-2", "-n", namespace, "-o", "jsonpath={.data.value}"
    ).stdout
    assert value == "1"


async def test_an_account_that_may_not_list_is_read_object_by_object(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    control_plane.kubectl(
        "apply",
        "-f",
        "-",
        stdin=DEPLOYER % {"ns": namespace, "verbs": "get, create, update, patch, delete"},
    )
    harness = Harness(kube, namespace, tmp_path)
    harness.publish(FILES, "main@sha1:" + "1" * 40)
    ks = kustomization(namespace, "  serviceAccountName: deployer\n")
    first = await harness.run(ks)
    assert ready(first)[0] == "True", ready(first)
    before = Counter(kube.requests)
    again = await harness.run(ks)
    assert [e.type for e in again.events] == ["Trace"], "nothing changed, nothing announced"
    spent = _requests(kube, before)
    assert (spent["get"], spent["apply"]) == (COUNT, COUNT), "a get and a dry run each"


async def test_waiting_for_health_reads_the_objects_with_one_list(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish(FILES, "main@sha1:" + "1" * 40)
    ks = kustomization(namespace, "  wait: true\n  timeout: 30s\n")
    await harness.run(ks)

    before = Counter(kube.requests)
    again = await harness.run(ks)

    assert ready(again)[0] == "True"
    assert _requests(kube, before) == {"list": 2, "apply": COUNT}, (
        "one list to apply, one to check health; no get per object"
    )
