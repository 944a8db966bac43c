"""Preparing built objects for server-side apply, and the order Flux applies them in.

Step 19 of Flux's kustomize-controller pipeline (:func:`prepare`): normalise each object as
Flux's ``ssa`` package does (container and Service port ``protocol`` defaults to ``TCP``, a
Secret's ``stringData`` is folded into base64 ``data``, ``metadata.creationTimestamp`` set to
null, ``status`` dropped except on CRDs), set ``commonMetadata`` labels and annotations over
existing keys, stamp the owner labels ``kustomize.toolkit.fluxcd.io/name|namespace``, and refuse
a ``v1 Secret`` that is still SOPS-encrypted.

Step 20's plan (:func:`plan_stages`): CRDs, Namespaces and ClusterRoles first (waited for),
then every ``*Class`` kind (waited for), then kinds the operator lists (not waited for), then
the rest; inside a stage, by kind rank (:data:`KIND_ORDER`), group, kind, namespace, name.
Deletion runs in the reverse order.  The per-object selectors (:func:`skip_reason`,
:func:`recreate_on_immutable`, :func:`keeps_other_managers`) read Flux's opt-out labels and
annotations.

Where Flux's sources disagree on the rank of ``ClusterRole`` (some versions list it after
``Role``), the ranking of the research note is used; it only changes the order inside the
"everything else" stage, which never holds a ClusterRole.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tagpilot.core.errors import StalledError

__all__ = [
    "DECRYPT_KEY",
    "FORCE_KEY",
    "KIND_ORDER",
    "NAMESPACE_LABEL",
    "NAME_LABEL",
    "RECONCILE_KEY",
    "SSA_KEY",
    "EncryptedSecretError",
    "Stage",
    "apply_order_key",
    "has_marker",
    "is_immutable_error",
    "keeps_other_managers",
    "object_ref",
    "plan_stages",
    "prepare",
    "recreate_on_immutable",
    "skip_reason",
]

NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
SSA_KEY = "kustomize.toolkit.fluxcd.io/ssa"
RECONCILE_KEY = "kustomize.toolkit.fluxcd.io/reconcile"
FORCE_KEY = "kustomize.toolkit.fluxcd.io/force"
DECRYPT_KEY = "kustomize.toolkit.fluxcd.io/decrypt"

KIND_ORDER_FIRST = (
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
KIND_ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
KIND_ORDER: dict[str, int] = {
    **{kind: i - len(KIND_ORDER_FIRST) for i, kind in enumerate(KIND_ORDER_FIRST)},
    **{kind: i + 1 for i, kind in enumerate(KIND_ORDER_LAST)},
}
"""Rank of a kind: listed-first kinds are negative, unlisted 0, webhook configurations last."""

_CLUSTER_DEFINITIONS = frozenset(
    {
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("", "Namespace"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
    }
)


class EncryptedSecretError(StalledError):
    """A Secret reached the apply stage still SOPS-encrypted; decryption must be configured."""

    reason = "ReconciliationFailed"


def _group(obj: Mapping[str, Any]) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _meta(obj: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    metadata = obj.get("metadata") or {}
    value = metadata.get(field) if isinstance(metadata, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def object_ref(obj: Mapping[str, Any]) -> str:
    """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped), as Flux prints objects."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace") or ""
    name = metadata.get("name") or ""
    kind = obj.get("kind", "")
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def has_marker(objs: Iterable[Mapping[str, Any] | None], key: str, value: str) -> bool:
    """Whether any of the objects carries ``key: value`` as a label or an annotation.

    Values compare case-insensitively, as Flux's apply, prune and decrypt selectors do.
    """
    for obj in objs:
        if obj is None:
            continue
        for field in ("labels", "annotations"):
            found = _meta(obj, field).get(key)
            if isinstance(found, str) and found.lower() == value.lower():
                return True
    return False


# --- step 19: preparing objects ----------------------------------------------------------


def _default_ports(ports: Any) -> None:
    if isinstance(ports, list):
        for port in ports:
            if isinstance(port, dict) and not port.get("protocol"):
                port["protocol"] = "TCP"


def _pod_spec(obj: Mapping[str, Any]) -> Any:
    kind, spec = obj.get("kind"), obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec")


