"""The reconcilers bound to their kinds' descriptors, and which objects depend on which.

``RECONCILERS`` is the one table the engine dispatches through: the kind's descriptor
(model, status model, CLI words), the function that reconciles one object, and the rule
naming the objects to run at once when a status changes (new tags wake the policies of the
repository; a new ``latestRef`` wakes the automations of the policy's namespace).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tagpilot.api.descriptors import (
    GIT_REPOSITORY,
    IMAGE_POLICY,
    IMAGE_REPOSITORY,
    IMAGE_UPDATE,
    KUSTOMIZATION,
    KindDescriptor,
)
from tagpilot.api.image import ImagePolicy, ImagePolicyStatus, ImageRepositoryStatus
from tagpilot.api.kustomization import Kustomization
from tagpilot.api.source import GitRepositoryStatus
from tagpilot.core.errors import SourceLocation
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.git_repository import reconcile_git_repository
from tagpilot.reconcile.image_policy import reconcile_image_policy
from tagpilot.reconcile.image_repository import reconcile_image_repository
from tagpilot.reconcile.image_update import reconcile_image_update
from tagpilot.reconcile.outcome import Outcome

__all__ = [
    "RECONCILERS",
    "KindReconciler",
    "ObjectIndex",
    "RunRequest",
    "reconciler_for",
    "runnable_kinds",
]


@dataclass(frozen=True)
class RunRequest:
    """What the caller asks of one reconcile besides the object and the ports."""

    generation: int = 1
    requested_at: str | None = None
    """A reconcile request's token (Flux's ``requestedAt``): act now, record it."""
    source: SourceLocation | None = None
    """Where the object was defined, for errors that point into the manifest."""
    dry_run: bool = False


class ObjectIndex(Mapping[ObjectKey, Any]):
    """The loaded objects by key, and the groupings the dependants rules look them up in.

    A rule runs after every status change; scanning every loaded object each time made
    the first scan of 5,000 repositories quadratic.  Each grouping is built once, on first
    use, for the life of the index (the engine makes a new one when the manifests change).
    """

    def __init__(self, objects: Mapping[ObjectKey, Any]) -> None:
        self._objects = dict(objects)
        self._groups: dict[str, dict[Hashable, list[ObjectKey]]] = {}

    def __getitem__(self, key: ObjectKey) -> Any:
        return self._objects[key]

    def __iter__(self) -> Iterator[ObjectKey]:
        return iter(self._objects)

    def __len__(self) -> int:
        return len(self._objects)

    def group(
        self, name: str, by: Callable[[ObjectKey, Any], Hashable | None], value: Hashable
    ) -> list[ObjectKey]:
        """The keys, sorted, of the objects ``by`` maps to ``value`` (``None``: in no group).

        ``name`` names the grouping ``by`` makes: one name, one function.
        """
        groups = self._groups.get(name)
        if groups is None:
            groups = {}
            for key, obj in self._objects.items():
                found = by(key, obj)
                if found is not None:
                    groups.setdefault(found, []).append(key)
            for keys in groups.values():
                keys.sort()
            self._groups[name] = groups
        return list(groups.get(value, ()))


Objects = ObjectIndex
Run = Callable[[Any, ReconcileContext, RunRequest], Awaitable[Outcome[Any]]]
Dependants = Callable[[ObjectKey, Any, Any, Objects], list[ObjectKey]]
"""Given an object, what its rule watches before and after a run, and the loaded objects:
the objects to run now."""
Watched = Callable[[Any], object]
"""The part of a typed status a kind's dependants rule watches (compared with ``==``)."""


@dataclass(frozen=True)
class KindReconciler:
    """A reconciled kind: its descriptor, its reconciler, and who depends on its status."""

    descriptor: KindDescriptor
    run: Run
    dependants: Dependants
    watched: Watched
    """Reduces a status to what ``dependants`` compares; the scheduler keeps only that
    between runs (an automation's status lists every policy it observed: thousands)."""

    @property
    def kind(self) -> str:
        """The kind's name."""
        return self.descriptor.kind


def _run_repository(obj: Any, ctx: ReconcileContext, request: RunRequest) -> Awaitable[Outcome]:
    return reconcile_image_repository(
        obj, ctx, generation=request.generation, requested_at=request.requested_at
    )


def _run_policy(obj: Any, ctx: ReconcileContext, request: RunRequest) -> Awaitable[Outcome]:
    return reconcile_image_policy(obj, ctx, generation=request.generation, source=request.source)


