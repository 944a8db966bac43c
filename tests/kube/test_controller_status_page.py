"""``tagpilot controller`` serves the status page on its HTTP address, with the statuses
the cluster holds: a policy the controller refuses (Stalled, written only to the API
server) shows as not ready with its reason, and an unreachable registry's failure too.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .controller_support import apply, controller, install_crds, wait_for
from .controlplane import ControlPlane

MANIFESTS = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: repo}
spec: {image: 127.0.0.1:1/nothing/repo, interval: 1h}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: bad}
spec:
  imageRepositoryRef: {name: repo}
  policy: {semver: {range: 'not a range'}}
"""


@pytest.fixture(autouse=True)
def crds(control_plane: ControlPlane) -> None:
    install_crds(control_plane)


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return int(response.status), response.read().decode()


def _rows(url: str) -> dict[str, dict[str, Any]]:
    _, body = _get(url + "/api/v1/status/overview")
    return {f"{r['kind']}/{r['name']}": r for r in json.loads(body)["items"]}


def test_the_controller_serves_the_status_page_with_the_clusters_statuses(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    apply(control_plane, MANIFESTS, namespace=namespace)
    with controller(control_plane.admin.kubeconfig, tmp_path, namespace=namespace) as ctl:
        rows = wait_for(
            "both objects not ready on the status page",
            lambda: (r := _rows(ctl.url))
            and all(r.get(k, {}).get("ready") == "False" for k in ("ImagePolicy/bad",
                                                                   "ImageRepository/repo"))
            and r,
        )  # fmt: skip
        assert rows["ImagePolicy/bad"]["reason"] == "InvalidPolicy"
        assert "not a range" in rows["ImagePolicy/bad"]["message"]
        status, page = _get(ctl.url + "/status?notReady=1")
        assert status == 200
        assert f"{namespace}/bad" in page and f"{namespace}/repo" in page
        assert page.count("ready-false") == 2
