"""Health verdicts follow kstatus' rules as Flux's health checks apply them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tagpilot.core.kustomize.kstatus import Result, Status, compute

CURRENT, PROGRESS, FAILED = Status.CURRENT, Status.IN_PROGRESS, Status.FAILED


def cond(
    type_: str, status: str = "True", reason: str = "", message: str = "", **extra: str
) -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message, **extra}


def obj(
    api_version: str, kind: str, spec: Any = None, status: Any = None, **meta: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", **meta},
    }
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    return out


def deploy(spec: Any = None, **status: Any) -> dict[str, Any]:
    return obj(
        "apps/v1", "Deployment", spec or {"replicas": 2, "progressDeadlineSeconds": 600}, status
    )


HEALTHY_DEPLOY = {
    "replicas": 2,
    "updatedReplicas": 2,
    "readyReplicas": 2,
    "availableReplicas": 2,
    "conditions": [cond("Progressing", reason="NewReplicaSetAvailable"), cond("Available")],
}


def sts(spec: Any = None, **status: Any) -> dict[str, Any]:
    return obj("apps/v1", "StatefulSet", {"replicas": 2, **(spec or {})}, status)


HEALTHY_STS = {"replicas": 2, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2}


def pod(phase: str | None, *conditions: dict[str, str], **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"conditions": list(conditions), **status}
    if phase is not None:
        body["phase"] = phase
    return obj("v1", "Pod", {}, body)


CASES = [
    # generic rules, in order
    (
        obj("v1", "ConfigMap", deletionTimestamp="2026-01-01T00:00:00Z"),
        Status.TERMINATING,
        "scheduled for deletion",
        "deleting-object-is-terminating",
    ),
    (
        obj("example.com/v1", "Widget", {}, {"observedGeneration": 1}, generation=2),
        PROGRESS,
        "Widget generation is 2, but latest observed generation is 1",
        "unobserved-generation-is-in-progress",
    ),
    (
        obj(
            "example.com/v1",
            "Widget",
            {},
            {"observedGeneration": 2, "conditions": [cond("Ready")]},
            generation=2,
        ),
        CURRENT,
        "",
        "observed-generation-then-ready",
    ),
    (
        obj(
            "example.com/v1", "Widget", {}, {"conditions": [cond("Reconciling", message="working")]}
        ),
        PROGRESS,
        "working",
        "reconciling-true-is-in-progress",
    ),
    (
        obj("example.com/v1", "Widget", {}, {"conditions": [cond("Stalled", message="broken")]}),
        FAILED,
        "broken",
        "stalled-true-is-failed",
    ),
    (
        deploy(
            **{**HEALTHY_DEPLOY, "conditions": [*HEALTHY_DEPLOY["conditions"], cond("Stalled")]}
        ),
        FAILED,
        "",
        "stalled-wins-over-kind-rules",
    ),
    # generic objects
    (
        obj("example.com/v1", "Widget", {}, {"conditions": [cond("Ready", message="all good")]}),
        CURRENT,
        "all good",
        "other-kind-ready-true-is-current",
    ),
    (
        obj(
            "example.com/v1",
            "Widget",
            {},
            {"conditions": [cond("Ready", "False", message="not yet")]},
        ),
        PROGRESS,
        "not yet",
        "other-kind-ready-false-is-in-progress",
    ),
    (
        obj("example.com/v1", "Widget", {}, {}),
        CURRENT,
        "Resource is current",
        "other-kind-without-conditions-is-current",
    ),
    # Deployment
    (
        deploy(**HEALTHY_DEPLOY),
        CURRENT,
        "Deployment is available. Replicas: 2",
        "deployment-available",
    ),
    (deploy(replicas=1), PROGRESS, "replicas: 1/2", "deployment-too-few-replicas"),
    (
        deploy(**{**HEALTHY_DEPLOY, "updatedReplicas": 1}),
        PROGRESS,
        "Updated: 1/2",
        "deployment-too-few-updated",
    ),
    (
        deploy(**{**HEALTHY_DEPLOY, "replicas": 3}),
        PROGRESS,
        "Pending termination: 1",
        "deployment-extra-pods",
    ),
    (
        deploy(**{**HEALTHY_DEPLOY, "availableReplicas": 1}),
        PROGRESS,
        "Available: 1/2",
        "deployment-too-few-available",
    ),
    (
        deploy(**{**HEALTHY_DEPLOY, "readyReplicas": 1}),
        PROGRESS,
        "Ready: 1/2",
        "deployment-too-few-ready",
    ),
    (
        deploy(**{**HEALTHY_DEPLOY, "conditions": [cond("Available")]}),
        PROGRESS,
        "ReplicaSet not Available",
        "deployment-replicaset-not-available",
    ),
    (
        deploy(
            {"replicas": 2, "progressDeadlineSeconds": 2147483647},
            **{**HEALTHY_DEPLOY, "conditions": [cond("Available")]},
        ),
        CURRENT,
        "",
        "deployment-without-deadline-needs-no-progressing",
    ),
    (
        deploy(
            **{
                **HEALTHY_DEPLOY,
                "conditions": [cond("Progressing", reason="NewReplicaSetAvailable")],
            }
        ),
        PROGRESS,
        "Deployment not Available",
        "deployment-not-available",
    ),
    (
        deploy(conditions=[cond("Progressing", "False", reason="ProgressDeadlineExceeded")]),
        FAILED,
        "Progress deadline exceeded",
        "deployment-deadline-exceeded-fails",
    ),
    (
        obj(
            "apps/v1",
            "Deployment",
            {},
            {
                **HEALTHY_DEPLOY,
                "replicas": 1,
                "updatedReplicas": 1,
                "readyReplicas": 1,
                "availableReplicas": 1,
            },
        ),
        CURRENT,
        "",
        "deployment-replicas-default-to-one",
    ),
    # StatefulSet
    (
        sts(**HEALTHY_STS),
        CURRENT,
        "All replicas scheduled as expected. Replicas: 2",
        "statefulset-ready",
    ),
    (
        sts({"updateStrategy": {"type": "OnDelete"}}),
        CURRENT,
        "ondelete",
        "statefulset-ondelete-is-current",
    ),
    (
        sts(**{**HEALTHY_STS, "replicas": 1}),
        PROGRESS,
        "Replicas: 1/2",
        "statefulset-too-few-replicas",
    ),
    (
        sts(**{**HEALTHY_STS, "readyReplicas": 1}),
        PROGRESS,
        "Ready: 1/2",
        "statefulset-too-few-ready",
    ),
    (
        sts(
            {"updateStrategy": {"rollingUpdate": {"partition": 1}}},
            **{**HEALTHY_STS, "updatedReplicas": 0},
        ),
        PROGRESS,
        "updated: 0/1",
        "statefulset-partition-rolling",
    ),
    (
        sts(
            {"updateStrategy": {"rollingUpdate": {"partition": 1}}},
            **{**HEALTHY_STS, "updatedReplicas": 1, "currentReplicas": 0},
        ),
        CURRENT,
        "Partition rollout complete",
        "statefulset-partition-done",
    ),
    (
        sts(**{**HEALTHY_STS, "currentReplicas": 1}),
        PROGRESS,
        "current: 1/2",
        "statefulset-too-few-current",
    ),
    (
        sts(**HEALTHY_STS, currentRevision="a", updateRevision="b"),
        PROGRESS,
        "Waiting for updated revision",
        "statefulset-revision-mismatch",
    ),
    # DaemonSet
    (
        obj(
            "apps/v1",
            "DaemonSet",
            {},
            {
                "desiredNumberScheduled": 2,
                "currentNumberScheduled": 2,
                "updatedNumberScheduled": 2,
                "numberAvailable": 2,
                "numberReady": 2,
            },
        ),
        CURRENT,
        "",
        "daemonset-ready",
    ),
    (
        obj("apps/v1", "DaemonSet", {}, {}),
        PROGRESS,
        "Missing .status.desiredNumberScheduled",
        "daemonset-not-observed",
    ),
    (
        obj(
            "apps/v1",
            "DaemonSet",
            {},
            {
                "desiredNumberScheduled": 2,
                "currentNumberScheduled": 2,
                "updatedNumberScheduled": 2,
                "numberAvailable": 1,
            },
        ),
        PROGRESS,
        "Available: 1/2",
        "daemonset-too-few-available",
    ),
    # ReplicaSet
    (
        obj(
            "apps/v1",
            "ReplicaSet",
            {"replicas": 1},
            {"replicas": 1, "fullyLabeledReplicas": 1, "availableReplicas": 1, "readyReplicas": 1},
        ),
        CURRENT,
        "",
        "replicaset-ready",
    ),
    (
        obj("apps/v1", "ReplicaSet", {"replicas": 1}, {"conditions": [cond("ReplicaFailure")]}),
        PROGRESS,
        "Replica Failure",
        "replicaset-replica-failure",
    ),
    (
        obj("apps/v1", "ReplicaSet", {"replicas": 1}, {"fullyLabeledReplicas": 0}),
        PROGRESS,
        "Labelled: 0/1",
        "replicaset-not-labelled",
    ),
    # Pod
    (pod("Running", cond("Ready")), CURRENT, "Pod is Ready", "pod-running-ready"),
    (pod("Succeeded"), CURRENT, "completed successfully", "pod-succeeded-is-current"),
    (
        pod("Failed"),
        CURRENT,
        "completed, but not successfully",
        "pod-failed-phase-is-still-current",
    ),
    (
        pod(
            "Running",
            containerStatuses=[
                {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
            ],
        ),
        FAILED,
        "Containers in CrashLoop state: app",
        "pod-crash-looping-fails",
    ),
    (pod("Running"), PROGRESS, "running but is not Ready", "pod-running-not-ready"),
    (pod("Pending"), PROGRESS, "Pending phase", "pod-pending"),
    (pod(None), PROGRESS, "Pod phase not available", "pod-without-phase"),
    (pod("Weird"), Status.UNKNOWN, "unknown phase Weird", "pod-unknown-phase"),
    # others
    (
        obj("v1", "PersistentVolumeClaim", {}, {"phase": "Bound"}),
        CURRENT,
        "PVC is Bound",
        "pvc-bound",
    ),
    (
        obj("v1", "PersistentVolumeClaim", {}, {"phase": "Pending"}),
        PROGRESS,
        "phase: Pending",
        "pvc-pending",
    ),
    (
        obj("v1", "Service", {"type": "ClusterIP"}),
        CURRENT,
        "Service is ready",
        "service-cluster-ip",
    ),
    (
        obj("v1", "Service", {"type": "LoadBalancer"}),
        PROGRESS,
        "ClusterIP not set",
        "service-load-balancer-without-ip",
    ),
    (
        obj("v1", "Service", {"type": "LoadBalancer", "clusterIP": "10.0.0.1"}),
        CURRENT,
        "",
        "service-load-balancer-with-ip",
    ),
    (
        obj(
            "batch/v1",
            "Job",
            {"completions": 1},
            {"succeeded": 1, "conditions": [cond("Complete")]},
        ),
        CURRENT,
        "Job Completed. succeeded: 1/1",
        "job-complete",
    ),
    (
        obj("batch/v1", "Job", {}, {"failed": 3, "conditions": [cond("Failed")]}),
        FAILED,
        "Job Failed. failed: 3/1",
        "job-failed",
    ),
    (
        obj("batch/v1", "Job", {}, {"startTime": "2026-01-01T00:00:00Z", "active": 1}),
        PROGRESS,
        "Job in progress",
        "job-running-is-in-progress-in-flux",
    ),
    (
        obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            {},
            {"conditions": [cond("Established")]},
        ),
        CURRENT,
        "CRD is established",
        "crd-established",
    ),
    (
        obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            {},
            {"conditions": [cond("NamesAccepted", "False", message="name clash")]},
        ),
        FAILED,
        "name clash",
        "crd-names-not-accepted",
    ),
    (
        obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            {},
            {"conditions": [cond("Established", "False", reason="Installing")]},
        ),
        PROGRESS,
        "Install in progress",
        "crd-installing",
    ),
    (obj("v1", "ConfigMap"), CURRENT, "always ready", "configmap-always-ready"),
    (obj("v1", "Secret"), CURRENT, "always ready", "secret-always-ready"),
    (obj("batch/v1", "CronJob"), CURRENT, "always ready", "cronjob-always-ready"),
    (obj("policy/v1", "PodDisruptionBudget"), CURRENT, "AllowedDisruptions", "pdb-current"),
    (obj("v1", "Namespace"), CURRENT, "Resource is current", "namespace-without-status-is-current"),
]


@pytest.mark.parametrize(
    ("live", "status", "message"),
    [pytest.param(live, status, message, id=case_id) for live, status, message, case_id in CASES],
)
def test_each_kstatus_rule(live: dict[str, Any], status: Status, message: str) -> None:
    result = compute(live)
    assert result.status is status
    assert message in result.message


def test_a_missing_object_is_not_found() -> None:
    assert compute(None).status is Status.NOT_FOUND


@pytest.mark.parametrize(
    ("seconds", "status"),
    [
        pytest.param(5, PROGRESS, id="inside-grace-window"),
        pytest.param(16, FAILED, id="after-grace-window"),
    ],
)
def test_an_unschedulable_pod_fails_only_after_fifteen_seconds(
    seconds: int, status: Status
) -> None:
    since = "2026-12-02T10:00:00Z"
    now = datetime(2026, 12, 2, 10, 0, seconds, tzinfo=UTC)
    live = pod(
        "Pending", cond("PodScheduled", "False", reason="Unschedulable", lastTransitionTime=since)
    )
    assert compute(live, now=now).status is status


@pytest.mark.parametrize(
    ("status", "done"),
    [
        pytest.param(CURRENT, True, id="current"),
        pytest.param(FAILED, True, id="failed"),
        pytest.param(PROGRESS, False, id="in-progress"),
        pytest.param(Status.TERMINATING, False, id="terminating"),
    ],
)
def test_only_current_and_failed_end_a_fail_fast_wait(status: Status, done: bool) -> None:
    assert Result(status, "").done is done
