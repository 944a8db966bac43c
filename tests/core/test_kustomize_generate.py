"""kustomization.yaml generation and the spec's overrides, as Flux's kustomize-controller does."""

from __future__ import annotations

from typing import Any

import pytest

from tagpilot.api.kustomization import CommonMetadata, KustomizationSpec
from tagpilot.core.kustomize.generate import (
    BuildError,
    apply_common_metadata,
    apply_overrides,
    generated_document,
    generated_resources,
    kustomization_file,
)


def spec(**fields: Any) -> KustomizationSpec:
    return KustomizationSpec.model_validate(
        {"interval": "1m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "r"}}
        | fields
    )


@pytest.mark.parametrize(
    ("files", "resources"),
    [
        pytest.param(["b.yaml", "a.yml"], ["./a.yml", "./b.yaml"], id="yaml-and-yml-sorted"),
        pytest.param(
            ["app.yaml", "README.md", "x.YAML", "notes.txt"], ["./app.yaml"], id="only-yaml-ext"
        ),
        pytest.param(
            ["sub/kustomization.yaml", "sub/a.yaml", "sub/deeper/b.yaml", "top.yaml"],
            ["./sub", "./top.yaml"],
            id="a-kustomized-subdir-is-one-resource",
        ),
        pytest.param(
            ["plain/a.yaml", "plain/nested/Kustomization", "plain/nested/x.yaml"],
            ["./plain/a.yaml", "./plain/nested"],
            id="plain-subdirs-are-descended",
        ),
        pytest.param(
            ["B.yaml", "a.yaml", "a/z.yaml"],
            ["./B.yaml", "./a/z.yaml", "./a.yaml"],
            id="walk-order-is-byte-order-per-directory",
        ),
        pytest.param([], [], id="empty"),
    ],
)
def test_a_generated_file_lists_the_manifests_as_flux_walks_them(
    files: list[str], resources: list[str]
) -> None:
    assert generated_resources(files) == resources


def test_an_empty_directory_builds_a_placeholder_instead_of_failing() -> None:
    assert generated_document([]) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "_placeholder",
    }


@pytest.mark.parametrize(
    ("names", "found"),
    [
        pytest.param(["kustomization.yml", "Kustomization"], "kustomization.yml", id="yml"),
        pytest.param(["Kustomization", "kustomization.yaml"], "kustomization.yaml", id="yaml"),
        pytest.param(["Kustomization"], "Kustomization", id="bare"),
        pytest.param(["kustomization.json"], None, id="none"),
    ],
)
def test_the_existing_file_is_found_by_kustomizes_names_in_order(
    names: list[str], found: str | None
) -> None:
    assert kustomization_file(names) == found


