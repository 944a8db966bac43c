"""The informer keeps a faithful cache of one resource and reports every change exactly once.

Changes are made with real ``kubectl`` as a user would; the informer sees them through the
real apiserver's list and watch.  Missed changes (made while it was stopped, or lost to an
expired watch) are recovered by a relist and reported as the events a consumer would have seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from tagpilot.adapters.kube import CONFIGMAPS, EVENTS, Informer, KubeClient

from .controlplane import ControlPlane
from .helpers_client import compact_etcd

Seen = list[tuple[str, str]]


class Recorder:
    """An ``on_event`` handler that remembers (type, name)."""

    def __init__(self) -> None:
        self.seen: Seen = []

    def __call__(self, kind: str, obj: dict[str, Any]) -> None:
        self.seen.append((kind, obj["metadata"]["name"]))

    async def wait_for(self, count: int, timeout: float = 10.0) -> Seen:
        """Wait until ``count`` events arrived; all of them."""
        await _until(lambda: len(self.seen) >= count, timeout, lambda: f"only {self.seen}")
        return self.seen


async def _until(ready: Callable[[], bool], timeout: float, why: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, why()
        await asyncio.sleep(0.05)


@pytest.fixture
async def running() -> AsyncIterator[Callable[[Informer], asyncio.Task[None]]]:
    """Start informers as tasks; cancel what is left at the end."""
    tasks: list[asyncio.Task[None]] = []

    def start(informer: Informer) -> asyncio.Task[None]:
        tasks.append(asyncio.create_task(informer.run()))
        return tasks[-1]

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _create(plane: ControlPlane, namespace: str, name: str) -> None:
    plane.kubectl("create", "configmap", name, "-n", namespace, "--from-literal=v=1")


async def test_the_cache_fills_and_follows_adds_changes_and_deletes(
    kube: KubeClient,
    control_plane: ControlPlane,
    namespace: str,
    running: Callable[[Informer], asyncio.Task[None]],
) -> None:
    _create(control_plane, namespace, "first")
    recorder = Recorder()
    informer = Informer(kube, CONFIGMAPS, namespace=namespace, on_event=recorder)
    running(informer)
    await asyncio.wait_for(informer.synced.wait(), 10)
    assert set(informer.cache) == {(namespace, "first")}

    _create(control_plane, namespace, "second")
    control_plane.kubectl(
        "patch", "configmap", "first", "-n", namespace, "--type=merge", "-p", '{"data":{"v":"2"}}'
    )
    control_plane.kubectl("delete", "configmap", "second", "-n", namespace)

    assert await recorder.wait_for(4) == [
        ("ADDED", "first"),
        ("ADDED", "second"),
        ("MODIFIED", "first"),
        ("DELETED", "second"),
    ]
    assert set(informer.cache) == {(namespace, "first")}
    assert informer.cache[(namespace, "first")]["data"] == {"v": "2"}


async def test_a_label_selector_keeps_other_shards_out_and_reports_leavers_as_deleted(
    kube: KubeClient,
    control_plane: ControlPlane,
    namespace: str,
    running: Callable[[Informer], asyncio.Task[None]],
) -> None:
    shard = "sharding.fluxcd.io/key"
    _create(control_plane, namespace, "main")
    labelled = {"metadata": {"name": "sharded", "labels": {shard: "shard1"}}}
    await kube.create(CONFIGMAPS, namespace, labelled)
    recorder = Recorder()
    informer = Informer(
        kube, CONFIGMAPS, namespace=namespace, label_selector=f"!{shard}", on_event=recorder
    )
    running(informer)
    await asyncio.wait_for(informer.synced.wait(), 10)

    _create(control_plane, namespace, "moving")
    control_plane.kubectl("label", "configmap", "moving", "-n", namespace, f"{shard}=shard2")
    _create(control_plane, namespace, "late-main")

    assert await recorder.wait_for(4) == [
        ("ADDED", "main"),
        ("ADDED", "moving"),
        ("DELETED", "moving"),
        ("ADDED", "late-main"),
    ]
    assert set(informer.cache) == {(namespace, "main"), (namespace, "late-main")}


async def test_changes_made_while_it_was_stopped_are_reported_after_the_relist(
    kube: KubeClient,
    control_plane: ControlPlane,
    namespace: str,
    running: Callable[[Informer], asyncio.Task[None]],
) -> None:
    for name in ("kept", "changed", "removed"):
        _create(control_plane, namespace, name)
    recorder = Recorder()
    informer = Informer(kube, CONFIGMAPS, namespace=namespace, on_event=recorder)
    task = running(informer)
    await recorder.wait_for(3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    recorder.seen.clear()

    control_plane.kubectl("delete", "configmap", "removed", "-n", namespace)
    control_plane.kubectl(
        "patch", "configmap", "changed", "-n", namespace, "--type=merge", "-p", '{"data":{"v":"2"}}'
    )
    _create(control_plane, namespace, "new")
    running(informer)

    assert sorted(await recorder.wait_for(3)) == [
        ("ADDED", "new"),
        ("DELETED", "removed"),
        ("MODIFIED", "changed"),
    ]
    await asyncio.sleep(0.3)
    assert len(recorder.seen) == 3, "the unchanged object is not reported again"
    assert set(informer.cache) == {(namespace, n) for n in ("kept", "changed", "new")}


def _event(namespace: str, name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "involvedObject": {"kind": "ConfigMap", "name": "app", "namespace": namespace},
        "reason": "Tested",
        "message": name,
    }


async def test_an_expired_watch_is_followed_by_a_relist_that_misses_nothing(
    kube: KubeClient,
    control_plane: ControlPlane,
    namespace: str,
    running: Callable[[Informer], asyncio.Task[None]],
) -> None:
    """Events bypass the watch cache: after etcd compacts past the informer's
    resourceVersion, its next watch is answered 410 and it must list again."""
    recorder = Recorder()
    informer = Informer(kube, EVENTS, namespace=namespace, on_event=recorder, watch_seconds=1)
    with capture_logs() as logs:
        running(informer)
        await asyncio.wait_for(informer.synced.wait(), 10)
        # writes elsewhere move etcd on; the informer's watch sees none of them
        other = f"{namespace}-x"
        control_plane.kubectl("create", "namespace", other)
        for number in range(3):
            await kube.create(EVENTS, other, _event(other, f"noise-{number}"))
        compact_etcd(control_plane, (await kube.list(EVENTS, other)).resource_version)

        def expired() -> bool:
            return any(entry["event"] == "watch expired, listing again" for entry in logs)

        await _until(expired, 10, lambda: f"no relist: {logs}")
        await kube.create(EVENTS, namespace, _event(namespace, "after"))
        assert await recorder.wait_for(1) == [("ADDED", "after")]
        control_plane.kubectl("delete", "namespace", other, "--wait=false")
    assert set(informer.cache) == {(namespace, "after")}
