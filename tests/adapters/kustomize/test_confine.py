"""The confinement pre-pass: a build reads only the source's own files, nothing remote.

kubectl's ``LoadRestrictionsNone`` (Flux's load rule) would read any file of the machine and
clone remote bases, so these are refused before kustomize runs, in every kustomization file
reachable from the build directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tagpilot.adapters.kustomize import BuildError, BuildRequest, build
from tagpilot.adapters.kustomize.confine import confine, is_remote
from tagpilot.api.kustomization import KustomizationSpec

SPEC = KustomizationSpec.model_validate(
    {"interval": "1m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "s"}}
)
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"


@pytest.mark.parametrize(
    ("entry", "remote"),
    [
        pytest.param("https://github.com/org/repo//base?ref=v1", True, id="https-url"),
        pytest.param("git@github.com:org/repo.git", True, id="scp-like-git"),
        pytest.param("ssh://git@example.com/org/repo", True, id="ssh-url"),
        pytest.param("github.com/org/repo/deploy", True, id="github-shorthand"),
        pytest.param("gitlab.com/org/repo", True, id="gitlab-shorthand"),
        pytest.param("git::https://example.com/repo", True, id="go-getter"),
        pytest.param("example.com/repo/base?ref=main", True, id="any-host-with-ref"),
        pytest.param("file:///etc", True, id="file-url"),
        pytest.param("../base", False, id="relative-dir"),
        pytest.param("deploy.yaml", False, id="file"),
        pytest.param("./sub/kustomization.yaml", False, id="dotted-file"),
    ],
)
def test_remote_entries_are_recognised(entry: str, remote: bool) -> None:
    assert is_remote(entry) is remote


def _kustomization(directory: Path, body: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" + body
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            "resources: [/etc/hostname]",
            "resources[0]: '/etc/hostname' is an absolute",
            id="absolute-resource",
        ),
        pytest.param(
            "components: [../../../outside]",
            "components[0]: '../../../outside' leaves",
            id="component-escape",
        ),
        pytest.param(
            "secretGenerator: [{name: s, files: [key=../../../etc/passwd]}]",
            "secretGenerator[0].files: '../../../etc/passwd' leaves",
            id="generator-file-escape",
        ),
        pytest.param(
            "configMapGenerator: [{name: s, envs: [../../../x.env]}]",
            "configMapGenerator[0].envs: '../../../x.env' leaves",
            id="generator-env-escape",
        ),
        pytest.param(
            "patches: [{path: ../../../p.yaml}]",
            "patches[0].path: '../../../p.yaml' leaves",
            id="patch-escape",
        ),
        pytest.param(
            "crds: [../../../crd.yaml]", "crds[0]: '../../../crd.yaml' leaves", id="crd-escape"
        ),
        pytest.param(
            "resources: ['https://raw.githubusercontent.com/x/y/main/a.yaml']",
            "remote base 'https://raw.githubusercontent.com/x/y/main/a.yaml' refused",
            id="remote-file",
        ),
        pytest.param("resources: [not-there]", "resources[0]: 'not-there' not found", id="missing"),
        pytest.param("resources: [: bad", "not valid YAML", id="bad-yaml"),
    ],
)
def test_an_entry_leaving_the_source_is_refused_with_its_file_and_field(
    tmp_path: Path, body: str, message: str
) -> None:
    root = tmp_path / "src"
    _kustomization(root / "apps" / "dev", body)
    with pytest.raises(BuildError) as caught:
        confine(root, root / "apps" / "dev")
    assert caught.value.message.startswith("apps/dev/kustomization.yaml: ")
    assert message in caught.value.message
    assert str(tmp_path) not in caught.value.message


def test_a_symlink_leading_out_of_the_source_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(CM)
    root = tmp_path / "src"
    root.mkdir()
    (root / "cm.yaml").symlink_to(outside)
    with pytest.raises(BuildError, match="symlink leading outside the source root") as caught:
        build(BuildRequest(root, ".", SPEC))
    assert caught.value.message.startswith("kustomization.yaml: resources[0]: './cm.yaml'")


def test_a_symlinked_directory_out_of_the_source_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    _kustomization(elsewhere, "resources: [cm.yaml]\n")
    (elsewhere / "cm.yaml").write_text(CM)
    root = tmp_path / "src"
    _kustomization(root, "resources: [base]\n")
    os.symlink(elsewhere, root / "base")
    with pytest.raises(BuildError, match="'base' is a symlink leading outside"):
        build(BuildRequest(root, ".", SPEC))


def test_a_symlink_inside_the_source_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "real").mkdir(parents=True)
    (root / "real" / "cm.yaml").write_text(CM)
    _kustomization(root / "app", "resources: [cm.yaml]\n")
    (root / "app" / "cm.yaml").symlink_to("../real/cm.yaml")
    assert [o["metadata"]["name"] for o in build(BuildRequest(root, "app", SPEC))] == ["c"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param(
            "../elsewhere", "spec.path '../elsewhere' leaves the source root", id="escape"
        ),
        pytest.param("/etc", "kustomization path not found: /etc", id="absolute-is-in-the-source"),
        pytest.param("./nope", "kustomization path not found: ./nope", id="missing"),
    ],
)
def test_the_path_itself_must_be_a_directory_inside_the_source(
    tmp_path: Path, path: str, message: str
) -> None:
    root = tmp_path / "src"
    root.mkdir()
    with pytest.raises(BuildError, match=message):
        build(BuildRequest(root, path, SPEC))


def test_the_walk_follows_resources_and_components_and_collects_sops_candidates(
    tmp_path: Path,
) -> None:
    root = tmp_path / "src"
    _kustomization(root / "app", "resources: [../base]\ncomponents: [../comp]\n")
    _kustomization(
        root / "base",
        "secretGenerator: [{name: s, files: [cfg.json=settings.txt, k.yaml], envs: [app.env]}]\n"
        "patches: [{path: p.yaml}]\n",
    )
    for name in ("settings.txt", "k.yaml", "app.env", "p.yaml"):
        (root / "base" / name).write_text("x")
    _kustomization(root / "comp", "")
    found = confine(root, root / "app")
    assert [f.relative_to(root).as_posix() for f in found.kustomization_files] == [
        "app/kustomization.yaml",
        "base/kustomization.yaml",
        "comp/kustomization.yaml",
    ]
    assert [(s.path.name, s.format) for s in found.sops_sources] == [
        ("settings.txt", "json"),
        ("k.yaml", "yaml"),
        ("app.env", "dotenv"),
        ("p.yaml", "yaml"),
    ]


def test_a_cycle_of_kustomizations_is_walked_once(tmp_path: Path) -> None:
    root = tmp_path / "src"
    _kustomization(root / "a", "resources: [../b]\n")
    _kustomization(root / "b", "resources: [../a]\n")
    assert len(confine(root, root / "a").kustomization_files) == 2
