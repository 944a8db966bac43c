"""Keeps the engine's objects equal to what the API server's watches show.

Every watch event marks the view dirty; a short moment later (so a burst of events is one
sync) :meth:`ClusterView.sync` rebuilds the engine's objects from the watch caches and says
what changed.  The controller then hands that to the scheduler, exactly as the directory
daemon hands it a manifest reload.  Three things only a cluster has are decided here:

* statuses: the API server holds the truth.  The local state store takes an object's status
  from the API when it first sees the object and again when this replica becomes the
  leader (another replica may have written since); while leading, the store is ahead of
  the watch and is left alone.  A watched kind this process does not reconcile (a
  GitRepository beside Flux's source-controller) has another writer: its status is taken
  at every new resource version, leading or not, and a change of what its dependants watch
  (the artifact revision) runs them, as a status change of a reconciled source would;
* reconcile requests: a new ``reconcile.fluxcd.io/requestedAt`` annotation (``flux
  reconcile``, ``kubectl annotate``) not yet recorded as ``lastHandledReconcileAt`` is a
  trigger, as it is for Flux;
* refusals: an object the API server accepted that tagpilot's models refuse is not
  reconciled; it is reported (status, event) once per resource version;
* deletions: a Kustomization reconciled here must carry Flux's finalizer; once deleted
  (``deletionTimestamp`` set) it leaves the engine and is handed to the finalizer
  (:mod:`tagpilot.runtime.cluster_finalizers`), which runs its deletion policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from tagpilot.adapters.cluster.finalizers import has_finalizer, is_deleting
from tagpilot.adapters.cluster.objects import (
    ParsedObjects,
    Refused,
    cluster_manifests,
    content_version,
    key_of,
    resource_version,
    secret_data,
)
from tagpilot.api.descriptors import descriptor
from tagpilot.api.loader import LoadedObject
from tagpilot.api.meta import REQUESTED_AT_ANNOTATION as REQUESTED_AT
from tagpilot.core.secrets import SecretData
from tagpilot.ports import ObjectKey
from tagpilot.runtime.engine import Engine, ReloadResult

__all__ = [
    "FINALIZED_KINDS",
    "REQUESTED_AT",
    "ClusterView",
    "FinalizerWork",
    "SyncResult",
    "WatchCache",
]

FINALIZED_KINDS = frozenset({"Kustomization"})
"""The kinds that get Flux's finalizer when this process reconciles them."""


class WatchCache(Protocol):
    """What the view reads of one watch: its cached objects by (namespace, name)."""

    @property
    def cache(self) -> Mapping[tuple[str, str], Mapping[str, Any]]:
        """The watched objects."""
        ...


@dataclass(frozen=True)
class FinalizerWork:
    """What the finalizer has to do now (every sync lists it all again)."""

    unfinalized: list[ObjectKey]
    """Reconciled objects of a finalized kind without Flux's finalizer yet."""
    deleting: list[ObjectKey]
    """Deleted objects still carrying Flux's finalizer: run their deletion policy."""


@dataclass(frozen=True)
class SyncResult:
    """What one sync changed, and what it asks the runtime to do."""

    reload: ReloadResult
    requested: list[tuple[ObjectKey, str]] = field(default_factory=list)
    """Objects with a new reconcile request, and its token."""
    refused: list[Refused] = field(default_factory=list)
    """Objects refused since the last sync (each resource version once)."""
    finalizing: FinalizerWork = field(default_factory=lambda: FinalizerWork([], []))
    """Objects whose finalizer is to be added, and deleted objects to finalize."""
    triggered: list[tuple[ObjectKey, str]] = field(default_factory=list)
    """Objects to run now because a source reconciled elsewhere changed, and why."""


