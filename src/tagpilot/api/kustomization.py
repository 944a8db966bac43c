"""Kustomization (``kustomize.toolkit.fluxcd.io`` v1): build a source path and apply it.

Fields follow kustomize-controller's ``KustomizationSpec`` and ``KustomizationStatus`` in
Go struct order.  Defaults the controller computes rather than the CRD (``timeout`` from
``interval``, ``retryInterval``, ``deletionPolicy``) are properties, so a dump prints only
what the manifest wrote.  The kustomize pieces (``patches``, ``images``, ``components``)
are what :mod:`tagpilot.core.kustomize.generate` writes into kustomization.yaml.
"""

from __future__ import annotations

from typing import ClassVar, Final, Literal

from pydantic import Field

from tagpilot.api.duration import Duration, DurationField
from tagpilot.api.image import FluxObject
from tagpilot.api.meta import Condition, FluxModel, LocalObjectReference

__all__ = [
    "DEFAULT_DELETION_POLICY",
    "KUSTOMIZE_API_V1",
    "KUSTOMIZE_API_VERSIONS",
    "MIN_TIMEOUT",
    "CommonMetadata",
    "CustomHealthCheck",
    "Decryption",
    "DependencyReference",
    "DriftIgnoreRule",
    "HistoryEntry",
    "InventoryEntry",
    "KubeConfigReference",
    "KubeConfigSecretRef",
    "Kustomization",
    "KustomizationSpec",
    "KustomizationStatus",
    "KustomizeImage",
    "KustomizePatch",
    "KustomizeSelector",
    "NamespacedObjectKindReference",
    "PostBuild",
    "ResourceInventory",
    "SourceReference",
    "SubstituteReference",
]

KUSTOMIZE_API_V1: Final = "kustomize.toolkit.fluxcd.io/v1"
KUSTOMIZE_API_VERSIONS = (KUSTOMIZE_API_V1,)
DEFAULT_DELETION_POLICY: Final = "MirrorPrune"
MIN_TIMEOUT = Duration.parse("30s")
"""The controller never waits less than this, whatever ``interval`` or ``timeout`` say."""

_SECOND_NS = 1_000_000_000


class SourceReference(FluxModel):
    """``spec.sourceRef``: the source whose artifact is built; namespace defaults to ours."""

    api_version: str | None = None
    kind: Literal["OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"]
    name: str = Field(min_length=1)
    namespace: str | None = None

    def __str__(self) -> str:
        """``Kind/name`` or ``Kind/namespace/name``, as Flux's messages print it."""
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"


class DependencyReference(FluxModel):
    """One ``spec.dependsOn`` entry: another Kustomization that must be ready first."""

    name: str = Field(min_length=1)
    namespace: str | None = None
    ready_expr: str | None = None
    """A CEL expression replacing the built-in readiness check."""


class CommonMetadata(FluxModel):
    """``spec.commonMetadata``: labels and annotations set on every built object."""

    annotations: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class Decryption(FluxModel):
    """``spec.decryption``: SOPS with keys from a Secret in the Kustomization's namespace."""

    provider: Literal["sops"]
    service_account_name: str | None = None
    secret_ref: LocalObjectReference | None = None


class SubstituteReference(FluxModel):
    """One ``spec.postBuild.substituteFrom`` entry: a ConfigMap or Secret of variables."""

    kind: Literal["Secret", "ConfigMap"]
    name: str = Field(min_length=1, max_length=253)
    optional: bool = False


class PostBuild(FluxModel):
    """``spec.postBuild``: variable substitution on the built objects."""

    substitute: dict[str, str] | None = None
    substitute_from: list[SubstituteReference] | None = None
    substitute_strategy: Literal["WithVariables", "Always"] | None = None
    """Newer controllers: ``Always`` substitutes even when no variable is defined."""


class KubeConfigSecretRef(FluxModel):
    """A Secret (and optionally its key) holding a kubeconfig."""

    name: str = Field(min_length=1)
    key: str | None = None


class KubeConfigReference(FluxModel):
    """``spec.kubeConfig``: a remote cluster (read, not acted on by tagpilot)."""

    secret_ref: KubeConfigSecretRef | None = None
    config_map_ref: KubeConfigSecretRef | None = None


class NamespacedObjectKindReference(FluxModel):
    """One ``spec.healthChecks`` entry; an empty apiVersion means ``apps/v1``, as in v1beta1."""

    api_version: str | None = None
    kind: str = Field(min_length=1)
    name: str = Field(min_length=1)
    namespace: str | None = None

    @property
    def effective_api_version(self) -> str:
        """The apiVersion to look the object up with."""
        return self.api_version or "apps/v1"


class KustomizeSelector(FluxModel):
    """A kustomize patch target: group/version/kind/name/namespace and selectors."""

    group: str | None = None
    version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    annotation_selector: str | None = None
    label_selector: str | None = None


class KustomizePatch(FluxModel):
    """One ``spec.patches`` entry: inline strategic-merge or JSON 6902 patch and its target."""

    patch: str
    target: KustomizeSelector | None = None


