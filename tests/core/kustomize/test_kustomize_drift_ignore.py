"""``spec.ignore``: which fields of which objects drift detection and apply leave alone."""

from __future__ import annotations

from typing import Any

import pytest

from tagpilot.api.kustomization import DriftIgnoreRule, KustomizeSelector
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.kustomize.drift_ignore import (
    compile_rules,
    owned_by_another_applier,
    payload_without_ignored,
    split_pointer,
    without_paths,
)

MANAGER = "kustomize-controller"


def _deployment(name: str = "web", *, replicas: int = 2, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "apps", "labels": labels},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [
            {"name": "app", "image": "web:1"}, {"name": "proxy", "image": "envoy:1"},
        ]}}},
    }  # fmt: skip


def _rule(*paths: str, **target: str) -> DriftIgnoreRule:
    return DriftIgnoreRule(
        paths=list(paths), target=KustomizeSelector.model_validate(target) if target else None
    )


def _managed(live: dict[str, Any], manager: str, operation: str, fields: dict[str, Any]) -> None:
    entry = {"manager": manager, "operation": operation, "fieldsType": "FieldsV1",
             "fieldsV1": fields}  # fmt: skip
    live["metadata"].setdefault("managedFields", []).append(entry)


@pytest.mark.parametrize(
    ("rule", "obj", "ignored"),
    [
        pytest.param(_rule("/spec/replicas"), _deployment(), [("spec", "replicas")],
                     id="no-target-selects-every-object"),
        pytest.param(_rule("/spec/replicas", kind="Deployment"), _deployment(),
                     [("spec", "replicas")], id="kind"),
        pytest.param(_rule("/spec/replicas", kind="Deploy"), _deployment(), [],
                     id="kind-regex-is-anchored"),
        pytest.param(_rule("/spec/replicas", kind="Deploy.*", group="apps"), _deployment(),
                     [("spec", "replicas")], id="kind-regex-and-group"),
        pytest.param(_rule("/spec/replicas", group="batch"), _deployment(), [],
                     id="other-group"),
        pytest.param(_rule("/spec/replicas", name="web|api", namespace="apps"), _deployment(),
                     [("spec", "replicas")], id="name-alternatives-and-namespace"),
        pytest.param(_rule("/spec/replicas", labelSelector="autoscaled=true"),
                     _deployment(autoscaled="true"), [("spec", "replicas")],
                     id="label-selector"),
        pytest.param(_rule("/spec/replicas", labelSelector="autoscaled=true"), _deployment(),
                     [], id="label-selector-not-matching"),
        pytest.param(_rule("/metadata/annotations/a.io~1hash"), _deployment(),
                     [("metadata", "annotations", "a.io/hash")], id="escaped-slash"),
    ],
)  # fmt: skip
def test_a_rule_selects_its_targets_paths(
    rule: DriftIgnoreRule, obj: dict[str, Any], ignored: list[tuple[str, ...]]
) -> None:
    assert list(compile_rules([rule], field="spec.ignore").paths_for(obj)) == ignored


@pytest.mark.parametrize(
    ("rule", "field", "problem"),
    [
        pytest.param(_rule("spec/replicas"), "spec.ignore[0].paths[0]", "starts with '/'",
                     id="pointer-without-slash"),
        pytest.param(_rule("/metadata/name"), "spec.ignore[0].paths[0]", "identity",
                     id="the-name-cannot-be-ignored"),
        pytest.param(_rule("/spec", kind="(Deploy"), "spec.ignore[0].target.kind", "RE2",
                     id="kind-regex-that-does-not-compile"),
        pytest.param(_rule("/spec", labelSelector="a in (b"),
                     "spec.ignore[0].target.labelSelector", "cannot parse",
                     id="label-selector-that-does-not-parse"),
    ],
)  # fmt: skip
def test_a_rule_that_cannot_work_is_refused_naming_its_field(
    rule: DriftIgnoreRule, field: str, problem: str
) -> None:
    with pytest.raises(InvalidInputError, match=problem) as caught:
        compile_rules([rule], field="spec.ignore")
    assert caught.value.location is not None
    assert caught.value.location.field == field


def test_ignored_fields_are_no_drift_on_either_side() -> None:
    desired, live = _deployment(replicas=2), _deployment(replicas=5)
    paths = [("spec", "replicas")]
    assert without_paths(desired, paths) == without_paths(live, paths)
    assert desired["spec"]["replicas"] == 2, "the input is not modified"


def test_a_field_another_applier_owns_is_dropped_from_the_payload() -> None:
    live = _deployment(replicas=5)
    _managed(live, "hpa-controller", "Apply", {"f:spec": {"f:replicas": {}}})
    payload = payload_without_ignored(_deployment(), live, [("spec", "replicas")],
                                      manager=MANAGER)  # fmt: skip
    assert "replicas" not in payload["spec"]
    assert payload["spec"]["template"] == _deployment()["spec"]["template"]


@pytest.mark.parametrize(
    ("other", "operation"),
    [
        pytest.param("kube-controller-manager", "Update", id="updated-by-another-manager"),
        pytest.param(MANAGER, "Apply", id="applied-by-us-only"),
    ],
)
def test_a_field_no_other_applier_owns_keeps_its_live_value(other: str, operation: str) -> None:
    live = _deployment(replicas=5)
    _managed(live, other, operation, {"f:spec": {"f:replicas": {}}})
    payload = payload_without_ignored(_deployment(), live, [("spec", "replicas")],
                                      manager=MANAGER)  # fmt: skip
    assert payload["spec"]["replicas"] == 5


def test_a_field_the_live_object_lacks_is_left_out_and_a_new_object_is_applied_whole() -> None:
    live = _deployment()
    del live["spec"]["replicas"]
    paths = [("spec", "replicas")]
    assert "replicas" not in payload_without_ignored(_deployment(), live, paths,
                                                     manager=MANAGER)["spec"]  # fmt: skip
    assert payload_without_ignored(_deployment(), None, paths, manager=MANAGER) == _deployment()


@pytest.mark.parametrize(
    ("fields", "owned"),
    [
        pytest.param({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            'k:{"name":"proxy"}': {"f:image": {}}}}}}}, True, id="list-item-by-merge-key"),
        pytest.param({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            'k:{"name":"app"}': {"f:image": {}}}}}}}, False, id="another-list-item"),
        pytest.param({"f:spec": {"f:template": {}}}, False, id="parent-only"),
    ],
)  # fmt: skip
def test_ownership_of_a_list_item_field_follows_its_merge_key(
    fields: dict[str, Any], owned: bool
) -> None:
    live = _deployment()
    _managed(live, "istio", "Apply", fields)
    path = split_pointer("/spec/template/spec/containers/1/image")
    assert owned_by_another_applier(live, path, MANAGER) is owned
