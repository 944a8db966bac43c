"""kstatus: is an applied object healthy yet?  The rules Flux's health checks use.

:func:`compute` reads one live object (or ``None`` when it is gone) and answers a
:class:`Status` with a message, in the order of Flux's fork of cli-utils' kstatus:

1. ``metadata.deletionTimestamp`` set → Terminating;
2. ``status.observedGeneration`` present and not ``metadata.generation`` → InProgress;
3. a ``Reconciling=True`` condition → InProgress, ``Stalled=True`` → Failed;
4. the rules of the built-in kinds (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod,
   PVC, Service, Job, CRD, PodDisruptionBudget, CronJob, ConfigMap, Secret);
5. any other kind with a ``Ready`` condition: True → Current, otherwise InProgress;
6. nothing to go on → Current.

Two places where Flux differs from upstream kstatus, followed here: a Job is InProgress until
it completes (Flux's own Job reader), and a Pod that cannot be scheduled is Failed only once
``PodScheduled=False/Unschedulable`` is older than :data:`UNSCHEDULABLE_GRACE` (pass ``now``;
without it the condition counts at once, as in upstream kstatus).  CEL ``healthCheckExprs``
are evaluated in :mod:`tagpilot.core.kustomize.cel_health`, passed in as ``custom``.
Messages are cli-utils' texts, since ``flux`` users see them in "timeout waiting for" errors.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "UNSCHEDULABLE_GRACE",
    "CustomReader",
    "Result",
    "Status",
    "compute",
]

UNSCHEDULABLE_GRACE = timedelta(seconds=15)
"""How long a Pod may stay unschedulable before it counts as Failed."""

_MAX_INT32 = 2**31 - 1


class Status(enum.StrEnum):
    """kstatus' verdicts, spelled as kstatus spells them."""

    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    NOT_FOUND = "NotFound"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Result:
    """A verdict and the sentence that explains it."""

    status: Status
    message: str

    @property
    def done(self) -> bool:
        """Whether waiting longer cannot change the outcome (Current or Failed)."""
        return self.status in (Status.CURRENT, Status.FAILED)


def _current(message: str) -> Result:
    return Result(Status.CURRENT, message)


def _progress(message: str) -> Result:
    return Result(Status.IN_PROGRESS, message)


def _failed(message: str) -> Result:
    return Result(Status.FAILED, message)


