"""One object as the flux-style commands see it, and the protocol of the places they read from.

A view's ``status`` is the kind's typed ``*Status`` model (parsed once, where the status
enters the CLI); :meth:`ObjectView.document` gives it back in Flux's JSON names for output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tagpilot.api.descriptors import KindDescriptor, descriptor
from tagpilot.core.errors import InvalidInputError
from tagpilot.ports import AutomationRun, ObjectKey, RecordedEvent
from tagpilot.reconcile.outcome import status_document

__all__ = ["ObjectSource", "ObjectView", "view_of"]


@dataclass(frozen=True)
class ObjectView:
    """One object: identity, spec (Flux's JSON names), typed status and suspension."""

    kind: str
    namespace: str
    name: str
    spec: Mapping[str, Any] | None = field(default_factory=dict)
    """None when the source does not know the spec (a state file read without manifests)."""
    status: Any = None
    """The kind's ``*Status`` model (empty when the object has none yet)."""
    suspended: bool = False
    runs: tuple[AutomationRun, ...] = ()
    """An automation's recent pushes, newest first (other kinds: none)."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Known metadata besides name and namespace: labels, annotations, generation."""

    def __post_init__(self) -> None:
        if self.status is None:
            object.__setattr__(self, "status", self.descriptor.parse_status(None))

    @property
    def key(self) -> ObjectKey:
        """The object's store key."""
        return ObjectKey(self.kind, self.namespace, self.name)

    @property
    def descriptor(self) -> KindDescriptor:
        """The kind's descriptor."""
        return descriptor(self.kind)

    @property
    def document(self) -> dict[str, Any]:
        """The status in Flux's JSON names, unset fields left out."""
        return status_document(self.status)


def view_of(
    kind: str,
    namespace: str,
    name: str,
    *,
    spec: Mapping[str, Any] | None,
    status: object,
    suspended: bool,
    runs: Sequence[AutomationRun] = (),
    metadata: Mapping[str, Any] | None = None,
) -> ObjectView:
    """A view whose ``status`` document (JSON names) is parsed into the kind's model."""
    try:
        typed = descriptor(kind).parse_status(status)
    except ValueError as error:
        raise InvalidInputError(
            f"{kind} {namespace}/{name}: the status does not read as a {kind} status: {error}"
        ) from error
    extra = {k: v for k, v in (metadata or {}).items() if k not in ("name", "namespace")}
    return ObjectView(kind, namespace, name, spec, typed, suspended, tuple(runs), extra)


class ObjectSource(Protocol):
    """Lists objects and events, from the daemon or from the state file."""

    @property
    def label(self) -> str:
        """What this source is, for a note saying where objects came from."""
        ...

    def list_objects(self, kind: str, namespace: str | None) -> list[ObjectView]:
        """Objects of ``kind`` in ``namespace`` (None: every namespace), sorted."""
        ...

    def list_events(self, namespace: str | None, key: ObjectKey | None) -> list[RecordedEvent]:
        """Events oldest first, of one object or of a namespace (None: every namespace)."""
        ...
