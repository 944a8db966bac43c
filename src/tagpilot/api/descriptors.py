"""One descriptor per kind: the spine every layer reads what it needs about a kind from.

A :class:`KindDescriptor` names a kind's model and status model, the apiVersions tagpilot
accepts (the first is the one it writes), how the command line spells it (``image
repository``, ``source git`` and their plural forms) and which ``get`` columns show its
status.  It is pure data: the reconcilers are bound to kinds one layer up
(``tagpilot.runtime.kinds``), which also knows which kinds depend on which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tagpilot.api.automation import ImageUpdateAutomation, ImageUpdateAutomationStatus
from tagpilot.api.image import (
    IMAGE_API_VERSIONS,
    ImagePolicy,
    ImagePolicyStatus,
    ImageRepository,
    ImageRepositoryStatus,
)
from tagpilot.api.kustomization import KUSTOMIZE_API_VERSIONS, Kustomization, KustomizationStatus
from tagpilot.api.meta import FluxModel
from tagpilot.api.receiver import NOTIFICATION_API_VERSIONS, Receiver
from tagpilot.api.secret import Secret
from tagpilot.api.source import SOURCE_API_VERSIONS, GitRepository, GitRepositoryStatus

__all__ = [
    "CLI_GROUPS",
    "DESCRIPTORS",
    "GIT_REPOSITORY",
    "IMAGE_POLICY",
    "IMAGE_REPOSITORY",
    "IMAGE_UPDATE",
    "KUSTOMIZATION",
    "RECEIVER",
    "SECRET",
    "TOP_LEVEL",
    "CliGroup",
    "Column",
    "KindDescriptor",
    "cli_kinds",
    "descriptor",
    "find_descriptor",
    "reconciled_kinds",
]


@dataclass(frozen=True)
class Column:
    """One ``get`` column after NAME: its header and how to read it from the typed status.

    ``suspended`` columns show the object's suspension instead; ``time`` values are
    RFC 3339 strings the CLI prints as it prints times.  READY and MESSAGE always follow.
    """

    header: str
    read: Callable[[Any], object] | None = None
    time: bool = False

    @property
    def suspended(self) -> bool:
        """Whether this is the SUSPENDED column."""
        return self.read is None


SUSPENDED = Column("SUSPENDED")

TOP_LEVEL = ""
"""The group of kinds whose word follows the verb itself, as ``flux get kustomizations``."""


@dataclass(frozen=True)
class CliGroup:
    """A command-line group of kinds (``image``, ``source``) and its other spellings."""

    name: str
    aliases: tuple[str, ...]
    help: str


CLI_GROUPS = {
    "image": CliGroup("image", ("images",), "Image repositories, policies and update automations."),
    "source": CliGroup("source", ("sources",), "Sources (GitRepository)."),
    TOP_LEVEL: CliGroup(TOP_LEVEL, (), "Kinds named right after the verb (kustomization)."),
}
"""The groups the flux-style verbs (``get``, ``reconcile``, ``suspend``, ...) use."""


@dataclass(frozen=True)
class KindDescriptor:
    """Everything tagpilot knows about a kind that is not its reconciling."""

    kind: str
    model: type[FluxModel]
    api_versions: tuple[str, ...]
    """Accepted apiVersions; the first is the one tagpilot writes."""
    status_model: type[FluxModel] | None = None
    """The ``*Status`` model; None for kinds without a status (Secret, Receiver)."""
    group: str | None = None
    """The command-line group (``image``, ``source``, :data:`TOP_LEVEL`); None: not on the
    command line."""
    word: str = ""
    """The word after the group: ``get image <word>``."""
    aliases: tuple[str, ...] = ()
    """Other spellings of ``word`` (plural or singular)."""
    human: str = ""
    """How messages name the kind (``image update automation``)."""
    columns: tuple[Column, ...] = ()
    """``get`` columns between NAME and READY."""
    reconciled: bool = False
    """Whether the engine reconciles it (else it is an input: shown, never run)."""

    @property
    def api_version(self) -> str:
        """The apiVersion tagpilot writes."""
        return self.api_versions[0]

    def parse_status(self, document: object) -> Any:
        """A status document (Flux's JSON names) as the typed model; empty for no document.

        Raises ``ValueError`` (pydantic's, naming the fields) when it does not fit the model.
        """
        if self.status_model is None:
            raise TypeError(f"{self.kind} has no status")
        if not document:
            return self.status_model()
        return self.status_model.model_validate(document)


def _scan_time(status: ImageRepositoryStatus) -> object:
    return status.last_scan_result.scan_time if status.last_scan_result else None


def _latest_image(status: ImagePolicyStatus) -> object:
    return status.latest_ref.name if status.latest_ref else ""


def _latest_tag(status: ImagePolicyStatus) -> object:
    return status.latest_ref.tag if status.latest_ref else ""


def _last_run(status: ImageUpdateAutomationStatus) -> object:
    return status.last_automation_run_time


def _revision(status: GitRepositoryStatus) -> object:
    return status.artifact.revision if status.artifact else ""


def _applied_revision(status: KustomizationStatus) -> object:
    return status.last_applied_revision


IMAGE_REPOSITORY = KindDescriptor(
    "ImageRepository",
    ImageRepository,
    IMAGE_API_VERSIONS,
    ImageRepositoryStatus,
    group="image",
    word="repository",
    aliases=("repositories",),
    human="image repository",
    columns=(Column("LAST SCAN", _scan_time, time=True), SUSPENDED),
    reconciled=True,
)
IMAGE_POLICY = KindDescriptor(
    "ImagePolicy",
    ImagePolicy,
    IMAGE_API_VERSIONS,
    ImagePolicyStatus,
    group="image",
    word="policy",
    aliases=("policies",),
    human="image policy",
    columns=(Column("IMAGE", _latest_image), Column("TAG", _latest_tag)),
    reconciled=True,
)
IMAGE_UPDATE = KindDescriptor(
    "ImageUpdateAutomation",
    ImageUpdateAutomation,
    IMAGE_API_VERSIONS,
    ImageUpdateAutomationStatus,
    group="image",
    word="update",
    aliases=("updates",),
    human="image update automation",
    columns=(Column("LAST RUN", _last_run, time=True), SUSPENDED),
    reconciled=True,
)
GIT_REPOSITORY = KindDescriptor(
    "GitRepository",
    GitRepository,
    SOURCE_API_VERSIONS,
    GitRepositoryStatus,
    group="source",
    word="git",
    human="source git",
    columns=(Column("REVISION", _revision), SUSPENDED),
    reconciled=True,
)
KUSTOMIZATION = KindDescriptor(
    "Kustomization",
    Kustomization,
    KUSTOMIZE_API_VERSIONS,
    KustomizationStatus,
    group=TOP_LEVEL,
    word="kustomization",
    aliases=("kustomizations", "ks"),
    human="kustomization",
    columns=(Column("REVISION", _applied_revision), SUSPENDED),
    reconciled=True,
)
SECRET = KindDescriptor("Secret", Secret, ("v1",))
RECEIVER = KindDescriptor("Receiver", Receiver, NOTIFICATION_API_VERSIONS)

DESCRIPTORS: tuple[KindDescriptor, ...] = (
    IMAGE_REPOSITORY,
    IMAGE_POLICY,
    IMAGE_UPDATE,
    GIT_REPOSITORY,
    KUSTOMIZATION,
    SECRET,
    RECEIVER,
)
"""Every kind tagpilot reads, reconciled kinds first in the order they run."""

_BY_KIND = {d.kind: d for d in DESCRIPTORS}


def find_descriptor(kind: str) -> KindDescriptor | None:
    """The descriptor of ``kind`` (exact, or case-insensitive as ``flux`` accepts), or None."""
    found = _BY_KIND.get(kind)
    if found is None:
        found = next((d for d in DESCRIPTORS if d.kind.lower() == kind.lower()), None)
    return found


def descriptor(kind: str) -> KindDescriptor:
    """The descriptor of ``kind``; ``KeyError`` for a kind tagpilot does not know."""
    found = find_descriptor(kind)
    if found is None:
        raise KeyError(kind)
    return found


def reconciled_kinds() -> tuple[str, ...]:
    """The kinds the engine reconciles, in the order one pass runs them."""
    return tuple(d.kind for d in DESCRIPTORS if d.reconciled)


def cli_kinds() -> tuple[KindDescriptor, ...]:
    """The kinds the flux-style verbs show and act on."""
    return tuple(d for d in DESCRIPTORS if d.group is not None)
