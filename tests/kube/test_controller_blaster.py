"""The seeds' Blaster flow inside a cluster: the runbook's objects applied with kubectl, a
SOPS-encrypted registry Secret decrypted into the cluster, a tag pushed to a real registry,
and ``tagpilot controller`` committing over SSH — looked at the way the runbook does, with
``kubectl get ... -o yaml``, printer columns and ``kubectl get events``.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers.git import SshServer, git
from servers.ocipush import seed
from servers.registry import RunningRegistry

from .blaster_support import apply_runbook, runbook_objects
from .controller_support import (
    apply,
    controller,
    install_crds,
    kubectl_json,
    start_controller,
    wait_for,
)
from .controlplane import ControlPlane

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adapters" / "sops"))
from e2e_support import TOKEN, USER, app_repo, write_cluster
from sops_helpers import make_key, tool

NAMESPACE = "flux-system"  # the markers in the app repository name it


@pytest.fixture
def flux_system(control_plane: ControlPlane) -> Iterator[str]:
    install_crds(control_plane)
    control_plane.kubectl("create", "namespace", NAMESPACE, check=False)
    yield NAMESPACE
    for kind in (
        "imageupdateautomations",
        "imagepolicies",
        "imagerepositories",
        "gitrepositories",
        "secrets",
    ):
        control_plane.kubectl("delete", kind, "--all", "-n", NAMESPACE, check=False)


def _sops_round_trip(plane: ControlPlane, secret_file: Path, tmp: Path) -> None:
    """The runbook's way: the Secret is SOPS-encrypted in git and decrypted into the cluster."""
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    (tmp / "age").mkdir()
    key = make_key(tmp / "age", "cluster")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env.update(HOME=str(tmp), SOPS_AGE_KEY_FILE=str(key.path))
    sops = [tool("sops"), "--disable-version-check"]
    subprocess.run(
        [
            *sops,
            "encrypt",
            "--age",
            key.recipient,
            "--encrypted-regex",
            "^(data|stringData)$",
            "--in-place",
            str(secret_file),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    assert "ENC[" in secret_file.read_text()
    plain = subprocess.run(
        [*sops, "decrypt", str(secret_file)], env=env, check=True, capture_output=True, text=True
    ).stdout
    apply(plane, plain)


def _policy(plane: ControlPlane) -> dict[str, Any]:
    result: dict[str, Any] = kubectl_json(
        plane, "imagepolicy", "blaster-dev-policy", "-n", NAMESPACE
    )
    return result


def _latest_tag(plane: ControlPlane) -> str | None:
    return ((_policy(plane).get("status") or {}).get("latestRef") or {}).get("tag")


def test_the_runbook_flow_commits_the_new_dev_tag_and_shows_it_the_flux_way(
    control_plane: ControlPlane,
    flux_system: str,
    registry: RunningRegistry,
    sshd: SshServer,
    tmp_path: Path,
) -> None:
    bare = app_repo(tmp_path, registry)
    identity = {"identity": sshd.client_key.decode(), "known_hosts": sshd.known_hosts.decode()}
    cluster = write_cluster(tmp_path, registry, sshd.url(bare), identity)
    _sops_round_trip(
        control_plane, cluster / "flux-system/secrets/blaster-dev-registry.yaml", tmp_path
    )
    apply(control_plane, (cluster / "flux-system/secrets/flux-ssh-auth.yaml").read_text())
    for text in runbook_objects(tmp_path):
        apply(control_plane, text)
    before = git("rev-parse", "develop", cwd=bare)

    with controller(control_plane.admin.kubeconfig, tmp_path / "ctl", namespace=NAMESPACE) as ctl:
        wait_for("the policy's latestRef", lambda: _latest_tag(control_plane) == "dev-20251115.51")
        pushed = wait_for(
            "the automation's commit on develop",
            lambda: (head := git("rev-parse", "develop", cwd=bare)) != before and head,
        )
        image = f"{registry.host}/games/blaster"
        message = git("log", "-1", "--format=%B", "develop", cwd=bare).strip()
        assert message == f"{image}:dev-20251115.42 -> {image}:dev-20251115.51\n [skip ci]"

        policy = _policy(control_plane)
        assert policy["status"]["latestRef"] == {"name": image, "tag": "dev-20251115.51"}
        assert policy["status"]["observedGeneration"] == policy["metadata"]["generation"]
        ready = {c["type"]: c for c in policy["status"]["conditions"]}["Ready"]
        assert (ready["status"], ready["reason"]) == ("True", "Succeeded")

        update = wait_for(
            "the automation's status",
            lambda: (
                kubectl_json(
                    control_plane,
                    "imageupdateautomation",
                    "blaster-dev-automation",
                    "-n",
                    NAMESPACE,
                ).get("status")
                or {}
            ).get("lastPushCommit"),
        )
        assert update == pushed

        table = control_plane.kubectl(
            "get", "imagerepositories,imagepolicies,imageupdateautomations", "-A"
        ).stdout
        assert "blaster-dev-policy" in table and "dev-20251115.51" in table, table

        events = kubectl_json(control_plane, "events", "-n", NAMESPACE)["items"]
        reasons = {(e["involvedObject"]["kind"], e["type"], e["reason"]) for e in events}
        for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation"):
            assert (kind, "Normal", "Succeeded") in reasons, reasons
        pushes = [e for e in events if e["involvedObject"]["kind"] == "ImageUpdateAutomation"]
        assert any(f"pushed commit '{pushed[:7]}'" in e["message"] for e in pushes), pushes
        assert {e["source"]["component"] for e in events} == {"tagpilot"}
        assert all(TOKEN not in json.dumps(e) for e in events)

        # A new tag and `flux reconcile image repository` (the annotation it writes).
        seed(registry.url, "games/blaster", ["dev-20251116.3"], user=USER, password=TOKEN)
        control_plane.kubectl(
            "annotate",
            "--overwrite",
            "-n",
            NAMESPACE,
            "imagerepository",
            "blaster-dev-repo",
            "reconcile.fluxcd.io/requestedAt=now-1",
        )
        wait_for("the requested scan's tag", lambda: _latest_tag(control_plane) == "dev-20251116.3")
        repository = kubectl_json(
            control_plane, "imagerepository", "blaster-dev-repo", "-n", NAMESPACE
        )
        assert repository["status"]["lastHandledReconcileAt"] == "now-1"
        wait_for(
            "the second commit",
            lambda: "dev-20251116.3" in git("log", "-1", "--format=%B", "develop", cwd=bare),
        )
        assert git("rev-parse", "develop~1", cwd=bare) == pushed, "one commit per new tag"
        assert "Traceback" not in ctl.text()


@pytest.mark.parametrize(
    "kill_when",
    [
        pytest.param("leading", id="killed-as-it-starts-working"),
        pytest.param("pushed", id="killed-right-after-its-push"),
    ],
)
def test_a_killed_leader_is_replaced_and_the_push_happens_exactly_once(
    control_plane: ControlPlane, flux_system: str, registry: RunningRegistry, sshd: SshServer,
    tmp_path: Path, kill_when: str,
) -> None:  # fmt: skip
    bare = app_repo(tmp_path, registry)
    apply_runbook(control_plane, registry, sshd, tmp_path, bare)
    before = git("rev-parse", "develop", cwd=bare)
    fast = ["--enable-leader-election", "--leader-election-lease-duration=4",
            "--leader-election-renew-deadline=3", "--leader-election-retry-period=0.5"]  # fmt: skip
    replicas = [
        start_controller(
            control_plane.admin.kubeconfig, tmp_path / name, namespace=NAMESPACE, args=fast
        )
        for name in ("a", "b")
    ]
    try:
        leader = wait_for("a leader", lambda: next(
            (r for r in replicas if "leading: reconciling" in r.text()), None))  # fmt: skip
        if kill_when == "pushed":
            wait_for("the leader's push", lambda: git("rev-parse", "develop", cwd=bare) != before)
        leader.stop(signal.SIGKILL)
        standby = next(r for r in replicas if r is not leader)
        wait_for("the standby taking over", lambda: "leading: reconciling" in standby.text(),
                 timeout=20)  # fmt: skip
        wait_for("the automation's run under the new leader", lambda: any(
            line.get("name") == "blaster-dev-automation" and line.get("ready") == "True"
            for line in standby.lines()))  # fmt: skip
        assert git("rev-parse", "develop~1", cwd=bare) == before, "exactly one new commit"
        assert "dev-20251115.51" in git("log", "-1", "--format=%B", "develop", cwd=bare)
    finally:
        for replica in replicas:
            replica.stop()
