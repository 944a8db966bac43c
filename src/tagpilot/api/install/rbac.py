"""The controller's RBAC: the least-privilege "image" profile, and the "deploy" profile.

Each rule says which part of the controller needs it.  The image profile
(:data:`CLUSTER_RULES`) is always granted.  Deliberately absent from it: writing Secrets,
any verb on workloads, patching namespaces, ``serviceaccounts/token`` (tagpilot does not
do cloud workload identity), and GitRepository writes (Flux's source-controller, or
nobody, owns those).

The ``source`` controller adds :data:`SOURCE_RULES` (it owns GitRepository status).  The
``kustomize`` controller adds :data:`DEPLOY_RULES` and a ClusterRoleBinding to
``cluster-admin``, as Flux ships for its kustomize-controller: applying arbitrary
manifests from git is cluster-admin-equivalent.  Only a Kustomization's
``serviceAccountName`` (applied through ``impersonate``) narrows what one source can do.
"""

from __future__ import annotations

from dataclasses import dataclass

from tagpilot.api.crds import IMAGE_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP, Props
from tagpilot.api.install.options import APP_NAME, DEFAULT_NAMESPACE

__all__ = [
    "CLUSTER_ADMIN",
    "CLUSTER_RULES",
    "DEPLOY_RULES",
    "LEASE_RULES",
    "SOURCE_RULES",
    "Rule",
    "cluster_rules",
    "rbac_documents",
]

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
"""The ClusterRole's rules for the image profile (granted in every install)."""

SOURCE_RULES: tuple[Rule, ...] = (
    Rule(
        (SOURCE_GROUP,),
        ("gitrepositories",),
        (*_READ, "patch", "update"),
        "the source controller: annotate GitRepositories and manage their finalizers",
    ),
    Rule(
        (SOURCE_GROUP,),
        ("gitrepositories/status",),
        ("get", "patch", "update"),
        "write GitRepository status (artifact, conditions)",
    ),
)
"""Added with the ``source`` controller."""

CLUSTER_ADMIN = "cluster-admin"
"""The ClusterRole the deploy profile binds: a Kustomization may apply any object."""

DEPLOY_RULES: tuple[Rule, ...] = (
    Rule(
        (KUSTOMIZE_GROUP,),
        ("kustomizations",),
        (*_READ, "patch", "update"),
        "watch Kustomizations; annotate them and manage their finalizers",
    ),
    Rule(
        (KUSTOMIZE_GROUP,),
        ("kustomizations/status",),
        ("get", "patch", "update"),
        "write status (inventory, conditions, lastAppliedRevision, history)",
    ),
    Rule(
        (KUSTOMIZE_GROUP,),
        ("kustomizations/finalizers",),
        ("update",),
        "the finalizer that prunes the inventory when a Kustomization is deleted",
    ),
    Rule(("",), ("configmaps",), _READ, "postBuild.substituteFrom ConfigMaps"),
    Rule(
        ("",),
        ("serviceaccounts",),
        ("impersonate",),
        "apply as a Kustomization's serviceAccountName (the only way to narrow the apply)",
    ),
)
"""Added with the ``kustomize`` controller, beside the ``cluster-admin`` binding.

With the binding these rules change nothing; they are what the controller itself needs,
so they stay true where an operator replaces the binding with something narrower."""


def cluster_rules(controllers: tuple[str, ...]) -> tuple[Rule, ...]:
    """The ClusterRole's rules for the controllers run: the image profile, then the rest."""
    rules = CLUSTER_RULES
    if "source" in controllers:
        rules += SOURCE_RULES
    if "kustomize" in controllers:
        rules += DEPLOY_RULES
    return rules


LEASE_RULES: tuple[Rule, ...] = (
    Rule(
        ("coordination.k8s.io",),
        ("leases",),
        (*_READ, "create", "update", "patch", "delete"),
        "leader election, one Lease per shard, in the install namespace only",
    ),
)
"""The Role's rules (install namespace)."""


def rbac_documents(
    namespace: str, labels: dict[str, str], controllers: tuple[str, ...] = ("image",)
) -> list[Props]:
    """ClusterRole + ClusterRoleBinding(s), then Role + RoleBinding, for the ServiceAccount.

    With the ``kustomize`` controller a second ClusterRoleBinding, ``<name>-cluster-admin``,
    binds ``cluster-admin``.
    """
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
    documents: list[Props] = [
        {
            "apiVersion": api,
            "kind": "ClusterRole",
            "metadata": meta(cluster_name, False),
            "rules": [rule.document() for rule in cluster_rules(controllers)],
        },
        {
            "apiVersion": api,
            "kind": "ClusterRoleBinding",
            "metadata": meta(cluster_name, False),
            "roleRef": role_ref("ClusterRole", cluster_name),
            "subjects": [subject],
        },
    ]
    if "kustomize" in controllers:
        documents.append(
            {
                "apiVersion": api,
                "kind": "ClusterRoleBinding",
                "metadata": meta(f"{cluster_name}-{CLUSTER_ADMIN}", False),
                "roleRef": role_ref("ClusterRole", CLUSTER_ADMIN),
                "subjects": [subject],
            }
        )
    return [
        *documents,
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