_POD_TEMPLATE_KINDS = {
    ("", "Pod"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
}


def _normalise(obj: dict[str, Any]) -> None:
    group, kind = _group(obj), obj.get("kind", "")
    if (group, kind) in _POD_TEMPLATE_KINDS:
        pod_spec = _pod_spec(obj)
        # Only ``containers``: Flux's normaliser leaves init and ephemeral containers alone.
        for container in (pod_spec or {}).get("containers") or []:
            if isinstance(container, dict):
                _default_ports(container.get("ports"))
    elif (group, kind) == ("", "Service") and isinstance(obj.get("spec"), dict):
        _default_ports(obj["spec"].get("ports"))
    elif (group, kind) == ("", "Secret") and obj.get("stringData"):
        data = dict(obj.get("data") or {})
        for key, value in obj["stringData"].items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data
        del obj["stringData"]
    obj.setdefault("metadata", {})["creationTimestamp"] = None
    if (group, kind) != ("apiextensions.k8s.io", "CustomResourceDefinition"):
        obj.pop("status", None)


def _is_encrypted_secret(obj: Mapping[str, Any]) -> bool:
    return (
        obj.get("apiVersion") == "v1"
        and obj.get("kind") == "Secret"
        and "sops" in obj
        and not has_marker([obj], DECRYPT_KEY, "disabled")
    )


def prepare(
    objs: Sequence[Mapping[str, Any]],
    *,
    owner_name: str,
    owner_namespace: str,
    common_labels: Mapping[str, str] | None = None,
    common_annotations: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The objects ready for apply (new mappings), or :class:`EncryptedSecretError`."""
    prepared = []
    for original in objs:
        if _is_encrypted_secret(original):
            raise EncryptedSecretError(
                f"{object_ref(original)} is SOPS encrypted, configuring decryption is required "
                "for this secret to be reconciled"
            )
        obj = copy.deepcopy(dict(original))
        _normalise(obj)
        metadata = obj["metadata"]
        for field, extra in (("labels", common_labels), ("annotations", common_annotations)):
            if extra:
                metadata[field] = {**(metadata.get(field) or {}), **extra}
        metadata["labels"] = {
            **(metadata.get("labels") or {}),
            NAME_LABEL: owner_name,
            NAMESPACE_LABEL: owner_namespace,
        }
        prepared.append(obj)
    return prepared


# --- step 20: stages and order -----------------------------------------------------------


def apply_order_key(
    group: str, kind: str, namespace: str, name: str
) -> tuple[int, str, str, str, str]:
    """Sort key of Flux's apply order: kind rank, group, kind, namespace, name."""
    return (KIND_ORDER.get(kind, 0), group, kind, namespace, name)


def _key(obj: Mapping[str, Any]) -> tuple[int, str, str, str, str]:
    metadata = obj.get("metadata") or {}
    return apply_order_key(
        _group(obj),
        str(obj.get("kind", "")),
        str(metadata.get("namespace") or ""),
        str(metadata.get("name") or ""),
    )


@dataclass(frozen=True)
class Stage:
    """One apply stage: its objects in apply order, and whether Flux waits for them after."""

    name: str
    objects: tuple[dict[str, Any], ...]
    wait: bool


def plan_stages(objs: Sequence[dict[str, Any]], *, custom_kinds: Iterable[str] = ()) -> list[Stage]:
    """Split objects into Flux's apply stages; empty stages are left out.

    ``custom_kinds`` are ``group/Kind`` strings (``Kind`` alone for the core group), as given
    to ``--custom-apply-stage-kinds``.
    """
    custom = {entry if "/" in entry else f"/{entry}" for entry in custom_kinds}
    buckets: dict[str, list[dict[str, Any]]] = {
        "cluster": [],
        "class": [],
        "custom": [],
        "rest": [],
    }
    for obj in objs:
        group, kind = _group(obj), str(obj.get("kind", ""))
        if (group, kind) in _CLUSTER_DEFINITIONS:
            buckets["cluster"].append(obj)
        elif kind.endswith("Class"):
            buckets["class"].append(obj)
        elif f"{group}/{kind}" in custom:
            buckets["custom"].append(obj)
        else:
            buckets["rest"].append(obj)
    waits = {"cluster": True, "class": True, "custom": False, "rest": False}
    return [
        Stage(name, tuple(sorted(items, key=_key)), waits[name])
        for name, items in buckets.items()
        if items
    ]


# --- per-object selectors ---------------------------------------------------------------


def skip_reason(desired: Mapping[str, Any], live: Mapping[str, Any] | None) -> str | None:
    """Why Flux would not apply this object (change-set action ``skipped``), or ``None``."""
    both = (desired, live)
    if has_marker(both, RECONCILE_KEY, "disabled"):
        return f"{RECONCILE_KEY} is disabled"
    if has_marker(both, SSA_KEY, "Ignore"):
        return f"{SSA_KEY} is Ignore"
    if live is not None and has_marker([desired], SSA_KEY, "IfNotPresent"):
        return f"{SSA_KEY} is IfNotPresent and the object exists"
    return None


def keeps_other_managers(desired: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    """``ssa: Merge`` on either side: skip the field-manager and annotation cleanup."""
    return has_marker((desired, live), SSA_KEY, "Merge")


def recreate_on_immutable(
    desired: Mapping[str, Any], live: Mapping[str, Any] | None, *, spec_force: bool
) -> bool:
    """Whether an immutable-field error may be answered by delete and re-create."""
    return spec_force or has_marker((desired, live), FORCE_KEY, "enabled")


def is_immutable_error(status_code: int, message: str) -> bool:
    """Flux's test for "the dry-run failed on an immutable field"."""
    return status_code in (409, 422) or "is immutable" in message or "immutable field" in message
