"""The run engine: the loaded objects, the ports, and one ``reconcile(key)`` for every kind.

Shared by ``reconcile --once`` and the daemon's scheduler.  The engine dispatches through
``tagpilot.reconcile.kinds`` to the kind's reconciler, persists the typed status it returns
(Flux's JSON form in the store) and its events, and answers the scheduler's questions
(interval, suspension, spec hash, which objects depend on a change).  Suspension is decided
here alone: a suspended object is not handed to its reconciler at all.  A dry-run engine
still persists statuses (give it a throwaway store): automations read the policies'.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from tagpilot.adapters.manifests import Manifests
from tagpilot.api.descriptors import (
    DESCRIPTORS,
    IMAGE_POLICY,
    IMAGE_REPOSITORY,
    RECEIVER,
    cli_kinds,
    descriptor,
)
from tagpilot.api.export import export_document
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.kustomization import Kustomization
from tagpilot.api.loader import LoadedObject
from tagpilot.api.meta import NamespacedName
from tagpilot.api.server_defaults import with_server_defaults
from tagpilot.api.source import GitRepository
from tagpilot.core.errors import RetryableError, SourceLocation, TagpilotError
from tagpilot.core.imageref import parse_repository
from tagpilot.ports import EventRecorder, ObjectKey, RecordedEvent, StatusWriter
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.kinds import (
    RECONCILERS,
    ObjectIndex,
    RunRequest,
    reconciler_for,
    runnable_kinds,
)
from tagpilot.reconcile.outcome import Outcome, failed_outcome, progressing, read_status
from tagpilot.reconcile.update_memory import run_first

__all__ = ["KINDS", "Engine", "ReloadResult"]

KINDS = tuple(r.kind for r in RECONCILERS)
"""The reconciled kinds, in the order one pass runs them."""
LOADED_KINDS = frozenset(d.kind for d in DESCRIPTORS if d.status_model is not None) | {
    RECEIVER.kind
}
"""The kinds the engine keeps: reconciled ones, inputs shown by the API, Receivers."""
ResultHook = Callable[[ObjectKey, Outcome[Any], float], None]


@dataclass(frozen=True)
class ReloadResult:
    """What a manifest reload changed, or why it was refused (the old objects stay)."""

    added: list[ObjectKey] = field(default_factory=list)
    changed: list[ObjectKey] = field(default_factory=list)
    removed: list[ObjectKey] = field(default_factory=list)
    error: str | None = None
    secrets_changed: bool = False
    """A Secret was added, removed or changed (credentials rotated, a key fixed)."""


class Engine:
    """Owns the desired objects and reconciles them through ``ctx``'s ports."""

    def __init__(
        self,
        ctx: ReconcileContext,
        manifests: Manifests,
        *,
        loader: Callable[[Sequence[Path]], Manifests] | None = None,
        dry_run: bool = False,
        on_result: ResultHook | None = None,
        status_writer: StatusWriter | None = None,
        event_recorder: EventRecorder | None = None,
        api_generations: bool = False,
        reconciled: frozenset[str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.dry_run = dry_run
        self.on_result = on_result
        self._loader = loader
        self._status_writer = status_writer
        self._event_recorder = event_recorder
        # In a cluster the API server counts generations (metadata.generation); a manifest's
        # copy of that field is not trusted, the store counts spec changes instead.
        self._api_generations = api_generations
        # A cluster where Flux's source-controller runs must not see tagpilot reconcile
        # GitRepositories too: the controller names the kinds it owns.
        self._reconciled = frozenset(KINDS) if reconciled is None else reconciled & set(KINDS)
        self._suspended: dict[ObjectKey, bool] = {}
        self._requests: dict[ObjectKey, str] = {}
        self._objects: dict[ObjectKey, LoadedObject] = {}
        self._index = ObjectIndex({})
        self._hashes: dict[ObjectKey, tuple[Any, str]] = {}
        self.kinds = tuple(kind for kind in runnable_kinds(ctx) if kind in self._reconciled)
        """The kinds this engine reconciles, in run order (a subset of ``KINDS``)."""
        self._install(manifests)

    # -- what is loaded -------------------------------------------------------------------

    def _install(self, manifests: Manifests) -> None:
        objects = {}
        for item in manifests.objects:
            if item.obj is not None and item.obj.kind in LOADED_KINDS:
                objects[ObjectKey(item.obj.kind, item.obj.namespace, item.obj.name)] = item
        self._objects = objects
        self._index = ObjectIndex({key: item.obj for key, item in objects.items()})
        self._hashes = {k: v for k, v in self._hashes.items() if k in objects}
        self.ctx.secrets = manifests.secrets
        self.ctx.repositories = self._by_name(ImageRepository)
        self.ctx.policies = self._by_name(ImagePolicy)
        self.ctx.git_repositories = self._by_name(GitRepository)
        self.ctx.kustomizations = self._by_name(Kustomization)

    def _by_name(self, model: type[Any]) -> dict[NamespacedName, Any]:
        return {
            NamespacedName(key.namespace, key.name): item.obj
            for key, item in self._objects.items()
            if isinstance(item.obj, model)
        }

    def keys(self) -> list[ObjectKey]:
        """Every reconcilable object, repositories first, then policies, then automations."""
        order = {kind: index for index, kind in enumerate(self.kinds)}
        chosen = [key for key in self._objects if key.kind in order]
        return sorted(chosen, key=lambda key: (order[key.kind], key.namespace, key.name))

    def shown_keys(self) -> list[ObjectKey]:
        """Every object the API shows: the reconciled ones, then inputs (a GitRepository in
        a runtime without a git source port)."""
        shown = {d.kind for d in cli_kinds()}
        inputs = sorted(key for key in self._objects if key.kind in shown - set(self.kinds))
        return [*self.keys(), *inputs]

    def receiver_keys(self) -> list[ObjectKey]:
        """The loaded webhook Receivers."""
        return sorted(key for key in self._objects if key.kind == RECEIVER.kind)

    def insecure_warnings(self) -> list[str]:
        """One warning per ImageRepository allowed to use plain HTTP (``spec.insecure``)."""
        return [
            f"ImageRepository {name}: spec.insecure is true: plain HTTP to "
            f"{repo.spec.image.split('/')[0]} is allowed; tags and credentials may travel "
            "unencrypted"
            for name, repo in sorted(self.ctx.repositories.items(), key=lambda i: str(i[0]))
            if repo.spec.insecure
        ]

    def object(self, key: ObjectKey) -> Any:
        """The loaded API object for ``key`` (KeyError when unknown)."""
        return self._objects[key].obj

    def source_of(self, key: ObjectKey) -> SourceLocation:
        """Where ``key`` was defined."""
        return self._objects[key].source

    def interval_of(self, key: ObjectKey) -> timedelta:
        """The object's ``spec.interval`` (a policy without one is re-run by triggers only)."""
        interval = self.object(key).spec.interval
        return interval.timedelta if interval is not None else timedelta(0)

    def is_suspended(self, key: ObjectKey) -> bool:
        """``spec.suspend``, unless the API suspended or resumed the object at run time."""
        return self._suspended.get(key, bool(self.object(key).spec.suspend))

    def set_suspended(self, key: ObjectKey, suspended: bool) -> None:
        """Suspend or resume ``key`` until the process ends (the manifest stays as it is)."""
        self.object(key)
        self._suspended[key] = suspended

    def request_reconcile(self, key: ObjectKey, requested_at: str) -> None:
        """Remember a reconcile request's token for the next run of ``key``."""
        self.object(key)
        self._requests[key] = requested_at

    def spec_hash(self, key: ObjectKey) -> str:
        """A digest of the object's spec and labels; it changes when the user edits them."""
        obj = self.object(key)
        cached = self._hashes.get(key)
        if cached is not None and cached[0] is obj:  # models are frozen: same object, same hash
            return cached[1]
        body = {"spec": obj.spec.model_dump(mode="json"), "labels": obj.metadata.labels}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        self._hashes[key] = (obj, digest)
        return digest

    # -- reconciling ----------------------------------------------------------------------

    async def reconcile(
        self, key: ObjectKey, *, reason: str = "", requested_at: str | None = None
    ) -> Outcome:
        """Run ``key``'s reconciler, persist status and events, return the outcome.

        ``requested_at`` is a reconcile request's token (Flux's ``requestedAt`` annotation):
        it forces a scan and is recorded as ``status.lastHandledReconcileAt``.
        """
        started = time.monotonic()
        obj = self.object(key)
        requested_at = requested_at or self._requests.pop(key, None)
        generation = self._generation(key, obj)
        # The one place suspension is decided: the reconcilers never look at spec.suspend,
        # so a run-time resume of a manifest-suspended object really runs it.
        if key.kind not in self.kinds:
            # Read here, run elsewhere (a GitRepository without a git source port): its
            # status is not ours to write.
            return Outcome(self._stored_status(key), suspended=True)
        if self.is_suspended(key):
            outcome: Outcome[Any] = Outcome(self._stored_status(key), suspended=True)
        else:
            await self._progress(key, generation, requested_at)
            outcome = await self._guarded(key, obj, generation, requested_at)
            if requested_at is not None:
                handled = {"last_handled_reconcile_at": requested_at}
                outcome = replace(outcome, status=outcome.status.model_copy(update=handled))
            self._persist(key, outcome)
            await self._publish(key, outcome)
        if self.on_result is not None:
            self.on_result(key, outcome, time.monotonic() - started)
        return outcome

    def _generation(self, key: ObjectKey, obj: Any) -> int:
        api_generation = obj.metadata.generation
        if self._api_generations and api_generation is not None:
            return int(api_generation)
        return self.ctx.store.observe_generation(key, self.spec_hash(key))

    async def _progress(self, key: ObjectKey, generation: int, requested_at: str | None) -> None:
        """Flux's progress point, where a status writer publishes: Reconciling while a new
        generation or a reconcile request is worked on, so ``kubectl wait`` sees it start.
        Routine interval runs skip it: two status writes per run would double the API load."""
        if self._status_writer is None or self.dry_run:
            return
        previous = self._stored_status(key)
        observed = previous.observed_generation or 0
        if observed == generation and requested_at is None:
            return
        message = (
            f"processing object: new generation {observed} -> {generation}"
            if observed != generation
            else "reconciliation in progress"
        )
        now = self.ctx.clock.now()
        status = progressing(previous, generation=generation, message=message, now=now)
        await self._status_writer.write_status(key, Outcome(status).document)

    async def _publish(self, key: ObjectKey, outcome: Outcome[Any]) -> None:
        """Hand the status and the user-facing events to the cluster's ports, if any."""
        if self.dry_run:
            return
        if self._status_writer is not None:
            await self._status_writer.write_status(key, outcome.document)
        if self._event_recorder is not None:
            for event in outcome.events:
                if event.type != "Trace":  # Trace events are for notification only
                    await self._event_recorder.record(key, event.type, event.reason, event.message)

    def _stored_status(self, key: ObjectKey) -> Any:
        model = _status_model(key)
        return read_status(self.ctx.store, key, model) or model()

    async def _guarded(
        self, key: ObjectKey, obj: Any, generation: int, requested_at: str | None
    ) -> Outcome[Any]:
        try:
            return await self._dispatch(key, obj, generation, requested_at)
        except Exception as exc:  # a bug must not stop the other objects or print a traceback
            error = RetryableError(
                f"internal error while reconciling {key}: {type(exc).__name__}: {exc}"
            )
            model = _status_model(key)
            previous = read_status(self.ctx.store, key, model)
            now = self.ctx.clock.now()
            return failed_outcome(previous, model(), error, generation=generation, now=now)

    async def _dispatch(
        self, key: ObjectKey, obj: Any, generation: int, requested_at: str | None
    ) -> Outcome[Any]:
        reconciler = reconciler_for(key.kind)
        if reconciler is None:
            raise KeyError(f"{key.kind} is not reconciled")
        request = RunRequest(generation, requested_at, self.source_of(key), self.dry_run)
        return await reconciler.run(obj, self.ctx, request)

    def _persist(self, key: ObjectKey, outcome: Outcome[Any]) -> None:
        # the object as reconciled, so `get -o yaml --state` shows its spec without manifests
        obj = self.object(key)
        if isinstance(obj, GitRepository):
            obj = obj.without_url_password()
        self.ctx.store.put_object(key, export_document(with_server_defaults(obj)))
        self.ctx.store.put_status(key, outcome.document)
        if outcome.run is not None:
            self.ctx.store.add_run(outcome.run)
        now = self.ctx.clock.now()
        for event in outcome.events:
            self.ctx.store.add_event(
                RecordedEvent(key, event.type, event.reason, event.message, now)
            )

    def watched(self, key: ObjectKey, status: Any) -> Any:
        """What of ``key``'s typed status its dependants rule compares (None: nothing)."""
        reconciler = reconciler_for(key.kind)
        return None if reconciler is None else reconciler.watched(status)

    def dependants(self, key: ObjectKey, before: Any | None, after: Any) -> list[ObjectKey]:
        """Objects to run now because what ``key``'s rule watches (:meth:`watched`) went
        from ``before`` to ``after``."""
        reconciler = reconciler_for(key.kind)
        if reconciler is None:
            return []
        found = reconciler.dependants(key, before, after, self._index)
        if key.kind == IMAGE_POLICY.kind:
            # A new latest image wakes every automation of the namespace; the ones with a
            # marker for it go first, so its commit does not wait behind the others' runs.
            policy = NamespacedName(key.namespace, key.name)
            found = run_first(self.ctx.update_memory, policy, found)
        return found

    def repositories_for_image(self, image: str) -> list[ObjectKey]:
        """ImageRepositories whose ``spec.image`` or canonical name is ``image``."""
        wanted = {image, _canonical(image)}
        return [
            ObjectKey(IMAGE_REPOSITORY.kind, name.namespace, name.name)
            for name, repo in sorted(self.ctx.repositories.items(), key=lambda i: str(i[0]))
            if {repo.spec.image, _canonical(repo.spec.image)} & wanted
        ]

    def reload(self, paths: Sequence[Path]) -> ReloadResult:
        """Re-read the manifests; a bad edit is reported and the last good objects stay."""
        if self._loader is None:
            return ReloadResult(error="this engine was built without a loader")
        try:
            manifests = self._loader(paths)
        except TagpilotError as error:
            return ReloadResult(error=str(error))
        return self.replace(manifests)

    def replace(self, manifests: Manifests) -> ReloadResult:
        """Take ``manifests`` as the desired objects; say which were added, changed, removed."""
        before = {key: self.spec_hash(key) for key in self.keys()}
        secrets_before = self.ctx.secrets
        self._install(manifests)
        after = {key: self.spec_hash(key) for key in self.keys()}
        return ReloadResult(
            added=sorted(set(after) - set(before)),
            changed=sorted(k for k in set(after) & set(before) if after[k] != before[k]),
            removed=sorted(set(before) - set(after)),
            secrets_changed=manifests.secrets != secrets_before,
        )


def _status_model(key: ObjectKey) -> type[Any]:
    model = descriptor(key.kind).status_model
    assert model is not None  # only kinds with a status are reconciled
    return model


def _canonical(image: str) -> str:
    try:
        return parse_repository(
            image.split("@", maxsplit=1)[0].rsplit(":", 1)[0]
            if ":" in image.rsplit("/", maxsplit=1)[-1]
            else image
        ).canonical_name
    except TagpilotError:
        return image
