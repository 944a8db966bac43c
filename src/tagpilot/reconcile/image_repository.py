"""The ImageRepository reconciler: decide whether to scan, scan, store the tags, report.

Follows image-reflector-controller: ``should_scan`` picks the trigger, the registry's tags
minus the exclusion list are stored sorted descending by bytes, and the status carries
``lastScanResult``, ``canonicalImageName`` and ``observedExclusionList``.  The tag set's
revision is ``sha256:<hex>`` of the newline-joined tags (Flux's file-storage form).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from tagpilot.api.descriptors import IMAGE_REPOSITORY
from tagpilot.api.duration import format_go_duration
from tagpilot.api.image import ImageRepository, ImageRepositoryStatus, ScanResult
from tagpilot.api.meta import REASON_AUTHENTICATION_FAILED, REASON_SUCCEEDED
from tagpilot.core.decisions import ScanDecision, ScanObservation, ScanRequest, should_scan
from tagpilot.core.errors import StalledError, TagpilotError
from tagpilot.core.imageref import parse_repository
from tagpilot.core.secrets import SecretIndex, tls_material
from tagpilot.core.tags import Exclusions, sort_descending
from tagpilot.ports import ObjectKey, ProxySettings, RegistryAccess, StoredTags
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.outcome import (
    Event,
    Outcome,
    RegistryCall,
    counted,
    failed_outcome,
    format_time,
    read_status,
    ready_condition,
    success,
)

__all__ = ["KIND", "reconcile_image_repository", "registry_access", "tag_revision"]

KIND = IMAGE_REPOSITORY.kind
LATEST_TAGS_SHOWN = 10


def tag_revision(tags: list[str]) -> str:
    """The revision of a stored tag list: ``sha256:`` of the tags joined by newlines."""
    return "sha256:" + hashlib.sha256("\n".join(tags).encode()).hexdigest()


def registry_access(repo: ImageRepository, secrets: SecretIndex) -> RegistryAccess:
    """How to reach ``repo``'s registry: credentials, TLS and proxy from its Secrets."""
    spec, who = repo.spec, f"{KIND} {repo.namespace}/{repo.name}"
    if spec.provider != "generic":
        raise StalledError(
            f"{who}: provider '{spec.provider}' needs cloud credentials, which tagpilot does "
            "not support yet; use provider: generic with a secretRef",
            reason="FeatureGateDisabled",
        )
    docker_config = tls = proxy = None
    if spec.secret_ref is not None:
        secret = secrets.get(
            repo.namespace, spec.secret_ref.name, wanted_by=who, reason=REASON_AUTHENTICATION_FAILED
        )
        docker_config = secret.either(".dockerconfigjson", ".dockercfg")
        if docker_config is None:
            secret.require(
                ".dockerconfigjson",
                purpose="registry credentials",
                reason=REASON_AUTHENTICATION_FAILED,
            )
    if spec.cert_secret_ref is not None:
        tls = tls_material(
            secrets.get(
                repo.namespace,
                spec.cert_secret_ref.name,
                wanted_by=who,
                reason=REASON_AUTHENTICATION_FAILED,
            )
        )
    if spec.proxy_secret_ref is not None:
        proxy = _proxy(secrets, repo.namespace, spec.proxy_secret_ref.name, who)
    return RegistryAccess(
        image=spec.image,
        insecure=spec.insecure,
        timeout_seconds=spec.effective_timeout.seconds,
        docker_config=docker_config,
        docker_config_source=f"Secret {repo.namespace}/{spec.secret_ref.name}"
        if spec.secret_ref
        else "",
        tls=tls,
        proxy=proxy,
    )


def _proxy(secrets: SecretIndex, namespace: str, name: str, who: str) -> ProxySettings:
    secret = secrets.get(namespace, name, wanted_by=who, reason=REASON_AUTHENTICATION_FAILED)
    address = secret.require("address", purpose="the proxy", reason=REASON_AUTHENTICATION_FAILED)
    username = secret.optional("username")
    return ProxySettings(
        address.text(), username.text() if username else None, secret.optional("password")
    )


