"""The image profile's RBAC, proven with the ServiceAccount's own token.

A bound token from the TokenRequest API (no controller-manager needed) makes a kubeconfig
for ServiceAccount ``tagpilot``; ``kubectl auth can-i`` then shows it may do what the
controller does, may not do more, and that ``can-i --list`` is exactly what the ClusterRole
and the lease Role declare.  (The deploy profile: ``test_install_deploy.py``.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tagpilot.api.install import CLUSTER_RULES, LEASE_RULES, Rule

from .controlplane import ControlPlane, Identity
from .install_support import (
    FLUX_POLICY_STATUS,
    blaster_objects,
    can_i,
    installed_namespace,
    service_account_identity,
)


@pytest.fixture(scope="module")
def installed(control_plane: ControlPlane) -> Iterator[str]:
    """The export applied into a new install namespace (once for this module); its name."""
    yield from installed_namespace(control_plane)


@pytest.fixture(scope="module")
def service_account(
    control_plane: ControlPlane, installed: str, tmp_path_factory: pytest.TempPathFactory
) -> Identity:
    """The identity of ServiceAccount ``tagpilot`` (a bound token from the TokenRequest API)."""
    return service_account_identity(control_plane, installed, tmp_path_factory.mktemp("sa"))


IN_NS = "--namespace={ns}"
ALLOWED = [
    ("list", "imagepolicies.image.toolkit.fluxcd.io", "--all-namespaces"),
    ("watch", "imagerepositories.image.toolkit.fluxcd.io", "--all-namespaces"),
    ("patch", "imageupdateautomations.image.toolkit.fluxcd.io", "--namespace=apps"),
    ("update", "imagepolicies.image.toolkit.fluxcd.io", "--subresource=status", "--namespace=apps"),
    (
        "patch",
        "imagerepositories.image.toolkit.fluxcd.io",
        "--subresource=status",
        "--namespace=apps",
    ),
    (
        "update",
        "imageupdateautomations.image.toolkit.fluxcd.io",
        "--subresource=finalizers",
        "-n=apps",
    ),
    ("watch", "gitrepositories.source.toolkit.fluxcd.io", "--all-namespaces"),
    ("get", "secrets", "--namespace=apps"),
    ("list", "secrets", "--all-namespaces"),
    ("create", "events", "--namespace=apps"),
    ("patch", "events.events.k8s.io", "--namespace=apps"),
    ("create", "leases.coordination.k8s.io", IN_NS),
    ("update", "leases.coordination.k8s.io", IN_NS),
    ("delete", "leases.coordination.k8s.io", IN_NS),
]
DENIED = [
    ("create", "secrets", "--namespace=apps"),
    ("update", "secrets", "--namespace=apps"),
    ("delete", "secrets", "--namespace=apps"),
    ("create", "deployments.apps", "--namespace=apps"),
    ("delete", "deployments.apps", IN_NS),
    ("patch", "namespaces"),
    ("delete", "namespaces"),
    ("create", "imagepolicies.image.toolkit.fluxcd.io", "--namespace=apps"),
    ("delete", "imagerepositories.image.toolkit.fluxcd.io", "--namespace=apps"),
    ("patch", "gitrepositories.source.toolkit.fluxcd.io", "--namespace=apps"),
    ("update", "gitrepositories.source.toolkit.fluxcd.io", "--subresource=status", "-n=apps"),
    ("create", "leases.coordination.k8s.io", "--namespace=apps"),
    ("create", "serviceaccounts", "--subresource=token", "--namespace=apps"),
    ("update", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
    ("get", "configmaps", "--namespace=apps"),
    ("list", "kustomizations.kustomize.toolkit.fluxcd.io", "--all-namespaces"),
    ("impersonate", "serviceaccounts", "--namespace=apps"),
]


def _ids(rows: list[tuple[str, ...]]) -> list[str]:
    return [" ".join(row).replace("{ns}", "<install ns>") for row in rows]


@pytest.mark.parametrize("question", ALLOWED, ids=_ids(ALLOWED))
def test_the_service_account_may_do_what_the_controller_needs(
    control_plane: ControlPlane,
    installed: str,
    service_account: Identity,
    question: tuple[str, ...],
) -> None:
    asked = [part.replace("{ns}", installed) for part in question]
    assert can_i(control_plane, service_account, *asked)


@pytest.mark.parametrize("question", DENIED, ids=_ids(DENIED))
def test_the_service_account_may_not_do_more(
    control_plane: ControlPlane,
    installed: str,
    service_account: Identity,
    question: tuple[str, ...],
) -> None:
    asked = [part.replace("{ns}", installed) for part in question]
    assert not can_i(control_plane, service_account, *asked)


def test_the_service_account_really_reads_an_image_policy_and_writes_its_status(
    control_plane: ControlPlane, installed: str, service_account: Identity
) -> None:
    control_plane.kubectl("apply", "-f", "-", stdin=blaster_objects(installed))
    listed = control_plane.kubectl(
        "get", "imagepolicies", "-A", "-o", "name", identity=service_account
    ).stdout
    assert "imagepolicy.image.toolkit.fluxcd.io/blaster-dev-policy" in listed
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
        identity=service_account,
    )
    refused = control_plane.kubectl(
        "create",
        "secret",
        "generic",
        "stolen",
        "-n",
        installed,
        identity=service_account,
        check=False,
    )
    assert refused.returncode != 0 and "forbidden" in refused.stderr


def _listed_permissions(plane: ControlPlane, who: Identity, namespace: str) -> dict[str, set[str]]:
    """``kubectl auth can-i --list`` in ``namespace``: resource → verbs (no non-resource URLs)."""
    table = plane.kubectl("auth", "can-i", "--list", f"--namespace={namespace}", identity=who)
    found: dict[str, set[str]] = {}
    for line in table.stdout.splitlines()[1:]:
        tokens = line.split()
        if not tokens or tokens[0].startswith("["):
            continue
        verbs = " ".join(tokens[3:]).strip("[]").split()
        found.setdefault(tokens[0], set()).update(verbs)
    return found


def _expected(rules: tuple[Rule, ...]) -> dict[str, set[str]]:
    expected: dict[str, set[str]] = {}
    for rule in rules:
        for group in rule.api_groups:
            for resource in rule.resources:
                kind, _, sub = resource.partition("/")
                name = f"{kind}.{group}" if group else kind
                expected.setdefault(f"{name}/{sub}" if sub else name, set()).update(rule.verbs)
    return expected


# What Kubernetes' default bindings give every authenticated identity or ServiceAccount
# (self-reviews; reading ClusterTrustBundles for projected volumes), not tagpilot's rules.
_EVERYONE = {
    "clustertrustbundles.certificates.k8s.io",
    "selfsubjectaccessreviews.authorization.k8s.io",
    "selfsubjectrulesreviews.authorization.k8s.io",
    "selfsubjectreviews.authentication.k8s.io",
}


@pytest.mark.parametrize("where", ["another namespace", "the install namespace"])
def test_the_service_account_has_exactly_the_permissions_the_rules_declare(
    control_plane: ControlPlane, installed: str, service_account: Identity, where: str
) -> None:
    namespace = installed if where == "the install namespace" else "default"
    listed = _listed_permissions(control_plane, service_account, namespace)
    rules = CLUSTER_RULES + (LEASE_RULES if namespace == installed else ())
    assert {k: v for k, v in listed.items() if k not in _EVERYONE} == _expected(rules)
