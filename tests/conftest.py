"""Shared pytest configuration: the repository root and the test data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "testdata"


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The ``tests/testdata`` directory."""
    return TESTDATA


@pytest.fixture(scope="session")
def examples() -> Path:
    """The ``examples`` directory shipped with the repository."""
    return ROOT / "examples"
