"""Leader election on a real Lease: one leader at a time, takeover only after a full lease
duration of silence by the candidate's own clock, fast handover on release, lost races.

Timing is shortened (lease 2 s, renew deadline 1.5 s, retry 0.3 s); the rules are Flux's.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tagpilot.adapters.kube import (
    LEASES,
    KubeClient,
    LeaseElector,
    LeaseTiming,
    lease_name,
    load_kubeconfig,
)

from .conftest import MakeIdentity
from .controlplane import ControlPlane

FAST = LeaseTiming(lease_duration=2.0, renew_deadline=1.5, retry_period=0.3)
LEASE = "tagpilot-leader-election"
MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class Candidate:
    """One elector running as a task, with what its callbacks saw."""

    def __init__(self, elector: LeaseElector) -> None:
        self.elector = elector
        self.started_at: float | None = None
        self.stopped = asyncio.Event()
        self.task = asyncio.create_task(elector.run(self._started, self.stopped.set))

    def _started(self) -> None:
        self.started_at = time.monotonic()

    async def stop(self) -> None:
        """Cancel the task (no release), as a killed process would stop renewing."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


Elect = Callable[..., Candidate]


@pytest.fixture
async def elect(kube: KubeClient, namespace: str) -> AsyncIterator[Elect]:
    """Start a candidate for the test's Lease: ``elect("pod-a")``."""
    candidates: list[Candidate] = []

    def start(identity: str, client: KubeClient | None = None) -> Candidate:
        elector = LeaseElector(client or kube, namespace, LEASE, identity, timing=FAST)
        candidates.append(Candidate(elector))
        return candidates[-1]

    yield start
    for candidate in candidates:
        await candidate.stop()


