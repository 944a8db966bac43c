"""The status page's view model: what the page and its JSON show, built from plain inputs.

Pure: the server reads statuses, events, runs and tag sets and hands them here; this module
turns them into typed rows (:class:`ObjectRow`, :class:`PolicyView`, :class:`AutomationView`;
the timeline's are in :mod:`tagpilot.core.tagtimeline`) whose ``document()`` is the JSON
under ``/api/v1/status`` and which the HTML view renders as is.  Everything user-controlled
stays text here; escaping is the renderer's job.  Secrets never get in: URLs lose their
userinfo and webhook paths their digest (:func:`redact`), and no Secret is ever an input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from tagpilot.core.policy import Evaluation

__all__ = [
    "AutomationView",
    "Change",
    "EventLike",
    "Failure",
    "ObjectRow",
    "PolicyView",
    "Push",
    "RunLike",
    "Verdict",
    "automation_view",
    "camel",
    "filter_rows",
    "iso",
    "object_row",
    "policy_view",
    "redact",
]

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
_HOOK_PATH = re.compile(r"/hook/[0-9a-fA-F]{16,}")
_PUSHED = re.compile(r"^pushed commit '(?P<sha>[0-9a-f]+)'")
_ACTIVITY = {
    "ImageRepository": ("last scan", ("lastScanResult", "scanTime")),
    "ImageUpdateAutomation": ("last run", ("lastAutomationRunTime",)),
    "GitRepository": ("last fetch", ("artifact", "lastUpdateTime")),
}
"""Per kind: what its last activity is called and where its status keeps the time."""


class EventLike(Protocol):
    """A recorded event, as the state store gives it."""

    @property
    def type(self) -> str:
        """Normal or Warning."""
        ...

    @property
    def reason(self) -> str:
        """Flux's reason word."""
        ...

    @property
    def message(self) -> str:
        """The event's text."""
        ...

    @property
    def time(self) -> datetime:
        """When it was recorded."""
        ...


class RunLike(Protocol):
    """A recorded automation push, as the state store gives it."""

    @property
    def time(self) -> datetime:
        """When the push happened."""
        ...

    @property
    def commit(self) -> str | None:
        """The pushed commit's SHA."""
        ...

    @property
    def branch(self) -> str | None:
        """The branch pushed to."""
        ...

    @property
    def changes(self) -> Sequence[Mapping[str, str]]:
        """One mapping per changed value: file, kind, name, old, new."""
        ...


def redact(text: str) -> str:
    """``text`` without credentials in URLs (``https://***@host``) or webhook digests."""
    return _HOOK_PATH.sub("/hook/***", _USERINFO.sub(r"\g<scheme>***@", text))


@dataclass(frozen=True)
class ObjectRow:
    """One object on the overview: identity, Ready state and last activity."""

    kind: str
    namespace: str
    name: str
    ready: str
    """``True``, ``False`` or ``Unknown`` (no status yet)."""
    reason: str
    message: str
    suspended: bool
    activity: str
    """What ``last_time`` is: ``last scan``, ``last run``, ``last fetch``, ``last change``."""
    last_time: str | None
    summary: str
    """One short fact per kind: the image, the latest tag, the last commit, the URL."""

    def document(self) -> dict[str, Any]:
        """The JSON form (Flux-style camelCase keys)."""
        return camel(asdict(self))


