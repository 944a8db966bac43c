"""``spec.healthChecks`` against a real API server: the named objects are waited for with
kstatus, a missing one is never Ready, and a failure names the objects with Flux's reason.

There is no kubelet: a Deployment becomes Ready (or fails its rollout) because the test
writes its status through the API, as the deployment controller would.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tagpilot.adapters.kube.client import KubeClient

from .controlplane import ControlPlane
from .kustomization_support import Harness, config_map, kustomization, ready

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: %(name)s, namespace: %(ns)s}
spec:
  selector: {matchLabels: {app: %(name)s}}
  template:
    metadata: {labels: {app: %(name)s}}
    spec: {containers: [{name: web, image: web:1}]}
"""
ROLLED_OUT = {
    "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
    "availableReplicas": 1,
    "conditions": [
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
        {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
    ],
}  # fmt: skip
DEADLINE_EXCEEDED = {
    "observedGeneration": 1,
    "conditions": [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    ],
}


def _healthy(outcome: Any) -> tuple[str, str, str]:
    healthy = next(c for c in outcome.status.conditions if c.type == "Healthy")
    return healthy.status, healthy.reason, healthy.message


async def _write_status_later(
    plane: ControlPlane, namespace: str, name: str, status: dict[str, Any]
) -> None:
    """After a moment (the reconcile is waiting by then), write the Deployment's status."""
    await asyncio.sleep(1.0)
    plane.kubectl(
        "patch", "deploy", name, "-n", namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": status}),
    )  # fmt: skip


def _checks(namespace: str, *names: str) -> str:
    entries = "".join(
        f"  - {{kind: Deployment, name: {name}, namespace: {namespace}}}\n" for name in names
    )
    return "  healthChecks:\n" + entries


async def test_health_checks_wait_for_the_named_objects_to_become_ready(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    # The checked Deployment is not in the build: healthChecks name any object.
    control_plane.kubectl("apply", "-f", "-", stdin=DEPLOYMENT % {"name": "web", "ns": namespace})
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/a.yaml": config_map("a", "1")}, "main@sha1:" + "a" * 40)
    ks = kustomization(namespace, _checks(namespace, "web"))
    outcome, _ = await asyncio.gather(
        harness.run(ks), _write_status_later(control_plane, namespace, "web", ROLLED_OUT)
    )
    assert ready(outcome)[:2] == ("True", "ReconciliationSucceeded"), ready(outcome)
    status, reason, message = _healthy(outcome)
    assert (status, reason) == ("True", "Succeeded")
    assert message.startswith("Health check passed in ")
    assert any(e.message == message for e in outcome.events), "the pass is announced"


async def test_a_failed_rollout_fails_the_health_check_early_with_flux_reason(
    kube: KubeClient, namespace: str, tmp_path: Path, control_plane: ControlPlane
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish(
        {"deploy/web.yaml": DEPLOYMENT % {"name": "web", "ns": namespace}}, "main@sha1:" + "b" * 40
    )
    ks = kustomization(namespace, _checks(namespace, "web") + "  timeout: 5m\n")
    outcome, _ = await asyncio.gather(
        harness.run(ks), _write_status_later(control_plane, namespace, "web", DEADLINE_EXCEEDED)
    )
    status, reason, message = ready(outcome)
    assert (status, reason) == ("False", "HealthCheckFailed")
    assert "failed early due to stalled resources" in message
    assert f"[Deployment/{namespace}/web status: 'Failed']" in message
    assert _healthy(outcome)[:2] == ("False", "HealthCheckFailed")
    control_plane.kubectl("get", "deploy", "web", "-n", namespace)  # applied, then checked


@pytest.mark.slow
async def test_a_missing_object_is_not_ready_and_fails_after_the_timeout(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/a.yaml": config_map("a", "1")}, "main@sha1:" + "c" * 40)
    ks = kustomization(namespace, _checks(namespace, "nowhere") + "  timeout: 30s\n")
    outcome = await harness.run(ks)
    status, reason, message = ready(outcome)
    assert (status, reason) == ("False", "HealthCheckFailed")
    assert "timeout waiting for" in message
    assert f"[Deployment/{namespace}/nowhere status: 'NotFound']" in message
    assert outcome.status.last_applied_revision is None, "a failed check is not a success"


EXPRS = """\
  wait: true
  healthCheckExprs:
    - apiVersion: v1
      kind: ConfigMap
      current: "data.value == 'yes'"
      failed: "%s"
"""


@pytest.mark.parametrize(
    ("value", "failed", "reason", "says"),
    [
        pytest.param("yes", "data.value == 'no'", "ReconciliationSucceeded", "Applied revision",
                     id="a-cel-rule-passes"),
        pytest.param("no", "data.value == 'no'", "HealthCheckFailed",
                     "status: 'Failed'", id="a-cel-rule-fails-early"),
        pytest.param("yes", "data.value ==", "InvalidCELExpression",
                     "spec.healthCheckExprs[0].failed", id="a-broken-expression-stalls"),
    ],
)  # fmt: skip
async def test_health_check_exprs_decide_for_their_kind(
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    control_plane: ControlPlane,
    value: str,
    failed: str,
    reason: str,
    says: str,
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    harness.publish({"deploy/a.yaml": config_map("a", value)}, "main@sha1:" + "f" * 40)
    outcome = await harness.run(kustomization(namespace, EXPRS % failed))
    _, got, message = ready(outcome)
    assert got == reason and says in message, message
    stalled = [c for c in outcome.status.conditions if c.type == "Stalled"]
    applied = control_plane.kubectl("get", "configmap", "a", "-n", namespace, check=False)
    if reason == "InvalidCELExpression":
        assert stalled and stalled[0].status == "True", "a configuration error is terminal"
        assert applied.returncode != 0, "nothing is applied"


async def test_a_run_failing_before_its_health_check_keeps_the_last_healthy_condition(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    harness = Harness(kube, namespace, tmp_path)
    ks = kustomization(namespace, "  wait: true\n")
    harness.publish({"deploy/a.yaml": config_map("a", "1")}, "main@sha1:" + "1" * 40)
    passed = await harness.run(ks)
    assert _healthy(passed)[:2] == ("True", "Succeeded")
    harness.publish(
        {"deploy/kustomization.yaml": "resources: [gone.yaml]\n"}, "main@sha1:" + "2" * 40
    )
    broken = await harness.run(ks)
    assert ready(broken)[:2] == ("False", "BuildFailed")
    assert _healthy(broken) == _healthy(passed), "the objects were not checked again"