async def _until(ready: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait until ready; the monotonic time it became so."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"not {what} after {timeout} s"
        await asyncio.sleep(0.02)
    return time.monotonic()


async def _spec(kube: KubeClient, namespace: str) -> dict[str, Any]:
    return dict((await kube.get(LEASES, namespace, LEASE))["spec"])


async def test_of_two_candidates_exactly_one_leads_and_keeps_renewing(
    kube: KubeClient, namespace: str, elect: Elect
) -> None:
    first, second = elect("pod-a"), elect("pod-b")
    await _until(lambda: first.elector.is_leader or second.elector.is_leader, 5, "elected")
    leader, standby = (first, second) if first.elector.is_leader else (second, first)
    before = await _spec(kube, namespace)

    await asyncio.sleep(FAST.lease_duration + 0.5)  # longer than a lease: renewals keep it

    after = await _spec(kube, namespace)
    assert leader.elector.is_leader and not standby.elector.is_leader
    assert standby.started_at is None
    assert after["holderIdentity"] == leader.elector.identity
    assert after["leaseDurationSeconds"] == 2
    assert after["acquireTime"] == before["acquireTime"]
    assert after["renewTime"] > before["renewTime"]
    assert MICRO_TIME.match(after["renewTime"]), after["renewTime"]
    assert after["leaseTransitions"] == 0


async def test_a_silent_leader_is_replaced_only_after_a_full_lease_duration(
    kube: KubeClient, namespace: str, elect: Elect
) -> None:
    leader = elect("pod-a")
    await _until(lambda: leader.elector.is_leader, 5, "elected")
    standby = elect("pod-b")
    await asyncio.sleep(0.5)  # the standby has seen the record moving

    await leader.stop()
    stopped_at = time.monotonic()
    await asyncio.sleep(FAST.lease_duration / 2)
    assert not standby.elector.is_leader, "took over while the lease was still fresh"
    took_over_at = await _until(lambda: standby.elector.is_leader, 5, "taken over")

    # its clock starts at the last renewal it saw, at most one retry period before the stop
    assert took_over_at - stopped_at >= FAST.lease_duration - FAST.retry_period - 0.1
    spec = await _spec(kube, namespace)
    assert spec["holderIdentity"] == "pod-b"
    assert spec["leaseTransitions"] == 1


async def test_a_released_lease_is_taken_over_at_the_next_retry(
    kube: KubeClient, namespace: str, elect: Elect
) -> None:
    leader = elect("pod-a")
    await _until(lambda: leader.elector.is_leader, 5, "elected")
    standby = elect("pod-b")
    await asyncio.sleep(0.5)

    await leader.stop()
    await leader.elector.release()
    released = await _spec(kube, namespace)
    released_at = time.monotonic()
    assert (released["holderIdentity"], released["leaseDurationSeconds"]) == ("", 1)

    took_over_at = await _until(lambda: standby.elector.is_leader, 5, "taken over")
    assert took_over_at - released_at < FAST.lease_duration / 2
    assert (await _spec(kube, namespace))["leaseTransitions"] == 1
    assert not leader.stopped.is_set(), "a cancelled elector does not report a loss"


async def test_release_leaves_a_lease_held_by_someone_else_alone(
    kube: KubeClient, namespace: str, elect: Elect
) -> None:
    leader = elect("pod-a")
    await _until(lambda: leader.elector.is_leader, 5, "elected")
    other = LeaseElector(kube, namespace, LEASE, "pod-b", timing=FAST)
    await other.release()
    assert (await _spec(kube, namespace))["holderIdentity"] == "pod-a"


async def test_a_leader_that_sees_another_holder_stops_at_once(
    kube: KubeClient, namespace: str, elect: Elect
) -> None:
    leader = elect("pod-a")
    await _until(lambda: leader.elector.is_leader, 5, "elected")

    lease = await kube.get(LEASES, namespace, LEASE)
    lease["spec"]["holderIdentity"] = "intruder"
    await kube.replace(LEASES, namespace, LEASE, lease)
    intruded_at = time.monotonic()

    await asyncio.wait_for(leader.stopped.wait(), 5)
    assert time.monotonic() - intruded_at < FAST.renew_deadline
    assert not leader.elector.is_leader
    assert leader.task.done()
    assert (await _spec(kube, namespace))["holderIdentity"] == "intruder"


async def test_a_leader_that_cannot_renew_within_the_deadline_stops_leading(
    control_plane: ControlPlane, namespace: str, make_identity: MakeIdentity, elect: Elect
) -> None:
    """Its renewals are refused (RBAC revoked): it gives up after the renew deadline."""
    control_plane.kubectl(
        "create",
        "role",
        "lease-holder",
        "-n",
        namespace,
        "--verb=get,create,update",
        "--resource=leases.coordination.k8s.io",
    )
    control_plane.kubectl(
        "create",
        "rolebinding",
        "lease-holder",
        "-n",
        namespace,
        "--role=lease-holder",
        "--user=elector",
    )
    config = load_kubeconfig(make_identity("elector").kubeconfig)
    async with KubeClient(config) as client:
        leader = elect("pod-a", client=client)
        await _until(lambda: leader.elector.is_leader, 10, "elected")

        control_plane.kubectl("delete", "rolebinding", "lease-holder", "-n", namespace)
        revoked_at = time.monotonic()
        await asyncio.wait_for(leader.stopped.wait(), 10)

    assert time.monotonic() - revoked_at >= FAST.renew_deadline - FAST.retry_period
    assert not leader.elector.is_leader
    assert leader.task.done()


class RacedClient(KubeClient):
    """A real client whose first Lease PUT is overtaken by another writer's PUT."""

    def __init__(self, *args: Any, rival: KubeClient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rival = rival
        self.raced = False

    async def replace(self, res: Any, namespace: Any, name: Any, body: Any, **kw: Any) -> Any:
        if not self.raced:
            self.raced = True
            lease = await self.rival.get(res, namespace, name)
            lease["spec"].update(holderIdentity="racer", leaseDurationSeconds=30)
            await self.rival.replace(res, namespace, name, lease)
        return await super().replace(res, namespace, name, body, **kw)


async def test_a_candidate_that_loses_the_write_race_does_not_lead(
    kube: KubeClient, namespace: str, control_plane: ControlPlane, elect: Elect
) -> None:
    first = elect("pod-a")
    await _until(lambda: first.elector.is_leader, 5, "elected")
    await first.stop()
    await first.elector.release()  # free: the next candidate goes straight to its PUT

    config = load_kubeconfig(control_plane.admin.kubeconfig)
    async with RacedClient(config, rival=kube) as raced:
        second = elect("pod-b", client=raced)
        await asyncio.sleep(3 * FAST.retry_period)
        assert raced.raced
        assert not second.elector.is_leader
        assert second.started_at is None
        await second.stop()
    assert (await _spec(kube, namespace))["holderIdentity"] == "racer"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(None, LEASE, id="no-selector"),
        pytest.param("", LEASE, id="empty-selector"),
        pytest.param(
            "!sharding.fluxcd.io/key",
            f"{LEASE}-{hashlib.sha256(b'!sharding.fluxcd.io/key').hexdigest()[:8]}",
            id="main-instance",
        ),
        pytest.param(
            "sharding.fluxcd.io/key in (shard1)",
            f"{LEASE}-{hashlib.sha256(b'sharding.fluxcd.io/key in (shard1)').hexdigest()[:8]}",
            id="shard1",
        ),
    ],
)
def test_each_shard_has_its_own_lease_named_as_flux_names_it(
    selector: str | None, expected: str
) -> None:
    assert lease_name(LEASE, selector) == expected


@pytest.mark.parametrize(
    ("duration", "deadline", "retry"),
    [
        pytest.param(30, 30, 5, id="deadline-not-below-duration"),
        pytest.param(35, 5, 5, id="retry-not-below-deadline"),
        pytest.param(35, 30, 0, id="no-retry-period"),
    ],
)
def test_timing_that_could_elect_two_leaders_is_refused(
    duration: float, deadline: float, retry: float
) -> None:
    with pytest.raises(ValueError, match="lease duration > renew deadline > retry period"):
        LeaseTiming(duration, deadline, retry)
