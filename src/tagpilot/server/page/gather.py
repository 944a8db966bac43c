"""Read what the status page shows from the engine and the state store.

The imperative half of the page: it looks objects up, reads statuses, events, runs and tag
sets, evaluates a policy on its stored tags, and hands all of it to the pure view model in
:mod:`tagpilot.core.statusview`.  The HTML view and the ``/api/v1/status`` JSON both come
from here, so the page is only a view of the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tagpilot.api.descriptors import IMAGE_POLICY, IMAGE_UPDATE
from tagpilot.api.image import ImagePolicy
from tagpilot.core.errors import TagpilotError
from tagpilot.core.policy import Evaluation
from tagpilot.core.statusview import (
    AutomationView,
    ObjectRow,
    PolicyView,
    automation_view,
    object_row,
    policy_view,
)
from tagpilot.core.tagtimeline import TimelineEntry, timeline
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.image_policy import compile_image_policy
from tagpilot.server.protocols import ServerEngine, StatusStore
from tagpilot.server.receivers import ReceiverTable

__all__ = ["EVENTS_SHOWN", "HISTORY_SHOWN", "LiveStatus", "PageData", "ReceiverRow"]

LiveStatus = Callable[[ObjectKey], Mapping[str, Any] | None]
"""The status an object has in the cluster now (``tagpilot controller``), or None."""

HISTORY_SHOWN = 20
"""How many pushes an automation's page lists."""
EVENTS_SHOWN = 50
"""How many recent events a page reads per object."""
_SUMMARY_FIELD = {
    "ImageRepository": "image",
    "GitRepository": "url",
    "Kustomization": "path",
}


@dataclass(frozen=True)
class ReceiverRow:
    """A webhook Receiver, by name: its hook path holds a secret digest and is never shown."""

    namespace: str
    name: str
    type: str
    suspended: bool

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "type": self.type,
            "suspended": self.suspended,
        }


class PageData:
    """The page's reads over the engine, the store and the Receivers."""

    def __init__(
        self,
        engine: ServerEngine,
        store: StatusStore,
        receivers: ReceiverTable | None,
        live_status: LiveStatus | None = None,
    ) -> None:
        self.engine, self.store, self.receivers = engine, store, receivers
        self.live_status = live_status

    def _status(self, key: ObjectKey) -> dict[str, Any]:
        """In a cluster the object's own status (every replica sees the leader's writes,
        refusals included); else the state store's."""
        live = self.live_status(key) if self.live_status is not None else None
        return dict(live) if live else self.store.get_status(key) or {}

    def row(self, key: ObjectKey) -> ObjectRow:
        """One object's overview row; ``KeyError`` when it is not loaded."""
        loaded = self.engine.object(key)
        status = self._status(key)
        spec = loaded.model_dump(mode="json", by_alias=True).get("spec") or {}
        summary = str(spec.get(_SUMMARY_FIELD.get(key.kind, ""), "") or "")
        if key.kind == IMAGE_POLICY.kind:
            summary = str((status.get("latestRef") or {}).get("tag") or "")
        elif key.kind == IMAGE_UPDATE.kind:
            summary = str(status.get("lastPushCommit") or "")[:10]
        suspended = self.engine.is_suspended(key)
        return object_row(
            key.kind, key.namespace, key.name, status, suspended=suspended, summary=summary
        )

    def rows(self) -> list[ObjectRow]:
        """Every object the API lists, sorted by kind, namespace and name."""
        return [self.row(key) for key in sorted(self.engine.shown_keys())]

    def receiver_rows(self) -> list[ReceiverRow]:
        """The Receivers, by name and type only."""
        if self.receivers is None:
            return []
        return [
            ReceiverRow(
                entry.receiver.namespace,
                entry.receiver.name,
                entry.receiver.spec.type,
                entry.receiver.spec.suspend,
            )
            for entry in self.receivers.entries()
        ]

    def policy(self, namespace: str, name: str) -> PolicyView:
        """One ImagePolicy's page; ``KeyError`` when it is not loaded."""
        key = ObjectKey(IMAGE_POLICY.kind, namespace, name)
        row = self.row(key)
        policy = self.engine.object(key)
        assert isinstance(policy, ImagePolicy)
        ref = policy.spec.image_repository_ref
        repository = ObjectKey("ImageRepository", ref.namespace or namespace, ref.name)
        evaluation, error = self._evaluate(policy, repository)
        return policy_view(
            row,
            self._status(key),
            repository=f"{repository.namespace}/{repository.name}",
            evaluation=evaluation,
            error=error,
        )

    def _evaluate(
        self, policy: ImagePolicy, repository: ObjectKey
    ) -> tuple[Evaluation | None, str | None]:
        """The policy on the repository's stored tags, or why it cannot be evaluated."""
        try:
            compiled = compile_image_policy(policy)
        except TagpilotError as error:
            return None, error.message
        canonical = self._status(repository).get("canonicalImageName")
        stored = self.store.get_tags(str(canonical)) if canonical else None
        if stored is None:
            return None, f"ImageRepository {repository.namespace}/{repository.name} has no scan"
        return compiled.evaluate(stored.tags), None

    def automation(self, namespace: str, name: str) -> AutomationView:
        """One ImageUpdateAutomation's page; ``KeyError`` when it is not loaded."""
        key = ObjectKey(IMAGE_UPDATE.kind, namespace, name)
        row = self.row(key)
        runs = self.store.runs(namespace, name, HISTORY_SHOWN)
        events = self.store.events(key, EVENTS_SHOWN)
        return automation_view(row, self._status(key), runs, events)

    def timeline(self) -> list[TimelineEntry]:
        """Every image's tags: first picked by a policy, committed by an automation."""
        keys = self.engine.shown_keys()
        events = [
            event
            for key in keys
            if key.kind == IMAGE_POLICY.kind
            for event in self.store.events(key, EVENTS_SHOWN)
        ]
        runs = [
            run
            for key in keys
            if key.kind == IMAGE_UPDATE.kind
            for run in self.store.runs(key.namespace, key.name, HISTORY_SHOWN)
        ]
        return timeline(events, runs)