def _field(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _int(obj: Mapping[str, Any], path: str, default: int) -> int:
    value = _field(obj, path)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _str(obj: Mapping[str, Any], path: str, default: str) -> str:
    value = _field(obj, path)
    return value if isinstance(value, str) else default


@dataclass(frozen=True)
class _Condition:
    type: str
    status: str
    reason: str
    message: str
    last_transition: str


def _conditions(obj: Mapping[str, Any]) -> list[_Condition]:
    raw = _field(obj, "status.conditions")
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return []
    return [
        _Condition(
            str(c.get("type", "")),
            str(c.get("status", "")),
            str(c.get("reason", "")),
            str(c.get("message", "")),
            str(c.get("lastTransitionTime", "")),
        )
        for c in raw
        if isinstance(c, Mapping)
    ]


def _generic(obj: Mapping[str, Any]) -> Result | None:
    if _field(obj, "metadata.deletionTimestamp"):
        return Result(Status.TERMINATING, "Resource scheduled for deletion")
    generation = _field(obj, "metadata.generation")
    observed = _field(obj, "status.observedGeneration")
    if isinstance(generation, int) and isinstance(observed, int) and observed != generation:
        kind = obj.get("kind", "")
        return _progress(
            f"{kind} generation is {generation}, but latest observed generation is {observed}"
        )
    for cond in _conditions(obj):
        if cond.type == "Reconciling" and cond.status == "True":
            return _progress(cond.message)
        if cond.type == "Stalled" and cond.status == "True":
            return _failed(cond.message)
    return None


def _deployment(obj: Mapping[str, Any], _now: datetime | None) -> Result:
    progressing = _int(obj, "spec.progressDeadlineSeconds", _MAX_INT32) == _MAX_INT32
    available = False
    for cond in _conditions(obj):
        if cond.type == "Progressing":
            if cond.reason == "ProgressDeadlineExceeded":
                return _failed("Progress deadline exceeded")
            if cond.status == "True" and cond.reason == "NewReplicaSetAvailable":
                progressing = True
        elif cond.type == "Available" and cond.status == "True":
            available = True
    spec = _int(obj, "spec.replicas", 1)
    replicas = _int(obj, "status.replicas", 0)
    updated = _int(obj, "status.updatedReplicas", 0)
    ready = _int(obj, "status.readyReplicas", 0)
    avail = _int(obj, "status.availableReplicas", 0)
    if spec > replicas:
        return _progress(f"replicas: {replicas}/{spec}")
    if spec > updated:
        return _progress(f"Updated: {updated}/{spec}")
    if replicas > spec:
        return _progress(f"Pending termination: {replicas - spec}")
    if updated > avail:
        return _progress(f"Available: {avail}/{updated}")
    if spec > ready:
        return _progress(f"Ready: {ready}/{spec}")
    if not progressing:
        return _progress("ReplicaSet not Available")
    if not available:
        return _progress("Deployment not Available")
    return _current(f"Deployment is available. Replicas: {replicas}")


def _statefulset(obj: Mapping[str, Any], _now: datetime | None) -> Result:
    if _str(obj, "spec.updateStrategy.type", "") == "OnDelete":
        return _current("StatefulSet is using the ondelete update strategy")
    spec = _int(obj, "spec.replicas", 1)
    ready = _int(obj, "status.readyReplicas", 0)
    current = _int(obj, "status.currentReplicas", 0)
    updated = _int(obj, "status.updatedReplicas", 0)
    replicas = _int(obj, "status.replicas", 0)
    partition = _int(obj, "spec.updateStrategy.rollingUpdate.partition", -1)
    if spec > replicas:
        return _progress(f"Replicas: {replicas}/{spec}")
    if spec > ready:
        return _progress(f"Ready: {ready}/{spec}")
    if replicas > spec:
        return _progress(f"Pending termination: {replicas - spec}")
    if partition != -1:
        if updated < spec - partition:
            return _progress(f"updated: {updated}/{spec - partition}")
        return _current(f"Partition rollout complete. updated: {updated}")
    if spec > current:
        return _progress(f"current: {current}/{spec}")
    if _str(obj, "status.currentRevision", "") != _str(obj, "status.updateRevision", ""):
        return _progress("Waiting for updated revision to match current")
    return _current(f"All replicas scheduled as expected. Replicas: {replicas}")


def _daemonset(obj: Mapping[str, Any], _now: datetime | None) -> Result:
    desired = _int(obj, "status.desiredNumberScheduled", -1)
    if desired == -1:
        return _progress("Missing .status.desiredNumberScheduled")
    for field, label in (
        ("currentNumberScheduled", "Current"),
        ("updatedNumberScheduled", "Updated"),
        ("numberAvailable", "Available"),
        ("numberReady", "Ready"),
    ):
        have = _int(obj, f"status.{field}", 0)
        if desired > have:
            return _progress(f"{label}: {have}/{desired}")
    return _current(f"All replicas scheduled as expected. Replicas: {desired}")


def _replicaset(obj: Mapping[str, Any], _now: datetime | None) -> Result:
    if any(c.type == "ReplicaFailure" and c.status == "True" for c in _conditions(obj)):
        return _progress("Replica Failure condition. Check Pods")
    spec = _int(obj, "spec.replicas", 1)
    replicas = _int(obj, "status.replicas", 0)
    for field, label in (
        ("fullyLabeledReplicas", "Labelled"),
        ("availableReplicas", "Available"),
        ("readyReplicas", "Ready"),
    ):
        have = _int(obj, f"status.{field}", 0)
        if spec > have:
            return _progress(f"{label}: {have}/{spec}")
    if replicas > spec:
        return _progress(f"Pending termination: {replicas - spec}")
    return _current(f"ReplicaSet is available. Replicas: {replicas}")


def _crash_looping(obj: Mapping[str, Any]) -> list[str]:
    statuses = _field(obj, "status.containerStatuses")
    if not isinstance(statuses, Sequence):
        return []
    return [
        str(cs.get("name"))
        for cs in statuses
        if isinstance(cs, Mapping)
        and cs.get("name")
        and _str(cs, "state.waiting.reason", "") == "CrashLoopBackOff"
    ]


def _older_than_grace(stamp: str, now: datetime | None) -> bool:
    if now is None:
        return True
    try:
        since = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return True
    return now - since >= UNSCHEDULABLE_GRACE


def _pod(obj: Mapping[str, Any], now: datetime | None) -> Result:
    phase = _str(obj, "status.phase", "")
    conditions = _conditions(obj)
    if phase == "Succeeded":
        return _current("Pod has completed successfully")
    if phase == "Failed":
        return _current("Pod has completed, but not successfully")
    if phase == "Running":
        if any(c.type == "Ready" and c.status == "True" for c in conditions):
            return _current("Pod is Ready")
        looping = _crash_looping(obj)
        if looping:
            return _failed(f"Containers in CrashLoop state: {','.join(looping)}")
        return _progress("Pod is running but is not Ready")
    if phase == "Pending":
        for cond in conditions:
            if (
                cond.type == "PodScheduled"
                and cond.status == "False"
                and cond.reason == "Unschedulable"
                and _older_than_grace(cond.last_transition, now)
            ):
                return _failed("Pod could not be scheduled")
        return _progress("Pod is in the Pending phase")
    if phase == "":
        return _progress("Pod phase not available")
    return Result(Status.UNKNOWN, f"unknown phase {phase}")


def _pvc(obj: Mapping[str, Any], _now: datetime | None) -> Result:
    phase = _str(obj, "status.phase", "unknown")
    if phase != "Bound":
        return _progress(f"PVC is not Bound. phase: {phase}")
    return _current("PVC is Bound")


def _service(obj: Mapping[str, Any], _now: datetime | None) -> Result:
    if _str(obj, "spec.type", "ClusterIP") == "LoadBalancer" and not _str(
        obj, "spec.clusterIP", ""
    ):
        return _progress("ClusterIP not set. Service type: LoadBalancer")
    return _current("Service is ready")


def _job(obj: Mapping[str, Any], _now: datetime | None) -> Result:
    parallelism = _int(obj, "spec.parallelism", 1)
    completions = _int(obj, "spec.completions", parallelism)
    for cond in _conditions(obj):
        if cond.type == "Complete" and cond.status == "True":
            succeeded = _int(obj, "status.succeeded", 0)
            return _current(f"Job Completed. succeeded: {succeeded}/{completions}")
        if cond.type == "Failed" and cond.status == "True":
            return _failed(f"Job Failed. failed: {_int(obj, 'status.failed', 0)}/{completions}")
    return _progress("Job in progress")


def _crd(obj: Mapping[str, Any], _now: datetime | None) -> Result:
    for cond in _conditions(obj):
        if cond.type == "NamesAccepted" and cond.status == "False":
            return _failed(cond.message)
        if cond.type == "Established":
            if cond.status == "False" and cond.reason != "Installing":
                return _failed(cond.message)
            if cond.status == "True":
                return _current("CRD is established")
    return _progress("Install in progress")


_Rule = Callable[[Mapping[str, Any], datetime | None], Result]


def _always(message: str) -> _Rule:
    return lambda _obj, _now: _current(message)


_KIND_RULES: dict[str, _Rule] = {
    "Service": _service,
    "Pod": _pod,
    "Secret": _always("Resource is always ready"),
    "ConfigMap": _always("Resource is always ready"),
    "PersistentVolumeClaim": _pvc,
    "apps/StatefulSet": _statefulset,
    "apps/DaemonSet": _daemonset,
    "extensions/DaemonSet": _daemonset,
    "apps/Deployment": _deployment,
    "extensions/Deployment": _deployment,
    "apps/ReplicaSet": _replicaset,
    "extensions/ReplicaSet": _replicaset,
    "policy/PodDisruptionBudget": _always("AllowedDisruptions has been computed."),
    "batch/CronJob": _always("Resource is always ready"),
    "batch/Job": _job,
    "apiextensions.k8s.io/CustomResourceDefinition": _crd,
}


def _group(obj: Mapping[str, Any]) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.split("/", 1)[0] if "/" in api_version else ""


CustomReader = Callable[[Mapping[str, Any]], Result | None]
"""A status rule for some kinds (``healthCheckExprs``); None: not one of its kinds."""


def compute(
    obj: Mapping[str, Any] | None,
    *,
    now: datetime | None = None,
    custom: CustomReader | None = None,
) -> Result:
    """The kstatus verdict for one live object; ``None`` (the object is gone) is NotFound.

    ``now`` (timezone-aware) only matters for the unschedulable-Pod grace window; ``custom``
    decides first for the kinds it knows (Flux's CEL status reader replaces kstatus there).
    """
    if obj is None:
        return Result(Status.NOT_FOUND, "Resource not found")
    verdict = custom(obj) if custom is not None else None
    if verdict is not None:
        return verdict
    generic = _generic(obj)
    if generic is not None:
        return generic
    group = _group(obj)
    kind = str(obj.get("kind", ""))
    rule = _KIND_RULES.get(f"{group}/{kind}" if group else kind)
    if rule is not None:
        return rule(obj, now)
    for cond in _conditions(obj):
        if cond.type == "Ready":
            if cond.status == "True":
                return _current(cond.message or "Resource is Ready")
            return _progress(cond.message or "Resource is not Ready")
    return _current("Resource is current")
