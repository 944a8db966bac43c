"""The controller's cluster behaviour on a real API server: bad input gives Flux's
conditions without a crash loop, leader election hands over on a SIGKILL, shards split the
objects by label.  No registry or git is needed: the objects are chosen so the answers come
from the API server, the models and the policy engine.
"""

from __future__ import annotations

import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .controller_support import (
    apply,
    controller,
    install_crds,
    kubectl_json,
    start_controller,
    wait_for,
)
from .controlplane import ControlPlane

FAST_LEASE = [
    "--enable-leader-election",
    "--leader-election-lease-duration=4",
    "--leader-election-renew-deadline=3",
    "--leader-election-retry-period=0.5",
]


@pytest.fixture(autouse=True)
def crds(control_plane: ControlPlane) -> None:
    install_crds(control_plane)


def _repository(name: str, *, labels: dict[str, str] | None = None, secret: str = "") -> str:
    label_lines = "".join(f"\n    {k}: {v!r}" for k, v in {"app": "test", **(labels or {})}.items())
    secret_ref = f"\n  secretRef: {{name: {secret}}}" if secret else ""
    return f"""\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: {name}
  labels:{label_lines}
spec:
  image: 127.0.0.1:1/nothing/{name}
  interval: 1h{secret_ref}
"""


def _policy(name: str, repository: str, policy: str) -> str:
    return f"""\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {{name: {name}}}
spec:
  imageRepositoryRef: {{name: {repository}}}
  {policy}
"""


def _conditions(plane: ControlPlane, kind: str, name: str, namespace: str) -> dict[str, Any]:
    status = kubectl_json(plane, kind, name, "-n", namespace).get("status") or {}
    return {c["type"]: (c["status"], c["reason"]) for c in status.get("conditions") or []}


def _ready(plane: ControlPlane, kind: str, name: str, namespace: str) -> Any:
    return _conditions(plane, kind, name, namespace).get("Ready")


@pytest.mark.parametrize(
    ("manifests", "kind", "name", "expected"),
    [
        pytest.param(
            _repository("repo")
            + "---\n"
            + _policy("bad", "repo", "policy: {semver: {range: 'not a range'}}"),
            "imagepolicy",
            "bad",
            {"Ready": ("False", "InvalidPolicy"), "Stalled": ("True", "InvalidPolicy")},
            id="a-bad-semver-range-stalls-the-policy",
        ),
        pytest.param(
            _repository("repo")
            + "---\n"
            + _policy(
                "bad", "repo", "filterTags: {pattern: '(unclosed'}\n  policy: {alphabetical: {}}"
            ),
            "imagepolicy",
            "bad",
            {"Ready": ("False", "InvalidPolicy"), "Stalled": ("True", "InvalidPolicy")},
            id="a-bad-regex-stalls-the-policy",
        ),
        pytest.param(
            _repository("private", secret="gone"),
            "imagerepository",
            "private",
            None,
            id="a-missing-secret-fails-the-repository",
        ),
    ],
)
def test_bad_input_through_the_api_gives_flux_conditions_and_no_crash(
    control_plane: ControlPlane,
    namespace: str,
    tmp_path: Path,
    manifests: str,
    kind: str,
    name: str,
    expected: dict[str, Any] | None,
) -> None:
    apply(control_plane, manifests, namespace=namespace)
    with controller(control_plane.admin.kubeconfig, tmp_path, namespace=namespace) as ctl:
        ready = wait_for(
            f"{kind} {name} Ready False",
            lambda: (r := _ready(control_plane, kind, name, namespace)) and r[0] == "False" and r,
        )
        if expected is not None:
            assert _conditions(control_plane, kind, name, namespace) == expected
        else:
            assert ready[1] in {"AuthenticationFailed", "ReconciliationFailed", "Failure"}, ready
            message = kubectl_json(control_plane, kind, name, "-n", namespace)["status"][
                "conditions"
            ]
            assert any("Secret" in c["message"] and "gone" in c["message"] for c in message), (
                message
            )
        assert ctl.process.poll() is None, "the controller keeps running"
        assert "Traceback" not in ctl.text()