EXISTING = {
    "apiVersion": "kustomize.config.k8s.io/v1beta1",
    "kind": "Kustomization",
    "namespace": "from-file",
    "namePrefix": "file-",
    "resources": ["app.yaml"],
    "patches": [{"path": "p.yaml"}],
    "components": ["../c1"],
    "images": [
        {"name": "app", "newName": "ghcr.io/x/app", "newTag": "1.0"},
        {"name": "db", "digest": "sha256:aa"},
    ],
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, EXISTING, id="no-overrides-no-change"),
        pytest.param(
            {"targetNamespace": "ns", "namePrefix": "p-", "nameSuffix": "-s"},
            EXISTING | {"namespace": "ns", "namePrefix": "p-", "nameSuffix": "-s"},
            id="namespace-prefix-suffix-replace",
        ),
        pytest.param(
            {"patches": [{"patch": "x", "target": {"kind": "Deployment", "labelSelector": "a=b"}}]},
            EXISTING
            | {
                "patches": [
                    {"path": "p.yaml"},
                    {"patch": "x", "target": {"kind": "Deployment", "labelSelector": "a=b"}},
                ]
            },
            id="patches-appended-with-their-target",
        ),
        pytest.param(
            {"components": ["../c2"]},
            EXISTING | {"components": ["../c1", "../c2"]},
            id="components-appended",
        ),
        pytest.param(
            {"images": [{"name": "app", "digest": "sha256:bb"}, {"name": "new", "newTag": "2"}]},
            EXISTING
            | {
                "images": [
                    {"name": "app", "newName": "ghcr.io/x/app", "digest": "sha256:bb"},
                    {"name": "db", "digest": "sha256:aa"},
                    {"name": "new", "newTag": "2"},
                ]
            },
            id="images-merged-by-name-tag-and-digest-together",
        ),
        pytest.param(
            {"images": [{"name": "db", "newName": "quay.io/db"}]},
            EXISTING
            | {
                "images": [
                    EXISTING["images"][0],
                    {"name": "db", "digest": "sha256:aa", "newName": "quay.io/db"},
                ]
            },
            id="a-new-name-keeps-the-tag",
        ),
    ],
)
def test_the_spec_overrides_an_existing_file(
    fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert apply_overrides(EXISTING, [], spec(**fields)) == expected


def test_an_existing_file_without_resources_gets_origin_annotations() -> None:
    document = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    result = apply_overrides(document, [], spec())
    assert result["buildMetadata"] == ["originAnnotations"]
    assert document == {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}


def test_a_file_with_only_generators_is_not_empty_and_is_not_annotated() -> None:
    document = {"configMapGenerator": [{"name": "c", "literals": ["a=b"]}]}
    assert "buildMetadata" not in apply_overrides(document, [], spec())


def test_a_generated_file_gets_the_overrides_too() -> None:
    result = apply_overrides(None, ["a.yaml"], spec(targetNamespace="apps"))
    assert result["resources"] == ["./a.yaml"] and result["namespace"] == "apps"


@pytest.mark.parametrize(
    ("ignore", "components"),
    [
        pytest.param(True, ["./here"], id="ignored-when-missing-is-allowed"),
        pytest.param(False, ["./here", "./gone"], id="kept-for-kustomize-to-report"),
    ],
)
def test_missing_components(ignore: bool, components: list[str]) -> None:
    result = apply_overrides(
        None,
        ["a.yaml"],
        spec(components=["./here", "./gone"], ignoreMissingComponents=ignore),
        missing_components={"./gone"},
    )
    assert result["components"] == components


@pytest.mark.parametrize(
    ("document", "fields", "message"),
    [
        pytest.param(None, {"components": ["/etc"]}, "spec.components: '/etc'", id="absolute"),
        pytest.param(
            None,
            {"components": ["https://github.com/x/y"]},
            "must be a relative path",
            id="remote-component",
        ),
        pytest.param(
            {"images": "app"},
            {"images": [{"name": "a"}]},
            "images must be a list",
            id="images-not-a-list",
        ),
    ],
)
def test_bad_inputs_fail_the_build_with_the_place_named(
    document: dict[str, Any] | None, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(BuildError, match=message) as caught:
        apply_overrides(document, [], spec(**fields), file="k8s/kustomization.yaml")
    assert caught.value.reason == "BuildFailed"


def test_common_metadata_is_set_on_the_built_objects_not_in_the_kustomization() -> None:
    fields = {"commonMetadata": {"labels": {"team": "games"}, "annotations": {"a": "new"}}}
    assert apply_overrides(None, ["a.yaml"], spec(**fields)) == generated_document(["a.yaml"])
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"team": "old", "app": "web"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}}},
    }
    common = CommonMetadata.model_validate(fields["commonMetadata"])
    (result,) = apply_common_metadata([deployment], common)
    assert result["metadata"] == {
        "name": "web",
        "labels": {"team": "games", "app": "web"},
        "annotations": {"a": "new"},
    }
    assert result["spec"] == deployment["spec"], "selectors are left alone"
    assert deployment["metadata"]["labels"] == {"team": "old", "app": "web"}