def _get(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = data
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _ready(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for condition in status.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return condition
    return {}


def object_row(
    kind: str,
    namespace: str,
    name: str,
    status: Mapping[str, Any],
    *,
    suspended: bool,
    summary: str = "",
) -> ObjectRow:
    """The overview row of one object from its stored ``status``."""
    ready = _ready(status)
    activity, path = _ACTIVITY.get(kind, ("last change", ()))
    when = _get(status, path) if path else None
    if not when:
        activity, when = "last change", ready.get("lastTransitionTime")
    return ObjectRow(
        kind=kind,
        namespace=namespace,
        name=name,
        ready=str(ready.get("status") or "Unknown"),
        reason=str(ready.get("reason") or ""),
        message=redact(str(ready.get("message") or "")),
        suspended=suspended,
        activity=activity,
        last_time=str(when) if when else None,
        summary=redact(summary),
    )


def filter_rows(
    rows: Iterable[ObjectRow], *, namespace: str | None, not_ready: bool
) -> list[ObjectRow]:
    """The rows in ``namespace`` (None: all), only those not Ready when ``not_ready``."""
    return [
        row
        for row in rows
        if (namespace is None or row.namespace == namespace)
        and (not not_ready or row.ready != "True")
    ]


@dataclass(frozen=True)
class Verdict:
    """One tag's fate under the policy, as ``tagpilot policy eval --explain`` prints it."""

    tag: str
    status: str
    reason: str


@dataclass(frozen=True)
class PolicyView:
    """One ImagePolicy: its pick, the one before, every tag's verdict and the warnings."""

    row: ObjectRow
    repository: str
    latest: str | None
    previous: str | None
    verdicts: tuple[Verdict, ...]
    warnings: tuple[str, ...]
    error: str | None
    """Why no verdicts could be given (a policy that does not compile, no tags scanned)."""

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return {**camel(asdict(self)), "row": self.row.document()}


def policy_view(
    row: ObjectRow,
    status: Mapping[str, Any],
    *,
    repository: str,
    evaluation: Evaluation | None,
    error: str | None,
) -> PolicyView:
    """The policy page from its row, stored ``status`` and the evaluation of the stored tags."""
    verdicts: tuple[Verdict, ...] = ()
    warnings: tuple[str, ...] = ()
    if evaluation is not None:
        verdicts = tuple(Verdict(v.tag, v.status, v.reason) for v in evaluation.verdicts)
        warnings = tuple(evaluation.warnings)
        if error is None and evaluation.error is not None:
            error = str(evaluation.error)
    return PolicyView(
        row=row,
        repository=repository,
        latest=_get(status, ("latestRef", "tag")),
        previous=_get(status, ("observedPreviousRef", "tag")),
        verdicts=verdicts,
        warnings=tuple(redact(w) for w in warnings),
        error=redact(error) if error else None,
    )


@dataclass(frozen=True)
class Change:
    """One value a push changed."""

    file: str
    object: str
    old: str
    new: str


@dataclass(frozen=True)
class Push:
    """One pushed commit of an automation."""

    time: str
    commit: str
    branch: str
    message: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Failure:
    """One failed run: when and why (a Warning event)."""

    time: str
    reason: str
    message: str


@dataclass(frozen=True)
class AutomationView:
    """One ImageUpdateAutomation's history: pushes, the no-op runs since, failures."""

    row: ObjectRow
    pushes: tuple[Push, ...]
    quiet: str
    """The no-op runs, summarised: runs since the last push that changed nothing."""
    failures: tuple[Failure, ...]

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return {**camel(asdict(self)), "row": self.row.document()}


def _commit_messages(events: Iterable[EventLike]) -> dict[str, str]:
    """Short commit SHA → commit message, from the push events (``pushed commit '<sha>'``)."""
    found: dict[str, str] = {}
    for event in events:
        first, _, rest = event.message.partition("\n")
        match = _PUSHED.match(first)
        if match is not None:
            found.setdefault(match["sha"], rest.strip())
    return found


def _message_of(commit: str, messages: Mapping[str, str]) -> str:
    """The message of ``commit``: the events name it by a short SHA (a prefix of it)."""
    return next((text for sha, text in messages.items() if commit.startswith(sha)), "")


def automation_view(
    row: ObjectRow,
    status: Mapping[str, Any],
    runs: Iterable[RunLike],
    events: Sequence[EventLike],
) -> AutomationView:
    """The automation page from its row, stored status, newest-first runs and events."""
    messages = _commit_messages(events)
    pushes = tuple(
        Push(
            time=iso(run.time),
            commit=run.commit or "",
            branch=run.branch or "",
            message=redact(_message_of(run.commit or "", messages)),
            changes=tuple(
                Change(
                    file=change.get("file", ""),
                    object=f"{change.get('kind', '')}/{change.get('name', '')}",
                    old=redact(change.get("old", "")),
                    new=redact(change.get("new", "")),
                )
                for change in run.changes
            ),
        )
        for run in runs
    )
    failures = tuple(
        Failure(iso(e.time), e.reason, redact(e.message)) for e in events if e.type == "Warning"
    )
    return AutomationView(row, pushes, _quiet(status), failures)


def _quiet(status: Mapping[str, Any]) -> str:
    last_run, last_push = status.get("lastAutomationRunTime"), status.get("lastPushTime")
    if not last_run:
        return "no run yet"
    if last_push and str(last_push) >= str(last_run):
        return f"the last run ({last_run}) pushed a commit"
    since = f"since the last push ({last_push})" if last_push else "so far"
    return f"runs {since} made no change; the last one at {last_run}"


def iso(moment: datetime) -> str:
    """``moment`` in RFC 3339 with ``Z`` for UTC, as the statuses write times."""
    return moment.isoformat().replace("+00:00", "Z")


def camel(data: Mapping[str, Any]) -> dict[str, Any]:
    """snake_case keys → camelCase, recursively (the API's JSON style)."""

    def convert(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {_camel_key(k): convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        return value

    result: dict[str, Any] = convert(data)
    return result


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)
