"""Least-privilege RBAC for the "image" profile: what the controller does, nothing more.

Each rule says which part of the controller needs it.  Deliberately absent: writing
Secrets, any verb on workloads, patching namespaces, ``serviceaccounts/token`` (tagpilot
does not do cloud workload identity), and GitRepository writes (Flux's source-controller,
or nobody, owns those).
"""

from __future__ import annotations

from dataclasses import dataclass

from tagpilot.api.crds import IMAGE_GROUP, SOURCE_GROUP, Props
from tagpilot.api.install.options import APP_NAME, DEFAULT_NAMESPACE

__all__ = ["CLUSTER_RULES", "LEASE_RULES", "Rule", "rbac_documents"]

_IMAGE_KINDS = ("imagepolicies", "imagerepositories", "imageupdateautomations")
_READ = ("get", "list", "watch")


@dataclass(frozen=True)
class Rule:
    """One RBAC policy rule, and why the controller needs it."""

    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str

    def document(self) -> Props:
        """The rule as RBAC JSON."""
        return {
            "apiGroups": list(self.api_groups),
            "resources": list(self.resources),
            "verbs": list(self.verbs),
        }


CLUSTER_RULES: tuple[Rule, ...] = (
    Rule(
        (IMAGE_GROUP,),
        _IMAGE_KINDS,
        (*_READ, "patch", "update"),
        "watch the image kinds; annotate and manage finalizers on them",
    ),
    Rule(
        (IMAGE_GROUP,),
        tuple(f"{kind}/status" for kind in _IMAGE_KINDS),
        ("get", "patch", "update"),
        "write status (conditions, lastScanResult, latestRef, lastPushCommit, ...)",
    ),
    Rule(
        (IMAGE_GROUP,),
        tuple(f"{kind}/finalizers" for kind in _IMAGE_KINDS),
        ("update",),
        "set finalizers where owner references need it (OwnerReferencesPermissionEnforcement)",
    ),
    Rule(
        (SOURCE_GROUP,),
        ("gitrepositories",),
        _READ,
        "read the GitRepository an automation pushes to (URL, ref, secretRef)",
    ),
    Rule(
        ("",),
        ("secrets",),
        _READ,
        "registry, git, TLS and proxy credentials the objects name",
    ),
    Rule(
        ("",),
        ("namespaces",),
        _READ,
        "ImageRepository accessFrom: match the labels of a referring policy's namespace",
    ),
    Rule(
        ("",),
        ("serviceaccounts",),
        _READ,
        "ImageRepository serviceAccountName: the account's imagePullSecrets",
    ),
    Rule(("",), ("events",), ("create", "patch"), "Kubernetes Events with Flux's reasons"),
    Rule(("events.k8s.io",), ("events",), ("create", "patch"), "the same, events.k8s.io/v1"),
)
"""The ClusterRole's rules."""

LEASE_RULES: tuple[Rule, ...] = (
    Rule(
        ("coordination.k8s.io",),
        ("leases",),
        (*_READ, "create", "update", "patch", "delete"),
        "leader election, one Lease per shard, in the install namespace only",
    ),
)
"""The Role's rules (install namespace)."""


def rbac_documents(namespace: str, labels: dict[str, str]) -> list[Props]:
    """ClusterRole + ClusterRoleBinding, then Role + RoleBinding, for the ServiceAccount."""
    subject: Props = {"kind": "ServiceAccount", "name": APP_NAME, "namespace": namespace}
    # Cluster-scoped names must not collide when installs in two namespaces share a cluster.
    cluster_name = APP_NAME if namespace == DEFAULT_NAMESPACE else f"{APP_NAME}-{namespace}"

    def meta(name: str, namespaced: bool) -> Props:
        doc: Props = {"labels": dict(labels), "name": name}
        if namespaced:
            doc["namespace"] = namespace
        return doc

    def role_ref(kind: str, name: str) -> Props:
        return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}

    api = "rbac.authorization.k8s.io/v1"
    return [
        {
            "apiVersion": api,
            "kind": "ClusterRole",
            "metadata": meta(cluster_name, False),
            "rules": [rule.document() for rule in CLUSTER_RULES],
        },
        {
            "apiVersion": api,
            "kind": "ClusterRoleBinding",
            "metadata": meta(cluster_name, False),
            "roleRef": role_ref("ClusterRole", cluster_name),
            "subjects": [subject],
        },
        {
            "apiVersion": api,
            "kind": "Role",
            "metadata": meta(f"{APP_NAME}-leader-election", True),
            "rules": [rule.document() for rule in LEASE_RULES],
        },
        {
            "apiVersion": api,
            "kind": "RoleBinding",
            "metadata": meta(f"{APP_NAME}-leader-election", True),
            "roleRef": role_ref("Role", f"{APP_NAME}-leader-election"),
            "subjects": [subject],
        },
    ]
