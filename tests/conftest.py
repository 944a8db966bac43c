"""Shared pytest configuration: the repository root, the test data directory, and a
private state directory per test (``XDG_STATE_HOME``), so no tagpilot process a test
starts reads or writes the developer's own state."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "testdata"


@pytest.fixture(autouse=True)
def state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$XDG_STATE_HOME`` for this test: where tagpilot's default ``--state`` points."""
    home = tmp_path_factory.mktemp("xdg-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The ``tests/testdata`` directory."""
    return TESTDATA


@pytest.fixture(scope="session")
def examples() -> Path:
    """The ``examples`` directory shipped with the repository."""
    return ROOT / "examples"
