"""Protocols the imperative shell implements for the reconcilers.

Reconcilers depend on these, never on concrete adapters, so the same logic runs against
SQLite and the git CLI locally and against Kubernetes later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tagpilot.core.secrets import SecretValue, TLSMaterial

__all__ = [
    "Clock",
    "ObjectKey",
    "ProxySettings",
    "RecordedEvent",
    "Registry",
    "RegistryAccess",
    "StateStore",
    "StoredTags",
]


class Clock(Protocol):
    """The source of wall-clock time, injected so decisions stay testable."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


@dataclass(frozen=True, order=True)
class ObjectKey:
    """Identifies one object: kind, namespace and name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class StoredTags:
    """The last scan's tags of one repository (descending byte order) and its revision."""

    canonical_name: str
    tags: tuple[str, ...]
    revision: str
    scan_time: datetime


@dataclass(frozen=True)
class RecordedEvent:
    """An event about an object, as Flux would emit it (type Normal/Warning/Trace)."""

    key: ObjectKey
    type: str
    reason: str
    message: str
    time: datetime


class StateStore(Protocol):
    """Durable state: statuses, tag sets, events and automation runs."""

    def get_status(self, key: ObjectKey) -> dict[str, Any] | None:
        """The object's last written status, or None."""
        ...

    def put_status(self, key: ObjectKey, status: Mapping[str, Any]) -> None:
        """Replace the object's status."""
        ...

    def get_tags(self, canonical_name: str) -> StoredTags | None:
        """The stored tag set of a repository, or None when never scanned."""
        ...

    def put_tags(self, stored: StoredTags) -> None:
        """Replace the tag set of a repository (never appends)."""
        ...

    def add_event(self, event: RecordedEvent) -> None:
        """Record an event; old events of the object beyond the ring size are dropped."""
        ...

    def events(self, key: ObjectKey | None = None, limit: int = 100) -> Sequence[RecordedEvent]:
        """Newest-first events, of one object or of all."""
        ...


@dataclass(frozen=True)
class ProxySettings:
    """An explicit proxy from a ``proxySecretRef``."""

    address: str
    username: str | None = None
    password: SecretValue | None = None


@dataclass(frozen=True)
class RegistryAccess:
    """Everything needed to talk to one repository: the image and how to reach it."""

    image: str
    insecure: bool = False
    timeout_seconds: float = 30.0
    docker_config: SecretValue | None = None
    docker_config_source: str = ""
    tls: TLSMaterial | None = None
    proxy: ProxySettings | None = None


class Registry(Protocol):
    """Reads tags and digests from OCI registries."""

    async def list_tags(self, access: RegistryAccess) -> list[str]:
        """Every tag of ``access.image``, in the registry's order."""
        ...

    async def head_digest(self, access: RegistryAccess, tag: str) -> str:
        """The manifest digest of ``access.image:tag``."""
        ...