class KustomizeImage(FluxModel):
    """One ``spec.images`` entry: rename an image and/or set its tag or digest."""

    name: str = Field(min_length=1)
    new_name: str | None = None
    new_tag: str | None = None
    digest: str | None = None


class CustomHealthCheck(FluxModel):
    """One ``spec.healthCheckExprs`` entry: CEL status rules for a custom kind."""

    api_version: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    current: str = Field(min_length=1)
    in_progress: str | None = None
    failed: str | None = None


class DriftIgnoreRule(FluxModel):
    """One ``spec.ignore`` entry: JSON pointers left alone on the matched objects."""

    paths: list[str]
    target: KustomizeSelector | None = None


class KustomizationSpec(FluxModel):
    """``spec`` of a Kustomization."""

    common_metadata: CommonMetadata | None = None
    depends_on: list[DependencyReference] | None = None
    decryption: Decryption | None = None
    interval: DurationField
    retry_interval: DurationField | None = None
    kube_config: KubeConfigReference | None = None
    path: str | None = None
    post_build: PostBuild | None = None
    prune: bool
    deletion_policy: Literal["MirrorPrune", "Delete", "WaitForTermination", "Orphan"] | None = None
    health_checks: list[NamespacedObjectKindReference] | None = None
    name_prefix: str | None = Field(default=None, min_length=1, max_length=200)
    name_suffix: str | None = Field(default=None, min_length=1, max_length=200)
    patches: list[KustomizePatch] | None = None
    images: list[KustomizeImage] | None = None
    service_account_name: str | None = None
    source_ref: SourceReference
    suspend: bool = False
    target_namespace: str | None = Field(default=None, min_length=1, max_length=63)
    timeout: DurationField | None = None
    force: bool = False
    wait: bool = False
    build_metadata: list[Literal["originAnnotations", "transformerAnnotations"]] | None = None
    """Kustomize build metadata annotations to add (Flux's CRD has the field)."""
    components: list[str] | None = None
    ignore_missing_components: bool = False
    health_check_exprs: list[CustomHealthCheck] | None = None
    drift_ignore_rules: list[DriftIgnoreRule] | None = None
    ignore: list[DriftIgnoreRule] | None = None
    """Flux's name for the drift-ignore rules (``spec.ignore`` in kustomize-controller 1.10)."""

    @property
    def effective_timeout(self) -> Duration:
        """``timeout``, else ``interval`` − 30s; never below 30s (the controller's rule)."""
        if self.timeout is not None:
            nanoseconds = self.timeout.nanoseconds
        else:
            nanoseconds = self.interval.nanoseconds - 30 * _SECOND_NS
        if nanoseconds < MIN_TIMEOUT.nanoseconds:
            return MIN_TIMEOUT
        return self.timeout if self.timeout is not None else Duration.of(nanoseconds=nanoseconds)

    @property
    def effective_retry_interval(self) -> Duration:
        """``retryInterval``, else ``interval``."""
        return self.retry_interval if self.retry_interval is not None else self.interval

    @property
    def drift_ignore(self) -> tuple[str, list[DriftIgnoreRule]]:
        """The drift-ignore rules and the field they came from: ``spec.ignore`` (Flux's
        name), else the ``spec.driftIgnoreRules`` spelling of its early previews."""
        if self.ignore is not None or self.drift_ignore_rules is None:
            return "spec.ignore", list(self.ignore or ())
        return "spec.driftIgnoreRules", list(self.drift_ignore_rules)

    @property
    def effective_deletion_policy(self) -> str:
        """``deletionPolicy``, else ``MirrorPrune``."""
        return self.deletion_policy or DEFAULT_DELETION_POLICY


class InventoryEntry(FluxModel):
    """One applied object: ``id`` (``namespace_name_group_kind``) and its version ``v``."""

    id: str
    v: str


class ResourceInventory(FluxModel):
    """``status.inventory``: every object the last successful apply owns."""

    entries: list[InventoryEntry]


class HistoryEntry(FluxModel):
    """One ``status.history`` snapshot: a build digest and how its reconciles went."""

    digest: str
    first_reconciled: str
    last_reconciled: str
    last_reconciled_duration: str
    last_reconciled_status: str
    total_reconciliations: int
    metadata: dict[str, str] | None = None


class KustomizationStatus(FluxModel):
    """``status`` of a Kustomization."""

    last_handled_reconcile_at: str | None = None
    observed_generation: int | None = None
    conditions: list[Condition] | None = None
    last_applied_revision: str | None = None
    last_applied_origin_revision: str | None = None
    last_attempted_revision: str | None = None
    inventory: ResourceInventory | None = None
    history: list[HistoryEntry] | None = None


class Kustomization(FluxObject):
    """A Flux Kustomization: build ``spec.path`` of a source and apply it to the cluster."""

    KIND: ClassVar[str] = "Kustomization"
    api_version: Literal["kustomize.toolkit.fluxcd.io/v1"] = KUSTOMIZE_API_V1
    kind: Literal["Kustomization"] = "Kustomization"
    spec: KustomizationSpec
    status: KustomizationStatus | None = None
