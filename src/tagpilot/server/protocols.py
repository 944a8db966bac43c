"""What the HTTP server needs from the daemon: the engine view, the trigger, the store.

The runtime's engine (``tagpilot.runtime.engine``) and ``SqliteStore`` satisfy these
structurally; tests use small in-process fakes.  Kept narrow so the server never reaches
into scheduling or reconciling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from tagpilot.api.descriptors import cli_kinds, reconciled_kinds
from tagpilot.ports import AutomationRun, ObjectKey, RecordedEvent, StoredTags

__all__ = [
    "API_KINDS",
    "RECONCILABLE_KINDS",
    "RUNS_SHOWN",
    "ServerEngine",
    "StatusStore",
    "Trigger",
]

RECONCILABLE_KINDS = reconciled_kinds()
"""The kinds the engine reconciles: what webhooks and ``reconcile`` can trigger."""

RUNS_SHOWN = 5
"""How many recent pushes an automation's summary carries."""

API_KINDS = tuple(d.kind for d in cli_kinds())
"""The kinds the API shows (each of them is reconciled, GitRepository included)."""


class Trigger(Protocol):
    """Asks the scheduler to reconcile one object now; must not block."""

    def __call__(self, key: ObjectKey, reason: str, *, requested_at: str | None = None) -> object:
        """Queue ``key`` for ``reason``.

        ``requested_at`` (RFC 3339, sent by ``tagpilot reconcile``/``resume``) is what the
        reconcile records as ``status.lastHandledReconcileAt``, so the CLI sees it done.
        """
        ...


class ServerEngine(Protocol):
    """The part of the run engine the server reads and steers."""

    def keys(self) -> list[ObjectKey]:
        """Every reconcilable object now loaded."""
        ...

    def shown_keys(self) -> list[ObjectKey]:
        """Every object the API lists: the reconcilable ones and the inputs (GitRepository)."""
        ...

    def object(self, key: ObjectKey) -> Any:
        """The loaded API object (a ``FluxObject``); ``KeyError`` when none is loaded."""
        ...

    def is_suspended(self, key: ObjectKey) -> bool:
        """Whether the object is suspended (by its spec or through the API)."""
        ...

    def set_suspended(self, key: ObjectKey, suspended: bool) -> None:
        """Suspend or resume the object until the daemon stops or the spec changes."""
        ...

    def repositories_for_image(self, image: str) -> list[ObjectKey]:
        """ImageRepositories whose spec.image or canonical name equals ``image``."""
        ...


class StatusStore(Protocol):
    """The part of the state store the server reads."""

    def get_status(self, key: ObjectKey) -> dict[str, Any] | None:
        """The object's last written status, or None."""
        ...

    def get_tags(self, canonical_name: str) -> StoredTags | None:
        """The last scanned tag set of an image (the status page explains policies on it)."""
        ...

    def runs(self, namespace: str, name: str, limit: int = 20) -> list[AutomationRun]:
        """Newest-first recorded runs (pushes) of one automation."""
        ...

    def events(self, key: ObjectKey | None = None, limit: int = 100) -> Sequence[RecordedEvent]:
        """Newest-first events, of one object or of all."""
        ...