class ClusterView:
    """The engine's objects, rebuilt from watch caches."""

    def __init__(
        self, engine: Engine, watches: Mapping[str, WatchCache], secrets: WatchCache | None
    ) -> None:
        self._engine = engine
        self._watches = watches
        self._secrets = secrets
        self._parsed = ParsedObjects()
        self._secret_cache: dict[tuple[str, str], tuple[str, SecretData | None]] = {}
        self._seeded: dict[ObjectKey, str] = {}
        self._requests: dict[ObjectKey, str] = {}
        self._refused: dict[ObjectKey, str] = {}
        self._inputs: dict[ObjectKey, tuple[str, Any]] = {}
        self._finalized = FINALIZED_KINDS & set(engine.kinds) & set(watches)
        self._synced: dict[ObjectKey, tuple[Any, ...]] = {}
        """What the last sync saw of each reconciled object, status aside."""
        self.leading = False

    def live(self, key: ObjectKey) -> Mapping[str, Any] | None:
        """The watched copy of ``key``, or None."""
        watch = self._watches.get(key.kind)
        return None if watch is None else watch.cache.get((key.namespace, key.name))

    def needs_sync(self, event_type: str, obj: Mapping[str, Any]) -> bool:
        """Whether a watch event can change what a sync finds.

        Not when the leader sees a status-only change of an object it reconciles: those
        are mostly its own status writes coming back, the store (not the API) holds the
        statuses it works from, and rebuilding thousands of objects for each burst of
        them would cost more than the scans.  Everything else (other kinds, Secrets, a
        replica that does not lead, spec, label, annotation, finalizer or deletion
        changes, additions and deletions) syncs."""
        kind = str(obj.get("kind", ""))
        if event_type != "MODIFIED" or not self.leading or kind not in self._engine.kinds:
            return True
        return self._synced.get(key_of(kind, obj)) != _signature(obj)

    def sync(self) -> SyncResult:
        """Rebuild the engine's objects from the watches; report what changed."""
        loaded: list[LoadedObject] = []
        refused: list[Refused] = []
        present: list[ObjectKey] = []
        synced: dict[ObjectKey, tuple[Any, ...]] = {}
        for kind, watch in self._watches.items():
            for raw in list(watch.cache.values()):
                key = key_of(kind, raw)
                parsed = self._parsed.parse(kind, raw)
                present.append(key)
                if kind in self._engine.kinds:
                    synced[key] = _signature(raw)
                if kind in self._finalized and is_deleting(raw):
                    continue  # deleted: the finalizer's, no longer reconciled
                if isinstance(parsed, Refused):
                    if self._refused.get(key) != parsed.resource_version:
                        self._refused[key] = parsed.resource_version
                        refused.append(parsed)
                    continue
                self._refused.pop(key, None)
                loaded.append(parsed)
        self._parsed.forget_missing(present)
        self._synced = synced
        reload = self._engine.replace(cluster_manifests(loaded, self._secret_values()))
        self._seed_statuses(force=False)
        triggered = self._seed_inputs()
        return SyncResult(reload, self._new_requests(), refused, self.finalizer_work(), triggered)

    def finalizer_work(self) -> FinalizerWork:
        """The finalized kinds' objects lacking the finalizer, and those being deleted."""
        unfinalized, deleting = [], []
        for kind in sorted(self._finalized):
            for raw in list(self._watches[kind].cache.values()):
                key = key_of(kind, raw)
                if is_deleting(raw):
                    if has_finalizer(raw):
                        deleting.append(key)
                elif not has_finalizer(raw):
                    unfinalized.append(key)
        return FinalizerWork(sorted(unfinalized), sorted(deleting))

    def take_lead(self) -> list[Refused]:
        """This replica now leads: take every status from the API, then keep the store's.

        Returns the objects refused so far, for the new leader to report."""
        self._seed_statuses(force=True)
        self.leading = True
        return [self._parsed.refusal(key) for key in sorted(self._refused)]

    def _secret_values(self) -> Iterable[SecretData]:
        if self._secrets is None:
            return ()
        cache = self._secrets.cache
        for place in [p for p in self._secret_cache if p not in cache]:
            del self._secret_cache[place]
        values = []
        for place, raw in list(cache.items()):
            version = resource_version(raw)
            known = self._secret_cache.get(place)
            if known is None or known[0] != version or not version:
                known = (version, secret_data(raw))
                self._secret_cache[place] = known
            if known[1] is not None:
                values.append(known[1])
        return values

    def _reconciled(self) -> Iterable[tuple[ObjectKey, Mapping[str, Any]]]:
        for kind in self._engine.kinds:
            watch = self._watches.get(kind)
            if watch is not None:
                for raw in list(watch.cache.values()):
                    if not (kind in self._finalized and is_deleting(raw)):
                        yield key_of(kind, raw), raw

    def _seed_statuses(self, *, force: bool) -> None:
        store = self._engine.ctx.store
        for key, raw in self._reconciled():
            version = resource_version(raw)
            first_sight = key not in self._seeded
            moved = not self.leading and self._seeded.get(key) != version
            if not (force or first_sight or moved):
                continue
            self._seeded[key] = version
            status = raw.get("status")
            if isinstance(status, Mapping) and status:
                store.put_status(key, status)

    def _seed_inputs(self) -> list[tuple[ObjectKey, str]]:
        """Take the statuses another controller writes; the dependants of changed ones."""
        store = self._engine.ctx.store
        seen: set[ObjectKey] = set()
        triggered: list[tuple[ObjectKey, str]] = []
        for kind, watch in self._watches.items():
            if kind in self._engine.kinds:
                continue
            for raw in list(watch.cache.values()):
                key = key_of(kind, raw)
                seen.add(key)
                version = resource_version(raw)
                known = self._inputs.get(key)
                if known is not None and known[0] == version and version:
                    continue
                status = raw.get("status")
                # An empty status clears the stored one (a recreated source has no artifact yet).
                store.put_status(key, dict(status) if isinstance(status, Mapping) else {})
                watched = self._engine.watched(key, _typed_status(kind, status))
                before = None if known is None else known[1]
                self._inputs[key] = (version, watched)
                for dependant in self._engine.dependants(key, before, watched):
                    triggered.append((dependant, f"{key} changed"))  # as the scheduler says
        for key in [k for k in self._inputs if k not in seen]:
            del self._inputs[key]
        return triggered

    def _new_requests(self) -> list[tuple[ObjectKey, str]]:
        requested = []
        for key, raw in self._reconciled():
            annotations = (raw.get("metadata") or {}).get("annotations") or {}
            token = annotations.get(REQUESTED_AT)
            handled = (raw.get("status") or {}).get("lastHandledReconcileAt")
            if not token or token == handled or self._requests.get(key) == token:
                continue
            self._requests[key] = token
            requested.append((key, str(token)))
        return requested


def _typed_status(kind: str, status: Any) -> Any:
    """``status`` as its kind's model; None when absent or when it does not parse (a newer
    writer's fields the model refuses leave its dependants as they were)."""
    model = descriptor(kind).status_model
    if model is None or not isinstance(status, Mapping) or not status:
        return None
    try:
        return model.model_validate(status)
    except ValidationError:
        return None


def _signature(raw: Mapping[str, Any]) -> tuple[Any, ...]:
    """An object's spec, labels and annotations (its content version), finalizers and
    deletion: what a sync reads of a reconciled object while leading."""
    metadata = raw.get("metadata") or {}
    finalizers = tuple(metadata.get("finalizers") or ())
    return content_version(raw), finalizers, metadata.get("deletionTimestamp")
