"""The ImagePolicy reconciler: latestRef from stored tags, digests, Flux's messages."""

from __future__ import annotations

from typing import Any

import pytest
from reconcile_support import PASSWORD, USER, FakeClock
from test_image_repository import _repo, _secrets

from servers.ocipush import seed
from servers.registry import RunningRegistry
from tagpilot.adapters.registry.pool import RegistryPool
from tagpilot.adapters.store import SqliteStore
from tagpilot.api.loader import load_text
from tagpilot.api.meta import NamespacedName
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.context import ReconcileContext
from tagpilot.reconcile.image_policy import reconcile_image_policy
from tagpilot.reconcile.image_repository import reconcile_image_repository

POLICY_KEY = ObjectKey("ImagePolicy", "flux-system", "blaster-dev-policy")


def _policy(
    *,
    pattern: str = r"^dev-(?P<ts>[0-9]{8}\.[0-9]+)$",
    extra: str = "",
    policy: str = "numerical:\n      order: asc",
) -> Any:
    text = f"""
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: blaster-dev-policy
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: blaster-dev-repo
  filterTags:
    pattern: '{pattern}'
    extract: '$ts'
  policy:
    {policy}
{extra}"""
    return load_text(text, file="policy.yaml").objects[0].obj


@pytest.fixture
async def ctx(blaster_registry: RunningRegistry, clock: FakeClock, store: SqliteStore) -> Any:
    host = blaster_registry.host
    repo = _repo(host)
    pool = RegistryPool()
    context = ReconcileContext(
        clock=clock,
        store=store,
        registry=pool,
        secrets=_secrets(host),
        repositories={NamespacedName("flux-system", "blaster-dev-repo"): repo},
    )
    yield context
    await pool.aclose()


async def _scan(ctx: ReconcileContext) -> None:
    repo = next(iter(ctx.repositories.values()))
    outcome = await reconcile_image_repository(repo, ctx)
    ctx.store.put_status(
        ObjectKey("ImageRepository", "flux-system", "blaster-dev-repo"), outcome.document
    )


def _ready(outcome: Any) -> dict[str, Any]:
    return {c["type"]: c for c in outcome.document["conditions"]}["Ready"]


async def test_the_policy_resolves_latest_ref_with_the_image_as_written(
    ctx: ReconcileContext, blaster_registry: RunningRegistry
) -> None:
    await _scan(ctx)
    outcome = await reconcile_image_policy(_policy(), ctx)
    image = f"{blaster_registry.host}/games/blaster"
    assert outcome.document["latestRef"] == {"name": image, "tag": "dev-20251115.42"}
    assert _ready(outcome)["message"] == f"Latest image tag for {image} resolved to dev-20251115.42"
    assert outcome.events[0].type == "Normal"


async def test_a_newer_tag_moves_the_old_ref_to_observed_previous_ref(
    ctx: ReconcileContext, blaster_registry: RunningRegistry, clock: FakeClock
) -> None:
    await _scan(ctx)
    first = await reconcile_image_policy(_policy(), ctx)
    ctx.store.put_status(POLICY_KEY, first.document)
    seed(blaster_registry.url, "games/blaster", ["dev-20251115.43"], user=USER, password=PASSWORD)
    clock.advance(minutes=1)
    await _scan(ctx)
    second = await reconcile_image_policy(_policy(), ctx)
    image = f"{blaster_registry.host}/games/blaster"
    assert second.document["latestRef"]["tag"] == "dev-20251115.43"
    assert second.document["observedPreviousRef"] == {"name": image, "tag": "dev-20251115.42"}
    assert _ready(second)["message"].endswith(f"(previously {image}:dev-20251115.42)")


async def test_digest_reflection_reads_the_manifest_digest(ctx: ReconcileContext) -> None:
    await _scan(ctx)
    outcome = await reconcile_image_policy(
        _policy(extra="  digestReflectionPolicy: IfNotPresent"), ctx
    )
    digest = outcome.document["latestRef"]["digest"]
    assert digest.startswith("sha256:") and len(digest) == 71
    assert f"with digest {digest}" in _ready(outcome)["message"]


