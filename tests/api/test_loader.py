"""Loading manifests: directories, multi-document files, skipped kinds, SOPS, and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import tagpilot.api
from tagpilot.adapters.manifests import load_paths
from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.loader import ManifestError, load_text, parse_object
from tagpilot.api.secret import Secret
from tagpilot.api.source import GitRepository


@pytest.fixture(scope="module")
def manifests(testdata: Path) -> Path:
    return testdata / "manifests"


def test_a_directory_loads_recursively_in_sorted_order(manifests: Path) -> None:
    result = load_paths([manifests / "good"])
    found = [(loaded.kind, loaded.namespace, loaded.name) for loaded in result.objects]
    assert found == [
        ("ImageRepository", "flux-system", "blaster-dev-repo"),
        ("ImagePolicy", "flux-system", "blaster-dev-policy"),
        ("ImageUpdateAutomation", "flux-system", "blaster-dev-automation"),
        ("GitRepository", "flux-system", "blaster-dev"),
        ("Kustomization", "flux-system", "blaster-dev"),
        ("GitRepository", "flux-system", "instvote"),
        ("Secret", "default", "plain-auth"),
        ("Secret", "flux-system", "blaster-dev-registry"),
    ]


def test_other_kinds_are_skipped_and_counted_per_kind(manifests: Path) -> None:
    # The one left is kustomize's own kustomization.yaml (kustomize.config.k8s.io).
    assert load_paths([manifests / "good"]).skipped == {"Kustomization": 1}


def test_the_seed_objects_keep_their_values(manifests: Path) -> None:
    objs = {loaded.name: loaded.obj for loaded in load_paths([manifests / "good"]).objects}
    policy = objs["blaster-dev-policy"]
    assert isinstance(policy, ImagePolicy)
    assert policy.api_version == "image.toolkit.fluxcd.io/v1beta2"
    assert policy.spec.filter_tags is not None
    assert policy.spec.filter_tags.pattern == "^dev-(?P<ts>[0-9]{8}\\.[0-9]+)$"
    assert policy.spec.filter_tags.extract == "$ts"
    automation = objs["blaster-dev-automation"]
    assert isinstance(automation, ImageUpdateAutomation) and automation.spec.git is not None
    assert automation.spec.git.commit.message_template is not None
    assert automation.spec.git.commit.message_template.endswith("[skip ci]")
    assert automation.spec.update.path == "./k8s/dev"
    repository = objs["blaster-dev-repo"]
    assert isinstance(repository, ImageRepository) and repository.spec.interval.seconds == 60
    source = objs["instvote"]
    assert isinstance(source, GitRepository) and source.api_version.endswith("v1beta1")


def test_sops_encrypted_documents_come_back_undecrypted_with_their_raw_mapping(
    manifests: Path,
) -> None:
    (loaded,) = [item for item in load_paths([manifests / "good"]).objects if item.encrypted]
    assert loaded.obj is None
    assert (loaded.kind, loaded.namespace, loaded.name) == (
        "Secret",
        "flux-system",
        "blaster-dev-registry",
    )
    assert loaded.raw is not None and "mac" in loaded.raw["sops"]
    assert loaded.raw["data"][".dockerconfigjson"].startswith("ENC[AES256_GCM,")


def test_a_decrypted_document_is_validated_by_parse_object() -> None:
    document = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "registry"},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": '{"auths":{}}'},
    }
    secret = parse_object(document, default_namespace="flux-system")
    assert isinstance(secret, Secret) and secret.namespace == "flux-system"
    assert parse_object({"apiVersion": "v1", "kind": "ConfigMap"}) is None


def test_objects_without_namespace_take_the_default_given_to_the_loader() -> None:
    text = (
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"
        "metadata:\n  name: a\nspec:\n  image: x/y\n  interval: 1m\n"
    )
    assert load_text(text).objects[0].namespace == "default"
    assert load_text(text, default_namespace="flux-system").objects[0].namespace == "flux-system"


def test_empty_and_non_mapping_documents_are_skipped() -> None:
    result = load_text("---\n# only a comment\n---\n- a\n- b\n---\nplain scalar\n")
    assert result.objects == []
    assert result.skipped == {"(not a mapping)": 2}


@pytest.mark.parametrize(
    ("name", "line", "field", "value", "message"),
    [
        pytest.param(
            "bad-order.yaml",
            11,
            "spec.policy.numerical.order",
            "ascending",
            "invalid value 'ascending': must be one of asc, desc",
            id="enum",
        ),
        pytest.param(
            "unknown-field.yaml",
            8,
            "spec.exclusionLists",
            None,
            "unknown field 'exclusionLists' (did you mean 'exclusionList'?)",
            id="unknown-field",
        ),
        pytest.param(
            "two-policies.yaml",
            8,
            "spec.policy",
            None,
            "exactly one of semver, alphabetical, numerical must be set "
            "(found: semver, alphabetical)",
            id="policy-union",
        ),
        pytest.param(
            "syntax.yaml",
            7,
            None,
            None,
            "YAML syntax error at column 12: mapping values are not allowed here",
            id="yaml-syntax",
        ),
        pytest.param(
            "tagged-image.yaml",
            8,
            "spec.image",
            "ghcr.io/org/app:1.2.3",
            "should not include a tag; remove ':1.2.3'",
            id="image-with-tag",
        ),
        pytest.param(
            "hours-timeout.yaml",
            8,
            "spec.timeout",
            "1h",
            "(units ms, s, m (no h))",
            id="timeout-hours",
        ),
        pytest.param(
            "interval-without-always.yaml",
            12,
            "spec.interval",
            None,
            "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
            id="interval-rule",
        ),
        pytest.param(
            "old-api.yaml",
            1,
            "apiVersion",
            None,
            "image.toolkit.fluxcd.io/v1alpha2 is not a version of ImagePolicy; "
            "use image.toolkit.fluxcd.io/v1",
            id="removed-api-version",
        ),
        pytest.param(
            "update-without-strategy.yaml",
            14,
            "spec.update.strategy",
            None,
            "is required in image.toolkit.fluxcd.io/v1beta2",
            id="v1beta2-strategy",
        ),
        pytest.param(
            "bad-regex.yaml",
            9,
            "spec.filterTags.pattern",
            "^main-(?P<ts[0-9]+",
            "invalid regular expression: invalid named capture group",
            id="regex",
        ),
        pytest.param(
            "range-not-string.yaml",
            10,
            "spec.policy.semver.range",
            "5",
            "must be a string (quote it",
            id="number-for-string",
        ),
        pytest.param(
            "secret-not-base64.yaml",
            7,
            "data.token",
            None,
            "must be base64 (use stringData for plain text)",
            id="secret-base64",
        ),
        pytest.param(
            "bad-name.yaml",
            4,
            "metadata.name",
            "My_Repo",
            "must be a lowercase RFC 1123 name",
            id="object-name",
        ),
    ],
)
def test_broken_manifests_name_file_line_field_and_value(
    manifests: Path, name: str, line: int, field: str | None, value: str | None, *, message: str
) -> None:
    path = manifests / "broken" / name
    with pytest.raises(ManifestError) as caught:
        load_paths([path])
    problem = caught.value.problems[0]
    assert problem.location is not None
    assert (problem.location.file, problem.location.line) == (str(path), line)
    assert (problem.location.field, problem.location.value) == (field, value)
    assert message in problem.detail
    assert str(problem).startswith(f"{path}:{line}")


def test_all_problems_of_a_load_are_reported_together(manifests: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        load_paths([manifests / "broken"])
    error = caught.value
    assert len(error.problems) >= 14
    assert str(error).startswith(f"{len(error.problems)} problems in manifests:\n")
    assert "bad-name.yaml:7: spec.url: invalid value 'git@github.com:org/repo.git'" in str(error)


def test_duplicates_are_rejected_naming_both_places(manifests: Path) -> None:
    folder = manifests / "broken" / "duplicate"
    with pytest.raises(ManifestError) as caught:
        load_paths([folder])
    assert str(caught.value) == (
        f"{folder / 'b.yaml'}:2: duplicate ImageRepository apps/app: "
        f"already defined at {folder / 'a.yaml'}:1"
    )


def test_hidden_directories_and_other_files_are_not_read(manifests: Path) -> None:
    result = load_paths([manifests / "good"])
    assert all(".cache" not in (loaded.source.file or "") for loaded in result.objects)


def test_a_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no such file or directory"):
        load_paths([tmp_path / "absent.yaml"])


def test_json_manifests_load_too(tmp_path: Path) -> None:
    path = tmp_path / "repo.json"
    path.write_text(
        '{"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",\n'
        ' "metadata": {"name": "a"},\n "spec": {"image": "x/y", "interval": "1 m"}}\n'
    )
    with pytest.raises(ManifestError) as caught:
        load_paths([tmp_path])
    location = caught.value.problems[0].location
    assert location is not None and (location.line, location.field) == (3, "spec.interval")


def test_unquoted_timestamps_are_kept_as_text() -> None:
    text = (
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"
        "metadata: {name: a}\nspec: {image: x/y, interval: 1m}\n"
        "status:\n  lastScanResult: {tagCount: 2, scanTime: 2024-03-17T22:22:34Z}\n"
    )
    (loaded,) = load_text(text).objects
    assert isinstance(loaded.obj, ImageRepository) and loaded.obj.status is not None
    assert loaded.obj.status.last_scan_result is not None
    assert loaded.obj.status.last_scan_result.scan_time == "2024-03-17T22:22:34Z"


def test_the_api_package_exports_exactly_its_promised_names() -> None:
    functions = {"dump_yaml", "export_objects", "parse_object"}
    classes = {name for name in vars(tagpilot.api) if name[0].isupper()}
    assert sorted(tagpilot.api.__all__) == sorted(classes | functions)


def test_an_encrypted_document_without_namespace_is_in_the_loads_default() -> None:
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        "data:\n  a: ENC[x]\nsops:\n  mac: ENC[y]\n"
    )
    (loaded,) = load_text(text, default_namespace="flux-system").objects
    assert loaded.encrypted and loaded.namespace == "flux-system"
    assert loaded.raw is not None and "namespace" not in loaded.raw["metadata"]


_V1BETA1_OBJECTS = {
    "ImageRepository": "spec:\n  image: ghcr.io/org/app\n  interval: 1m\n",
    "ImagePolicy": "spec:\n  imageRepositoryRef:\n    name: app\n  policy:\n    semver:\n"
    "      range: 1.x\n",
    "ImageUpdateAutomation": "spec:\n  interval: 5m\n  sourceRef:\n    kind: GitRepository\n"
    "    name: flux-system\n  git:\n    checkout:\n      ref:\n        branch: main\n"
    "    commit:\n      author:\n        email: bot@example.com\n        name: bot\n"
    "  update:\n    path: ./clusters\n    strategy: Setters\n",
}


@pytest.mark.parametrize("kind", sorted(_V1BETA1_OBJECTS))
def test_v1beta1_image_objects_load_as_flux_served_them_keeping_their_api_version(
    kind: str,
) -> None:
    text = (
        f"apiVersion: image.toolkit.fluxcd.io/v1beta1\nkind: {kind}\nmetadata:\n  name: app\n"
        + _V1BETA1_OBJECTS[kind]
    )
    [loaded] = load_text(text, file="old.yaml").objects
    assert loaded.obj is not None and loaded.obj.kind == kind
    assert loaded.obj.api_version == "image.toolkit.fluxcd.io/v1beta1"


def test_a_v1beta1_update_block_must_name_its_strategy_as_in_v1beta2() -> None:
    text = (
        "apiVersion: image.toolkit.fluxcd.io/v1beta1\nkind: ImageUpdateAutomation\n"
        "metadata:\n  name: app\n"
        + _V1BETA1_OBJECTS["ImageUpdateAutomation"].replace("    strategy: Setters\n", "")
    )
    with pytest.raises(
        ManifestError,
        match=r"spec.update.strategy: is required in "
        r"image.toolkit.fluxcd.io/v1beta1",
    ):
        load_text(text, file="old.yaml")
