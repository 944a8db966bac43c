"""CI runs the test suite and then the lint gate (ruff, mypy --strict, import-linter)."""

from __future__ import annotations

from pathlib import Path

CI = Path(__file__).resolve().parents[1] / ".ci" / "run"


def test_ci_runs_make_test_then_make_lint_and_stops_at_the_first_failure() -> None:
    lines = [line.strip() for line in CI.read_text().splitlines()]
    assert "set -euo pipefail" in lines
    commands = [line for line in lines if line.startswith("make ")]
    assert commands == ["make test", "make lint"]
