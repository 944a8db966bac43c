"""Helpers for the server tests: an in-memory engine, a recording trigger, objects, signing.

The engine here is a pure in-process stand-in for ``tagpilot.runtime.engine`` with the
few methods the server calls; the store is the real ``SqliteStore``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from tagpilot.api.image import FluxObject, ImagePolicy, ImageRepository
from tagpilot.api.receiver import Receiver
from tagpilot.api.source import GitRepository
from tagpilot.core.secrets import SecretValue
from tagpilot.ports import ObjectKey
from tagpilot.server.payloads import canonical_image
from tagpilot.server.protocols import RECONCILABLE_KINDS
from tagpilot.server.receivers import ReceiverEntry

__all__ = [
    "TOKEN",
    "InMemoryEngine",
    "RecordingTrigger",
    "entry",
    "git_repository",
    "hmac_hex",
    "policy",
    "receiver",
    "repository",
]

TOKEN = b"s3cr3t-token"


def repository(
    name: str, image: str, namespace: str = "apps", labels: dict[str, str] | None = None
) -> ImageRepository:
    """An ImageRepository scanning ``image`` every minute."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return ImageRepository.model_validate(
        {"metadata": metadata, "spec": {"image": image, "interval": "1m"}}
    )


def policy(name: str, repository_name: str, namespace: str = "apps") -> ImagePolicy:
    """A semver ImagePolicy on ``repository_name``."""
    return ImagePolicy.model_validate(
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "imageRepositoryRef": {"name": repository_name},
                "policy": {"semver": {"range": ">=1.0.0"}},
            },
        }
    )


def git_repository(name: str, namespace: str = "apps") -> GitRepository:
    """A GitRepository on a loopback URL."""
    return GitRepository.model_validate(
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"url": "ssh://git@127.0.0.1/app.git", "interval": "1m"},
        }
    )


def receiver(
    kind: str,
    resources: list[dict[str, Any]],
    *,
    name: str = "hook",
    namespace: str = "apps",
    **spec: Any,
) -> Receiver:
    """A Receiver of type ``kind`` over ``resources`` with Secret ``hook-token``."""
    body = {"type": kind, "resources": resources, "secretRef": {"name": "hook-token"}, **spec}
    return Receiver.model_validate(
        {
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Receiver",
            "metadata": {"name": name, "namespace": namespace},
            "spec": body,
        }
    )


def entry(hook: Receiver, token: bytes = TOKEN) -> ReceiverEntry:
    """``hook`` served with ``token``."""
    return ReceiverEntry(hook, SecretValue(token))


def hmac_hex(algorithm: str, body: bytes, token: bytes = TOKEN) -> str:
    """The hex HMAC of ``body`` keyed by ``token``."""
    return hmac.new(token, body, getattr(hashlib, algorithm)).hexdigest()


@dataclass
class InMemoryEngine:
    """The engine surface the server uses, over a fixed set of objects."""

    objects: dict[ObjectKey, FluxObject] = field(default_factory=dict)
    suspended: set[ObjectKey] = field(default_factory=set)

    @classmethod
    def of(cls, *loaded: FluxObject) -> InMemoryEngine:
        """An engine holding ``loaded``."""
        return cls({ObjectKey(item.kind, item.namespace, item.name): item for item in loaded})

    def keys(self) -> list[ObjectKey]:
        """Every reconcilable object's key, as in the engine."""
        return [key for key in self.objects if key.kind in RECONCILABLE_KINDS]

    def shown_keys(self) -> list[ObjectKey]:
        """Every object's key: the API lists inputs too."""
        return list(self.objects)

    def object(self, key: ObjectKey) -> FluxObject:
        """The object; KeyError when unknown."""
        return self.objects[key]

    def is_suspended(self, key: ObjectKey) -> bool:
        """Whether suspended through ``set_suspended``."""
        return key in self.suspended

    def set_suspended(self, key: ObjectKey, suspended: bool) -> None:
        """Suspend or resume."""
        (self.suspended.add if suspended else self.suspended.discard)(key)

    def repositories_for_image(self, image: str) -> list[ObjectKey]:
        """ImageRepositories whose image, as written or canonical, is ``image``."""
        return [
            key
            for key, item in self.objects.items()
            if isinstance(item, ImageRepository)
            and image in (item.spec.image, canonical_image(item.spec.image))
        ]


@dataclass
class RecordingTrigger:
    """A trigger that remembers every call as (key, reason, requested_at)."""

    calls: list[tuple[ObjectKey, str, str | None]] = field(default_factory=list)

    def __call__(self, key: ObjectKey, reason: str, *, requested_at: str | None = None) -> bool:
        """Record the call."""
        self.calls.append((key, reason, requested_at))
        return True

    @property
    def keys(self) -> list[ObjectKey]:
        """Every key triggered, in order."""
        return [key for key, _, _ in self.calls]
