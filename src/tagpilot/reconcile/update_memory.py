"""What an automation's up-to-date passes proved, so a run that would repeat one is skipped.

Every new latest image of a policy wakes every automation of its namespace (Flux does the
same), and most of them have no marker for that policy: with a hundred automations, each
making a checkout and running the setters to find nothing to do, the one automation that
has work waits behind them all.  The setter pass is a pure function of the files at the
base commit, the update path and the table entries its markers name (and, for the hints of
markers naming no policy, the table's keys).  An up-to-date pass is remembered with exactly
those inputs; a later run whose inputs are all equal would give the same result, so the
git flow skips the worktree and the setters and the run reports the remembered pass.

The memory lives in the process (``ReconcileContext.update_memory``): a restarted daemon
starts empty and makes full runs.  It also keeps which repositories were scanned since the
process started, since a scan time only moves forward (``scan_freshness``), and each
automation's policy selection and the latest images it last read, until the loaded objects
or a policy status change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tagpilot.api.meta import ImageRef, LabelSelector, NamespacedName
from tagpilot.core.setters import PolicyTarget, SetterTable, TreeResult
from tagpilot.ports import ObjectKey

__all__ = [
    "Chosen",
    "KnownPass",
    "Selection",
    "UpdateMemory",
    "known_pass",
    "run_first",
    "setter_keys",
]

_FIELDS = (":tag", ":name", ":digest")


def setter_keys(setter: str) -> tuple[str, ...]:
    """The table keys a marker's setter can read: itself (``ns:policy``) and, for the
    ``:tag``/``:name``/``:digest`` forms, the policy's key without the field."""
    for suffix in _FIELDS:
        if setter.endswith(suffix):
            return setter, setter.removesuffix(suffix)
    return (setter,)


@dataclass(frozen=True)
class KnownPass:
    """A setter pass that changed nothing, and every input it read."""

    base: str
    """The commit the worktree was at."""
    path: str
    """The automation's ``update.path``."""
    entries: Mapping[str, PolicyTarget | None]
    """Each table key a marker's setter can read, and its entry (None: absent)."""
    keys: frozenset[str] | None
    """The table's keys, when a marker named an unknown setter (its hint lists them)."""
    tree: TreeResult

    def holds(self, base: str, path: str, table: SetterTable) -> bool:
        """Whether a pass at ``base`` over ``path`` with ``table`` would be this one."""
        if base != self.base or path != self.path:
            return False
        if self.keys is not None and self.keys != frozenset(table):
            return False
        return all(table.get(key) == entry for key, entry in self.entries.items())


def known_pass(base: str, path: str, table: SetterTable, tree: TreeResult) -> KnownPass | None:
    """The pass to remember, or None when it changed something (it must run again)."""
    if tree.changes or tree.diffs:
        return None
    entries = {key: table.get(key) for setter in tree.named for key in setter_keys(setter)}
    keys = frozenset(table) if tree.unknown else None
    return KnownPass(base, path, entries, keys, tree)


@dataclass(frozen=True)
class Selection:
    """The policies an automation's ``policySelector`` matched among one loaded set.

    The engine replaces its mappings of loaded objects when the manifests change, so the
    mapping itself (compared by identity) says whether the selection still stands.
    """

    policies: Mapping[NamespacedName, object]
    selector: LabelSelector | None
    names: tuple[str, ...]
    """The matching policies' names, sorted."""
    scanned_with: Mapping[NamespacedName, object] | None = None
    """The loaded repositories with which every matching policy's repository was found
    scanned since the start (then they all stay so: a scan time only moves forward)."""

    def stands(self, policies: Mapping[NamespacedName, object], selector: object) -> bool:
        """Whether this selection is the one ``selector`` makes among ``policies``."""
        return policies is self.policies and selector == self.selector


@dataclass(frozen=True)
class Chosen:
    """The latest images of a selection's policies, as of one version of their statuses;
    shared by the automations selecting the same policies."""

    version: object
    """``StateStore.status_version`` of the policies when they were read."""
    policies: Mapping[str, ImageRef]
    table: SetterTable


def run_first(
    memory: UpdateMemory, policy: NamespacedName, automations: list[ObjectKey]
) -> list[ObjectKey]:
    """``automations`` woken by ``policy``'s new latest image, in the order to run them:
    first the ones whose last pass had a marker for it, then the ones with no remembered
    pass, then the rest (which are expected to find nothing to do).  Stable otherwise."""
    setter = f"{policy.namespace}:{policy.name}"

    def rank(key: ObjectKey) -> int:
        known = memory.passes.get(key)
        if known is None:
            return 1
        return 0 if setter in known.entries else 2

    return sorted(automations, key=rank)


@dataclass
class UpdateMemory:
    """The process's memory for update runs; empty after a restart."""

    passes: dict[ObjectKey, KnownPass] = field(default_factory=dict)
    """Each automation's last up-to-date pass."""
    scanned: set[str] = field(default_factory=set)
    """Canonical names of the repositories scanned since the process started."""
    selections: dict[ObjectKey, Selection] = field(default_factory=dict)
    """Each automation's last policy selection."""
    chosen: dict[tuple[str, tuple[str, ...]], Chosen] = field(default_factory=dict)
    """The last read of the latest images, by namespace and selected policy names."""

    def keep_chosen(self, key: tuple[str, tuple[str, ...]], chosen: Chosen) -> None:
        """Remember ``chosen``; forget reads of selections no automation makes any more."""
        wanted = {(k.namespace, s.names) for k, s in self.selections.items()}
        for stale in [k for k in self.chosen if k not in wanted]:
            del self.chosen[stale]
        self.chosen[key] = chosen
