"""The install's RBAC, proven: the controller runs with the ServiceAccount's own token.

``tagpilot install --export`` is applied to the real API server, a token is requested for
its ServiceAccount (``kubectl create token``), and the controller runs with nothing else.
It must watch, write statuses and events, take its Lease and stay free of ``Forbidden``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from .controller_support import (
    apply,
    controller,
    kubectl_json,
    wait_for,
)
from .controlplane import ControlPlane
from .install_support import install, service_account_identity

POLICY = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: app
  labels: {rbac-test: "%(label)s"}
spec: {image: 127.0.0.1:1/app, interval: 1h, secretRef: {name: pull}}
---
apiVersion: v1
kind: Secret
metadata: {name: pull}
type: kubernetes.io/dockerconfigjson
stringData: {.dockerconfigjson: '{"auths": {}}'}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: app
  labels: {rbac-test: "%(label)s"}
spec:
  imageRepositoryRef: {name: app}
  policy: {semver: {range: "not a range"}}
"""


def test_the_controller_works_with_exactly_the_installed_service_account_rights(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    system = f"tagpilot-system-{secrets.token_hex(3)}"
    install(control_plane, system)
    kubeconfig = service_account_identity(control_plane, system, tmp_path).kubeconfig
    who = control_plane.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}",
                                "--kubeconfig", str(kubeconfig))  # fmt: skip
    assert who.stdout == f"system:serviceaccount:{system}:tagpilot"
    apply(control_plane, POLICY % {"label": namespace}, namespace=namespace)

    args = ["--enable-leader-election", f"--watch-label-selector=rbac-test={namespace}"]
    with controller(kubeconfig, tmp_path / "ctl", namespace=system, args=args,
                    all_namespaces=True) as ctl:  # fmt: skip

        def stalled() -> object:
            status = kubectl_json(control_plane, "imagepolicy", "app", "-n", namespace).get(
                "status"
            )
            conditions = (status or {}).get("conditions") or []
            return {c["type"]: c["status"] for c in conditions}.get("Stalled")

        assert wait_for("the policy's status, written with the ServiceAccount", stalled) == "True"
        wait_for("the repository's status", lambda: kubectl_json(
            control_plane, "imagerepository", "app", "-n", namespace).get("status"))  # fmt: skip
        events = kubectl_json(control_plane, "events", "-n", namespace)["items"]
        assert {e["reason"] for e in events} >= {"InvalidPolicy"}
        lease = kubectl_json(control_plane, "leases", "-n", system)["items"]
        assert [item["spec"]["holderIdentity"] for item in lease] != [""]
        assert "Forbidden" not in ctl.text(), ctl.text()[-3000:]
        assert "forbidden" not in ctl.text().lower()
