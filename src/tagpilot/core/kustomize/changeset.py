"""Change sets, the texts Flux's kustomize-controller writes, and ``status.history``.

* A change set is one line per object, ``Kind/namespace/name action`` (``Kind/name`` for
  cluster-scoped objects).  The apply event lists only ``created`` and ``configured`` lines
  (:meth:`ChangeSet.apply_event`); the prune event lists every entry (:meth:`ChangeSet.text`).
* The condition messages and event texts users' scripts match on (:func:`applied_message`,
  :func:`progress_message`, :func:`health_failed_message`, ...), durations printed the way Go
  prints a ``time.Duration``.
* ``status.history`` (:func:`upsert_history`): at most 5 snapshots, newest first, one per
  (build digest, final Ready reason), counting reconciliations.

Where Flux's exact wording of an apply failure is uncertain, the error comes first and the
lines applied so far follow on their own lines, which is what a reader of ``kubectl describe``
needs either way.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from tagpilot.core.goduration import format_go_duration, parse_go_duration
from tagpilot.core.kustomize.inventory import InventoryEntry, ObjMetadata
from tagpilot.core.timefmt import rfc3339

__all__ = [
    "HISTORY_LIMIT",
    "Action",
    "ChangeSet",
    "ChangeSetEntry",
    "Snapshot",
    "applied_message",
    "apply_failed_message",
    "build_digest",
    "dependency_not_ready_message",
    "go_duration",
    "health_failed_message",
    "health_passed_message",
    "progress_message",
    "reconciliation_finished_message",
    "upsert_history",
]

HISTORY_LIMIT = 5


class Action(enum.StrEnum):
    """What happened to one object, in the words of Flux's ``ssa`` package."""

    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ChangeSetEntry:
    """One object and what was done with it."""

    meta: ObjMetadata
    version: str
    action: Action

    @property
    def subject(self) -> str:
        """``Kind/namespace/name`` or ``Kind/name``."""
        return self.meta.ref()

    def line(self) -> str:
        """``Deployment/apps/web configured``."""
        return f"{self.subject} {self.action}"

    def inventory_entry(self) -> InventoryEntry:
        """The entry this object contributes to the new inventory."""
        return InventoryEntry(self.meta.id, self.version)


@dataclass(frozen=True)
class ChangeSet:
    """The entries of one apply or prune, in the order they happened."""

    entries: tuple[ChangeSetEntry, ...] = field(default_factory=tuple)

    def add(self, *more: ChangeSetEntry) -> ChangeSet:
        """A change set with ``more`` appended."""
        return ChangeSet((*self.entries, *more))

    def lines(self, actions: Iterable[Action] | None = None) -> list[str]:
        """The lines, optionally only for some actions."""
        wanted = set(actions) if actions is not None else None
        return [e.line() for e in self.entries if wanted is None or e.action in wanted]

    def text(self) -> str:
        """Every line, newline-separated (the prune event, the apply failure detail)."""
        return "\n".join(self.lines())

    def apply_event(self) -> str:
        """The apply event text: only objects created or configured; empty means no event."""
        return "\n".join(self.lines((Action.CREATED, Action.CONFIGURED)))

    def inventory(self) -> list[InventoryEntry]:
        """The new inventory: every entry, ``unchanged`` and ``skipped`` ones included."""
        seen: set[str] = set()
        out = []
        for entry in self.entries:
            inv = entry.inventory_entry()
            if inv.id not in seen:
                seen.add(inv.id)
                out.append(inv)
        return out

    def health_targets(self) -> list[ChangeSetEntry]:
        """What ``wait: true`` checks: every entry except skipped ones."""
        return [e for e in self.entries if e.action is not Action.SKIPPED]


def apply_failed_message(error: str, applied: ChangeSet) -> str:
    """The ReconciliationFailed message: the error, then the lines applied before it."""
    detail = applied.text()
    return f"{error}\n{detail}" if detail else error


def go_duration(value: timedelta) -> str:
    """A duration as Go prints it (``176.163666ms``, ``10m0s``)."""
    return format_go_duration(round(value / timedelta(microseconds=1)) * 1000)


def applied_message(revision: str) -> str:
    """Ready=True/ReconciliationSucceeded."""
    return f"Applied revision: {revision}"


