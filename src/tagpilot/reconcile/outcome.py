"""What a reconcile returns, and the one place errors become Flux conditions.

A reconciler returns an ``Outcome``: the new status (Flux's JSON field names), the events
to record and when to run again.  ``success`` and ``failure`` build the kstatus conditions
(``Ready``, ``Reconciling``, ``Stalled``) the way Flux's controllers leave them at the end
of a reconcile; ``lastTransitionTime`` only moves when a condition's status changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tagpilot.api import meta
from tagpilot.core.errors import StalledError, TagpilotError
from tagpilot.core.timefmt import rfc3339
from tagpilot.ports import AutomationRun

__all__ = [
    "READY",
    "RECONCILING",
    "STALLED",
    "Event",
    "Outcome",
    "Preview",
    "failed_outcome",
    "failure",
    "format_time",
    "ready_condition",
    "success",
]

READY = meta.CONDITION_READY
RECONCILING = meta.CONDITION_RECONCILING
STALLED = meta.CONDITION_STALLED
PROGRESSING_WITH_RETRY = meta.REASON_PROGRESSING_WITH_RETRY

Status = dict[str, Any]
Condition = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """An event to record: ``Normal``, ``Warning`` or ``Trace`` (not forwarded)."""

    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Preview:
    """What a dry run would have committed: unified diffs per file and the message."""

    diffs: Mapping[str, str]
    message: str
    base: str = ""
    """The update path the diffs' file names are relative to."""


@dataclass(frozen=True)
class Outcome:
    """The result of one reconcile: status to persist, events, next run."""

    status: Status
    events: tuple[Event, ...] = ()
    requeue_after: timedelta | None = None
    error: TagpilotError | None = field(default=None, compare=False)
    preview: Preview | None = None
    run: AutomationRun | None = None
    """For an automation that pushed: the run to add to the history."""

    @property
    def ready(self) -> bool:
        """Whether the Ready condition is True."""
        condition = ready_condition(self.status)
        return condition is not None and condition.get("status") == "True"


format_time = rfc3339
"""RFC 3339 in UTC with a ``Z``, seconds precision, as Kubernetes writes times."""


def ready_condition(status: Mapping[str, Any]) -> Condition | None:
    """The ``Ready`` condition of a status, if any."""
    for condition in status.get("conditions", ()):
        if condition.get("type") == READY:
            return dict(condition)
    return None


def success(
    previous: Mapping[str, Any] | None,
    fields: Mapping[str, Any],
    *,
    generation: int,
    reason: str,
    message: str,
    now: datetime,
) -> Status:
    """Status after a good reconcile: Ready True, no Reconciling or Stalled."""
    ready = _condition(READY, "True", reason, message, generation)
    return _status(previous, fields, [ready], generation, now)


def failure(
    previous: Mapping[str, Any] | None,
    fields: Mapping[str, Any],
    error: TagpilotError,
    *,
    generation: int,
    now: datetime,
) -> Status:
    """Status after a failed reconcile, by error family (the one mapping in the project).

    Stalled errors: Ready False and Stalled True with the error's reason — nothing happens
    until the spec changes.  Retryable errors: Ready False and Reconciling True with
    ``ProgressingWithRetry`` — the runtime tries again with backoff.
    """
    ready = _condition(READY, "False", error.reason, error.message, generation)
    if isinstance(error, StalledError):
        extra = _condition(STALLED, "True", error.reason, error.message, generation)
    else:
        extra = _condition(RECONCILING, "True", PROGRESSING_WITH_RETRY, error.message, generation)
    return _status(previous, fields, [ready, extra], generation, now)


def failed_outcome(
    previous: Mapping[str, Any] | None,
    fields: Mapping[str, Any],
    error: TagpilotError,
    *,
    generation: int,
    now: datetime,
) -> Outcome:
    """A failed reconcile: the ``failure`` status and a Warning event with the reason."""
    status = failure(previous, fields, error, generation=generation, now=now)
    return Outcome(status, (Event("Warning", error.reason, error.message),), error=error)


def _condition(kind: str, status: str, reason: str, message: str, generation: int) -> Condition:
    return {
        "type": kind,
        "status": status,
        "observedGeneration": generation,
        "reason": reason,
        "message": message,
    }


def _status(
    previous: Mapping[str, Any] | None,
    fields: Mapping[str, Any],
    conditions: Sequence[Condition],
    generation: int,
    now: datetime,
) -> Status:
    old = {c["type"]: c for c in (previous or {}).get("conditions", ())}
    stamped = []
    for condition in conditions:
        before = old.get(condition["type"])
        moment = format_time(now)
        if before is not None and before.get("status") == condition["status"]:
            moment = before.get("lastTransitionTime", moment)
        stamped.append({**condition, "lastTransitionTime": moment})
    status = {**(previous or {}), **fields}
    status["observedGeneration"] = generation
    status["conditions"] = stamped
    return status
