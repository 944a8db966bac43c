"""What a reconcile returns, and the one place errors become Flux conditions.

A reconciler returns an ``Outcome``: the new status as the kind's typed ``*Status`` model,
the events to record and when to run again.  ``success`` and ``failure`` build the kstatus
conditions (``Ready``, ``Reconciling``, ``Stalled``) the way Flux's controllers leave them at
the end of a reconcile; ``lastTransitionTime`` only moves when a condition's status changes.

Statuses are serialised (Flux's JSON field names) only where they leave the process: the
store, through :func:`status_document` and :func:`read_status`, and the HTTP/JSON outputs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic

from pydantic import ValidationError
from typing_extensions import TypeVar

from tagpilot.api import meta
from tagpilot.api.meta import Condition, FluxModel
from tagpilot.core.errors import StalledError, TagpilotError
from tagpilot.core.timefmt import rfc3339
from tagpilot.ports import AutomationRun, ObjectKey, StateStore

__all__ = [
    "READY",
    "RECONCILING",
    "STALLED",
    "Event",
    "Outcome",
    "Preview",
    "RegistryCall",
    "counted",
    "failed_outcome",
    "failure",
    "format_time",
    "progressing",
    "read_status",
    "ready_condition",
    "status_document",
    "success",
]

READY = meta.CONDITION_READY
RECONCILING = meta.CONDITION_RECONCILING
STALLED = meta.CONDITION_STALLED
PROGRESSING_WITH_RETRY = meta.REASON_PROGRESSING_WITH_RETRY


T = TypeVar("T")
S = TypeVar("S", bound=FluxModel, default=Any)
"""The status model of an outcome (a kind's ``*Status``; ``Any`` where the kind varies)."""
M = TypeVar("M", bound=FluxModel)


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
class RegistryCall:
    """One registry operation a reconcile made (a tag listing, a digest lookup), for metrics."""

    host: str
    result: str
    """``ok``, or the reason of the error it ended with (``AuthenticationFailed``, ...)."""


async def counted(calls: list[RegistryCall], host: str, call: Awaitable[T]) -> T:
    """Await ``call`` (a registry operation on ``host``) and note it and its result in ``calls``."""
    try:
        result = await call
    except TagpilotError as error:
        calls.append(RegistryCall(host, error.reason))
        raise
    calls.append(RegistryCall(host, "ok"))
    return result


@dataclass(frozen=True)
class Outcome(Generic[S]):
    """The result of one reconcile: typed status to persist, events, next run."""

    status: S
    events: tuple[Event, ...] = ()
    requeue_after: timedelta | None = None
    error: TagpilotError | None = field(default=None, compare=False)
    preview: Preview | None = None
    run: AutomationRun | None = None
    """For an automation that pushed: the run to add to the history."""
    suspended: bool = False
    """Nothing ran: the object is suspended (``status`` is the one last stored)."""
    registry_calls: tuple[RegistryCall, ...] = ()
    """The registry operations this reconcile made, with their results."""
    warnings: tuple[str, ...] = ()
    """What needs the user's attention although the reconcile succeeded (broken markers,
    skipped files, policy warnings, backwards moves): shown by ``--once``, logged by the daemon."""

    @property
    def ready(self) -> bool:
        """Whether the Ready condition is True."""
        condition = ready_condition(self.status)
        return condition is not None and condition.status == "True"

    @property
    def document(self) -> dict[str, Any]:
        """The status as Flux writes it (camelCase JSON), for output and storage."""
        return status_document(self.status)


format_time = rfc3339
"""RFC 3339 in UTC with a ``Z``, seconds precision, as Kubernetes writes times."""


def status_document(status: FluxModel) -> dict[str, Any]:
    """``status`` in Flux's JSON form: camelCase names, unset fields left out."""
    return status.model_dump(by_alias=True, exclude_none=True, mode="json")


def read_status(store: StateStore, key: ObjectKey, model: type[M]) -> M | None:
    """``key``'s stored status as ``model``; None when there is none or it no longer parses
    (a status written by another version is rebuilt by the next reconcile)."""
    stored = store.get_status(key)
    if not stored:
        return None
    try:
        return model.model_validate(stored)
    except ValidationError:
        return None


def conditions_of(status: object | None) -> list[Condition]:
    """The conditions of a typed status (none for ``None``)."""
    return list(getattr(status, "conditions", None) or ())


def ready_condition(status: object | None) -> Condition | None:
    """The ``Ready`` condition of a typed status, if any."""
    return next((c for c in conditions_of(status) if c.type == READY), None)


def success(
    previous: S | None,
    fields: S,
    *,
    generation: int,
    reason: str,
    message: str,
    now: datetime,
) -> S:
    """Status after a good reconcile: Ready True, no Reconciling or Stalled.

    ``fields`` holds what this reconcile observed (its set fields replace ``previous``'s).
    """
    ready = _condition(READY, "True", reason, message, generation)
    return _status(previous, fields, [ready], generation, now)


def failure(
    previous: S | None,
    fields: S,
    error: TagpilotError,
    *,
    generation: int,
    now: datetime,
) -> S:
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
    previous: S | None,
    fields: S,
    error: TagpilotError,
    *,
    generation: int,
    now: datetime,
) -> Outcome[S]:
    """A failed reconcile: the ``failure`` status and a Warning event with the reason."""
    status = failure(previous, fields, error, generation=generation, now=now)
    return Outcome(status, (Event("Warning", error.reason, error.message),), error=error)


def progressing(previous: S, *, generation: int, message: str, now: datetime) -> S:
    """Status while a reconcile works, Flux's progress point: Reconciling True and Ready
    Unknown, both ``Progressing`` with ``message``.  The kind's fields and
    ``observedGeneration`` keep their values until the reconcile ends, as Flux leaves them."""
    reason = meta.REASON_PROGRESSING
    wanted = [
        _condition(RECONCILING, "True", reason, message, generation),
        _condition(READY, "Unknown", reason, message, generation),
    ]
    old = {c.type: c for c in conditions_of(previous)}
    stamped = [
        c.model_copy(update={"last_transition_time": _moment(old.get(c.type), c, now)})
        for c in wanted
    ]
    kept = [c for c in conditions_of(previous) if c.type not in {READY, RECONCILING, STALLED}]
    return previous.model_copy(update={"conditions": [*stamped, *kept]})


def _moment(before: Condition | None, condition: Condition, now: datetime) -> str:
    """``lastTransitionTime``: kept while the condition's status stays, else ``now``."""
    if before is not None and before.status == condition.status:
        return before.last_transition_time or format_time(now)
    return format_time(now)


def _condition(kind: str, status: str, reason: str, message: str, generation: int) -> Condition:
    return Condition(
        type=kind,
        status=status,
        observed_generation=generation,
        last_transition_time="",
        reason=reason,
        message=message,
    )


def _status(
    previous: S | None,
    fields: S,
    conditions: list[Condition],
    generation: int,
    now: datetime,
) -> S:
    old = {c.type: c for c in conditions_of(previous)}
    stamped = [
        c.model_copy(update={"last_transition_time": _moment(old.get(c.type), c, now)})
        for c in conditions
    ]
    observed = {name: getattr(fields, name) for name in fields.model_fields_set}
    base = previous if previous is not None else fields
    return base.model_copy(
        update={**observed, "observed_generation": generation, "conditions": stamped}
    )
