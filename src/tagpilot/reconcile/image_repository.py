"""The ImageRepository reconciler: decide whether to scan, scan, store the tags, report.

Follows image-reflector-controller: ``should_scan`` picks the trigger, the registry's tags
minus the exclusion list are stored sorted descending by bytes, and the status carries
``lastScanResult``, ``canonicalImageName`` and ``observedExclusionList``.  The tag set's
revision is ``sha256:<hex>`` of the newline-joined tags (Flux's file-storage form).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from tagpilot.api.duration import format_go_duration
from tagpilot.api.image import ImageRepository
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
    failed_outcome,
    format_time,
    ready_condition,
    success,
)

__all__ = ["KIND", "reconcile_image_repository", "registry_access", "tag_revision"]

KIND = "ImageRepository"
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
) -> Outcome:
    """Scan ``repo`` if due and return its new status, events and next run."""
    key = ObjectKey(KIND, repo.namespace, repo.name)
    previous = ctx.store.get_status(key)
    now = ctx.clock.now()
    if repo.spec.suspend:
        return Outcome(previous or {})
    try:
        return await _reconcile(repo, ctx, previous, now, generation, requested_at)
    except TagpilotError as error:
        fields = {"lastHandledReconcileAt": requested_at} if requested_at else {}
        return failed_outcome(previous, fields, error, generation=generation, now=now)


async def _reconcile(
    repo: ImageRepository,
    ctx: ReconcileContext,
    previous: dict[str, Any] | None,
    now: datetime,
    generation: int,
    requested_at: str | None,
) -> Outcome:
    access = registry_access(repo, ctx.secrets)
    canonical = parse_repository(repo.spec.image, insecure=repo.spec.insecure).canonical_name
    patterns = repo.spec.effective_exclusion_list
    exclusions = Exclusions.compile(patterns)
    interval = repo.spec.interval.timedelta
    stored = ctx.store.get_tags(canonical)
    request = ScanRequest(canonical, patterns, interval, generation, requested_at)
    decision = should_scan(request, _observation(previous, stored), now)
    dropped = ""  # tags breaking the OCI grammar: dropped by the adapter, said once per scan
    if decision.scan:
        scanned = await ctx.registry.list_tags(access)
        tags, dropped = sort_descending(exclusions.apply(scanned.tags)), scanned.dropped_note()
        stored = StoredTags(canonical, tuple(tags), tag_revision(tags), now)
        ctx.store.put_tags(stored)
    assert stored is not None  # should_scan scans whenever the store has no tags
    fields = {
        "canonicalImageName": canonical,
        "lastScanResult": _scan_result(stored),
        "observedExclusionList": list(patterns),
    }
    if requested_at:
        fields["lastHandledReconcileAt"] = requested_at
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


def _observation(previous: dict[str, Any] | None, stored: StoredTags | None) -> ScanObservation:
    if not previous or not previous.get("lastScanResult"):
        return ScanObservation(has_tags=stored is not None)
    scan_time = previous["lastScanResult"].get("scanTime")
    return ScanObservation(
        last_scan_time=datetime.fromisoformat(scan_time) if scan_time else None,
        canonical_name=previous.get("canonicalImageName"),
        exclusions=previous.get("observedExclusionList"),
        observed_generation=previous.get("observedGeneration"),
        last_handled_reconcile_at=previous.get("lastHandledReconcileAt"),
        has_tags=stored is not None,
        last_failed=(ready_condition(previous) or {}).get("status") == "False",
    )


def _scan_result(stored: StoredTags) -> dict[str, Any]:
    result: dict[str, Any] = {
        "revision": stored.revision,
        "tagCount": len(stored.tags),
        "scanTime": format_time(stored.scan_time),
    }
    if stored.tags:
        result["latestTags"] = list(stored.tags[:LATEST_TAGS_SHOWN])
    return result


def _success_event(
    previous: dict[str, Any] | None, message: str, decision: ScanDecision, interval: str
) -> Event:
    """Flux's notify: Normal when Ready changed, else a Trace event saying what happened."""
    before = ready_condition(previous or {})
    if before is None or before.get("status") != "True" or before.get("message") != message:
        return Event("Normal", REASON_SUCCEEDED, message)
    if decision.scan:
        return Event("Trace", REASON_SUCCEEDED, f"tags did not change, next scan in {interval}")
    wait = format_go_duration(int(decision.requeue_after.total_seconds()) * 1_000_000_000)
    return Event("Trace", REASON_SUCCEEDED, f"{decision.reason}, next scan in {wait}")
