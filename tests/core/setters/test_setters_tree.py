"""The file walk around the setters: which files are visited, written, refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tagpilot.adapters.files import confine, is_manifest_name, update_tree
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.setters import PolicyTarget

TABLE = {"ns:app": PolicyTarget("registry.example.com/app", "v2")}
MARKED = 'image: registry.example.com/app:v1 # {"$imagepolicy": "ns:app"}\n'
UPDATED = 'image: registry.example.com/app:v2 # {"$imagepolicy": "ns:app"}\n'


@pytest.mark.parametrize(
    ("name", "is_manifest"),
    [
        pytest.param("a.yaml", True, id="yaml"),
        pytest.param("a.yml", True, id="yml"),
        pytest.param("Kustomization", True, id="kustomization-basename"),
        pytest.param("a.YAML", False, id="upper-case-extension"),
        pytest.param("kustomization", False, id="lower-case-basename"),
        pytest.param("a.yaml.bak", False, id="backup"),
        pytest.param("a.json", False, id="json"),
    ],
)
def test_manifest_names_follow_flux(name: str, is_manifest: bool) -> None:
    assert is_manifest_name(name) is is_manifest


def test_a_changed_file_keeps_its_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "app.yaml"
    target.write_text(MARKED)
    target.chmod(0o640)
    update_tree(tmp_path, TABLE)
    assert target.read_text() == UPDATED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.yaml"]


def test_unchanged_files_are_never_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "app.yaml"
    target.write_text(UPDATED)
    inode = target.stat().st_ino
    result = update_tree(tmp_path, TABLE)
    assert not result.changes
    assert target.stat().st_ino == inode


def test_directory_symlinks_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "app.yaml").write_text(MARKED)
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(outside, target_is_directory=True)
    result = update_tree(root, TABLE)
    assert (not result.changes, result.problems) == (True, ())
    assert (outside / "app.yaml").read_text() == MARKED


def test_a_file_symlink_leading_outside_is_reported_and_never_written(tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text(MARKED)
    root = tmp_path / "root"
    root.mkdir()
    (root / "app.yaml").symlink_to(outside)
    result = update_tree(root, TABLE)
    assert [p.file for p in result.problems] == ["app.yaml"]
    assert "outside the update path" in result.problems[0].message
    assert outside.read_text() == MARKED
    assert (root / "app.yaml").is_symlink()


def test_a_file_symlink_inside_is_updated_once_through_its_target(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text(MARKED)
    (tmp_path / "alias.yaml").symlink_to("real.yaml")
    result = update_tree(tmp_path, TABLE)
    assert result.changes.files() == ["real.yaml"]
    assert (tmp_path / "alias.yaml").is_symlink()
    assert (tmp_path / "real.yaml").read_text() == UPDATED


def test_dangling_symlinks_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    (tmp_path / "app.yaml").write_text(MARKED)
    result = update_tree(tmp_path, TABLE)
    assert (result.changes.files(), result.problems) == (["app.yaml"], ())


def test_a_file_that_is_not_utf8_is_a_problem_and_untouched(tmp_path: Path) -> None:
    data = b'image: caf\xe9 # {"$imagepolicy": "ns:app"}\n'
    (tmp_path / "latin1.yaml").write_bytes(data)
    result = update_tree(tmp_path, TABLE)
    assert [p.message for p in result.problems] == [
        "latin1.yaml: not UTF-8 (byte 10); file left untouched"
    ]
    assert (tmp_path / "latin1.yaml").read_bytes() == data


def test_the_root_may_itself_be_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "app.yaml").write_text(MARKED)
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    result = update_tree(tmp_path / "link", TABLE)
    assert result.changes.files() == ["app.yaml"]
    assert (real / "app.yaml").read_text() == UPDATED


def test_confine_accepts_paths_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "k8s" / "dev").mkdir(parents=True)
    assert confine(tmp_path, "./k8s/dev") == (tmp_path / "k8s" / "dev").resolve()
    assert confine(tmp_path, "k8s/../k8s") == (tmp_path / "k8s").resolve()
    assert confine(tmp_path, ".") == tmp_path.resolve()


@pytest.mark.parametrize(
    ("relative", "problem"),
    [
        pytest.param("../elsewhere", "leads outside the repository", id="dot-dot"),
        pytest.param("k8s/../../x", "leads outside the repository", id="dot-dot-nested"),
        pytest.param("/etc", "is absolute", id="absolute"),
        pytest.param("escape", "leads outside the repository", id="symlinked-directory"),
    ],
)
def test_confine_refuses_paths_leading_out(tmp_path: Path, relative: str, problem: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "escape").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(InvalidInputError) as raised:
        confine(root, relative)
    assert problem in str(raised.value)
    assert raised.value.location is not None
    assert raised.value.location.value == relative


def test_files_are_visited_in_lexical_order(tmp_path: Path) -> None:
    for name in ["b.yaml", "a/z.yaml", "a/b.yml", "c/Kustomization"]:
        os.makedirs(tmp_path / Path(name).parent, exist_ok=True)
        (tmp_path / name).write_text(MARKED)
    result = update_tree(tmp_path, TABLE)
    assert [r.file for r in result.changes.records] == [
        "a/b.yml",
        "a/z.yaml",
        "b.yaml",
        "c/Kustomization",
    ]
