"""The control plane's opt-in audit log: every request, attributed to the identity that made it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .build import binaries
from .controlplane import ControlPlane, run_control_plane


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with run_control_plane(binaries(), tmp_path_factory.mktemp("audited"), audit=True) as plane:
        yield plane


def _requests(log: Path, user: str, verb: str) -> list[Any]:
    """The completed ``verb`` requests of ``user``; waits briefly, as events follow responses."""
    deadline = time.monotonic() + 5
    while True:
        events = [json.loads(line) for line in log.read_text().splitlines()]
        found = [
            event
            for event in events
            if event["stage"] == "ResponseComplete"
            and event["user"]["username"] == user
            and event["verb"] == verb
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_the_session_control_plane_keeps_no_audit_log(control_plane: ControlPlane) -> None:
    assert control_plane.audit_log is None
    assert not (control_plane.directory / "audit.log").exists()


def test_an_audited_control_plane_logs_each_request_under_its_user(audited: ControlPlane) -> None:
    reader = audited.identity("config-reader", ("system:masters",))
    audited.kubectl("get", "configmaps", "-n", "default", "--output=name", identity=reader)
    assert audited.audit_log is not None
    lists = _requests(audited.audit_log, "config-reader", "list")
    assert [event["objectRef"] for event in lists] == [
        {"resource": "configmaps", "namespace": "default", "apiVersion": "v1"}
    ]


def test_the_audit_log_keeps_metadata_only(audited: ControlPlane) -> None:
    audited.kubectl("create", "configmap", "secret-looking", "--from-literal=token=hunter2")
    assert audited.audit_log is not None
    assert _requests(audited.audit_log, "admin", "create")  # the request is in the log...
    assert "hunter2" not in audited.audit_log.read_text()  # ...but not what it carried