def test_an_automation_whose_git_repository_is_deleted_reports_it_and_recovers_nothing_else(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    automation = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {name: auto}
spec:
  interval: 1h
  sourceRef: {kind: GitRepository, name: app}
  git:
    commit: {author: {name: bot, email: bot@example.com}}
  update: {strategy: Setters, path: ./}
"""
    apply(control_plane, automation, namespace=namespace)
    with controller(control_plane.admin.kubeconfig, tmp_path, namespace=namespace) as ctl:
        ready = wait_for(
            "the automation's failure",
            lambda: (r := _ready(control_plane, "imageupdateautomation", "auto", namespace)) and r,
        )
        assert ready[0] == "False"
        status = kubectl_json(control_plane, "imageupdateautomation", "auto", "-n", namespace)[
            "status"
        ]
        assert any("GitRepository" in c["message"] for c in status["conditions"])
        assert ctl.process.poll() is None


def test_an_object_deleted_while_the_controller_works_is_forgotten_without_errors(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    manifests = "---\n".join(_repository(f"r{i}") for i in range(5))
    apply(control_plane, manifests, namespace=namespace)
    with controller(control_plane.admin.kubeconfig, tmp_path, namespace=namespace) as ctl:
        control_plane.kubectl("delete", "imagerepositories", "--all", "-n", namespace)
        apply(control_plane, _repository("after"), namespace=namespace)
        wait_for(
            "the object created after the deletions",
            lambda: _ready(control_plane, "imagerepository", "after", namespace),
        )
        assert ctl.process.poll() is None
        assert "Traceback" not in ctl.text()
        assert "reconcile crashed" not in ctl.text()
        with urllib.request.urlopen(ctl.url + "/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'tagpilot_kube_api_requests_total{verb="watch"}' in metrics
        assert 'tagpilot_kube_api_requests_total{verb="patch"}' in metrics


def _holder(plane: ControlPlane, namespace: str) -> str:
    lease = kubectl_json(plane, "lease", "tagpilot-leader-election", "-n", namespace)
    return str(lease["spec"].get("holderIdentity") or "")


def test_a_killed_leader_is_replaced_within_the_lease_time_and_work_goes_on(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    apply(control_plane, _repository("before"), namespace=namespace)
    first = start_controller(
        control_plane.admin.kubeconfig, tmp_path / "a", namespace=namespace, args=FAST_LEASE
    )
    second = start_controller(
        control_plane.admin.kubeconfig, tmp_path / "b", namespace=namespace, args=FAST_LEASE
    )
    try:
        holder = wait_for("a leader", lambda: _holder(control_plane, namespace))
        wait_for(
            "the first leader's work",
            lambda: _ready(control_plane, "imagerepository", "before", namespace),
        )
        leader, standby = (first, second) if "leading" in first.text() else (second, first)
        assert "leading" not in standby.text(), "only one replica reconciles"
        leader.stop(signal.SIGKILL)
        new_holder = wait_for(
            "a new leader",
            lambda: (h := _holder(control_plane, namespace)) != holder and h,
            timeout=20,
        )
        assert new_holder
        apply(control_plane, _repository("after"), namespace=namespace)
        wait_for(
            "the new leader's work",
            lambda: _ready(control_plane, "imagerepository", "after", namespace),
        )
        lease = kubectl_json(control_plane, "lease", "tagpilot-leader-election", "-n", namespace)
        assert lease["spec"]["leaseTransitions"] >= 1
    finally:
        first.stop()
        second.stop()


def test_a_graceful_stop_releases_the_lease(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    running = start_controller(
        control_plane.admin.kubeconfig, tmp_path, namespace=namespace, args=FAST_LEASE
    )
    wait_for("a leader", lambda: _holder(control_plane, namespace))
    assert running.stop() == 0
    assert _holder(control_plane, namespace) == ""


def test_two_shards_split_the_objects_by_label_and_never_touch_each_others(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    key = "sharding.fluxcd.io/key"
    apply(
        control_plane,
        _repository("mine", labels={key: "shard1"}) + "---\n" + _repository("main"),
        namespace=namespace,
    )
    shard = start_controller(
        control_plane.admin.kubeconfig,
        tmp_path / "shard1",
        namespace=namespace,
        args=[*FAST_LEASE, f"--watch-label-selector={key} in (shard1)"],
    )
    try:
        wait_for(
            "the shard's object",
            lambda: _ready(control_plane, "imagerepository", "mine", namespace),
        )
        assert _ready(control_plane, "imagerepository", "main", namespace) is None
        main = start_controller(
            control_plane.admin.kubeconfig,
            tmp_path / "main",
            namespace=namespace,
            args=[*FAST_LEASE, f"--watch-label-selector=!{key}"],
        )
        try:
            wait_for(
                "the main instance's object",
                lambda: _ready(control_plane, "imagerepository", "main", namespace),
            )
            leases = kubectl_json(control_plane, "leases", "-n", namespace)["items"]
            assert len({lease["metadata"]["name"] for lease in leases}) == 2, "one Lease per shard"
            assert "mine" not in {line.get("name") for line in main.lines()}
            assert "main" not in {line.get("name") for line in shard.lines()}
        finally:
            main.stop()
    finally:
        shard.stop()