def _run_update(obj: Any, ctx: ReconcileContext, request: RunRequest) -> Awaitable[Outcome]:
    return reconcile_image_update(obj, ctx, generation=request.generation, dry_run=request.dry_run)


def _run_git_repository(obj: Any, ctx: ReconcileContext, request: RunRequest) -> Awaitable[Outcome]:
    return reconcile_git_repository(obj, ctx, generation=request.generation)


def _run_kustomization(obj: Any, ctx: ReconcileContext, request: RunRequest) -> Awaitable[Outcome]:
    # loaded by the first Kustomization run: a pass without a cluster to apply to runs none
    from tagpilot.reconcile.kustomization import reconcile_kustomization  # noqa: PLC0415

    return reconcile_kustomization(obj, ctx, generation=request.generation)


def _revision(status: object) -> str | None:
    if not isinstance(status, ImageRepositoryStatus) or status.last_scan_result is None:
        return None
    return status.last_scan_result.revision


def _policies_of_repository(
    key: ObjectKey, before: object, after: object, objects: Objects
) -> list[ObjectKey]:
    if before == after:
        return []
    return objects.group("policies by repository", _repository_of_policy, (key.namespace, key.name))


def _repository_of_policy(key: ObjectKey, obj: object) -> Hashable | None:
    if not isinstance(obj, ImagePolicy):
        return None
    wanted = obj.repository_key
    return (wanted.namespace, wanted.name)


def _latest_ref(status: object) -> object:
    return status.latest_ref if isinstance(status, ImagePolicyStatus) else None


def _automations_of_namespace(
    key: ObjectKey, before: object, after: object, objects: Objects
) -> list[ObjectKey]:
    if before == after:
        return []
    return objects.group("automations by namespace", _namespace_of_automation, key.namespace)


def _namespace_of_automation(key: ObjectKey, obj: object) -> Hashable | None:
    return key.namespace if key.kind == IMAGE_UPDATE.kind else None


def _artifact_revision(status: object) -> object:
    if not isinstance(status, GitRepositoryStatus) or not status.artifact:
        return None
    artifact = status.artifact
    return (
        artifact.get("revision")
        if isinstance(artifact, dict)
        else getattr(artifact, "revision", None)
    )


def _kustomizations_of_source(
    key: ObjectKey, before: object, after: object, objects: Objects
) -> list[ObjectKey]:
    """A new artifact revision runs the Kustomizations that build it (Flux's source watch)."""
    if before == after:
        return []
    return objects.group("kustomizations by source", _source_of_kustomization, key)


def _source_of_kustomization(key: ObjectKey, obj: object) -> Hashable | None:
    if not isinstance(obj, Kustomization):
        return None
    ref = obj.spec.source_ref
    return ObjectKey(ref.kind, ref.namespace or key.namespace, ref.name)


def _nobody(key: ObjectKey, before: object, after: object, objects: Objects) -> list[ObjectKey]:
    return []


def _nothing(status: object) -> None:
    return None


RECONCILERS: tuple[KindReconciler, ...] = (
    KindReconciler(IMAGE_REPOSITORY, _run_repository, _policies_of_repository, _revision),
    KindReconciler(IMAGE_POLICY, _run_policy, _automations_of_namespace, _latest_ref),
    KindReconciler(IMAGE_UPDATE, _run_update, _nobody, _nothing),
    # After the automations: a commit they pushed in this pass is fetched in the same pass.
    KindReconciler(
        GIT_REPOSITORY, _run_git_repository, _kustomizations_of_source, _artifact_revision
    ),
    KindReconciler(KUSTOMIZATION, _run_kustomization, _nobody, _nothing),
)
"""The reconciled kinds in the order one pass runs them: each sees its sources' statuses."""

_BY_KIND = {r.kind: r for r in RECONCILERS}


def reconciler_for(kind: str) -> KindReconciler | None:
    """The reconciler of ``kind``, or None for a kind that is only read (an input)."""
    return _BY_KIND.get(kind)


def runnable_kinds(ctx: ReconcileContext) -> tuple[str, ...]:
    """The reconciled kinds ``ctx`` has the ports for, in run order.

    GitRepository needs a git source port: a runtime built without one (the cluster
    controller, until its source controller is switched on) only reads GitRepositories.
    A Kustomization needs a cluster to apply to (an applier and a builder): without them
    (``reconcile --once``, ``tagpilot run``) Kustomizations are only read.
    """
    needs = {
        GIT_REPOSITORY.kind: ctx.git_source is not None,
        KUSTOMIZATION.kind: ctx.applier is not None and ctx.builder is not None,
    }
    return tuple(r.kind for r in RECONCILERS if needs.get(r.kind, True))
