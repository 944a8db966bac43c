"""Suspension is decided in one place, the engine: a reconciler always reconciles.

A run-time resume of an object the manifest suspends really runs it (Flux's
``flux resume`` on an object whose manifest says ``suspend: true``), and a run-time suspend
of an active object leaves its stored status alone.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from reconcile_support import PASSWORD, USER

from servers.registry import RunningRegistry
from tagpilot.cli.app import build_app
from tagpilot.ports import ObjectKey

KEY = ObjectKey("ImageRepository", "flux-system", "blaster-dev-repo")


def _write_manifests(directory: Path, host: str, *, suspend: bool) -> Path:
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = json.dumps({"auths": {host: {"auth": auth}}})
    directory.mkdir()
    (directory / "repo.yaml").write_text(
        f"""\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: blaster-dev-repo
  namespace: flux-system
spec:
  image: {host}/games/blaster
  interval: 1m
  suspend: {str(suspend).lower()}
  secretRef:
    name: blaster-dev-registry
---
apiVersion: v1
kind: Secret
metadata:
  name: blaster-dev-registry
  namespace: flux-system
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{config}'
"""
    )
    return directory


@pytest.mark.parametrize(
    ("manifest_suspend", "run_time_suspend", "runs"),
    [
        pytest.param(False, None, True, id="active-in-the-manifest-runs"),
        pytest.param(True, None, False, id="suspended-in-the-manifest-waits"),
        pytest.param(True, False, True, id="resumed-at-run-time-runs-despite-the-manifest"),
        pytest.param(False, True, False, id="suspended-at-run-time-waits"),
    ],
)
async def test_the_engine_alone_decides_whether_an_object_runs(
    tmp_path: Path,
    blaster_registry: RunningRegistry,
    manifest_suspend: bool,
    run_time_suspend: bool | None,
    runs: bool,
) -> None:
    manifests = _write_manifests(tmp_path / "m", blaster_registry.host, suspend=manifest_suspend)
    app = build_app([manifests], state=tmp_path / "state" / "state.db")
    try:
        if run_time_suspend is not None:
            app.engine.set_suspended(KEY, run_time_suspend)
        outcome = await app.engine.reconcile(KEY)
        stored = app.store.get_status(KEY)
    finally:
        await app.aclose()
    assert outcome.suspended is not runs
    assert outcome.ready is runs, outcome.document
    if runs:
        assert stored is not None and stored["lastScanResult"]["tagCount"] == 4
    else:
        assert stored is None
