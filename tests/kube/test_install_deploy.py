"""The deploy profile (``--controllers image,source,kustomize``) on the real apiserver.

The export with the kustomize controller goes in server-side; the ServiceAccount's own
token then shows what the profile grants: the GitRepository and Kustomization writes the
controllers need, and, through the ``cluster-admin`` binding Flux also ships for its
kustomize-controller, any object a Kustomization may apply.  Impersonating a
Kustomization's ``serviceAccountName`` is the one thing that narrows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .controlplane import ControlPlane, Identity
from .install_support import (
    WHOLE_LOOP,
    blaster_objects,
    can_i,
    installed_namespace,
    service_account_identity,
)


@pytest.fixture(scope="module")
def installed(control_plane: ControlPlane) -> Iterator[str]:
    """The whole-loop export applied into a new install namespace; its name."""
    yield from installed_namespace(control_plane, WHOLE_LOOP)


@pytest.fixture(scope="module")
def service_account(
    control_plane: ControlPlane, installed: str, tmp_path_factory: pytest.TempPathFactory
) -> Identity:
    """The identity of ServiceAccount ``tagpilot`` of the deploy install."""
    return service_account_identity(control_plane, installed, tmp_path_factory.mktemp("sa"))


_KS = "kustomizations.kustomize.toolkit.fluxcd.io"
_GIT = "gitrepositories.source.toolkit.fluxcd.io"
ALLOWED = [
    ("list", _KS, "--all-namespaces"),
    ("watch", _KS, "--all-namespaces"),
    ("patch", _KS, "--namespace=apps"),
    ("patch", _KS, "--subresource=status", "--namespace=apps"),
    ("update", _KS, "--subresource=finalizers", "--namespace=apps"),
    ("update", _GIT, "--namespace=apps"),
    ("patch", _GIT, "--subresource=status", "--namespace=apps"),
    ("watch", "configmaps", "--all-namespaces"),
    ("impersonate", "serviceaccounts", "--namespace=apps"),
    # What applying arbitrary manifests needs, through the cluster-admin binding.
    ("create", "deployments.apps", "--namespace=apps"),
    ("delete", "deployments.apps", "--namespace=apps"),
    ("create", "namespaces"),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
    ("update", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "secrets", "--namespace=apps"),
]


@pytest.mark.parametrize("question", ALLOWED, ids=[" ".join(q) for q in ALLOWED])
def test_the_deploy_profile_may_do_what_the_controllers_and_the_applies_need(
    control_plane: ControlPlane, service_account: Identity, question: tuple[str, ...]
) -> None:
    assert can_i(control_plane, service_account, *question)


def test_the_deploy_profile_is_cluster_admin_equivalent(
    control_plane: ControlPlane, installed: str, service_account: Identity
) -> None:
    assert can_i(control_plane, service_account, "*", "*", "--all-namespaces")
    binding = json.loads(
        control_plane.kubectl(
            "get", "clusterrolebinding", f"tagpilot-{installed}-cluster-admin", "-o", "json"
        ).stdout
    )
    assert binding["roleRef"]["name"] == "cluster-admin"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "tagpilot", "namespace": installed}
    ]


def test_impersonating_a_service_account_narrows_what_an_apply_may_do(
    control_plane: ControlPlane, installed: str, service_account: Identity
) -> None:
    # A Kustomization's serviceAccountName with no rights of its own: as it, nothing goes.
    control_plane.kubectl("create", "serviceaccount", "deployer", "-n", installed)
    deployer = f"--as=system:serviceaccount:{installed}:deployer"
    assert not can_i(
        control_plane, service_account, "create", "deployments.apps", f"-n={installed}", deployer
    )
    assert can_i(control_plane, service_account, "create", "deployments.apps", f"-n={installed}")


def test_the_service_account_really_writes_a_kustomization_status(
    control_plane: ControlPlane, installed: str, service_account: Identity
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))
    listed = control_plane.kubectl("get", "ks", "-A", "-o", "name", identity=service_account)
    assert "kustomization.kustomize.toolkit.fluxcd.io/blaster-dev" in listed.stdout
    control_plane.kubectl(
        "patch",
        "kustomization",
        "blaster-dev",
        "-n",
        installed,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"lastAttemptedRevision": "develop@sha1:" + "d" * 40}}),
        identity=service_account,
    )
    revision = control_plane.kubectl(
        "get",
        "ks",
        "blaster-dev",
        "-n",
        installed,
        "-o",
        "jsonpath={.status.lastAttemptedRevision}",
    ).stdout
    assert revision == "develop@sha1:" + "d" * 40


def test_the_deployment_runs_every_controller(control_plane: ControlPlane, installed: str) -> None:
    args = control_plane.kubectl(
        "get",
        "deployment",
        "tagpilot",
        "-n",
        installed,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].args}",
    ).stdout
    assert f"--controllers={WHOLE_LOOP}" in json.loads(args)
