"""Objects are prepared and ordered for apply the way Flux's kustomize-controller does it."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tagpilot.core.errors import StalledError
from tagpilot.core.kustomize.stages import (
    EncryptedSecretError,
    is_immutable_error,
    keeps_other_managers,
    object_ref,
    plan_stages,
    prepare,
    recreate_on_immutable,
    skip_reason,
)


def make(
    api_version: str, kind: str, name: str = "x", namespace: str | None = None, **body: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def prepared(obj: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return prepare([obj], owner_name="apps", owner_namespace="flux-system", **kwargs)[0]


def test_every_object_gets_the_owner_labels() -> None:
    labels = prepared(make("v1", "ConfigMap"))["metadata"]["labels"]
    assert labels == {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }


def test_common_metadata_overrides_existing_keys_and_owner_labels_win() -> None:
    obj = make("v1", "ConfigMap")
    obj["metadata"]["labels"] = {"team": "old", "keep": "yes"}
    obj["metadata"]["annotations"] = {"note": "old"}
    result = prepared(
        obj,
        common_labels={"team": "new", "kustomize.toolkit.fluxcd.io/name": "spoof"},
        common_annotations={"note": "new"},
    )
    assert result["metadata"]["labels"]["team"] == "new"
    assert result["metadata"]["labels"]["keep"] == "yes"
    assert result["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "apps"
    assert result["metadata"]["annotations"] == {"note": "new"}


def deployment_with_ports() -> dict[str, Any]:
    pod = {
        "containers": [
            {
                "name": "a",
                "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
            }
        ],
        "initContainers": [{"name": "i", "ports": [{"containerPort": 81}]}],
    }
    return make("apps/v1", "Deployment", spec={"template": {"spec": pod}})


def test_container_ports_default_to_tcp_but_init_containers_are_left_alone() -> None:
    spec = prepared(deployment_with_ports())["spec"]["template"]["spec"]
    assert [p.get("protocol") for p in spec["containers"][0]["ports"]] == ["TCP", "UDP"]
    assert "protocol" not in spec["initContainers"][0]["ports"][0]


def test_cronjob_and_pod_container_ports_default_to_tcp() -> None:
    cron = make(
        "batch/v1",
        "CronJob",
        spec={
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"ports": [{"containerPort": 1}]}]}}}
            }
        },
    )
    pod = make("v1", "Pod", spec={"containers": [{"ports": [{"containerPort": 1}]}]})
    cron_ports = prepared(cron)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0][
        "ports"
    ]
    assert cron_ports[0]["protocol"] == "TCP"
    assert prepared(pod)["spec"]["containers"][0]["ports"][0]["protocol"] == "TCP"


def test_service_ports_default_to_tcp() -> None:
    service = make("v1", "Service", spec={"ports": [{"port": 80}]})
    assert prepared(service)["spec"]["ports"][0]["protocol"] == "TCP"


def test_secret_string_data_is_folded_into_data() -> None:
    secret = make(
        "v1",
        "Secret",
        data={"a": base64.b64encode(b"old").decode(), "b": "Yg=="},
        stringData={"a": "new"},
    )
    result = prepared(secret)
    assert "stringData" not in result
    assert result["data"] == {"a": base64.b64encode(b"new").decode(), "b": "Yg=="}


@pytest.mark.parametrize(
    ("obj", "keeps_status"),
    [
        pytest.param(
            make("apiextensions.k8s.io/v1", "CustomResourceDefinition", status={"x": 1}),
            True,
            id="crd-keeps-status",
        ),
        pytest.param(
            make("apps/v1", "Deployment", status={"x": 1}), False, id="others-drop-status"
        ),
    ],
)
def test_status_is_dropped_except_on_crds(obj: dict[str, Any], keeps_status: bool) -> None:
    result = prepared(obj)
    assert ("status" in result) is keeps_status
    assert result["metadata"]["creationTimestamp"] is None


def test_the_input_objects_are_not_changed() -> None:
    obj = deployment_with_ports()
    prepared(obj)
    assert "labels" not in obj["metadata"]
    assert "protocol" not in obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]


def test_a_secret_still_sops_encrypted_is_refused() -> None:
    secret = make("v1", "Secret", "db", "apps", data={"p": "ENC[...]"}, sops={"mac": "x"})
    with pytest.raises(EncryptedSecretError) as caught:
        prepared(secret)
    assert str(caught.value) == (
        "Secret/apps/db is SOPS encrypted, configuring decryption is required for this secret "
        "to be reconciled"
    )
    assert isinstance(caught.value, StalledError)


def test_a_secret_with_decryption_disabled_passes_through() -> None:
    secret = make("v1", "Secret", "db", "apps", sops={"mac": "x"})
    secret["metadata"]["annotations"] = {"kustomize.toolkit.fluxcd.io/decrypt": "disabled"}
    assert prepared(secret)["sops"] == {"mac": "x"}


def test_stages_put_definitions_first_then_classes_then_custom_kinds_then_the_rest() -> None:
    objs = [
        make("apps/v1", "Deployment", "web", "apps"),
        make("v1", "Namespace", "apps"),
        make("storage.k8s.io/v1", "StorageClass", "fast"),
        make("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
        make("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
        make("example.com/v1", "Widget", "w", "apps"),
        make("networking.k8s.io/v1", "IngressClass", "nginx"),
    ]
    stages = plan_stages(objs, custom_kinds=["example.com/Widget"])
    assert [(s.name, s.wait, [object_ref(o) for o in s.objects]) for s in stages] == [
        (
            "cluster",
            True,
            [
                "CustomResourceDefinition/widgets.example.com",
                "Namespace/apps",
                "ClusterRole/reader",
            ],
        ),
        ("class", True, ["StorageClass/fast", "IngressClass/nginx"]),
        ("custom", False, ["Widget/apps/w"]),
        ("rest", False, ["Deployment/apps/web"]),
    ]


def test_empty_stages_are_left_out() -> None:
    stages = plan_stages([make("v1", "ConfigMap", "c", "a")])
    assert [s.name for s in stages] == ["rest"]


def test_inside_a_stage_objects_follow_flux_kind_order_then_group_namespace_name() -> None:
    objs = [
        make("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "v"),
        make("example.com/v1", "Widget", "w", "a"),
        make("apps/v1", "Deployment", "b", "b"),
        make("apps/v1", "Deployment", "a", "b"),
        make("apps/v1", "Deployment", "z", "a"),
        make("v1", "Service", "s", "a"),
        make("v1", "Secret", "s", "a"),
        make("v1", "ConfigMap", "c", "a"),
        make("v1", "ServiceAccount", "sa", "a"),
        make("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "crb"),
        make("another.io/v1", "Alpha", "x", "a"),
        make("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "m"),
    ]
    (rest,) = plan_stages(objs)
    assert [object_ref(o) for o in rest.objects] == [
        "ClusterRoleBinding/crb",
        "ServiceAccount/a/sa",
        "ConfigMap/a/c",
        "Secret/a/s",
        "Service/a/s",
        "Deployment/a/z",
        "Deployment/b/a",
        "Deployment/b/b",
        "Alpha/a/x",
        "Widget/a/w",
        "MutatingWebhookConfiguration/m",
        "ValidatingWebhookConfiguration/v",
    ]


def marked(where: str, key: str, value: str) -> dict[str, Any]:
    obj = make("v1", "ConfigMap", "c", "a")
    obj["metadata"][where] = {f"kustomize.toolkit.fluxcd.io/{key}": value}
    return obj


PLAIN = make("v1", "ConfigMap", "c", "a")


@pytest.mark.parametrize(
    ("desired", "live", "skipped"),
    [
        pytest.param(PLAIN, PLAIN, False, id="plain-object-is-applied"),
        pytest.param(
            marked("labels", "reconcile", "disabled"),
            None,
            True,
            id="desired-reconcile-disabled-label",
        ),
        pytest.param(
            PLAIN,
            marked("annotations", "reconcile", "Disabled"),
            True,
            id="live-reconcile-disabled-any-case",
        ),
        pytest.param(marked("annotations", "ssa", "Ignore"), None, True, id="ssa-ignore"),
        pytest.param(PLAIN, marked("labels", "ssa", "ignore"), True, id="live-ssa-ignore"),
        pytest.param(
            marked("annotations", "ssa", "IfNotPresent"),
            PLAIN,
            True,
            id="if-not-present-and-exists",
        ),
        pytest.param(
            marked("annotations", "ssa", "IfNotPresent"),
            None,
            False,
            id="if-not-present-and-missing",
        ),
        pytest.param(
            PLAIN,
            marked("annotations", "ssa", "IfNotPresent"),
            False,
            id="if-not-present-counts-only-on-desired",
        ),
    ],
)
def test_apply_skip_selectors(
    desired: dict[str, Any], live: dict[str, Any] | None, skipped: bool
) -> None:
    assert (skip_reason(desired, live) is not None) is skipped


def test_ssa_merge_on_either_side_keeps_other_managers() -> None:
    assert keeps_other_managers(PLAIN, marked("annotations", "ssa", "merge"))
    assert not keeps_other_managers(PLAIN, PLAIN)


@pytest.mark.parametrize(
    ("desired", "live", "spec_force", "recreate"),
    [
        pytest.param(PLAIN, PLAIN, False, False, id="no-force"),
        pytest.param(PLAIN, PLAIN, True, True, id="spec-force"),
        pytest.param(
            marked("labels", "force", "enabled"), PLAIN, False, True, id="force-label-on-desired"
        ),
        pytest.param(
            PLAIN,
            marked("annotations", "force", "Enabled"),
            False,
            True,
            id="force-annotation-on-live",
        ),
    ],
)
def test_recreate_on_immutable_fields(
    desired: dict[str, Any], live: dict[str, Any], spec_force: bool, recreate: bool
) -> None:
    assert recreate_on_immutable(desired, live, spec_force=spec_force) is recreate


@pytest.mark.parametrize(
    ("code", "message", "immutable"),
    [
        pytest.param(422, "Invalid value", True, id="invalid"),
        pytest.param(409, "conflict", True, id="conflict"),
        pytest.param(400, "spec.selector: field is immutable", True, id="message-is-immutable"),
        pytest.param(500, "immutable field changed", True, id="message-immutable-field"),
        pytest.param(500, "etcd timeout", False, id="other-error"),
    ],
)
def test_immutable_errors(code: int, message: str, immutable: bool) -> None:
    assert is_immutable_error(code, message) is immutable
