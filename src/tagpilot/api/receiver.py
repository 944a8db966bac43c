"""Receiver (``notification.toolkit.fluxcd.io`` v1, also v1beta2): an incoming webhook.

Fields follow notification-controller's ``ReceiverSpec``.  A Receiver names the objects a
verified delivery asks to reconcile (``spec.resources``) and the Secret whose ``token`` key
both derives the webhook path and, for the signing types, verifies the delivery.  The
types Flux has that cannot be verified without a cloud round trip or a CEL engine
(``gcr``, ``generic-oidc``, ``spec.resourceFilter``) are refused at load time rather than
accepted and silently ignored.  Used by the loader and by ``tagpilot.server``.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Final, Literal, get_args

from pydantic import Field, model_validator

from tagpilot.api.duration import Duration, DurationField
from tagpilot.api.image import FluxObject
from tagpilot.api.meta import Condition, FluxModel, LocalObjectReference, SpecError

__all__ = [
    "DEFAULT_RECEIVER_INTERVAL",
    "NOTIFICATION_API_V1",
    "NOTIFICATION_API_VERSIONS",
    "RECEIVER_TYPES",
    "RECEIVER_WEBHOOK_PREFIX",
    "UNSUPPORTED_RECEIVER_TYPES",
    "CrossNamespaceObjectReference",
    "Receiver",
    "ReceiverSpec",
    "ReceiverStatus",
    "ReceiverType",
    "webhook_path",
]

NOTIFICATION_API_V1: Final = "notification.toolkit.fluxcd.io/v1"
NOTIFICATION_API_VERSIONS = (NOTIFICATION_API_V1, "notification.toolkit.fluxcd.io/v1beta2")
RECEIVER_WEBHOOK_PREFIX: Final = "/hook/"
DEFAULT_RECEIVER_INTERVAL = Duration.parse("10m")
WILDCARD: Final = "*"

ReceiverType = Literal[
    "generic",
    "generic-hmac",
    "generic-oidc",
    "github",
    "gitlab",
    "bitbucket",
    "harbor",
    "dockerhub",
    "quay",
    "gcr",
    "nexus",
    "acr",
    "cdevents",
]
RECEIVER_TYPES: tuple[str, ...] = get_args(ReceiverType)
UNSUPPORTED_RECEIVER_TYPES = {
    "gcr": "it needs Google's token service to verify deliveries; use generic-hmac",
    "generic-oidc": "OIDC token verification is not implemented; use generic-hmac",
}
"""Flux types tagpilot refuses, with what to use instead."""

ReferenceKind = Literal[
    "Bucket",
    "GitRepository",
    "Kustomization",
    "HelmRelease",
    "HelmChart",
    "HelmRepository",
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "OCIRepository",
    "ArtifactGenerator",
    "ExternalArtifact",
]


def webhook_path(token: bytes, name: str, namespace: str) -> str:
    """Flux's ``status.webhookPath``: ``/hook/`` + hex sha256 of token, name, namespace."""
    digest = hashlib.sha256(token + name.encode() + namespace.encode()).hexdigest()
    return RECEIVER_WEBHOOK_PREFIX + digest


class CrossNamespaceObjectReference(FluxModel):
    """One ``spec.resources`` entry: an object by name, or ``*`` with ``matchLabels``."""

    api_version: str | None = None
    kind: ReferenceKind
    name: str = Field(min_length=1, max_length=253)
    namespace: str | None = Field(default=None, min_length=1, max_length=253)
    match_labels: dict[str, str] | None = None

    @model_validator(mode="after")
    def _wildcard_rules(self) -> CrossNamespaceObjectReference:
        if self.match_labels is not None and self.name != WILDCARD:
            raise SpecError("matchLabels", "matchLabels requires name to be '*'")
        if self.name == WILDCARD and self.match_labels is None:
            raise SpecError("matchLabels", "name '*' needs matchLabels to select objects")
        if self.namespace == WILDCARD and self.name != WILDCARD:
            raise SpecError("namespace", "namespace '*' requires name to be '*'")
        return self

    def namespace_or(self, default: str) -> str:
        """The referenced namespace, or ``default`` (the Receiver's) when none is written."""
        return self.namespace or default

    def selects(
        self, name: str, namespace: str, labels: dict[str, str] | None, *, home: str
    ) -> bool:
        """Whether an object of this entry's kind, with this identity and labels, is meant.

        ``home`` is the Receiver's namespace, used when the entry names none.
        """
        if self.namespace != WILDCARD and namespace != self.namespace_or(home):
            return False
        if self.name != WILDCARD:
            return name == self.name
        present = labels or {}
        return all(present.get(key) == value for key, value in (self.match_labels or {}).items())


class ReceiverSpec(FluxModel):
    """``spec`` of a Receiver."""

    type: ReceiverType
    interval: DurationField | None = None
    events: list[str] | None = None
    resources: list[CrossNamespaceObjectReference]
    resource_filter: str | None = None
    secret_ref: LocalObjectReference | None = None
    oidc_providers: list[dict[str, Any]] | None = None
    suspend: bool = False

    @model_validator(mode="after")
    def _supported(self) -> ReceiverSpec:
        if self.type in UNSUPPORTED_RECEIVER_TYPES:
            why = UNSUPPORTED_RECEIVER_TYPES[self.type]
            raise SpecError("type", f"receiver type '{self.type}' is not supported: {why}")
        if self.resource_filter:
            raise SpecError(
                "resourceFilter", "CEL resource filters are not supported; use matchLabels"
            )
        if self.oidc_providers:
            raise SpecError("oidcProviders", "oidcProviders can only be set for generic-oidc")
        if self.secret_ref is None:
            raise SpecError("secretRef", "secretRef is required (a Secret with a 'token' key)")
        return self

    @property
    def effective_interval(self) -> Duration:
        """``interval``, or Flux's default of ten minutes."""
        return self.interval or DEFAULT_RECEIVER_INTERVAL

    def accepts_event(self, event: str | None) -> bool:
        """Whether ``event`` passes ``spec.events`` (case-insensitive; empty list: all)."""
        if not self.events:
            return True
        wanted = (event or "").casefold()
        return any(allowed.casefold() == wanted for allowed in self.events)


class ReceiverStatus(FluxModel):
    """``status`` of a Receiver."""

    last_handled_reconcile_at: str | None = None
    conditions: list[Condition] | None = None
    webhook_path: str | None = None
    observed_generation: int | None = None


class Receiver(FluxObject):
    """An incoming webhook that asks for the listed objects to be reconciled at once."""

    KIND: ClassVar[str] = "Receiver"
    api_version: Literal[
        "notification.toolkit.fluxcd.io/v1", "notification.toolkit.fluxcd.io/v1beta2"
    ] = NOTIFICATION_API_V1
    kind: Literal["Receiver"] = "Receiver"
    spec: ReceiverSpec
    status: ReceiverStatus | None = None

    @property
    def secret_name(self) -> str:
        """The name of the Secret holding the ``token`` (validation makes it present)."""
        assert self.spec.secret_ref is not None
        return self.spec.secret_ref.name

    def webhook_path(self, token: bytes) -> str:
        """This Receiver's ``/hook/<sha256>`` path for ``token``."""
        return webhook_path(token, self.name, self.namespace)
