"""The GitRepository reconciler: fetch the ref, store the tree as an artifact, report it.

Follows source-controller (spec §1.14): the ref is resolved with Flux's precedence and
revision string, the tree is stored with Flux's ignore rules, and the status carries
``artifact`` (revision, digest, path, url, size, lastUpdateTime), ``observedIgnore`` and the
conditions ``flux get sources git`` reads: Ready ``Succeeded`` "stored artifact for revision
'<revision>'" and ``ArtifactInStorage``; on failure Ready False with ``FetchFailed`` (reasons
``AuthenticationFailed``, ``GitOperationFailed``) or ``StorageOperationFailed``, the artifact
stored before staying in the status (and ``ArtifactInStorage`` with it).

An unchanged remote stores nothing new: the artifact (and its ``lastUpdateTime``) stays, and
the run emits only a Trace event.  Reading the GitRepository as an automation's input is
unchanged: automations never read this status.
"""

from __future__ import annotations

from dataclasses import replace

from tagpilot.api.descriptors import GIT_REPOSITORY
from tagpilot.api.meta import (
    REASON_AUTHENTICATION_FAILED,
    REASON_GIT_OPERATION_FAILED,
    REASON_SUCCEEDED,
    Condition,
)
from tagpilot.api.source import Artifact, GitRepository, GitRepositoryStatus
from tagpilot.core.errors import RetryableError, StalledError, TagpilotError
from tagpilot.ports import CheckoutRef, GitAuth, GitSourceFetch, ObjectKey, SourceArtifact
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.git_access import git_auth
from tagpilot.reconcile.outcome import (
    Event,
    Outcome,
    failed_outcome,
    format_time,
    read_status,
    success,
)

__all__ = [
    "ARTIFACT_IN_STORAGE",
    "FETCH_FAILED",
    "KIND",
    "NEW_ARTIFACT",
    "STORAGE_OPERATION_FAILED",
    "reconcile_git_repository",
]

KIND = GIT_REPOSITORY.kind
ARTIFACT_IN_STORAGE = "ArtifactInStorage"
FETCH_FAILED = "FetchFailed"
STORAGE_OPERATION_FAILED = "StorageOperationFailed"
NEW_ARTIFACT = "NewArtifact"
_CHECKOUT_FAILED = "failed to checkout and determine revision"


async def reconcile_git_repository(
    source: GitRepository, ctx: ReconcileContext, *, generation: int = 1
) -> Outcome[GitRepositoryStatus]:
    """Fetch ``source``'s ref and store its artifact; return the status and events.

    Suspension is the caller's decision (the engine): this always reconciles.
    """
    key = ObjectKey(KIND, source.namespace, source.name)
    previous = read_status(ctx.store, key, GitRepositoryStatus)
    now = ctx.clock.now()
    fields = GitRepositoryStatus(observed_ignore=source.spec.ignore)
    try:
        artifact = await _fetch(source, ctx)
    except TagpilotError as error:
        outcome = failed_outcome(previous, fields, error, generation=generation, now=now)
        status = _with_failure_conditions(outcome.status, previous, error, generation)
        return replace(outcome, status=status)
    stored = _artifact_status(artifact, previous, format_time(now))
    message = f"stored artifact for revision '{artifact.revision}'"
    status = success(
        previous,
        fields.model_copy(update={"artifact": stored}),
        generation=generation,
        reason=REASON_SUCCEEDED,
        message=message,
        now=now,
    )
    in_storage = _condition(ARTIFACT_IN_STORAGE, REASON_SUCCEEDED, message, generation)
    status = _add_conditions(status, previous, [in_storage], format_time(now))
    if artifact.created:
        event = Event("Normal", NEW_ARTIFACT, message)
    else:
        up_to_date = f"artifact up-to-date with remote revision: '{artifact.revision}'"
        event = Event("Trace", REASON_SUCCEEDED, up_to_date)
    return Outcome(status, (event,), requeue_after=source.spec.interval.timedelta)


