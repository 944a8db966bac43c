"""What every reconciler is given: the ports, the secrets and the objects of the run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.kustomization import Kustomization
from tagpilot.api.meta import NamespacedName
from tagpilot.api.source import GitRepository
from tagpilot.core.secrets import SecretIndex
from tagpilot.ports import (
    Clock,
    GitSource,
    GitUpdater,
    ManifestBuilder,
    ObjectApplier,
    Registry,
    StateStore,
    TreeEditor,
)
from tagpilot.reconcile.update_memory import UpdateMemory

__all__ = ["ReconcileContext"]


@dataclass
class ReconcileContext:
    """Ports and the current desired objects, shared by the reconcilers of one process."""

    clock: Clock
    store: StateStore
    registry: Registry
    secrets: SecretIndex = field(default_factory=SecretIndex)
    repositories: Mapping[NamespacedName, ImageRepository] = field(default_factory=dict)
    policies: Mapping[NamespacedName, ImagePolicy] = field(default_factory=dict)
    git_repositories: Mapping[NamespacedName, GitRepository] = field(default_factory=dict)
    kustomizations: Mapping[NamespacedName, Kustomization] = field(default_factory=dict)
    """The loaded Kustomizations (``dependsOn`` reads them)."""
    git: GitUpdater | None = None
    editor: TreeEditor | None = None
    applier: ObjectApplier | None = None
    """The cluster Kustomizations apply to (cluster mode only)."""
    builder: ManifestBuilder | None = None
    """Fetches and builds source artifacts for Kustomizations."""
    git_source: GitSource | None = None
    """Fetches GitRepository sources and stores their artifacts (None: not reconciled here)."""
    trust_stored_scans: bool = False
    """Let stored scans count across processes (``--respect-intervals``); by default a scan
    stored before this context was built is stale, so a one-shot run or a restarted daemon
    scans each repository before acting on its tags."""
    update_memory: UpdateMemory = field(default_factory=UpdateMemory)
    """What this process's update runs proved (up-to-date passes, fresh scans)."""
    started_at: datetime = field(init=False)
    """When this context (the process's run) started, by ``clock``."""

    def __post_init__(self) -> None:
        self.started_at = self.clock.now()
