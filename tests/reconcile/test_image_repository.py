"""The ImageRepository reconciler against a real registry: scan, store, status, events."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from reconcile_support import PASSWORD, USER, FakeClock

from servers.ocipush import seed
from servers.registry import RunningRegistry
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.loader import load_text
from tagpilot.core.secrets import SecretData, SecretIndex
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_repository import reconcile_image_repository

KEY = ObjectKey("ImageRepository", "flux-system", "blaster-dev-repo")


def _repo(host: str, *, secret: str = "blaster-dev-registry", extra: str = "") -> Any:
    text = f"""
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: blaster-dev-repo
  namespace: flux-system
spec:
  image: {host}/games/blaster
  interval: 1m
  secretRef:
    name: {secret}
{extra}"""
    return load_text(text, file="repo.yaml").objects[0].obj


def _secrets(host: str, password: str = PASSWORD) -> SecretIndex:
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    config = json.dumps({"auths": {host: {"auth": auth}}}).encode()
    secret = SecretData(
        "flux-system",
        "blaster-dev-registry",
        {".dockerconfigjson": config},
        "kubernetes.io/dockerconfigjson",
    )
    return SecretIndex({("flux-system", "blaster-dev-registry"): secret})


@pytest.fixture
async def pool() -> Any:
    registry = RegistryPool()
    yield registry
    await registry.aclose()


def _context(
    clock: FakeClock,
    store: SqliteStore,
    pool: RegistryPool,
    secrets: SecretIndex,
) -> ReconcileContext:
    return ReconcileContext(clock=clock, store=store, registry=pool, secrets=secrets)


async def test_a_first_scan_stores_sorted_tags_minus_exclusions_and_reports_them(
    blaster_registry: RunningRegistry, clock: FakeClock, store: SqliteStore, pool: RegistryPool
) -> None:
    host = blaster_registry.host
    ctx = _context(clock, store, pool, _secrets(host))
    outcome = await reconcile_image_repository(_repo(host), ctx)
    assert outcome.ready, outcome.document
    result = outcome.document["lastScanResult"]
    expected = ["prod-20251110.3", "latest", "dev-20251115.42", "dev-20251114.7"]
    assert result["latestTags"] == expected
    assert result["tagCount"] == 4
    assert result["scanTime"] == "2026-11-21T12:00:00Z"
    assert outcome.document["canonicalImageName"] == f"{host}/games/blaster"
    assert outcome.document["observedExclusionList"] == ["^.*\\.sig$"]
    stored = store.get_tags(f"{host}/games/blaster")
    assert stored is not None and list(stored.tags) == expected
    ready = outcome.document["conditions"][0]
    assert ready["message"] == f"successful scan: found 4 tags with checksum {result['revision']}"
    assert [e.type for e in outcome.events] == ["Normal"]


async def test_a_repository_not_due_is_not_scanned_again(
    blaster_registry: RunningRegistry, clock: FakeClock, store: SqliteStore, pool: RegistryPool
) -> None:
    host = blaster_registry.host
    ctx = _context(clock, store, pool, _secrets(host))
    first = await reconcile_image_repository(_repo(host), ctx)
    store.put_status(KEY, first.document)
    clock.advance(seconds=20)
    second = await reconcile_image_repository(_repo(host), ctx)
    assert second.document["lastScanResult"]["scanTime"] == "2026-11-21T12:00:00Z"
    assert second.requeue_after is not None and second.requeue_after.total_seconds() == 40
    assert second.events[0].type == "Trace"
    assert second.events[0].message.startswith("no change in repository configuration")


async def test_a_scan_stored_by_an_earlier_process_is_not_trusted(
    blaster_registry: RunningRegistry, clock: FakeClock, store: SqliteStore, pool: RegistryPool
) -> None:
    """A one-shot run, or a restarted daemon, must see the tag CI pushed seconds ago."""
    host = blaster_registry.host
    earlier = _context(clock, store, pool, _secrets(host))
    store.put_status(KEY, (await reconcile_image_repository(_repo(host), earlier)).document)
    seed(blaster_registry.url, "games/blaster", ["dev-20251116.1"], user=USER, password=PASSWORD)
    clock.advance(seconds=10)
    later = _context(clock, store, pool, _secrets(host))
    outcome = await reconcile_image_repository(_repo(host), later)
    assert "dev-20251116.1" in (outcome.document["lastScanResult"]["latestTags"])
    assert outcome.document["lastScanResult"]["scanTime"] == "2026-11-21T12:00:10Z"


async def test_respecting_intervals_reuses_a_scan_stored_by_an_earlier_process(
    blaster_registry: RunningRegistry, clock: FakeClock, store: SqliteStore, pool: RegistryPool
) -> None:
    host = blaster_registry.host
    earlier = _context(clock, store, pool, _secrets(host))
    store.put_status(KEY, (await reconcile_image_repository(_repo(host), earlier)).document)
    seed(blaster_registry.url, "games/blaster", ["dev-20251116.1"], user=USER, password=PASSWORD)
    clock.advance(seconds=10)
    later = _context(clock, store, pool, _secrets(host))
    later.trust_stored_scans = True
    outcome = await reconcile_image_repository(_repo(host), later)
    assert "dev-20251116.1" not in (outcome.document["lastScanResult"]["latestTags"])
    assert outcome.document["lastScanResult"]["scanTime"] == "2026-11-21T12:00:00Z"


async def test_a_new_tag_appears_after_the_interval(
    blaster_registry: RunningRegistry, clock: FakeClock, store: SqliteStore, pool: RegistryPool
) -> None:
    host = blaster_registry.host
    ctx = _context(clock, store, pool, _secrets(host))
    store.put_status(KEY, (await reconcile_image_repository(_repo(host), ctx)).document)
    seed(blaster_registry.url, "games/blaster", ["dev-20251116.1"], user=USER, password=PASSWORD)
    clock.advance(minutes=1)
    outcome = await reconcile_image_repository(_repo(host), ctx)
    assert "dev-20251116.1" in outcome.document["lastScanResult"]["latestTags"]
    assert outcome.events[0].type == "Normal"


async def test_a_wrong_password_fails_with_authentication_failed_and_no_secret(
    blaster_registry: RunningRegistry, clock: FakeClock, store: SqliteStore, pool: RegistryPool
) -> None:
    host = blaster_registry.host
    ctx = _context(clock, store, pool, _secrets(host, password="wrong-password-xyz"))
    outcome = await reconcile_image_repository(_repo(host), ctx)
    ready = outcome.document["conditions"][0]
    assert (ready["status"], ready["reason"]) == ("False", "AuthenticationFailed")
    assert "wrong-password-xyz" not in json.dumps(outcome.document)
    assert outcome.document["conditions"][1]["reason"] == "ProgressingWithRetry"


@pytest.mark.parametrize(
    ("secret", "extra", "reason", "message"),
    [
        pytest.param(
            "missing",
            "",
            "AuthenticationFailed",
            "Secret 'flux-system/missing' not found",
            id="secret-missing",
        ),
        pytest.param(
            "blaster-dev-registry",
            "  provider: aws\n",
            "FeatureGateDisabled",
            "provider 'aws'",
            id="cloud-provider",
        ),
    ],
)
async def test_configuration_problems_stall_with_a_clear_reason(
    blaster_registry: RunningRegistry,
    clock: FakeClock,
    store: SqliteStore,
    pool: RegistryPool,
    secret: str,
    extra: str,
    reason: str,
    message: str,
) -> None:
    host = blaster_registry.host
    ctx = _context(clock, store, pool, _secrets(host))
    outcome = await reconcile_image_repository(_repo(host, secret=secret, extra=extra), ctx)
    conditions = {c["type"]: c for c in outcome.document["conditions"]}
    assert conditions["Stalled"]["reason"] == reason
    assert message in conditions["Ready"]["message"]
