"""The ClusterRole of ``--controllers kustomize`` alone, beside Flux's source-controller.

The install also binds ``cluster-admin`` for the kustomize controller (applying arbitrary
manifests needs it), which would answer yes to everything; so the ClusterRole's own rules
are bound here to a user of their own, and ``kubectl auth can-i`` shows what the controller
itself declares: it reads GitRepositories, and leaves them and their status to their owner.
"""

from __future__ import annotations

import json
import secrets

import pytest

from tagpilot.api.install import rbac_documents

from .controller_support import install_crds, wait_for
from .controlplane import ControlPlane, Identity
from .install_support import can_i


@pytest.fixture(scope="module")
def kustomize_only(control_plane: ControlPlane) -> Identity:
    """A user holding exactly the ClusterRole generated for ``--controllers kustomize``."""
    name = f"kustomize-only-{secrets.token_hex(3)}"
    role = rbac_documents("flux-system", {}, ("kustomize",))[0]
    assert role["kind"] == "ClusterRole"
    role["metadata"] = {"name": name}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}],
    }  # fmt: skip
    stream = json.dumps({"apiVersion": "v1", "kind": "List", "items": [role, binding]})
    install_crds(control_plane)
    control_plane.kubectl("apply", "-f", "-", stdin=stream)
    who = control_plane.identity(name)
    # The authorizer sees a new binding a moment later; Events are granted in every profile.
    wait_for("the binding in effect", lambda: can_i(control_plane, who, "create", "events"))
    return who


@pytest.mark.parametrize(
    ("question", "allowed"),
    [
        pytest.param(("watch", "gitrepositories.source.toolkit.fluxcd.io", "-A"), True,
                     id="watches GitRepositories"),
        pytest.param(("get", "gitrepositories.source.toolkit.fluxcd.io", "-n=apps"), True,
                     id="reads a GitRepository"),
        pytest.param(("patch", "kustomizations.kustomize.toolkit.fluxcd.io",
                      "--subresource=status", "-n=apps"), True,
                     id="writes Kustomization status"),
        pytest.param(("patch", "gitrepositories.source.toolkit.fluxcd.io",
                      "--subresource=status", "-n=apps"), False,
                     id="does not write GitRepository status"),
        pytest.param(("update", "gitrepositories.source.toolkit.fluxcd.io",
                      "--subresource=status", "-n=apps"), False,
                     id="does not replace GitRepository status"),
        pytest.param(("patch", "gitrepositories.source.toolkit.fluxcd.io", "-n=apps"), False,
                     id="does not edit GitRepositories"),
    ],
)  # fmt: skip
def test_the_kustomize_controller_reads_sources_it_does_not_own(
    control_plane: ControlPlane, kustomize_only: Identity, question: tuple[str, ...],
    allowed: bool,
) -> None:  # fmt: skip
    assert can_i(control_plane, kustomize_only, *question) is allowed
