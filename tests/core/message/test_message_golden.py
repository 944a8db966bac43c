"""Golden cases: templates from Flux docs and users, outputs reasoned from Go's semantics.

Each ``tests/testdata/templates/<case>/README.md`` says why the expected output is right.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from message_testing import AUTOMATION, changes_from_json

from tagpilot.core.message import render_commit_message

CASES = Path(__file__).resolve().parents[2] / "testdata" / "templates"


def _case_dirs() -> list[Path]:
    return sorted(path for path in CASES.iterdir() if path.is_dir())


@pytest.mark.parametrize("case", [pytest.param(d, id=d.name) for d in _case_dirs()])
def test_golden_template_renders_byte_identically(case: Path) -> None:
    values_file = case / "values.json"
    values = json.loads(values_file.read_text()) if values_file.exists() else None
    message = render_commit_message(
        (case / "template.txt").read_text(),
        automation=AUTOMATION,
        changes=changes_from_json(case / "changes.json"),
        values=values,
    )
    assert message == (case / "expected.txt").read_text()


def test_every_golden_case_explains_its_expected_output() -> None:
    assert len(_case_dirs()) >= 8
    for case in _case_dirs():
        assert (case / "README.md").read_text().strip(), case.name
