"""The control plane never outlives the process that started it, even one killed with SIGKILL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .build import ControlPlaneBinaries

ROOT = Path(__file__).resolve().parents[2]

# Starts a control plane, prints the PIDs of etcd and kube-apiserver, then waits to be killed.
STARTER = """\
import json, sys, time
from pathlib import Path
from tests.kube.build import binaries
from tests.kube.controlplane import run_control_plane
with run_control_plane(binaries(), Path(sys.argv[1])) as plane:
    print(json.dumps([process.pid for process in plane.processes]), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that may never reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_a_killed_starter_takes_etcd_and_kube_apiserver_with_it(
    kube_binaries: ControlPlaneBinaries, tmp_path: Path
) -> None:
    errors = tmp_path / "starter.err"
    with errors.open("w") as stderr:
        starter = subprocess.Popen(
            [sys.executable, "-c", STARTER, str(tmp_path)],
            cwd=ROOT,
            # the repository for tests.kube, tests/ for the shared test servers (servers.pki)
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert starter.stdout is not None
        line = starter.stdout.readline()
        assert line, errors.read_text()
        pids = json.loads(line)
        assert len(pids) == 2
        assert all(_alive(pid) for pid in pids)
    finally:
        starter.kill()
        starter.wait()
        if starter.stdout is not None:
            starter.stdout.close()

    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)]
