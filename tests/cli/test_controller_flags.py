"""``tagpilot controller``'s flags: bad values are one line naming the flag, exit 2, before
any connection is made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _controller(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tagpilot", "controller", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_help_lists_the_flux_flags() -> None:
    result = _controller("--help")
    assert result.returncode == 0
    for flag in ("--kubeconfig", "--watch-all-namespaces", "--watch-label-selector",
                 "--enable-leader-election", "--concurrent", "--http-address",
                 "--min-retry-delay", "--max-retry-delay",
                 "--leader-election-lease-duration"):  # fmt: skip
        assert flag in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["--leader-election-lease-duration=10", "--leader-election-renew-deadline=20"],
            "--leader-election-renew-deadline (20) < --leader-election-lease-duration (10)",
            id="a-renew-deadline-longer-than-the-lease",
        ),
        pytest.param(["--min-retry-delay=soon"], "--min-retry-delay 'soon': must be a duration",
                     id="a-retry-delay-that-is-no-duration"),
        pytest.param(["--min-retry-delay=1h", "--max-retry-delay=1m"],
                     "--min-retry-delay 1h must be positive and at most --max-retry-delay 1m",
                     id="a-minimum-above-the-maximum"),
        pytest.param(["--controllers=image,helm"],
                     "--controllers 'image,helm': unknown helm; choose from image, kustomize, "
                     "source",
                     id="an-unknown-controller"),
        pytest.param(["--http-address=nowhere"], "--http-address 'nowhere': expected HOST:PORT",
                     id="an-address-without-a-port"),
    ],
)  # fmt: skip
def test_bad_flags_are_refused_with_the_flag_named(args: list[str], expected: str) -> None:
    result = _controller(*args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_kubeconfig_with_exec_credentials_is_refused_by_name(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {exec: {command: aws, apiVersion: "
        "client.authentication.k8s.io/v1}}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    result = _controller(f"--kubeconfig={config}")
    assert result.returncode in (1, 2), result.stderr
    assert "exec" in result.stderr and "Traceback" not in result.stderr
