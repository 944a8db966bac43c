"""ImageUpdateAutomation (``image.toolkit.fluxcd.io`` v1, also v1beta2 and v1beta1).

Fields follow image-automation-controller's Go structs (``GitSpec``, ``CommitSpec``,
``PushSpec``, ``UpdateStrategy``).  v1 defaults ``update`` to ``{strategy: Setters}``;
in v1beta2 and v1beta1 (same schema) an ``update`` block must name its ``strategy``.
v1beta1 templates often use ``.Updated``, which v1 removed: rendering says to use ``.Changed``.
Used by the loader, the automation reconciler and ``tagpilot create image update``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from tagpilot.api.duration import DurationField
from tagpilot.api.image import (
    IMAGE_API_V1,
    IMAGE_API_V1BETA1,
    IMAGE_API_V1BETA2,
    FluxObject,
    ImageApiVersion,
)
from tagpilot.api.meta import (
    Condition,
    FluxModel,
    ImageRef,
    LabelSelector,
    LocalObjectReference,
    SpecError,
)
from tagpilot.api.source import GitRepositoryRef

__all__ = [
    "DEFAULT_COMMIT_TEMPLATE",
    "CommitSpec",
    "CommitUser",
    "CrossNamespaceSourceReference",
    "GitCheckoutSpec",
    "GitSpec",
    "ImageUpdateAutomation",
    "ImageUpdateAutomationSpec",
    "ImageUpdateAutomationStatus",
    "PushSpec",
    "SigningKey",
    "UpdateStrategy",
]

DEFAULT_COMMIT_TEMPLATE = "Update from image update automation"


class CrossNamespaceSourceReference(FluxModel):
    """``spec.sourceRef``: the GitRepository, possibly in another namespace."""

    api_version: str | None = None
    kind: Literal["GitRepository"] = "GitRepository"
    name: str = Field(min_length=1)
    namespace: str | None = None


class GitCheckoutSpec(FluxModel):
    """``git.checkout``: the ref to clone instead of the GitRepository's ``spec.ref``."""

    ref: GitRepositoryRef


class CommitUser(FluxModel):
    """``git.commit.author``: email required, name optional."""

    name: str | None = None
    email: str = Field(min_length=1)


class SigningKey(FluxModel):
    """``git.commit.signingKey``: a Secret with ``git.asc`` (gpg) or ``identity`` (ssh)."""

    secret_ref: LocalObjectReference
    type: Literal["gpg", "ssh"] = "gpg"


class CommitSpec(FluxModel):
    """``git.commit``: author, signing key, message template and its extra values."""

    author: CommitUser
    signing_key: SigningKey | None = None
    message_template: str | None = None
    message_template_values: dict[str, str] | None = None

    @property
    def effective_message_template(self) -> str:
        """The template in force: the Flux default when none is given."""
        return self.message_template or DEFAULT_COMMIT_TEMPLATE


class PushSpec(FluxModel):
    """``git.push``: branch, extra refspec and push options."""

    branch: str | None = None
    refspec: str | None = Field(default=None, pattern=r"^$|^[^+:]")
    options: dict[str, str] | None = None


class GitSpec(FluxModel):
    """``spec.git``: checkout, commit and push settings."""

    checkout: GitCheckoutSpec | None = None
    commit: CommitSpec
    push: PushSpec | None = None


class UpdateStrategy(FluxModel):
    """``spec.update``: the Setters strategy and the path to walk."""

    strategy: Literal["Setters"] = "Setters"
    path: str | None = None


class ImageUpdateAutomationSpec(FluxModel):
    """``spec`` of an ImageUpdateAutomation."""

    source_ref: CrossNamespaceSourceReference
    git: GitSpec | None = None
    interval: DurationField
    policy_change_delay: DurationField | None = None
    """Flux's debounce of policy changes before a run; read and kept, not acted on yet."""
    policy_selector: LabelSelector | None = None
    update: UpdateStrategy = UpdateStrategy()
    suspend: bool = False


class ImageUpdateAutomationStatus(FluxModel):
    """``status`` of an ImageUpdateAutomation; ``observedPolicies`` is keyed by policy name."""

    last_automation_run_time: str | None = None
    last_push_commit: str | None = None
    last_push_time: str | None = None
    observed_generation: int | None = None
    conditions: list[Condition] | None = None
    observed_policies: dict[str, ImageRef] | None = None
    observed_source_revision: str | None = None
    last_handled_reconcile_at: str | None = None


class ImageUpdateAutomation(FluxObject):
    """An automation that writes selected images back into a Git repository."""

    KIND: ClassVar[str] = "ImageUpdateAutomation"
    api_version: ImageApiVersion = IMAGE_API_V1
    kind: Literal["ImageUpdateAutomation"] = "ImageUpdateAutomation"
    spec: ImageUpdateAutomationSpec
    status: ImageUpdateAutomationStatus | None = None

    @model_validator(mode="after")
    def _beta_needs_strategy(self) -> ImageUpdateAutomation:
        # v1beta1 and v1beta2 share the schema: ``update.strategy`` has no default there.
        update_given = "update" in self.spec.model_fields_set
        if (
            self.api_version in (IMAGE_API_V1BETA2, IMAGE_API_V1BETA1)
            and update_given
            and "strategy" not in self.spec.update.model_fields_set
        ):
            raise SpecError(
                "spec.update.strategy",
                f"is required in {self.api_version} (use strategy: Setters, "
                f"or move to {IMAGE_API_V1} where it is the default)",
            )
        return self