async def reconcile_image_repository(
    repo: ImageRepository,
    ctx: ReconcileContext,
    *,
    generation: int = 1,
    requested_at: str | None = None,
) -> Outcome[ImageRepositoryStatus]:
    """Scan ``repo`` if due and return its new status, events and next run.

    Suspension is the caller's decision (the engine): this always reconciles.
    """
    key = ObjectKey(KIND, repo.namespace, repo.name)
    previous = read_status(ctx.store, key, ImageRepositoryStatus)
    now = ctx.clock.now()
    calls: list[RegistryCall] = []
    try:
        outcome = await _reconcile(repo, ctx, previous, now, generation, requested_at, calls)
    except TagpilotError as error:
        fields = ImageRepositoryStatus(last_handled_reconcile_at=requested_at)
        fields = fields if requested_at else ImageRepositoryStatus()
        outcome = failed_outcome(previous, fields, error, generation=generation, now=now)
    return replace(outcome, registry_calls=tuple(calls))


async def _reconcile(
    repo: ImageRepository,
    ctx: ReconcileContext,
    previous: ImageRepositoryStatus | None,
    now: datetime,
    generation: int,
    requested_at: str | None,
    calls: list[RegistryCall],
) -> Outcome[ImageRepositoryStatus]:
    access = registry_access(repo, ctx.secrets)
    parsed = parse_repository(repo.spec.image, insecure=repo.spec.insecure)
    canonical = parsed.canonical_name
    patterns = repo.spec.effective_exclusion_list
    exclusions = Exclusions.compile(patterns)
    interval = repo.spec.interval.timedelta
    stored = ctx.store.get_tags(canonical)
    fresh_since = None if ctx.trust_stored_scans else ctx.started_at
    request = ScanRequest(canonical, patterns, interval, generation, requested_at, fresh_since)
    decision = should_scan(request, _observation(previous, stored), now)
    dropped = ""  # tags breaking the OCI grammar: dropped by the adapter, said once per scan
    if decision.scan:
        scanned = await counted(calls, parsed.registry, ctx.registry.list_tags(access))
        tags, dropped = sort_descending(exclusions.apply(scanned.tags)), scanned.dropped_note()
        stored = StoredTags(canonical, tuple(tags), tag_revision(tags), now)
        ctx.store.put_tags(stored)
    assert stored is not None  # should_scan scans whenever the store has no tags
    fields = ImageRepositoryStatus(
        canonical_image_name=canonical,
        last_scan_result=_scan_result(stored),
        observed_exclusion_list=list(patterns),
    )
    if requested_at:
        fields = fields.model_copy(update={"last_handled_reconcile_at": requested_at})
    message = f"successful scan: found {len(stored.tags)} tags with checksum {stored.revision}"
    message += f"; {dropped}" if dropped else ""
    status = success(
        previous, fields, generation=generation, reason=REASON_SUCCEEDED, message=message, now=now
    )
    event = _success_event(previous, message, decision, repo.spec.interval.go_string())
    events = [event]
    if dropped and event.type != "Trace":  # once, when the scan result changes
        events.append(Event("Warning", "InvalidTags", dropped))
    return Outcome(status, tuple(events), requeue_after=decision.requeue_after)


def _observation(
    previous: ImageRepositoryStatus | None, stored: StoredTags | None
) -> ScanObservation:
    if previous is None or previous.last_scan_result is None:
        return ScanObservation(has_tags=stored is not None)
    scan_time = previous.last_scan_result.scan_time
    ready = ready_condition(previous)
    return ScanObservation(
        last_scan_time=datetime.fromisoformat(scan_time) if scan_time else None,
        canonical_name=previous.canonical_image_name,
        exclusions=previous.observed_exclusion_list,
        observed_generation=previous.observed_generation,
        last_handled_reconcile_at=previous.last_handled_reconcile_at,
        has_tags=stored is not None,
        last_failed=ready is not None and ready.status == "False",
    )


def _scan_result(stored: StoredTags) -> ScanResult:
    return ScanResult(
        revision=stored.revision,
        tag_count=len(stored.tags),
        scan_time=format_time(stored.scan_time),
        latest_tags=list(stored.tags[:LATEST_TAGS_SHOWN]) if stored.tags else None,
    )


def _success_event(
    previous: ImageRepositoryStatus | None, message: str, decision: ScanDecision, interval: str
) -> Event:
    """Flux's notify: Normal when Ready changed, else a Trace event saying what happened."""
    before = ready_condition(previous)
    if before is None or before.status != "True" or before.message != message:
        return Event("Normal", REASON_SUCCEEDED, message)
    if decision.scan:
        return Event("Trace", REASON_SUCCEEDED, f"tags did not change, next scan in {interval}")
    wait = format_go_duration(int(decision.requeue_after.total_seconds()) * 1_000_000_000)
    return Event("Trace", REASON_SUCCEEDED, f"{decision.reason}, next scan in {wait}")
