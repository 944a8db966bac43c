"""``spec.dependsOn``: the Kustomizations that must be ready before this one is applied.

For each dependency (its namespace defaults to the Kustomization's), as kustomize-controller
decides it:

* it must exist;
* with a ``readyExpr``, the CEL expression over ``self`` (this Kustomization) and ``dep``
  (the dependency, status included) decides alone;
* otherwise the built-in check: the dependency's current generation was observed, it is
  Ready, and when both read the same source it applied the revision this run is about to
  apply (so an app never runs ahead of the infrastructure built from the same commit).

A dependency not ready is ``DependencyNotReady``, retried.
"""

from __future__ import annotations

from typing import Any

from tagpilot.api.kustomization import Kustomization, KustomizationStatus
from tagpilot.api.meta import NamespacedName
from tagpilot.core.errors import RetryableError
from tagpilot.core.kustomize.ready_expr import ReadyExpressions
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.outcome import read_status

__all__ = ["DEPENDENCY_NOT_READY", "check_dependencies"]

DEPENDENCY_NOT_READY = "DependencyNotReady"


def check_dependencies(
    ks: Kustomization, ctx: ReconcileContext, revision: str, expressions: ReadyExpressions
) -> None:
    """Raise ``DependencyNotReady`` for the first dependency that is not ready."""
    for index, dependency in enumerate(ks.spec.depends_on or ()):
        namespace = dependency.namespace or ks.namespace
        where = f"{namespace}/{dependency.name}"
        dep = ctx.kustomizations.get(NamespacedName(namespace, dependency.name))
        if dep is None:
            raise _not_ready(f"dependency '{where}' not found")
        status = _status(ctx, dep)
        if expressions.has(index):
            me = _document(ks, _status(ctx, ks))
            verdict = expressions.judge(index, me, _document(dep, status))
            if not verdict.ready:
                raise _not_ready(f"dependency '{where}' is not ready: {verdict.why}")
        elif not _ready(ks, dep, status, revision):
            raise _not_ready(f"dependency '{where}' is not ready")


def _ready(
    ks: Kustomization, dep: Kustomization, status: KustomizationStatus | None, revision: str
) -> bool:
    if status is None:
        return False
    generation = dep.metadata.generation
    if generation is not None and status.observed_generation != generation:
        return False
    ready = next((c for c in status.conditions or () if c.type == "Ready"), None)
    if ready is None or ready.status != "True":
        return False
    if _same_source(ks, dep):
        return status.last_applied_revision == revision
    return True


def _same_source(ks: Kustomization, dep: Kustomization) -> bool:
    mine, theirs = ks.spec.source_ref, dep.spec.source_ref
    return (mine.kind, mine.name, mine.namespace or ks.namespace) == (
        theirs.kind,
        theirs.name,
        theirs.namespace or dep.namespace,
    )


def _status(ctx: ReconcileContext, ks: Kustomization) -> KustomizationStatus | None:
    return read_status(ctx.store, ObjectKey(ks.kind, ks.namespace, ks.name), KustomizationStatus)


def _document(ks: Kustomization, status: KustomizationStatus | None) -> dict[str, Any]:
    """The object as the API shows it (the CEL variables' shape)."""
    body = ks.model_dump(by_alias=True, mode="json", exclude_none=True)
    body["status"] = (
        status.model_dump(by_alias=True, mode="json", exclude_none=True) if status else {}
    )
    return body


def _not_ready(message: str) -> RetryableError:
    return RetryableError(message, reason=DEPENDENCY_NOT_READY)
