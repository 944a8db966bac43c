"""Misspelt kinds and API groups are refused with a suggestion; other objects are skipped quietly.

kubectl refuses an object whose kind or group does not exist; silently skipping one would
leave a typo'd ImagePolicy doing nothing while the run reports success.
"""

from __future__ import annotations

import pytest

from tagpilot.api.kindcheck import check_kind, edit_distance
from tagpilot.api.kinds import KIND_MODELS
from tagpilot.api.loader import ManifestError, load_text

KNOWN = {kind: versions for kind, (_, versions) in KIND_MODELS.items()}


def _document(api_version: str | None, kind: str) -> str:
    head = f"apiVersion: {api_version}\n" if api_version is not None else ""
    return f"# a comment first\n{head}kind: {kind}\nmetadata:\n  name: app\n"


@pytest.mark.parametrize(
    ("api_version", "kind", "line", "field", "message"),
    [
        pytest.param(
            "image.toolkit.fluxcd.io/v1beta2",
            "ImagePolcy",
            3,
            "kind",
            "no kind 'ImagePolcy' in image.toolkit.fluxcd.io; did you mean ImagePolicy?",
            id="kind-with-a-letter-missing",
        ),
        pytest.param(
            "image.toolkit.fluxcd.io/v1",
            "imagepolicy",
            3,
            "kind",
            "did you mean ImagePolicy?",
            id="kind-in-the-wrong-case",
        ),
        pytest.param(
            "image.toolkit.fluxcd.io/v1",
            "ImageRepositories",
            3,
            "kind",
            "did you mean ImageRepository?",
            id="kind-in-the-plural",
        ),
        pytest.param(
            "notification.toolkit.fluxcd.io/v1",
            "Reciever",
            3,
            "kind",
            "did you mean Receiver?",
            id="kind-with-swapped-letters",
        ),
        pytest.param(
            "image.toolkit.fluxcd.io/v1",
            "ImageAutomation",
            3,
            "kind",
            "its kinds are ImageRepository, ImagePolicy, ImageUpdateAutomation",
            id="kind-the-flux-group-does-not-have",
        ),
        pytest.param(
            "images.toolkit.fluxcd.io/v1beta2",
            "ImagePolicy",
            2,
            "apiVersion",
            "images.toolkit.fluxcd.io/v1beta2 is not an API group of ImagePolicy; "
            "did you mean image.toolkit.fluxcd.io/v1beta2?",
            id="group-with-a-letter-too-many",
        ),
        pytest.param(
            "source.toolkit.fluxcd.io/v1",
            "ImageRepository",
            2,
            "apiVersion",
            "did you mean image.toolkit.fluxcd.io/v1?",
            id="our-kind-in-another-flux-group",
        ),
        pytest.param(
            "image.toolkit.fluxcd.io/v2",
            "ImagePolicy",
            2,
            "apiVersion",
            "image.toolkit.fluxcd.io/v2 is not a version of ImagePolicy; "
            "use image.toolkit.fluxcd.io/v1",
            id="version-that-does-not-exist",
        ),
        pytest.param(
            None,
            "ImageUpdateAutomation",
            2,
            "apiVersion",
            "missing; ImageUpdateAutomation objects use image.toolkit.fluxcd.io/v1",
            id="our-kind-without-api-version",
        ),
        pytest.param(
            "helm.toolkit.fluxcd.com/v2",
            "HelmRelease",
            2,
            "apiVersion",
            "no API group 'helm.toolkit.fluxcd.com'; did you mean helm.toolkit.fluxcd.io/v2?",
            id="misspelt-group-of-a-flux-kind-we-do-not-run",
        ),
        pytest.param(
            "image.toolkit.example.io/v1",
            "ImagePolicy",
            2,
            "apiVersion",
            "did you mean image.toolkit.fluxcd.io/v1?",
            id="toolkit-group-of-another-domain",
        ),
        pytest.param(
            "v1",
            "ImagePolicy",
            2,
            "apiVersion",
            "v1 is not an API group of ImagePolicy; did you mean image.toolkit.fluxcd.io/v1?",
            id="our-kind-in-the-kubernetes-core-group",
        ),
        pytest.param(
            "apps/v1",
            "ImageRepository",
            2,
            "apiVersion",
            "did you mean image.toolkit.fluxcd.io/v1?",
            id="our-kind-in-a-kubernetes-group",
        ),
        pytest.param("v1", "secret", 3, "kind", "did you mean Secret?", id="core-secret-lowercase"),
        pytest.param("v1", "Secrets", 3, "kind", "did you mean Secret?", id="core-secret-plural"),
    ],
)
def test_a_misspelt_kind_or_group_is_an_error_with_file_line_and_a_suggestion(
    api_version: str | None, kind: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(ManifestError) as caught:
        load_text(_document(api_version, kind), file="clusters/dev/policy.yaml")
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert problem.location is not None
    assert (problem.location.file, problem.location.line) == ("clusters/dev/policy.yaml", line)
    assert problem.location.field == field
    assert message in problem.detail
    assert str(problem).startswith(f"clusters/dev/policy.yaml:{line}: {field}: ")
    assert f"{field}: {field}" not in str(problem)


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        pytest.param("apps/v1", "Deployment", id="deployment"),
        pytest.param("v1", "ConfigMap", id="config-map"),
        pytest.param("kustomize.config.k8s.io/v1beta1", "Kustomization", id="kustomization-yaml"),
        pytest.param("helm.toolkit.fluxcd.io/v2", "HelmRelease", id="flux-helm-release"),
        pytest.param("source.toolkit.fluxcd.io/v1", "HelmRepository", id="flux-helm-repository"),
        pytest.param("notification.toolkit.fluxcd.io/v1beta3", "Alert", id="flux-alert"),
        pytest.param("policy.sigstore.dev/v1beta1", "ImagePolicy", id="same-name-other-vendor"),
        pytest.param("fluxcd.controlplane.io/v1", "FluxInstance", id="flux-operator"),
        pytest.param("bitnami.com/v1alpha1", "SealedSecret", id="sealed-secret"),
    ],
)
def test_other_objects_are_skipped_quietly(api_version: str, kind: str) -> None:
    result = load_text(_document(api_version, kind), file="k.yaml")
    assert result.objects == []
    assert result.skipped == {kind: 1}


