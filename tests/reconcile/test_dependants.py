"""Which objects run at once when a status changes: the dependants rules over the index."""

from __future__ import annotations

from typing import Any

import pytest

from tagpilot.api.image import ImagePolicy, ImagePolicyStatus, ImageRepositoryStatus, ScanResult
from tagpilot.api.meta import ImageRef
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.kinds import ObjectIndex, reconciler_for


def policy(name: str, repository: str, namespace: str, ref_namespace: str | None = None) -> Any:
    ref: dict[str, str] = {"name": repository}
    if ref_namespace is not None:
        ref["namespace"] = ref_namespace
    return ImagePolicy.model_validate(
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"imageRepositoryRef": ref, "policy": {"alphabetical": {}}},
        }
    )


def key(kind: str, namespace: str, name: str) -> ObjectKey:
    return ObjectKey(kind, namespace, name)


OBJECTS = ObjectIndex(
    {
        key("ImagePolicy", "apps", "b"): policy("b", "app", "apps"),
        key("ImagePolicy", "apps", "a"): policy("a", "app", "apps"),
        key("ImagePolicy", "apps", "other"): policy("other", "other", "apps"),
        key("ImagePolicy", "team", "shared"): policy("shared", "app", "team", "apps"),
        key("ImagePolicy", "team", "local"): policy("local", "app", "team"),
        key("ImageUpdateAutomation", "apps", "z"): None,
        key("ImageUpdateAutomation", "apps", "y"): None,
        key("ImageUpdateAutomation", "team", "x"): None,
    }
)


def scanned(revision: str) -> ImageRepositoryStatus:
    return ImageRepositoryStatus(last_scan_result=ScanResult(revision=revision, tag_count=1))


def latest(tag: str) -> ImagePolicyStatus:
    return ImagePolicyStatus(latest_ref=ImageRef(name="registry.example.com/app", tag=tag))


@pytest.mark.parametrize(
    ("changed", "before", "after", "expected"),
    [
        pytest.param(
            key("ImageRepository", "apps", "app"), None, scanned("sha256:1"),
            [key("ImagePolicy", "apps", "a"), key("ImagePolicy", "apps", "b"),
             key("ImagePolicy", "team", "shared")],
            id="first-scan-wakes-every-policy-on-the-repository-in-any-namespace-sorted",
        ),
        pytest.param(
            key("ImageRepository", "apps", "app"), scanned("sha256:1"), scanned("sha256:2"),
            [key("ImagePolicy", "apps", "a"), key("ImagePolicy", "apps", "b"),
             key("ImagePolicy", "team", "shared")],
            id="new-tags-wake-the-same-policies",
        ),
        pytest.param(
            key("ImageRepository", "apps", "app"), scanned("sha256:1"), scanned("sha256:1"), [],
            id="an-unchanged-tag-set-wakes-nobody",
        ),
        pytest.param(
            key("ImageRepository", "team", "app"), None, scanned("sha256:1"),
            [key("ImagePolicy", "team", "local")],
            id="a-same-named-repository-elsewhere-wakes-only-its-own-policies",
        ),
        pytest.param(
            key("ImageRepository", "apps", "nobody"), None, scanned("sha256:1"), [],
            id="a-repository-without-policies-wakes-nobody",
        ),
        pytest.param(
            key("ImagePolicy", "apps", "a"), latest("1.0.0"), latest("1.1.0"),
            [key("ImageUpdateAutomation", "apps", "y"), key("ImageUpdateAutomation", "apps", "z")],
            id="a-new-latest-image-wakes-the-automations-of-the-policy-namespace",
        ),
        pytest.param(
            key("ImagePolicy", "apps", "a"), latest("1.0.0"), latest("1.0.0"), [],
            id="an-unchanged-latest-image-wakes-nobody",
        ),
    ],
)  # fmt: skip
def test_a_status_change_wakes_exactly_its_dependants(
    changed: ObjectKey, before: Any, after: Any, expected: list[ObjectKey]
) -> None:
    reconciler = reconciler_for(changed.kind)
    assert reconciler is not None
    watched = reconciler.watched(before), reconciler.watched(after)
    assert reconciler.dependants(changed, *watched, OBJECTS) == expected


@pytest.mark.parametrize(
    ("kind", "status", "watched"),
    [
        pytest.param("ImageRepository", scanned("sha256:1"), "sha256:1", id="repository-revision"),
        pytest.param("ImageRepository", None, None, id="repository-never-scanned"),
        pytest.param(
            "ImagePolicy", latest("1.0.0"), ImageRef(name="registry.example.com/app", tag="1.0.0"),
            id="policy-latest-image",
        ),
        pytest.param("ImageUpdateAutomation", None, None, id="automation-nothing"),
    ],
)  # fmt: skip
def test_between_runs_only_what_a_rule_watches_is_kept(
    kind: str, status: Any, watched: object
) -> None:
    reconciler = reconciler_for(kind)
    assert reconciler is not None
    assert reconciler.watched(status) == watched


def test_a_caller_changing_the_returned_list_does_not_change_the_index() -> None:
    reconciler = reconciler_for("ImageRepository")
    assert reconciler is not None
    changed = key("ImageRepository", "apps", "app")
    reconciler.dependants(changed, None, "sha256:1", OBJECTS).clear()
    assert len(reconciler.dependants(changed, None, "sha256:1", OBJECTS)) == 3