async def _fetch(source: GitRepository, ctx: ReconcileContext) -> SourceArtifact:
    if ctx.git_source is None:
        raise StalledError(
            "this runtime does not fetch GitRepository sources (no git source port)",
            reason=REASON_GIT_OPERATION_FAILED,
        )
    request = GitSourceFetch(
        namespace=source.namespace,
        name=source.name,
        url=source.spec.url,
        auth=_auth(source, ctx),
        ref=_ref(source),
        ignore=source.spec.ignore,
        timeout_seconds=source.spec.timeout.seconds,
    )
    try:
        return await ctx.git_source.fetch(request)
    except TagpilotError as error:
        if error.reason != REASON_GIT_OPERATION_FAILED:
            raise
        raise _same_family(error, f"{_CHECKOUT_FAILED}: {error.message}", error.reason) from error


def _auth(source: GitRepository, ctx: ReconcileContext) -> GitAuth:
    """The Secret's credentials; a missing or unusable Secret is ``AuthenticationFailed``."""
    who = f"{KIND} {source.namespace}/{source.name}"
    try:
        return git_auth(source, ctx.secrets, wanted_by=who)
    except TagpilotError as error:
        raise _same_family(error, error.message, REASON_AUTHENTICATION_FAILED) from error


def _same_family(error: TagpilotError, message: str, reason: str) -> TagpilotError:
    """An error of ``error``'s family (stalled or retryable) with another message or reason."""
    if isinstance(error, StalledError):
        return StalledError(message, reason=reason)
    return RetryableError(message, reason=reason)


def _ref(source: GitRepository) -> CheckoutRef | None:
    ref = source.spec.ref
    if ref is None:
        return None
    return CheckoutRef(
        branch=ref.branch or "",
        tag=ref.tag or "",
        semver=ref.semver or "",
        name=ref.name or "",
        commit=ref.commit or "",
    )


def _artifact_status(
    artifact: SourceArtifact, previous: GitRepositoryStatus | None, now: str
) -> Artifact:
    """The status ``artifact``; a reused one keeps the time it was first stored."""
    before = previous.artifact if previous is not None else None
    same = before is not None and (before.revision, before.digest) == (
        artifact.revision,
        artifact.digest,
    )
    return Artifact(
        path=artifact.path,
        url=artifact.url,
        revision=artifact.revision,
        digest=artifact.digest,
        last_update_time=before.last_update_time if same and before else now,
        size=artifact.size,
    )


def _with_failure_conditions(
    status: GitRepositoryStatus,
    previous: GitRepositoryStatus | None,
    error: TagpilotError,
    generation: int,
) -> GitRepositoryStatus:
    """Add Flux's negative-polarity condition for the failure and keep ArtifactInStorage."""
    kind = STORAGE_OPERATION_FAILED if error.reason == STORAGE_OPERATION_FAILED else FETCH_FAILED
    failed = _condition(kind, error.reason, error.message, generation)
    kept = [c for c in _conditions(previous) if c.type == ARTIFACT_IN_STORAGE]
    ready = next((c for c in _conditions(status) if c.type == "Ready"), None)
    now = ready.last_transition_time if ready is not None else ""
    return _add_conditions(status, previous, [failed, *kept], now)


def _add_conditions(
    status: GitRepositoryStatus,
    previous: GitRepositoryStatus | None,
    extra: list[Condition],
    now: str,
) -> GitRepositoryStatus:
    """``status`` with ``extra`` after its kstatus conditions; ``lastTransitionTime`` moves
    only when a condition's status changes."""
    old = {c.type: c for c in _conditions(previous)}
    stamped = []
    for condition in extra:
        before = old.get(condition.type)
        kept = before is not None and before.status == condition.status
        moment = before.last_transition_time if kept and before else now
        stamped.append(condition.model_copy(update={"last_transition_time": moment}))
    return status.model_copy(update={"conditions": [*_conditions(status), *stamped]})


def _conditions(status: GitRepositoryStatus | None) -> list[Condition]:
    return list(status.conditions or ()) if status is not None else []


def _condition(kind: str, reason: str, message: str, generation: int) -> Condition:
    return Condition(
        type=kind,
        status="True",
        observed_generation=generation,
        last_transition_time="",
        reason=reason,
        message=message,
    )
