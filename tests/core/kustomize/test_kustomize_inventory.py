"""Inventory ids round-trip in Flux's format, and pruning decides as Flux decides."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagpilot.core.kustomize.inventory import (
    InventoryEntry,
    InventoryError,
    ObjMetadata,
    PruneAction,
    deletes_on_finalize,
    entry_for,
    prune_decision,
    retained_after_prune,
    stale_entries,
)


@pytest.mark.parametrize(
    ("meta", "text"),
    [
        pytest.param(
            ObjMetadata("default", "podinfo", "", "Service"),
            "default_podinfo__Service",
            id="core-group-namespaced",
        ),
        pytest.param(
            ObjMetadata("", "apps", "", "Namespace"),
            "_apps__Namespace",
            id="core-group-cluster-scoped",
        ),
        pytest.param(
            ObjMetadata("apps", "web", "apps", "Deployment"),
            "apps_web_apps_Deployment",
            id="named-group",
        ),
        pytest.param(
            ObjMetadata("", "system:controller", "rbac.authorization.k8s.io", "ClusterRole"),
            "_system__controller_rbac.authorization.k8s.io_ClusterRole",
            id="rbac-colon-escaped",
        ),
        pytest.param(
            ObjMetadata("ns", "a:b:c", "rbac.authorization.k8s.io", "RoleBinding"),
            "ns_a__b__c_rbac.authorization.k8s.io_RoleBinding",
            id="rbac-binding-several-colons",
        ),
        pytest.param(
            ObjMetadata("ns", "a:b", "example.com", "Widget"),
            "ns_a:b_example.com_Widget",
            id="colon-kept-outside-rbac",
        ),
        pytest.param(
            ObjMetadata(
                "", "widgets.example.com", "apiextensions.k8s.io", "CustomResourceDefinition"
            ),
            "_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition",
            id="crd",
        ),
    ],
)
def test_inventory_ids_round_trip(meta: ObjMetadata, text: str) -> None:
    assert meta.id == text
    assert ObjMetadata.parse(text) == meta


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("nounderscores", id="no-separator"),
        pytest.param("ns_Kind", id="one-separator"),
        pytest.param("ns_group_Kind", id="no-name-field"),
    ],
)
def test_malformed_ids_are_refused(text: str) -> None:
    with pytest.raises(InventoryError, match="unable to parse stored object metadata"):
        ObjMetadata.parse(text)


def test_entries_carry_the_version_separately() -> None:
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps"},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "apps"},
    }
    assert entry_for(deploy) == InventoryEntry("apps_web_apps_Deployment", "v1")
    assert entry_for(service).to_json() == {"id": "apps_web__Service", "v": "v1"}
    assert entry_for(deploy).api_version == "apps/v1"
    assert entry_for(service).api_version == "v1"


def test_entries_are_read_from_status_and_checked() -> None:
    assert InventoryEntry.from_json({"id": "_apps__Namespace", "v": "v1"}).meta.kind == "Namespace"
    with pytest.raises(InventoryError):
        InventoryEntry.from_json({"id": "garbage", "v": "v1"})


def e(text: str) -> InventoryEntry:
    return InventoryEntry(text, "v1")


def test_stale_objects_are_the_old_minus_the_new_in_reverse_apply_order() -> None:
    old = [
        e("_apps__Namespace"),
        e("apps_cfg__ConfigMap"),
        e("apps_web_apps_Deployment"),
        e("apps_keep__Service"),
    ]
    new = [e("apps_keep__Service")]
    assert [s.id for s in stale_entries(old, new)] == [
        "apps_web_apps_Deployment",
        "apps_cfg__ConfigMap",
        "_apps__Namespace",
    ]


def test_nothing_is_stale_when_nothing_left_the_build() -> None:
    same = [e("apps_keep__Service")]
    assert stale_entries(same, same) == []


OWNER = {
    "kustomize.toolkit.fluxcd.io/name": "apps",
    "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
}


def live(
    labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": labels or {}, "annotations": annotations or {}},
    }


@pytest.mark.parametrize(
    ("obj", "action"),
    [
        pytest.param(None, PruneAction.DELETED, id="already-gone-counts-as-deleted"),
        pytest.param(live(OWNER), PruneAction.DELETE, id="owned-object-is-deleted"),
        pytest.param(
            live({**OWNER, "kustomize.toolkit.fluxcd.io/name": "other"}),
            PruneAction.SKIPPED,
            id="adopted-by-another-kustomization",
        ),
        pytest.param(
            live({"kustomize.toolkit.fluxcd.io/name": "apps"}),
            PruneAction.SKIPPED,
            id="owner-namespace-label-missing",
        ),
        pytest.param(live(), PruneAction.SKIPPED, id="no-owner-labels"),
        pytest.param(
            live(OWNER, {"kustomize.toolkit.fluxcd.io/prune": "disabled"}),
            PruneAction.SKIPPED,
            id="prune-disabled-annotation",
        ),
        pytest.param(
            live({**OWNER, "kustomize.toolkit.fluxcd.io/prune": "Disabled"}),
            PruneAction.SKIPPED,
            id="prune-disabled-label-any-case",
        ),
        pytest.param(
            live(OWNER, {"kustomize.toolkit.fluxcd.io/reconcile": "disabled"}),
            PruneAction.SKIPPED,
            id="reconcile-disabled",
        ),
        pytest.param(
            live(OWNER, {"kustomize.toolkit.fluxcd.io/ssa": "Ignore"}),
            PruneAction.SKIPPED,
            id="ssa-ignore",
        ),
        pytest.param(
            live(OWNER, {"kustomize.toolkit.fluxcd.io/prune": "enabled"}),
            PruneAction.DELETE,
            id="prune-enabled-is-no-opt-out",
        ),
    ],
)
def test_prune_decisions(obj: dict[str, Any] | None, action: PruneAction) -> None:
    assert prune_decision(obj, owner_name="apps", owner_namespace="flux-system") is action


def test_unconfirmed_deletions_stay_in_the_inventory() -> None:
    new = [e("apps_keep__Service")]
    stale = [e("apps_gone__ConfigMap"), e("apps_failed__ConfigMap"), e("apps_skipped__ConfigMap")]
    kept = retained_after_prune(
        new, stale, confirmed=["apps_gone__ConfigMap", "apps_skipped__ConfigMap"]
    )
    assert [x.id for x in kept] == ["apps_keep__Service", "apps_failed__ConfigMap"]


@pytest.mark.parametrize(
    ("policy", "prune", "suspended", "entries", "deletes"),
    [
        pytest.param("MirrorPrune", True, False, 1, True, id="mirror-prune-with-prune"),
        pytest.param("MirrorPrune", False, False, 1, False, id="mirror-prune-without-prune"),
        pytest.param("Delete", False, False, 1, True, id="delete"),
        pytest.param("WaitForTermination", False, False, 1, True, id="wait-for-termination"),
        pytest.param("Orphan", True, False, 1, False, id="orphan"),
        pytest.param("Delete", True, True, 1, False, id="suspended-never-deletes"),
        pytest.param("Delete", True, False, 0, False, id="empty-inventory"),
    ],
)
def test_deletion_policy_on_finalize(
    policy: str, prune: bool, suspended: bool, entries: int, deletes: bool
) -> None:
    inventory = [e("apps_x__ConfigMap")] * entries
    assert (
        deletes_on_finalize(policy, prune=prune, suspended=suspended, inventory=inventory)
        is deletes
    )


_NAME = st.from_regex(r"[a-z0-9]([a-z0-9.:-]{0,20}[a-z0-9])?", fullmatch=True)
_RBAC_KINDS = st.sampled_from(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"])


@given(namespace=st.sampled_from(["", "apps", "kube-system"]), name=_NAME, kind=_RBAC_KINDS)
def test_any_rbac_name_round_trips(namespace: str, name: str, kind: str) -> None:
    meta = ObjMetadata(namespace, name, "rbac.authorization.k8s.io", kind)
    assert ":" not in meta.id
    assert ObjMetadata.parse(meta.id) == meta


@given(
    namespace=st.sampled_from(["", "apps"]),
    name=_NAME.filter(lambda n: ":" not in n),
    group=st.sampled_from(["", "apps", "example.com"]),
    kind=st.sampled_from(["Service", "Deployment", "Widget"]),
)
def test_any_dns_name_round_trips(namespace: str, name: str, group: str, kind: str) -> None:
    meta = ObjMetadata(namespace, name, group, kind)
    assert ObjMetadata.parse(meta.id) == meta
