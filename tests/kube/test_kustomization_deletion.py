"""Deleting a Kustomization in a real cluster: Flux's finalizer and ``deletionPolicy``.

One ``tagpilot controller --controllers source,kustomize`` runs for the module against a
real git remote (smart HTTP) and the real API server.  Each Kustomization applies two
ConfigMaps, one of them opted out of pruning; the table deletes them one by one and says
what each ``deletionPolicy`` leaves behind.  Nothing here needs a kubelet.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from servers.git import make_bare_repo, run_git_http

from .controller_support import apply, controller, install_crds, kubectl_json, wait_for
from .controlplane import ControlPlane

FINALIZER = "finalizers.fluxcd.io"
HOLD = "example.com/hold"
KEEP = "  annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}\n"
SPECS = {
    "mirror": "prune: true",
    "mirror-no-prune": "prune: false",
    "delete": "prune: false\n  deletionPolicy: Delete",
    "orphan": "prune: true\n  deletionPolicy: Orphan",
    "suspended": "prune: true",
    "wait": "prune: true\n  deletionPolicy: WaitForTermination",
}


def _config_map(name: str, extra: str = "") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra}data: {{k: v}}\n"


def _files() -> dict[str, str]:
    files = {}
    for name in SPECS:
        hold = f"  finalizers: [{HOLD}]\n" if name == "wait" else ""
        files[f"deploy/{name}/a.yaml"] = _config_map(f"{name}-a", hold)
        files[f"deploy/{name}/keep.yaml"] = _config_map(f"{name}-keep", KEEP)
    return files


def _kustomization(name: str, namespace: str) -> str:
    return f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  interval: 10m
  timeout: 1m
  path: ./deploy/{name}
  {SPECS[name]}
  targetNamespace: {namespace}
  sourceRef: {{kind: GitRepository, name: app}}
"""


@dataclass(frozen=True)
class World:
    plane: ControlPlane
    namespace: str

    def exists(self, kind: str, name: str) -> bool:
        found = self.plane.kubectl("get", kind, name, "-n", self.namespace, check=False)
        return found.returncode == 0

    def ready(self, name: str) -> bool:
        ks = kubectl_json(self.plane, "kustomization", name, "-n", self.namespace)
        conditions = (ks.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@pytest.fixture(scope="module")
def world(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Every Kustomization applied and Ready, with its finalizer; ``suspended`` suspended."""
    install_crds(control_plane)
    namespace = f"ks-deletion-{secrets.token_hex(3)}"
    control_plane.kubectl("create", "namespace", namespace)
    tmp = tmp_path_factory.mktemp("deletion")
    repos = tmp / "repos"
    repos.mkdir()
    make_bare_repo(repos / "app.git", _files())
    with run_git_http(repos) as server:
        source = f"""\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: app, namespace: {namespace}}}
spec: {{interval: 10m, url: "{server.url(repos / "app.git")}", ref: {{branch: main}}}}
"""
        apply(control_plane, source)
        for name in SPECS:
            apply(control_plane, _kustomization(name, namespace))
        world = World(control_plane, namespace)
        args = ["--controllers=source,kustomize"]
        with controller(control_plane.admin.kubeconfig, tmp / "ctl", namespace=namespace,
                        args=args) as running:  # fmt: skip
            for name in SPECS:
                wait_for(f"Kustomization {name} Ready", lambda n=name: world.ready(n))
            control_plane.kubectl("patch", "kustomization", "suspended", "-n", namespace,
                                  "--type=merge", "-p", '{"spec": {"suspend": true}}')  # fmt: skip
            yield world
            assert "Traceback" not in running.text()
    control_plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_every_reconciled_kustomization_carries_fluxs_finalizer(world: World) -> None:
    for name in SPECS:
        ks = kubectl_json(world.plane, "kustomization", name, "-n", world.namespace)
        assert FINALIZER in ks["metadata"].get("finalizers", []), name


@pytest.mark.parametrize(
    ("name", "deletes"),
    [
        pytest.param("mirror", True, id="mirror-prune-with-prune-deletes-the-objects"),
        pytest.param("mirror-no-prune", False, id="mirror-prune-without-prune-keeps-them"),
        pytest.param("delete", True, id="delete-deletes-them-even-without-prune"),
        pytest.param("orphan", False, id="orphan-leaves-them"),
        pytest.param("suspended", False, id="a-suspended-kustomization-deletes-nothing"),
    ],
)
def test_deleting_a_kustomization_follows_its_deletion_policy(
    world: World, name: str, deletes: bool
) -> None:
    # kubectl waits for the finalizer: the controller must remove it for this to return.
    world.plane.kubectl("delete", "kustomization", name, "-n", world.namespace)
    assert not world.exists("kustomization", name)
    assert world.exists("configmap", f"{name}-a") is not deletes
    assert world.exists("configmap", f"{name}-keep"), "the prune opt-out is respected"


def test_wait_for_termination_holds_the_kustomization_until_its_objects_are_gone(
    world: World,
) -> None:
    world.plane.kubectl("delete", "kustomization", "wait", "-n", world.namespace, "--wait=false")
    wait_for(
        "the ConfigMap to be terminating",
        lambda: kubectl_json(world.plane, "configmap", "wait-a", "-n", world.namespace)[
            "metadata"
        ].get("deletionTimestamp"),
    )
    ks = kubectl_json(world.plane, "kustomization", "wait", "-n", world.namespace)
    assert ks["metadata"]["deletionTimestamp"] and FINALIZER in ks["metadata"]["finalizers"]
    # What a real controller would do with its own finalizer: release the ConfigMap.
    patch = json.dumps({"metadata": {"finalizers": None}})
    world.plane.kubectl("patch", "configmap", "wait-a", "-n", world.namespace, "--type=merge",
                        "-p", patch)  # fmt: skip
    wait_for("the Kustomization to be gone", lambda: not world.exists("kustomization", "wait"))
    assert not world.exists("configmap", "wait-a")
    assert world.exists("configmap", "wait-keep")
