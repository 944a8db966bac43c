"""The objects ``tagpilot install --export`` prints, built as plain data (pure, no I/O).

``install_documents(InstallOptions(...))`` returns them in apply order: Namespace; CRDs
(the image kinds, GitRepository with ``source_crds``, Kustomization when the ``kustomize``
controller runs; none with ``crds="skip"``);
ServiceAccount; ClusterRole and ClusterRoleBinding (and one to ``cluster-admin`` with the
``kustomize`` controller); Role and RoleBinding for leases;
Deployments; Service ``webhook-receiver``; NetworkPolicies.  Every object carries
``app.kubernetes.io/part-of: tagpilot``, ``app.kubernetes.io/component`` and
``app.kubernetes.io/version`` (the Namespace only when it is tagpilot's own default one).
The same options always give the same documents.
"""

from __future__ import annotations

from tagpilot.api.crds import (
    CRD_KINDS,
    GIT_REPOSITORY_CRD,
    KUSTOMIZATION_CRD,
    OWNER_LABEL,
    CrdKind,
    Props,
    crd_document,
)
from tagpilot.api.install.options import (
    APP_NAME,
    CONTROLLER_NAMES,
    DEFAULT_NAMESPACE,
    HTTP_PORT,
    RUN_AS_USER,
    SHARD_LABEL,
    STATE_DIR,
    CrdsMode,
    InstallOptions,
)
from tagpilot.api.install.rbac import (
    CLUSTER_ADMIN,
    CLUSTER_RULES,
    DEPLOY_RULES,
    LEASE_RULES,
    SOURCE_RULES,
    Rule,
    cluster_rules,
    rbac_documents,
)
from tagpilot.api.install.workload import (
    CONTROLLER_ARGS,
    deployments,
    network_policies,
    webhook_service,
)

__all__ = [
    "APP_NAME",
    "CLUSTER_ADMIN",
    "CLUSTER_RULES",
    "CONTROLLER_ARGS",
    "CONTROLLER_NAMES",
    "DEFAULT_NAMESPACE",
    "DEPLOY_RULES",
    "HTTP_PORT",
    "LEASE_RULES",
    "RUN_AS_USER",
    "SHARD_LABEL",
    "SOURCE_RULES",
    "STATE_DIR",
    "CrdsMode",
    "InstallOptions",
    "Rule",
    "cluster_rules",
    "install_documents",
]


def _labels(options: InstallOptions, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/component": component,
        OWNER_LABEL[0]: OWNER_LABEL[1],
        "app.kubernetes.io/version": options.version,
    }


def _wanted(options: InstallOptions, kind: CrdKind) -> bool:
    """GitRepository only with ``source_crds``; Kustomization only with the kustomize part."""
    if kind is GIT_REPOSITORY_CRD:
        return options.source_crds
    if kind is KUSTOMIZATION_CRD:
        return "kustomize" in options.controllers
    return True


def install_documents(options: InstallOptions) -> list[Props]:
    """Every object to apply, in apply order; ``ValueError`` listing bad options."""
    problems = options.check()
    if problems:
        raise ValueError("; ".join(problems))
    controller = _labels(options, "controller")
    namespace: Props = {"name": options.namespace}
    if options.namespace == DEFAULT_NAMESPACE:
        # Only tagpilot's own namespace is labelled as tagpilot's: another one (flux-system)
        # belongs to someone else, and a server-side apply would take its labels over.
        namespace = {"labels": _labels(options, "namespace"), **namespace}
    documents: list[Props] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": namespace}]
    if options.crds == "create":
        kinds = [k for k in CRD_KINDS if _wanted(options, k)]
        crd_labels = _labels(options, "crds")
        documents += [crd_document(kind, crd_labels) for kind in kinds]
    documents.append(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"labels": controller, "name": APP_NAME, "namespace": options.namespace},
        }
    )
    documents += rbac_documents(options.namespace, _labels(options, "rbac"), options.controllers)
    documents += deployments(options, controller)
    documents.append(webhook_service(options, controller))
    documents += network_policies(options, _labels(options, "network-policy"))
    return documents
