"""Golden directory tests: ``update_tree`` turns each ``original/`` tree into ``expected/``.

Every case lives in ``tests/testdata/setters/<case>/``; the setter table is
``policies.json`` there, and an optional ``case.json`` lists the unknown markers
(``[file, line, setter]``, with ``hints``: ``[file, line, hint prefix]``), the comments that
look like markers but update nothing (``malformed``: ``[file, line, problem prefix]``) and
problem files (``[file, message prefix]``) the run must report.  Trees are compared byte
for byte, file names included.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tagpilot.adapters.files import update_tree
from tagpilot.core.changes import Change, ObjectIdentity
from tagpilot.core.setters import PolicyTarget, SetterTable

SETTERS_DATA = Path(__file__).resolve().parents[2] / "testdata" / "setters"
CASES = sorted(path.name for path in SETTERS_DATA.iterdir() if path.is_dir())


def load_table() -> SetterTable:
    """The shared setter table of the golden cases."""
    raw = json.loads((SETTERS_DATA / "policies.json").read_text())
    return {key: PolicyTarget(**target) for key, target in raw.items()}


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, with its exact bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def case_expectations(case: str) -> dict[str, list[list[object]]]:
    """The case's ``case.json`` (empty when absent)."""
    path = SETTERS_DATA / case / "case.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def worktree(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A scratch copy of the case's ``original`` tree."""
    target = tmp_path / "tree"
    shutil.copytree(SETTERS_DATA / request.param / "original", target, symlinks=True)
    return target


@pytest.mark.parametrize("worktree", [pytest.param(c, id=c) for c in CASES], indirect=True)
def test_update_tree_turns_original_into_expected(
    worktree: Path, request: pytest.FixtureRequest
) -> None:
    case = request.node.callspec.id
    update_tree(worktree, load_table())
    assert tree_bytes(worktree) == tree_bytes(SETTERS_DATA / case / "expected")


@pytest.mark.parametrize("worktree", [pytest.param(c, id=c) for c in CASES], indirect=True)
def test_update_tree_reports_unknown_and_malformed_markers_and_problem_files(
    worktree: Path, request: pytest.FixtureRequest
) -> None:
    expected = case_expectations(request.node.callspec.id)
    result = update_tree(worktree, load_table(), dry_run=True)
    unknown = [[m.file, m.line, m.setter] for m in result.unknown]
    assert unknown == expected.get("unknown", [])
    problems = [[p.file, p.message] for p in result.problems]
    assert [file for file, _ in problems] == [file for file, _ in expected.get("problems", [])]
    for (_, message), (_, prefix) in zip(problems, expected.get("problems", []), strict=True):
        assert str(message).startswith(str(prefix))
    hints = [[m.file, m.line, m.hint] for m in result.unknown if m.hint]
    _assert_prefixed(hints, expected.get("hints", []))
    malformed = [[m.file, m.line, m.problem] for m in result.malformed]
    _assert_prefixed(malformed, expected.get("malformed", []))


def _assert_prefixed(found: list[list[object]], expected: list[list[object]]) -> None:
    """Same files and lines, and each message starts with the expected prefix."""
    assert [row[:2] for row in found] == [row[:2] for row in expected]
    for row, wanted in zip(found, expected, strict=True):
        assert str(row[2]).startswith(str(wanted[2])), row


@pytest.mark.parametrize("case", [pytest.param(c, id=c) for c in CASES])
def test_a_second_run_over_expected_changes_nothing(case: str, tmp_path: Path) -> None:
    target = tmp_path / "tree"
    shutil.copytree(SETTERS_DATA / case / "expected", target, symlinks=True)
    result = update_tree(target, load_table())
    assert not result.changes
    assert result.diffs == {}
    assert tree_bytes(target) == tree_bytes(SETTERS_DATA / case / "expected")


def test_blaster_seed_marker_records_the_flux_change(tmp_path: Path) -> None:
    """The seeds' dev deployment: one change, under the Deployment's identity."""
    shutil.copytree(SETTERS_DATA / "blaster-seed" / "original", tmp_path, dirs_exist_ok=True)
    result = update_tree(tmp_path, load_table())
    assert result.changes.file_changes() == {
        "k8s/dev/50-app-deployment.yaml": {
            ObjectIdentity("apps/v1", "Deployment", "blaster-app", "blaster-dev"): [
                Change(
                    "registry.reids.net.au/games/blaster:dev-20251115.42",
                    "registry.reids.net.au/games/blaster:dev-20251115.51",
                    "flux-system:blaster-dev-policy",
                )
            ]
        }
    }


def test_dry_run_writes_nothing_but_returns_the_diff(tmp_path: Path) -> None:
    shutil.copytree(SETTERS_DATA / "blaster-seed" / "original", tmp_path, dirs_exist_ok=True)
    before = tree_bytes(tmp_path)
    result = update_tree(tmp_path, load_table(), dry_run=True)
    assert tree_bytes(tmp_path) == before
    diff = result.diffs["k8s/dev/50-app-deployment.yaml"]
    assert diff.startswith("--- a/k8s/dev/50-app-deployment.yaml\n+++ b/k8s/dev/")
    assert "+          image: registry.reids.net.au/games/blaster:dev-20251115.51 #" in diff
