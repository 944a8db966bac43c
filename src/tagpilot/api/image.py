"""ImageRepository and ImagePolicy (``image.toolkit.fluxcd.io`` v1, also v1beta2 and v1beta1).

v1beta1 and v1beta2 have the same spec schema as v1 minus later additions, and Flux's CRDs
served them without conversion webhooks (the API server only relabels the version), so an
older manifest is read as it is, keeping its apiVersion.

Spec fields, CRD defaults and validation follow image-reflector-controller; the checks the
controller makes at reconcile time and that need no I/O (image with a scheme or a tag,
regex syntax, the policy union, the digest-reflection interval rules) are made here too,
so a bad manifest is reported at load time with its file and line.
Used by the loader, the reconcilers and ``tagpilot create image``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Literal

import re2
from pydantic import Field, field_validator, model_validator

from tagpilot.api.duration import Duration, DurationField, ShortDurationField
from tagpilot.api.meta import (
    DEFAULT_NAMESPACE,
    Condition,
    FluxModel,
    ImageRef,
    LocalObjectReference,
    NamespacedName,
    NamespacedObjectReference,
    ObjectMeta,
    SpecError,
)

__all__ = [
    "DEFAULT_EXCLUSION_LIST",
    "IMAGE_API_V1",
    "IMAGE_API_V1BETA1",
    "IMAGE_API_V1BETA2",
    "IMAGE_API_VERSIONS",
    "AccessFrom",
    "AlphabeticalPolicy",
    "FluxObject",
    "ImageApiVersion",
    "ImagePolicy",
    "ImagePolicyChoice",
    "ImagePolicySpec",
    "ImagePolicyStatus",
    "ImageRepository",
    "ImageRepositorySpec",
    "ImageRepositoryStatus",
    "NamespaceSelector",
    "NumericalPolicy",
    "ScanResult",
    "SemVerPolicy",
    "TagFilter",
    "check_image_name",
    "compile_regex",
]

IMAGE_API_V1: Final = "image.toolkit.fluxcd.io/v1"
IMAGE_API_V1BETA2: Final = "image.toolkit.fluxcd.io/v1beta2"
IMAGE_API_V1BETA1: Final = "image.toolkit.fluxcd.io/v1beta1"
IMAGE_API_VERSIONS = (IMAGE_API_V1, IMAGE_API_V1BETA2, IMAGE_API_V1BETA1)
ImageApiVersion = Literal[
    "image.toolkit.fluxcd.io/v1",
    "image.toolkit.fluxcd.io/v1beta2",
    "image.toolkit.fluxcd.io/v1beta1",
]
"""The image API versions the models accept."""
DEFAULT_EXCLUSION_LIST = ("^.*\\.sig$",)


def compile_regex(pattern: str) -> Any:
    """Compile ``pattern`` as RE2 (Go regexp syntax); ``ValueError`` with the reason if invalid."""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(f"invalid regular expression: {text}") from None


def _looks_like_registry(component: str) -> bool:
    return "." in component or ":" in component


def check_image_name(image: str) -> str:
    """Reject an image with a URL scheme, a tag or a digest, with the controller's wording."""
    if "://" in image:
        scheme = image.split("://", 1)[0]
        raise ValueError(f"image '{image}' should not include URL scheme; remove '{scheme}://'")
    first, _, rest = image.partition("/")
    path = rest if rest and _looks_like_registry(first) else image
    if ":" in path or "@" in path:
        remainder = path.split(":")[1] if ":" in path else path.split("@", 1)[1]
        raise ValueError(f"image '{image}' should not include a tag; remove ':{remainder}'")
    return image


class FluxObject(FluxModel):
    """Common head of every object: apiVersion, kind, metadata (in that order)."""

    REDACTED_FIELDS: ClassVar[tuple[str, ...]] = ()
    """Top-level fields whose values never appear in error messages."""

    api_version: str
    kind: str
    metadata: ObjectMeta

    def model_post_init(self, context: Any, /) -> None:
        """apiVersion and kind are always printed."""
        self.mark_set("api_version", "kind")

    @property
    def name(self) -> str:
        """``metadata.name``."""
        return self.metadata.name

    @property
    def namespace(self) -> str:
        """``metadata.namespace``, or ``default`` when the manifest names none."""
        return self.metadata.namespace_or(DEFAULT_NAMESPACE)

    @property
    def key(self) -> NamespacedName:
        """The object's ``namespace/name``."""
        return NamespacedName(self.namespace, self.name)


class NamespaceSelector(FluxModel):
    """One ``accessFrom.namespaceSelectors`` entry."""

    match_labels: dict[str, str] | None = None


class AccessFrom(FluxModel):
    """Which namespaces may reference an ImageRepository."""

    namespace_selectors: list[NamespaceSelector]