def test_a_kustomization_yaml_without_api_version_or_kind_is_skipped() -> None:
    result = load_text("resources:\n  - deployment.yaml\n", file="kustomization.yaml")
    assert result.skipped == {"(no kind)": 1}


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        pytest.param("image.toolkit.fluxcd.io/v1", "ImagePolicy", id="image-v1"),
        pytest.param("image.toolkit.fluxcd.io/v1beta1", "ImageRepository", id="image-v1beta1"),
        pytest.param("source.toolkit.fluxcd.io/v1beta2", "GitRepository", id="source-v1beta2"),
        pytest.param("v1", "Secret", id="secret"),
    ],
)
def test_our_kinds_in_a_version_we_read_pass(api_version: str, kind: str) -> None:
    assert check_kind(api_version, kind, KNOWN) is None


@pytest.mark.parametrize(
    ("left", "right", "distance"),
    [
        pytest.param("ImagePolicy", "ImagePolicy", 0, id="same"),
        pytest.param("ImagePolcy", "ImagePolicy", 1, id="deletion"),
        pytest.param("Reciever", "Receiver", 1, id="adjacent-swap"),
        pytest.param("kitten", "sitting", 3, id="classic"),
        pytest.param("", "abc", 3, id="empty"),
    ],
)
def test_edit_distance_counts_swaps_as_one_edit(left: str, right: str, distance: int) -> None:
    assert edit_distance(left, right) == distance


def test_a_null_api_version_reads_as_missing() -> None:
    text = "apiVersion: null\nkind: ImagePolicy\nmetadata:\n  name: app\n"
    with pytest.raises(ManifestError) as caught:
        load_text(text, file="p.yaml")
    assert str(caught.value.problems[0]).startswith("p.yaml:1: apiVersion: missing; ImagePolicy")
