"""`tagpilot install --export` applied to a real kube-apiserver, looked at with real kubectl.

The export goes in with ``kubectl apply --server-side``; the CRDs become Established and
are stored as generated; the testdata's Blaster objects and Flux's own examples are
accepted; ``kubectl get`` shows Flux's columns; a status written with Flux's fields is kept
whole; a bad value is refused by the API server with its reason; installing into a
namespace another tool owns leaves its labels alone.  (The RBAC: ``test_install_rbac.py``.)

CRDs are cluster-global and the control plane is shared by the session, so applying is
idempotent (server-side apply under one field manager) and nothing deletes the CRDs.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tagpilot.api.crds import CRD_KINDS, CrdKind, crd_document

from .controlplane import ControlPlane
from .install_support import (
    CRDS,
    FLUX_POLICY_STATUS,
    blaster_objects,
    export,
    install,
    installed_namespace,
)
from .upstream import EXAMPLE_KINDS, example_objects


@pytest.fixture(scope="module")
def installed(control_plane: ControlPlane) -> Iterator[str]:
    """The export applied into a new install namespace (once for this module); its name."""
    yield from installed_namespace(control_plane)


def test_the_export_applies_server_side_and_every_crd_is_established(
    control_plane: ControlPlane, installed: str
) -> None:
    for crd in CRDS:
        got = json.loads(control_plane.kubectl("get", f"crd/{crd}", "-o", "json").stdout)
        established = {c["type"]: c["status"] for c in got["status"]["conditions"]}
        assert established["Established"] == "True", crd
        assert got["status"]["acceptedNames"]["kind"] == got["spec"]["names"]["kind"]
    kinds = control_plane.kubectl("get", "all", "-n", installed, "-o", "name").stdout
    assert "deployment.apps/tagpilot" in kinds
    assert "service/webhook-receiver" in kinds


@pytest.mark.parametrize("kind", CRD_KINDS, ids=lambda kind: kind.kind)
def test_the_api_server_stores_each_crd_exactly_as_generated(
    control_plane: ControlPlane, installed: str, kind: CrdKind
) -> None:
    # The YAML round trip (through kubectl's YAML 1.1 reader) changes no value.
    stored = json.loads(control_plane.kubectl("get", f"crd/{kind.name}", "-o", "json").stdout)
    generated = crd_document(kind)
    assert stored["spec"]["versions"] == generated["spec"]["versions"]
    assert stored["spec"]["names"] == generated["spec"]["names"]


def test_applying_the_export_twice_changes_nothing(
    control_plane: ControlPlane, installed: str
) -> None:
    before = control_plane.kubectl("get", f"crd/{CRDS[1]}", "-o", "jsonpath={.metadata.generation}")
    install(control_plane, installed)
    after = control_plane.kubectl("get", f"crd/{CRDS[1]}", "-o", "jsonpath={.metadata.generation}")
    assert after.stdout == before.stdout


def test_the_blaster_objects_are_accepted_and_get_shows_fluxs_columns(
    control_plane: ControlPlane, installed: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))

    table = control_plane.kubectl("get", "imagepolicies", "-A").stdout.splitlines()
    assert table[0].split() == ["NAMESPACE", "NAME", "IMAGE", "TAG", "READY", "STATUS", "AGE"]
    assert any(line.split()[:2] == [installed, "blaster-dev-policy"] for line in table[1:])

    wide = control_plane.kubectl("get", "imagerepositories", "-n", installed, "-o", "wide").stdout
    header = wide.splitlines()[0]
    for column in ("NAME", "IMAGE", "TAGS", "READY", "STATUS", "LAST SCAN", "AGE"):
        assert column in header
    assert "registry.reids.net.au/games/blaster" in wide

    short = control_plane.kubectl("get", "imgauto,gitrepo,ks", "-n", installed, "-o", "name").stdout
    assert "imageupdateautomation.image.toolkit.fluxcd.io/blaster-dev-automation" in short
    assert "gitrepository.source.toolkit.fluxcd.io/blaster-dev" in short
    assert "kustomization.kustomize.toolkit.fluxcd.io/blaster-dev" in short


def test_kubectl_get_ks_shows_fluxs_columns_and_the_ready_condition(
    control_plane: ControlPlane, installed: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))
    control_plane.kubectl(
        "patch",
        "kustomization",
        "blaster-dev",
        "-n",
        installed,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": FLUX_KUSTOMIZATION_STATUS}),
    )
    table = control_plane.kubectl("get", "ks", "-A").stdout.splitlines()
    assert table[0].split() == ["NAMESPACE", "NAME", "AGE", "READY", "STATUS"]
    (row,) = [line for line in table[1:] if line.split()[:2] == [installed, "blaster-dev"]]
    assert row.split()[3:] == ["True", *_APPLIED.split()]
    got = json.loads(
        control_plane.kubectl(
            "get", "kustomization", "blaster-dev", "-n", installed, "-o", "json"
        ).stdout
    )
    assert got["status"] == FLUX_KUSTOMIZATION_STATUS


def test_the_api_server_fills_in_fluxs_defaults(
    control_plane: ControlPlane, installed: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))
    repo = json.loads(
        control_plane.kubectl(
            "get", "imagerepository", "blaster-dev-repo", "-n", installed, "-o", "json"
        ).stdout
    )
    assert repo["spec"]["exclusionList"] == ["^.*\\.sig$"]
    assert repo["spec"]["provider"] == "generic"
    assert repo["status"] == {"observedGeneration": -1}


def test_a_status_with_fluxs_fields_survives_the_status_subresource(
    control_plane: ControlPlane, installed: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))
    control_plane.kubectl(
        "patch",
        "imagepolicy",
        "blaster-dev-policy",
        "-n",
        installed,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": FLUX_POLICY_STATUS}),
    )
    got = json.loads(
        control_plane.kubectl(
            "get", "imagepolicy", "blaster-dev-policy", "-n", installed, "-o", "json"
        ).stdout
    )
    assert got["status"] == FLUX_POLICY_STATUS
    row = control_plane.kubectl("get", "imagepolicy", "blaster-dev-policy", "-n", installed).stdout
    assert "dev-20251115.51" in row and "True" in row


_APPLIED = "Applied revision: develop@sha1:" + "b" * 40
FLUX_KUSTOMIZATION_STATUS = {
    "observedGeneration": 1,
    "lastAppliedRevision": "develop@sha1:" + "b" * 40,
    "lastAttemptedRevision": "develop@sha1:" + "b" * 40,
    "inventory": {"entries": [{"id": "blaster-dev_blaster-app_apps_Deployment", "v": "v1"}]},
    "history": [
        {
            "digest": "sha256:" + "c" * 64,
            "firstReconciled": "2025-11-15T10:00:00Z",
            "lastReconciled": "2025-11-15T10:05:00Z",
            "lastReconciledDuration": "1.2s",
            "lastReconciledStatus": "ReconciliationSucceeded",
            "totalReconciliations": 2,
        }
    ],
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "observedGeneration": 1,
            "lastTransitionTime": "2025-11-15T10:05:00Z",
            "reason": "ReconciliationSucceeded",
            "message": _APPLIED,
        }
    ],
}
"""A Kustomization status as kustomize-controller writes it."""

BAD_OBJECTS = [
    pytest.param(
        "ImagePolicy",
        {"imageRepositoryRef": {"name": "r"}, "policy": {"numerical": {"order": "up"}}},
        'spec.policy.numerical.order: Unsupported value: "up"',
        id="a numerical order that is neither asc nor desc",
    ),
    pytest.param(
        "ImagePolicy",
        {"imageRepositoryRef": {"name": "r"}, "policy": {"alphabetical": {}}, "interval": "5m"},
        "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
        id="an interval without digestReflectionPolicy Always (CEL)",
    ),
    pytest.param(
        "ImageRepository",
        {"image": "ghcr.io/a/b", "interval": "1 minute"},
        "spec.interval in body should match",
        id="an interval that is not a Go duration",
    ),
    pytest.param(
        "ImageRepository",
        {"image": "ghcr.io/a/b", "interval": "1m", "provider": "dockerhub"},
        'spec.provider: Unsupported value: "dockerhub"',
        id="an unknown registry provider",
    ),
    pytest.param(
        "GitRepository",
        {"url": "ssh://git@example.com/r.git", "interval": "1m", "serviceAccountName": "sa"},
        "serviceAccountName can only be set when provider is 'azure' or 'aws'",
        id="a GitRepository service account without a cloud provider (CEL)",
    ),
    pytest.param(
        "Kustomization",
        {
            "interval": "5m",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "r"},
            "kubeConfig": {"secretRef": {"name": "a"}, "configMapRef": {"name": "b"}},
        },
        "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef",
        id="a kubeConfig from both a Secret and a ConfigMap (CEL)",
    ),
    pytest.param(
        "Kustomization",
        {"interval": "5m", "sourceRef": {"kind": "GitRepository", "name": "r"}},
        "spec.prune: Required value",
        id="a Kustomization without prune",
    ),
    pytest.param(
        "Kustomization",
        {"interval": "5m", "prune": True, "sourceRef": {"kind": "HelmRepository", "name": "r"}},
        'spec.sourceRef.kind: Unsupported value: "HelmRepository"',
        id="a Kustomization source of a kind it cannot build",
    ),
]

_GROUPS = {
    "GitRepository": "source.toolkit.fluxcd.io",
    "Kustomization": "kustomize.toolkit.fluxcd.io",
}


@pytest.mark.parametrize(("kind", "spec", "message"), BAD_OBJECTS)
def test_the_api_server_refuses_an_invalid_object_and_says_why(
    control_plane: ControlPlane, installed: str, kind: str, spec: dict[str, Any], message: str
) -> None:
    group = _GROUPS.get(kind, "image.toolkit.fluxcd.io")
    document = {
        "apiVersion": f"{group}/v1",
        "kind": kind,
        "metadata": {"name": "bad", "namespace": installed},
        "spec": spec,
    }
    result = control_plane.kubectl("create", "-f", "-", stdin=json.dumps(document), check=False)
    assert result.returncode != 0
    assert message in result.stderr


def test_fluxs_example_objects_are_accepted_by_our_crds(
    control_plane: ControlPlane, installed: str
) -> None:
    examples = example_objects()
    assert {document["kind"] for _, document in examples} == set(EXAMPLE_KINDS)
    for where, example in examples:
        example["metadata"]["namespace"] = installed
        result = control_plane.kubectl(
            "apply", "--dry-run=server", "-f", "-", stdin=json.dumps(example), check=False
        )
        assert result.returncode == 0, (where, result.stderr)


def test_installing_into_a_namespace_flux_owns_leaves_its_labels_alone(
    control_plane: ControlPlane, installed: str
) -> None:
    # The coexist command of the README, into a namespace another tool created and labelled.
    namespace = f"flux-like-{secrets.token_hex(3)}"
    control_plane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=flux",
        "-f",
        "-",
        stdin=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {"app.kubernetes.io/part-of": "flux"}},
            }
        ),
    )
    try:
        control_plane.kubectl(
            "apply",
            "--server-side",
            "--field-manager=tagpilot-install",
            "-f",
            "-",
            stdin=export("--crds", "skip", "--namespace", namespace),
        )
        labels = control_plane.kubectl(
            "get", "namespace", namespace, "-o", "jsonpath={.metadata.labels}"
        ).stdout
        assert json.loads(labels)["app.kubernetes.io/part-of"] == "flux"
        assert (
            "deployment.apps/tagpilot"
            in control_plane.kubectl("get", "deployments", "-n", namespace, "-o", "name").stdout
        )
    finally:
        control_plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        for kind in ("clusterrolebinding", "clusterrole"):
            control_plane.kubectl("delete", kind, f"tagpilot-{namespace}", check=False)
