"""The Dockerfile says what the Deployment expects, and its build steps work as written.

The image cannot be built here (base images come from a registry that is not reachable),
so this checks what CI can: the instructions (two stages, the fixed non-root user the
Deployment runs as, the entrypoint and command, the port, no download-and-run), and the
same build steps run in a venv: build tagpilot's wheel, install it into a fresh
environment, run the installed ``tagpilot``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tagpilot.api.install import (
    HTTP_PORT,
    RUN_AS_USER,
    STATE_DIR,
    InstallOptions,
    install_documents,
)

ROOT = Path(__file__).parent.parent
Instruction = tuple[str, str]


def instructions() -> list[Instruction]:
    """``(INSTRUCTION, arguments)`` pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in logical.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def _all(keyword: str) -> list[str]:
    return [rest for name, rest in instructions() if name == keyword]


def _deployment_security() -> dict[str, object]:
    deployment = next(d for d in install_documents(InstallOptions()) if d["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]["securityContext"]  # type: ignore[index,return-value]


def test_there_are_two_stages_and_the_second_takes_only_the_wheels_from_the_first() -> None:
    stages = _all("FROM")
    assert len(stages) == 2
    assert stages[0].endswith(" AS build")
    copies = [rest for rest in _all("COPY") if rest.startswith("--from=")]
    assert copies == ["--from=build /wheels /wheels"]


def test_the_image_runs_as_the_user_the_deployment_expects() -> None:
    security = _deployment_security()
    assert security["runAsUser"] == RUN_AS_USER and security["runAsGroup"] == RUN_AS_USER
    assert _all("USER") == [f"{RUN_AS_USER}:{RUN_AS_USER}"]
    user = " ".join(_all("RUN"))
    assert f"--uid {RUN_AS_USER}" in user and f"--gid {RUN_AS_USER}" in user
    assert _all("WORKDIR")[-1] == STATE_DIR


def test_the_entrypoint_is_tagpilot_and_the_default_command_is_the_controller() -> None:
    assert [json.loads(rest) for rest in _all("ENTRYPOINT")] == [["tagpilot"]]
    assert [json.loads(rest) for rest in _all("CMD")] == [["controller"]]
    assert _all("EXPOSE") == [str(HTTP_PORT)]


@pytest.mark.parametrize(
    "forbidden",
    [
        pytest.param(r"\bcurl\b", id="no curl"),
        pytest.param(r"\bwget\b", id="no wget"),
        pytest.param(r"\|\s*(ba)?sh\b", id="nothing piped into a shell"),
        pytest.param(r"--trusted-host|--extra-index-url", id="no other package index"),
        pytest.param(r"\bchmod\s+777\b", id="no world-writable directory"),
    ],
)
def test_no_build_step_downloads_and_runs_something(forbidden: str) -> None:
    for rest in _all("RUN"):
        assert not re.search(forbidden, rest), rest


def test_the_runtime_stage_installs_offline_from_the_built_wheels() -> None:
    installs = [rest for rest in _all("RUN") if "pip install" in rest]
    assert len(installs) == 1
    assert "--no-index" in installs[0] and "--find-links=/wheels" in installs[0]


def test_the_build_steps_work_in_a_venv(tmp_path: Path) -> None:
    """`pip wheel .` makes tagpilot's wheel; installed elsewhere, its `tagpilot` runs."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "--wheel-dir",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("tagpilot-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The dependencies come from the test environment (no network here); tagpilot itself
    # only from the wheel: the test environment's editable tagpilot is not visible.
    purelib = sysconfig.get_paths()["purelib"]
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "deps.pth").write_text(purelib + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path)}
    located = subprocess.run(
        [str(python), "-c", "import tagpilot; print(tagpilot.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    assert located.startswith(str(venv)), located
    exported = subprocess.run(
        [str(venv / "bin" / "tagpilot"), "install", "--export"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    assert "kind: CustomResourceDefinition" in exported
    assert f"runAsUser: {RUN_AS_USER}" in exported
