"""Shared API pieces: the model base, object metadata, references, conditions and reasons.

Every Flux model in ``tagpilot.api`` derives from :class:`FluxModel`: snake_case Python
names with Flux's camelCase aliases, unknown fields rejected, frozen values.  Fields are
declared in the order of Flux's Go structs, so dumps come out in Flux's field order.

Defaults: a field left out of a manifest takes Flux's CRD default, but stays *unset*
(``model_fields_set``), so dumps and ``--export`` print only what was written.  A
manifest without ``metadata.namespace`` is in :data:`DEFAULT_NAMESPACE` (``default``),
as ``kubectl apply`` would place it; the loader can be given another default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "CONDITION_READY",
    "CONDITION_RECONCILING",
    "CONDITION_STALLED",
    "DEFAULT_NAMESPACE",
    "DNS_SUBDOMAIN_MAX",
    "DNS_SUBDOMAIN_PATTERN",
    "REASON_ACCESS_DENIED",
    "REASON_AUTHENTICATION_FAILED",
    "REASON_DEPENDENCY_NOT_READY",
    "REASON_FAILURE",
    "REASON_FEATURE_GATE_DISABLED",
    "REASON_GIT_OPERATION_FAILED",
    "REASON_GIT_OPERATION_SUCCEEDED",
    "REASON_IMAGE_URL_INVALID",
    "REASON_INTERVAL_NOT_CONFIGURED",
    "REASON_INVALID_POLICY",
    "REASON_INVALID_POLICY_SELECTOR",
    "REASON_INVALID_SOURCE_CONFIGURATION",
    "REASON_INVALID_UPDATE_STRATEGY",
    "REASON_PROGRESSING",
    "REASON_PROGRESSING_WITH_RETRY",
    "REASON_READ_OPERATION_FAILED",
    "REASON_REMOVED_TEMPLATE_FIELD",
    "REASON_SOURCE_MANAGER_FAILED",
    "REASON_SUCCEEDED",
    "REASON_UPDATE_FAILED",
    "REQUESTED_AT_ANNOTATION",
    "Condition",
    "FluxModel",
    "ImageRef",
    "LabelSelector",
    "LabelSelectorRequirement",
    "LocalObjectReference",
    "NamespacedName",
    "NamespacedObjectReference",
    "ObjectMeta",
    "SpecError",
]

REQUESTED_AT_ANNOTATION = "reconcile.fluxcd.io/requestedAt"
"""Flux's on-demand reconcile request: ``flux reconcile`` sets it, a controller echoes it in
``status.lastHandledReconcileAt`` once handled."""

DEFAULT_NAMESPACE = "default"
"""Namespace of an object whose manifest names none (what ``kubectl apply`` would use)."""

DNS_SUBDOMAIN_MAX = 253
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

# Condition types (kstatus).
CONDITION_READY = "Ready"
CONDITION_RECONCILING = "Reconciling"
CONDITION_STALLED = "Stalled"

# Condition reasons used by the Flux image controllers and source-controller.
REASON_SUCCEEDED = "Succeeded"
REASON_FAILURE = "Failure"
REASON_PROGRESSING = "Progressing"
REASON_PROGRESSING_WITH_RETRY = "ProgressingWithRetry"
REASON_IMAGE_URL_INVALID = "ImageURLInvalid"
REASON_AUTHENTICATION_FAILED = "AuthenticationFailed"
REASON_READ_OPERATION_FAILED = "ReadOperationFailed"
REASON_FEATURE_GATE_DISABLED = "FeatureGateDisabled"
REASON_DEPENDENCY_NOT_READY = "DependencyNotReady"
REASON_ACCESS_DENIED = "AccessDenied"
REASON_INTERVAL_NOT_CONFIGURED = "IntervalNotConfigured"
REASON_INVALID_POLICY = "InvalidPolicy"
REASON_INVALID_SOURCE_CONFIGURATION = "InvalidSourceConfiguration"
REASON_SOURCE_MANAGER_FAILED = "SourceManagerFailed"
REASON_GIT_OPERATION_FAILED = "GitOperationFailed"
REASON_GIT_OPERATION_SUCCEEDED = "GitOperationSucceeded"
REASON_UPDATE_FAILED = "UpdateFailed"
REASON_INVALID_POLICY_SELECTOR = "InvalidPolicySelector"
REASON_INVALID_UPDATE_STRATEGY = "InvalidUpdateStrategy"
REASON_REMOVED_TEMPLATE_FIELD = "RemovedTemplateField"


class SpecError(ValueError):
    """A validation failure below the field being validated, at ``path`` (relative to it).

    ``path`` is dotted text (``spec.update.strategy``, ``[2]``) or a tuple of keys and
    indexes, for keys that contain dots themselves.
    """

    def __init__(self, path: str | tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class FluxModel(BaseModel):
    """Base of every API model: camelCase aliases, unknown fields rejected, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=False,
    )

    def mark_set(self, *names: str) -> None:
        """Treat ``names`` as written, so dumps print them (Go fields without omitempty)."""
        self.model_fields_set.update(names)


class LocalObjectReference(FluxModel):
    """A reference to an object in the same namespace (``{name}``)."""

    name: str = Field(min_length=1)


class NamespacedObjectReference(FluxModel):
    """A reference that may name another namespace (``{name, namespace?}``)."""

    name: str = Field(min_length=1)
    namespace: str | None = None


class LabelSelectorRequirement(FluxModel):
    """One ``matchExpressions`` entry of a Kubernetes label selector."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] | None = None


class LabelSelector(FluxModel):
    """A Kubernetes label selector (``matchLabels`` and ``matchExpressions``)."""

    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class ObjectMeta(FluxModel):
    """The part of Kubernetes object metadata tagpilot reads; server-set fields are tolerated."""

    name: str = Field(min_length=1, max_length=DNS_SUBDOMAIN_MAX, pattern=DNS_SUBDOMAIN_PATTERN)
    namespace: str | None = Field(
        default=None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63
    )
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    generate_name: str | None = None
    generation: int | None = None
    uid: str | None = None
    self_link: str | None = None
    resource_version: str | None = None
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    deletion_grace_period_seconds: int | None = None
    finalizers: list[str] | None = None
    managed_fields: list[Any] | None = None
    owner_references: list[Any] | None = None

    def namespace_or(self, default: str = DEFAULT_NAMESPACE) -> str:
        """The namespace, or ``default`` when the manifest names none."""
        return self.namespace or default


@dataclass(frozen=True, order=True)
class NamespacedName:
    """An object's identity within its kind: ``namespace/name``."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class ImageRef(FluxModel):
    """A selected image: ``name`` (the ImageRepository ``spec.image`` as written), tag, digest."""

    name: str
    tag: str
    digest: str | None = None

    def model_post_init(self, context: Any, /) -> None:
        """``name`` and ``tag`` are always serialised (no omitempty in Go)."""
        self.mark_set("name", "tag")

    def __str__(self) -> str:
        return f"{self.name}:{self.tag}@{self.digest}" if self.digest else f"{self.name}:{self.tag}"


class Condition(FluxModel):
    """A Kubernetes ``metav1.Condition`` as Flux writes it in ``status.conditions``."""

    type: str
    status: Literal["True", "False", "Unknown"]
    observed_generation: int | None = None
    last_transition_time: str
    reason: str
    message: str = ""

    def model_post_init(self, context: Any, /) -> None:
        """``message`` is always serialised, like the Go struct."""
        self.mark_set("message")