class ImageRepositorySpec(FluxModel):
    """What to scan: ``spec`` of an ImageRepository."""

    image: str = Field(min_length=1)
    interval: DurationField
    timeout: ShortDurationField | None = None
    secret_ref: LocalObjectReference | None = None
    proxy_secret_ref: LocalObjectReference | None = None
    service_account_name: str | None = Field(default=None, max_length=253)
    cert_secret_ref: LocalObjectReference | None = None
    suspend: bool = False
    access_from: AccessFrom | None = None
    exclusion_list: list[str] = Field(default=list(DEFAULT_EXCLUSION_LIST), max_length=25)
    provider: Literal["generic", "aws", "azure", "gcp"] = "generic"
    insecure: bool = False

    @field_validator("image")
    @classmethod
    def _check_image(cls, image: str) -> str:
        return check_image_name(image)

    @field_validator("exclusion_list")
    @classmethod
    def _check_exclusions(cls, patterns: list[str]) -> list[str]:
        for index, pattern in enumerate(patterns):
            try:
                compile_regex(pattern)
            except ValueError as error:
                raise SpecError(f"[{index}]", str(error)) from None
        return patterns

    @property
    def effective_timeout(self) -> Duration:
        """``timeout``, else ``interval``; never below one second (as the controller does)."""
        chosen = self.timeout or self.interval
        return chosen if chosen.nanoseconds >= 1_000_000_000 else Duration.of(seconds=1)

    @property
    def effective_exclusion_list(self) -> list[str]:
        """The exclusion list in force: the default when the list is empty."""
        return list(self.exclusion_list) or list(DEFAULT_EXCLUSION_LIST)


class ScanResult(FluxModel):
    """``status.lastScanResult``: the last scan's revision, tag count, time and newest tags."""

    revision: str = ""
    tag_count: int
    scan_time: str | None = None
    latest_tags: list[str] | None = None

    def model_post_init(self, context: Any, /) -> None:
        """revision, tagCount and scanTime have no omitempty in Go."""
        self.mark_set("revision", "tag_count", "scan_time")


class ImageRepositoryStatus(FluxModel):
    """``status`` of an ImageRepository."""

    conditions: list[Condition] | None = None
    observed_generation: int | None = None
    canonical_image_name: str | None = None
    last_scan_result: ScanResult | None = None
    observed_exclusion_list: list[str] | None = None
    last_handled_reconcile_at: str | None = None


class ImageRepository(FluxObject):
    """An image repository to scan for tags."""

    KIND: ClassVar[str] = "ImageRepository"
    api_version: ImageApiVersion = IMAGE_API_V1
    kind: Literal["ImageRepository"] = "ImageRepository"
    spec: ImageRepositorySpec
    status: ImageRepositoryStatus | None = None


class SemVerPolicy(FluxModel):
    """``policy.semver``: a Masterminds semver range."""

    range: str = Field(min_length=1)


class AlphabeticalPolicy(FluxModel):
    """``policy.alphabetical``: byte-wise order; ``asc`` picks the greatest."""

    order: Literal["asc", "desc"] = "asc"


class NumericalPolicy(FluxModel):
    """``policy.numerical``: float order; ``asc`` picks the greatest."""

    order: Literal["asc", "desc"] = "asc"


class ImagePolicyChoice(FluxModel):
    """The policy union: exactly one of semver, alphabetical, numerical."""

    semver: SemVerPolicy | None = None
    alphabetical: AlphabeticalPolicy | None = None
    numerical: NumericalPolicy | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ImagePolicyChoice:
        chosen = [name for name in ("semver", "alphabetical", "numerical") if getattr(self, name)]
        if len(chosen) != 1:
            found = ", ".join(chosen) if chosen else "none"
            raise ValueError(
                f"exactly one of semver, alphabetical, numerical must be set (found: {found})"
            )
        return self


class TagFilter(FluxModel):
    """``filterTags``: an RE2 pattern and an optional Go ``Expand`` template."""

    pattern: str = ""
    extract: str = ""

    def model_post_init(self, context: Any, /) -> None:
        """Both keys are always serialised (no omitempty in Go)."""
        self.mark_set("pattern", "extract")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        compile_regex(pattern)
        return pattern


class ImagePolicySpec(FluxModel):
    """``spec`` of an ImagePolicy."""

    image_repository_ref: NamespacedObjectReference
    policy: ImagePolicyChoice
    filter_tags: TagFilter | None = None
    digest_reflection_policy: Literal["Never", "IfNotPresent", "Always"] = "Never"
    interval: DurationField | None = None
    suspend: bool = False

    @model_validator(mode="after")
    def _interval_rules(self) -> ImagePolicySpec:
        always = self.digest_reflection_policy == "Always"
        if self.interval is not None and not always:
            raise SpecError(
                "interval",
                "spec.interval is only accepted when spec.digestReflectionPolicy "
                "is set to 'Always'",
            )
        if always and self.interval is None:
            raise SpecError(
                "interval",
                "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
            )
        return self


class ImagePolicyStatus(FluxModel):
    """``status`` of an ImagePolicy (v1beta2's deprecated ``latestImage`` is read too)."""

    latest_ref: ImageRef | None = None
    observed_previous_ref: ImageRef | None = None
    observed_generation: int | None = None
    conditions: list[Condition] | None = None
    last_handled_reconcile_at: str | None = None
    latest_image: str | None = None
    observed_previous_image: str | None = None


class ImagePolicy(FluxObject):
    """A rule that picks the latest tag of an ImageRepository."""

    KIND: ClassVar[str] = "ImagePolicy"
    api_version: ImageApiVersion = IMAGE_API_V1
    kind: Literal["ImagePolicy"] = "ImagePolicy"
    spec: ImagePolicySpec
    status: ImagePolicyStatus | None = None

    @property
    def repository_key(self) -> NamespacedName:
        """The referenced ImageRepository; its namespace defaults to the policy's."""
        ref = self.spec.image_repository_ref
        return NamespacedName(ref.namespace or self.namespace, ref.name)
