"""GitRepository (``source.toolkit.fluxcd.io`` v1; v1beta2 and v1beta1 are read too).

ImageUpdateAutomation takes the Git URL, credentials, proxy and timeout from here.
Fields follow source-controller's ``GitRepositorySpec``; v1beta1/v1beta2 manifests may
also carry ``gitImplementation`` and ``accessFrom``, which v1 dropped.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Literal

from pydantic import Field, model_validator

from tagpilot.api.duration import Duration, DurationField, ShortDurationField
from tagpilot.api.image import AccessFrom, FluxObject
from tagpilot.api.meta import Condition, FluxModel, LocalObjectReference, SpecError

__all__ = [
    "DEFAULT_GIT_TIMEOUT",
    "SOURCE_API_V1",
    "SOURCE_API_VERSIONS",
    "Artifact",
    "GitRepository",
    "GitRepositoryInclude",
    "GitRepositoryRef",
    "GitRepositorySpec",
    "GitRepositoryStatus",
    "GitRepositoryVerification",
]

SOURCE_API_V1: Final = "source.toolkit.fluxcd.io/v1"
SOURCE_API_VERSIONS = (
    SOURCE_API_V1,
    "source.toolkit.fluxcd.io/v1beta2",
    "source.toolkit.fluxcd.io/v1beta1",
)
DEFAULT_GIT_TIMEOUT = Duration.parse("60s")


class GitRepositoryRef(FluxModel):
    """A Git reference; precedence when cloning: commit > name > tag > semver > branch."""

    branch: str | None = None
    tag: str | None = None
    semver: str | None = None
    name: str | None = None
    commit: str | None = None


class GitRepositoryVerification(FluxModel):
    """Commit signature verification (``spec.verify``)."""

    mode: Literal["head", "HEAD", "Tag", "TagAndHEAD"] = "HEAD"
    secret_ref: LocalObjectReference


class GitRepositoryInclude(FluxModel):
    """Another GitRepository's artifact to include (``spec.include[]``)."""

    repository: LocalObjectReference
    from_path: str | None = None
    to_path: str | None = None


class GitRepositorySpec(FluxModel):
    """``spec`` of a GitRepository."""

    url: str = Field(pattern=r"^(http|https|ssh)://.*$")
    secret_ref: LocalObjectReference | None = None
    provider: Literal["generic", "aws", "azure", "github"] = "generic"
    service_account_name: str | None = None
    interval: DurationField
    timeout: ShortDurationField = DEFAULT_GIT_TIMEOUT
    ref: GitRepositoryRef | None = None
    verify: GitRepositoryVerification | None = None
    proxy_secret_ref: LocalObjectReference | None = None
    ignore: str | None = None
    suspend: bool = False
    recurse_submodules: bool = False
    include: list[GitRepositoryInclude] | None = None
    sparse_checkout: list[str] | None = None
    git_implementation: Literal["go-git", "libgit2"] | None = None
    access_from: AccessFrom | None = None


class Artifact(FluxModel):
    """Flux's ``meta.Artifact``: what a source stored for one revision."""

    path: str
    url: str
    revision: str
    digest: str | None = None
    last_update_time: str
    size: int | None = None
    metadata: dict[str, str] | None = None
    checksum: str | None = None
    """v1beta2's sha256 hex (before ``digest``); read and kept."""


class GitRepositoryStatus(FluxModel):
    """``status`` of a GitRepository (included artifacts kept as plain mappings)."""

    observed_generation: int | None = None
    conditions: list[Condition] | None = None
    artifact: Artifact | None = None
    included_artifacts: list[dict[str, Any]] | None = None
    observed_ignore: str | None = None
    observed_recurse_submodules: bool | None = None
    observed_include: list[GitRepositoryInclude] | None = None
    observed_sparse_checkout: list[str] | None = None
    source_verification_mode: str | None = None
    source_verification_fingerprint: str | None = None
    """Flux's record of the keys a verified revision was checked with; read and kept."""
    last_handled_reconcile_at: str | None = None
    url: str | None = None


class GitRepository(FluxObject):
    """A Git repository source."""

    KIND: ClassVar[str] = "GitRepository"
    api_version: Literal[
        "source.toolkit.fluxcd.io/v1",
        "source.toolkit.fluxcd.io/v1beta2",
        "source.toolkit.fluxcd.io/v1beta1",
    ] = SOURCE_API_V1
    kind: Literal["GitRepository"] = "GitRepository"
    spec: GitRepositorySpec
    status: GitRepositoryStatus | None = None

    def without_url_password(self) -> GitRepository:
        """A copy whose ``spec.url`` shows ``***`` for a password written into it.

        For copies that are kept or shown (the state store): a password belongs in the
        Secret, and one written into the URL must not travel further than git.
        """
        scheme, sep, rest = self.spec.url.partition("://")
        userinfo, at, hostpath = rest.partition("@")
        if not at or "/" in userinfo or ":" not in userinfo:
            return self
        user = userinfo.split(":", 1)[0]
        spec = self.spec.model_copy(update={"url": f"{scheme}{sep}{user}:***@{hostpath}"})
        return self.model_copy(update={"spec": spec})

    @model_validator(mode="after")
    def _beta_only_fields(self) -> GitRepository:
        if self.api_version == SOURCE_API_V1:
            for field, alias in (
                ("git_implementation", "gitImplementation"),
                ("access_from", "accessFrom"),
            ):
                if field in self.spec.model_fields_set:
                    raise SpecError(
                        f"spec.{alias}",
                        f"unknown field '{alias}' in {SOURCE_API_V1} (only v1beta1/v1beta2 had it)",
                    )
        return self
