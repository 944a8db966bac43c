"""Shared pytest configuration: the repository root, the test data directory, and a
private state directory per test (``XDG_STATE_HOME``), so no tagpilot process a test
starts reads or writes the developer's own state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.git import silent_git_remote

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "testdata"


@pytest.fixture(scope="session", autouse=True)
def session_state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``$XDG_STATE_HOME`` for processes that module- and session-scoped fixtures start."""
    home = tmp_path_factory.mktemp("xdg-state-session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(home))
        yield home


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


@pytest.fixture
def silent_remote() -> Iterator[str]:
    """A git remote URL whose server accepts connections and never answers."""
    with silent_git_remote() as url:
        yield url
