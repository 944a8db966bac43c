"""The ImagePolicy reconciler: from an ImagePolicy and its repository's stored tags to
``latestRef`` (with the digest when reflected), Flux's Ready message and events.

``policy_spec_of`` translates the API object into the pure engine's ``PolicySpec``;
``compile_image_policy`` adds the object's file and line to a bad range or regex, so the
same error reads well in ``policy eval``, ``reconcile --once`` and the daemon.

The policy lint's warnings (``tagpilot.core.policy.lint``), and a new latest tag that goes
backwards from the one it replaces, are added to the Ready message, a Warning event and
``Outcome.warnings`` — Flux accepts such policies without a word.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tagpilot.api.descriptors import IMAGE_POLICY
from tagpilot.api.image import ImagePolicy, ImagePolicyStatus, ImageRepository
from tagpilot.api.meta import REASON_DEPENDENCY_NOT_READY, REASON_SUCCEEDED, ImageRef
from tagpilot.core.errors import RetryableError, SourceLocation, StalledError, TagpilotError
from tagpilot.core.imageref import parse_repository
from tagpilot.core.policy import (
    AlphabeticalRule,
    CompiledPolicy,
    InvalidPolicyError,
    NumericalRule,
    PolicySpec,
    Rule,
    SemverRule,
    TagFilterSpec,
    compile_policy,
)
from tagpilot.core.policy.lint import backwards_move
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_repository import registry_access
from tagpilot.reconcile.outcome import (
    Event,
    Outcome,
    RegistryCall,
    counted,
    failed_outcome,
    read_status,
    ready_condition,
    success,
)

__all__ = ["KIND", "compile_image_policy", "policy_spec_of", "reconcile_image_policy"]

KIND = IMAGE_POLICY.kind
REASON_DEPENDENCY = REASON_DEPENDENCY_NOT_READY
DEPENDENCY_RETRY = "10s"
REASON_POLICY_WARNING = "PolicyWarning"
"""Event reason: the policy works, but probably not as its author meant (see policy lint)."""


def policy_spec_of(policy: ImagePolicy) -> PolicySpec:
    """The engine's view of an ImagePolicy's ``policy`` and ``filterTags``."""
    choice = policy.spec.policy
    rule: Rule
    if choice.semver is not None:
        rule = SemverRule(choice.semver.range)
    elif choice.numerical is not None:
        rule = NumericalRule(choice.numerical.order)
    else:
        assert choice.alphabetical is not None  # the model admits exactly one choice
        rule = AlphabeticalRule(choice.alphabetical.order)
    tags = policy.spec.filter_tags
    return PolicySpec(rule, TagFilterSpec(tags.pattern, tags.extract) if tags else None)


def compile_image_policy(
    policy: ImagePolicy, source: SourceLocation | None = None
) -> CompiledPolicy:
    """Compile ``policy``; a bad spec raises ``InvalidPolicyError`` located at ``source``."""
    try:
        return compile_policy(policy_spec_of(policy))
    except InvalidPolicyError as error:
        if source is None:
            raise
        located = SourceLocation(source.file, source.line, error.field)
        raise _relocated(error, located) from error


def _relocated(error: InvalidPolicyError, location: SourceLocation) -> InvalidPolicyError:
    relocated = InvalidPolicyError(f"{location}: {error.detail}", field=error.field)
    relocated.location = location
    return relocated


async def reconcile_image_policy(
    policy: ImagePolicy,
    ctx: ReconcileContext,
    *,
    generation: int = 1,
    source: SourceLocation | None = None,
) -> Outcome[ImagePolicyStatus]:
    """Select the latest tag for ``policy`` from its repository's stored tags.

    Suspension is the caller's decision (the engine): this always reconciles.
    """
    key = ObjectKey(KIND, policy.namespace, policy.name)
    previous = read_status(ctx.store, key, ImagePolicyStatus)
    now = ctx.clock.now()
    calls: list[RegistryCall] = []
    try:
        outcome = await _reconcile(policy, ctx, previous, now, generation, source, calls)
    except TagpilotError as error:
        failed = ImagePolicyStatus()
        outcome = failed_outcome(previous, failed, error, generation=generation, now=now)
    return replace(outcome, registry_calls=tuple(calls))


async def _reconcile(
    policy: ImagePolicy,
    ctx: ReconcileContext,
    previous: ImagePolicyStatus | None,
    now: datetime,
    generation: int,
    source: SourceLocation | None,
    calls: list[RegistryCall],
) -> Outcome[ImagePolicyStatus]:
    compiled = compile_image_policy(policy, source)
    repo = _repository(policy, ctx)
    canonical = parse_repository(repo.spec.image, insecure=repo.spec.insecure).canonical_name
    stored = ctx.store.get_tags(canonical)
    if stored is None or not stored.tags:
        raise RetryableError(
            f"retrying in {DEPENDENCY_RETRY}: no tags in database", reason=REASON_DEPENDENCY
        )
    evaluation = compiled.evaluate(stored.tags)
    tag = evaluation.require_latest()
    old = previous.latest_ref if previous is not None else None
    digest = await _digest(policy, repo, ctx, tag, old, calls)
    latest = ImageRef(name=repo.spec.image, tag=tag, digest=digest or None)
    fields = ImagePolicyStatus(latest_ref=latest)
    if old is not None and old != latest:
        fields = ImagePolicyStatus(latest_ref=latest, observed_previous_ref=old)
    warnings = (*evaluation.warnings, *_moved_backwards(compiled, old, latest))
    message = _message(latest, status_previous_ref(previous, fields))
    status = success(
        previous,
        fields,
        generation=generation,
        reason=REASON_SUCCEEDED,
        message="; ".join([message, *(f"warning: {w}" for w in warnings)]),
        now=now,
    )
    event = _event(previous, status)
    events = (event,) if event.type == "Trace" or not warnings else (event, _warned(warnings))
    requeue = policy.spec.interval.timedelta if policy.spec.interval else None
    return Outcome(status, events, requeue_after=requeue, warnings=warnings)


def _moved_backwards(
    compiled: CompiledPolicy, old: ImageRef | None, latest: ImageRef
) -> tuple[str, ...]:
    """The new latest tag goes backwards from the one it replaces (same image only)."""
    if old is None or old.name != latest.name:
        return ()
    found = backwards_move(compiled.policer, compiled.tag_filter, old.tag, latest.tag)
    return (found,) if found else ()


def _warned(warnings: tuple[str, ...]) -> Event:
    return Event("Warning", REASON_POLICY_WARNING, "\n".join(warnings))


def status_previous_ref(
    previous: ImagePolicyStatus | None, fields: ImagePolicyStatus
) -> ImageRef | None:
    """The ref to mention as "previously": the new observedPreviousRef, else the kept one."""
    return fields.observed_previous_ref or (previous.observed_previous_ref if previous else None)


def _repository(policy: ImagePolicy, ctx: ReconcileContext) -> ImageRepository:
    wanted = policy.repository_key
    repo = ctx.repositories.get(wanted)
    if repo is None:
        raise RetryableError(
            "failed to get the referred ImageRepository: referenced ImageRepository does not "
            f'exist: ImageRepository.image.toolkit.fluxcd.io "{wanted.name}" not found '
            f"in namespace {wanted.namespace}",
            reason=REASON_DEPENDENCY,
        )
    if wanted.namespace != policy.namespace and repo.spec.access_from is None:
        raise StalledError(
            f"ImageRepository {wanted} does not allow access from namespace "
            f"{policy.namespace}: set spec.accessFrom on it",
            reason="AccessDenied",
        )
    return repo


async def _digest(
    policy: ImagePolicy,
    repo: ImageRepository,
    ctx: ReconcileContext,
    tag: str,
    old: ImageRef | None,
    calls: list[RegistryCall],
) -> str:
    mode = policy.spec.digest_reflection_policy
    if mode == "Never":
        return ""
    same = old is not None and old.name == repo.spec.image and old.tag == tag
    if mode == "IfNotPresent" and same and old is not None and old.digest:
        return old.digest
    access = registry_access(repo, ctx.secrets)
    try:
        host = parse_repository(repo.spec.image, insecure=repo.spec.insecure).registry
        return await counted(calls, host, ctx.registry.head_digest(access, tag))
    except TagpilotError as error:
        error.message = f"failed fetching digest of {repo.spec.image}:{tag}: {error.message}"
        raise


def _message(latest: ImageRef, previous_ref: ImageRef | None) -> str:
    message = f"Latest image tag for {latest.name} resolved to {latest.tag}"
    if latest.digest:
        message += f" with digest {latest.digest}"
    if previous_ref is not None and previous_ref != latest:
        message += f" (previously {previous_ref})"
    return message


def _event(previous: ImagePolicyStatus | None, status: ImagePolicyStatus) -> Event:
    before, after = ready_condition(previous), ready_condition(status)
    assert after is not None
    changed = before is None or before.message != after.message
    return Event("Normal" if changed else "Trace", REASON_SUCCEEDED, after.message)