async def test_without_tags_the_policy_waits_for_its_repository(ctx: ReconcileContext) -> None:
    outcome = await reconcile_image_policy(_policy(), ctx)
    ready = _ready(outcome)
    assert (ready["status"], ready["reason"]) == ("False", "DependencyNotReady")
    assert "no tags in database" in ready["message"]


async def test_a_missing_repository_is_a_dependency_not_ready(ctx: ReconcileContext) -> None:
    ctx.repositories = {}
    ready = _ready(await reconcile_image_policy(_policy(), ctx))
    assert ready["reason"] == "DependencyNotReady"
    assert "referenced ImageRepository does not exist" in ready["message"]


async def test_an_invalid_range_stalls_with_invalid_policy(ctx: ReconcileContext) -> None:
    await _scan(ctx)
    outcome = await reconcile_image_policy(_policy(policy="semver:\n      range: '>=1.0<2'"), ctx)
    conditions = {c["type"]: c for c in outcome.document["conditions"]}
    assert conditions["Stalled"]["reason"] == "InvalidPolicy"


async def test_no_matching_tag_fails_and_retries(ctx: ReconcileContext) -> None:
    await _scan(ctx)
    outcome = await reconcile_image_policy(_policy(pattern="^nothing-(?P<ts>.*)$"), ctx)
    conditions = {c["type"]: c for c in outcome.document["conditions"]}
    assert conditions["Ready"]["reason"] == "Failure"
    assert conditions["Ready"]["message"] == "version list argument cannot be empty"
    assert conditions["Reconciling"]["reason"] == "ProgressingWithRetry"


async def test_the_runbook_downgrade_is_a_warning_in_status_events_and_outcome(
    ctx: ReconcileContext, blaster_registry: RunningRegistry, clock: FakeClock
) -> None:
    """dev-20251115.42 -> dev-20251115.9: numerically up, as build numbers down."""
    await _scan(ctx)
    ctx.store.put_status(POLICY_KEY, (await reconcile_image_policy(_policy(), ctx)).document)
    seed(blaster_registry.url, "games/blaster", ["dev-20251115.9"], user=USER, password=PASSWORD)
    clock.advance(minutes=1)
    await _scan(ctx)
    outcome = await reconcile_image_policy(_policy(), ctx)
    assert outcome.document["latestRef"]["tag"] == "dev-20251115.9"
    dotted, downgrade = outcome.warnings
    assert dotted.startswith("numerical order reads '20251115.9' and '20251115.42' as decimal")
    assert downgrade.startswith("dev-20251115.42 -> dev-20251115.9 looks like a downgrade")
    message = _ready(outcome)["message"]
    assert f"; warning: {dotted}; warning: {downgrade}" in message
    assert [(e.type, e.reason) for e in outcome.events] == [
        ("Normal", "Succeeded"),
        ("Warning", "PolicyWarning"),
    ]
    assert outcome.events[1].message == f"{dotted}\n{downgrade}"


async def test_a_policy_without_warnings_adds_nothing_to_its_message(
    ctx: ReconcileContext,
) -> None:
    await _scan(ctx)
    outcome = await reconcile_image_policy(_policy(), ctx)
    assert outcome.warnings == ()
    assert "warning" not in _ready(outcome)["message"]
    assert [e.type for e in outcome.events] == ["Normal"]


async def test_an_unchanged_warning_is_not_raised_again_on_every_run(
    ctx: ReconcileContext, blaster_registry: RunningRegistry, clock: FakeClock
) -> None:
    seed(blaster_registry.url, "games/blaster", ["dev-20251115.9"], user=USER, password=PASSWORD)
    await _scan(ctx)
    first = await reconcile_image_policy(_policy(), ctx)
    assert [e.type for e in first.events] == ["Normal", "Warning"]
    ctx.store.put_status(POLICY_KEY, first.document)
    clock.advance(minutes=1)
    second = await reconcile_image_policy(_policy(), ctx)
    assert second.warnings == first.warnings
    assert [e.type for e in second.events] == ["Trace"]
