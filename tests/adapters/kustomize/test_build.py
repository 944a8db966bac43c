"""How the build runs kubectl: the pinned binary, bounded in time, with clear errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tagpilot.adapters.kustomize import BuildError, BuildRequest, build, kubectl_path
from tagpilot.api.kustomization import KustomizationSpec

SPEC = KustomizationSpec.model_validate(
    {"interval": "1m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "s"}}
)


def _source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    root.mkdir()
    (root / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    return root


def test_the_kubectl_is_the_pinned_one_with_kustomize_v5_8_1() -> None:
    version = subprocess.run(
        [str(kubectl_path()), "version", "--client"], capture_output=True, text=True, check=True
    ).stdout
    assert "Kustomize Version: v5.8.1" in version


def test_a_missing_kubectl_is_a_clear_build_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setattr("sysconfig.get_path", lambda *_: str(tmp_path / "scripts"))
    with pytest.raises(BuildError, match="kubectl is not installed next to the Python interpreter"):
        build(BuildRequest(_source(tmp_path), ".", SPEC))


def test_a_build_past_its_timeout_fails_instead_of_hanging(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(_source(tmp_path), ".", SPEC), timeout=0.001)
    assert caught.value.message == "kustomize build failed: timed out after 0.001s"


def test_a_file_that_is_not_kubernetes_yaml_is_named(tmp_path: Path) -> None:
    root = _source(tmp_path)
    (root / "list.yaml").write_text("- just\n- a list\n")
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(root, ".", SPEC))
    assert caught.value.message == "failed to decode Kubernetes YAML from list.yaml: not an object"


def test_a_leading_slash_in_the_path_means_the_source_root_as_in_flux(tmp_path: Path) -> None:
    root = _source(tmp_path)
    (root / "apps").mkdir()
    (root / "cm.yaml").rename(root / "apps" / "cm.yaml")
    assert [o["metadata"]["name"] for o in build(BuildRequest(root, "/apps", SPEC))] == ["c"]


def test_a_file_of_a_kustomized_subdirectory_is_not_decoded_by_the_generator(
    tmp_path: Path,
) -> None:
    root = _source(tmp_path)
    (root / "chart").mkdir()
    (root / "chart" / "kustomization.yaml").write_text("resources: []\n")
    (root / "chart" / "values.yaml").write_text("- a list, not an object\n")
    assert [o["metadata"]["name"] for o in build(BuildRequest(root, ".", SPEC))] == ["c"]