def progress_message(step: str, revision: str, timeout: timedelta) -> str:
    """The Reconciling message of a pipeline step.

    ``step`` is one of ``fetch``, ``build``, ``drift`` and ``health``.
    """
    phrases = {
        "fetch": "Fetching manifests for revision",
        "build": "Building manifests for revision",
        "drift": "Detecting drift for revision",
        "health": "Running health checks for revision",
    }
    return f"{phrases[step]} {revision} with a timeout of {go_duration(timeout)}"


def health_passed_message(elapsed: timedelta) -> str:
    """Healthy=True/Succeeded, and the event after a health check that newly passed."""
    return f"Health check passed in {go_duration(elapsed)}"


def health_failed_message(
    pending: Sequence[tuple[str, str]], *, elapsed: timedelta, stalled: bool
) -> str:
    """Ready/Healthy=False/HealthCheckFailed.

    ``pending`` lists ``(Kind/ns/name, kstatus status)`` of the objects that are not Current;
    ``stalled`` is the fail-fast case (everything left is Failed).
    """
    items = ", ".join(f"{ref} status: '{status}'" for ref, status in pending)
    head = "failed early due to stalled resources" if stalled else "timeout waiting for"
    return f"health check failed after {go_duration(elapsed)}: {head}: [{items}]"


def dependency_not_ready_message() -> str:
    """The info event when a ``dependsOn`` entry is not ready."""
    return "Dependencies do not meet ready condition, retrying in 30s"


def reconciliation_finished_message(elapsed: timedelta, interval: timedelta) -> str:
    """The info event that ends a successful reconcile."""
    return f"Reconciliation finished in {go_duration(elapsed)}, next run in {go_duration(interval)}"


def build_digest(manifests: str) -> str:
    """``sha256:<hex>`` of the final multi-document YAML (``status.history[].digest``)."""
    return "sha256:" + hashlib.sha256(manifests.encode()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """One ``status.history`` entry."""

    digest: str
    first_reconciled: datetime
    last_reconciled: datetime
    last_reconciled_duration: timedelta
    last_reconciled_status: str
    total_reconciliations: int
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        """Read back what :meth:`to_json` wrote (a stored ``status.history`` entry)."""
        return cls(
            digest=str(data["digest"]),
            first_reconciled=_moment(str(data["firstReconciled"])),
            last_reconciled=_moment(str(data["lastReconciled"])),
            last_reconciled_duration=timedelta(
                microseconds=parse_go_duration(str(data.get("lastReconciledDuration") or "0s"))
                // 1000
            ),
            last_reconciled_status=str(data.get("lastReconciledStatus") or ""),
            total_reconciliations=int(data.get("totalReconciliations") or 0),
            metadata=dict(data.get("metadata") or {}),
        )

    def to_json(self) -> dict[str, object]:
        """The status form, timestamps in RFC 3339 and the duration as a Go string."""
        out: dict[str, object] = {
            "digest": self.digest,
            "firstReconciled": rfc3339(self.first_reconciled),
            "lastReconciled": rfc3339(self.last_reconciled),
            "lastReconciledDuration": go_duration(self.last_reconciled_duration),
            "lastReconciledStatus": self.last_reconciled_status,
            "totalReconciliations": self.total_reconciliations,
        }
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def upsert_history(
    history: Sequence[Snapshot],
    *,
    digest: str,
    at: datetime,
    duration: timedelta,
    status: str,
    metadata: Mapping[str, str],
) -> list[Snapshot]:
    """Record one finished reconcile: bump the matching snapshot or add a new one first.

    A snapshot matches on digest and final Ready reason (``status``); the list is kept newest
    first by ``lastReconciled`` and cut to :data:`HISTORY_LIMIT`.
    """
    for i, snap in enumerate(history):
        if snap.digest == digest and snap.last_reconciled_status == status:
            updated = replace(
                snap,
                last_reconciled=at,
                last_reconciled_duration=duration,
                total_reconciliations=snap.total_reconciliations + 1,
                metadata=dict(metadata),
            )
            rest = [*history[:i], updated, *history[i + 1 :]]
            return sorted(rest, key=lambda s: s.last_reconciled, reverse=True)[:HISTORY_LIMIT]
    fresh = Snapshot(digest, at, at, duration, status, 1, dict(metadata))
    return [fresh, *history][:HISTORY_LIMIT]
