"""Shared helpers of the SOPS adapter tests: age keys made by the real ``age-keygen`` and
the type of the real ``sops`` runner fixture (see ``conftest.py``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tagpilot.adapters.sops import AgeIdentities, load_identity_file

__all__ = ["TESTDATA", "AgeKey", "SopsRunner", "make_key", "tool"]

TESTDATA = Path(__file__).parent / "testdata"


@dataclass(frozen=True)
class AgeKey:
    """An age identity file and its recipient."""

    path: Path
    recipient: str

    def identities(self) -> AgeIdentities:
        """Parse the identity file with tagpilot."""
        return load_identity_file(self.path)


def tool(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (make setup installs it)", pytrace=False)
    return found


def make_key(directory: Path, name: str) -> AgeKey:
    path = directory / f"{name}.txt"
    subprocess.run([tool("age-keygen"), "-o", str(path)], check=True, capture_output=True)
    recipient = subprocess.run(
        [tool("age-keygen"), "-y", str(path)], check=True, capture_output=True, text=True
    ).stdout.strip()
    return AgeKey(path, recipient)


SopsRunner = Callable[..., subprocess.CompletedProcess[bytes]]
