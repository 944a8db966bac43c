"""How the control plane's binaries are built from Go modules, and that a cached run is free."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .build import (
    BUILD_COMMAND,
    ETCD_VERSION,
    K8S_VERSION,
    apiserver_go_mod,
    apiserver_ldflags,
    binaries,
    staging_modules,
)
from .controlplane import ControlPlaneError, run_control_plane

ROOT = Path(__file__).resolve().parents[2]

# The shape of k8s.io/kubernetes's go.mod: staging modules required at v0.0.0, replaced locally.
KUBERNETES_GO_MOD = """\
module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
\tgo.etcd.io/etcd/client/v3 v3.7.0
\tk8s.io/api v0.0.0
\tk8s.io/streaming v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming
\tk8s.io/streaming => ./staging/src/k8s.io/streaming
)
"""


def test_the_staging_modules_are_read_from_kubernetes_own_go_mod() -> None:
    assert staging_modules(KUBERNETES_GO_MOD) == [
        "k8s.io/api",
        "k8s.io/cri-streaming",
        "k8s.io/streaming",
    ]


def test_the_helper_module_replaces_every_staging_module_by_its_published_tag() -> None:
    go_mod = apiserver_go_mod("v1.37.2", KUBERNETES_GO_MOD)
    assert "require k8s.io/kubernetes v1.37.2\n" in go_mod
    assert "\tk8s.io/api => k8s.io/api v0.37.2\n" in go_mod
    assert "\tk8s.io/cri-streaming => k8s.io/cri-streaming v0.37.2\n" in go_mod
    assert "\tk8s.io/streaming => k8s.io/streaming v0.37.2\n" in go_mod
    assert "\ngodebug default=go1.26\n" in go_mod
    assert "\ngo 1.26.0\n" in go_mod


@pytest.mark.parametrize(
    "package",
    [
        pytest.param("k8s.io/component-base/version", id="what-the-server-reports"),
        pytest.param("k8s.io/client-go/pkg/version", id="what-its-clients-report"),
    ],
)
def test_the_version_flags_stamp_the_release_into_both_version_packages(package: str) -> None:
    flags = apiserver_ldflags("v1.37.2", "2026-01-02T03:04:05Z")
    for stamp in ("gitVersion=v1.37.2", "gitMajor=1", "gitMinor=37", "gitTreeState=clean"):
        assert f"-X {package}.{stamp}" in flags


def _run_build(cache: Path, path: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PATH": path}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "tests.kube.build"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, time.monotonic() - started


def test_a_cached_build_does_nothing_and_costs_nothing(tmp_path: Path) -> None:
    slot = tmp_path / "tagpilot" / "kube" / f"{K8S_VERSION}-{ETCD_VERSION}"
    slot.mkdir(parents=True)
    for name in ("kube-apiserver", "etcd"):
        (slot / name).write_text("built\n")

    # No `go` on PATH: a cached run must not need it.
    result, seconds = _run_build(tmp_path, path=str(tmp_path / "no-go-here"))

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert seconds < 5


def test_a_failed_build_says_what_failed(tmp_path: Path) -> None:
    result, _ = _run_build(tmp_path, path=str(tmp_path / "no-go-here"))

    assert result.returncode == 1
    assert f"building etcd {ETCD_VERSION} (first run only" in result.stdout
    assert "build failed: resolving the modules of go.etcd.io/etcd/server/v3" in result.stderr
    assert "the `go` command is not installed" in result.stderr


def test_a_version_the_module_proxy_does_not_serve_fails_naming_the_step(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "tests.kube.build", "--etcd", "v3.99.0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1
    assert "go.etcd.io/etcd/server/v3@v3.99.0" in result.stderr
    assert "build failed: resolving the modules of go.etcd.io/etcd/server/v3 v3.99.0" in (
        result.stderr
    )
    assert not (tmp_path / "tagpilot" / "kube" / f"{K8S_VERSION}-v3.99.0" / "etcd").exists()


def test_missing_binaries_are_an_error_naming_the_build_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with (
        pytest.raises(ControlPlaneError, match="not built yet") as raised,
        run_control_plane(binaries(), tmp_path / "plane"),
    ):
        pass
    assert BUILD_COMMAND in str(raised.value)
