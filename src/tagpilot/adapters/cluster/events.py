"""The ``EventRecorder`` of a cluster: core/v1 Events, aggregated as client-go does.

An event repeated for the same object with the same type, reason and message within ten
minutes bumps the first one's ``count`` and ``lastTimestamp`` instead of creating another,
so a repository failing every minute leaves one Event, not a thousand.  Events are best
effort, as in Kubernetes: a failure to record one is logged and never fails a reconcile.
Messages come from the reconcilers, which never put secret values in them.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.errors import NotFoundError
from tagpilot.adapters.kube.resources import EVENTS
from tagpilot.core.errors import TagpilotError
from tagpilot.core.timefmt import rfc3339
from tagpilot.ports import Clock, ObjectKey

__all__ = ["AGGREGATION_WINDOW", "ApiEventRecorder"]

AGGREGATION_WINDOW = 600.0
"""Seconds within which a repeated event is counted on the first one."""
_MESSAGE_LIMIT = 1024
_REMEMBERED = 4096
_log = structlog.get_logger("tagpilot")

LiveObject = Callable[[ObjectKey], Mapping[str, Any] | None]


@dataclass
class _Recorded:
    namespace: str
    name: str
    count: int
    first: str
    at: float


class ApiEventRecorder:
    """Creates and aggregates Events about the reconciled objects."""

    def __init__(
        self,
        client: KubeClient,
        live: LiveObject,
        clock: Clock,
        *,
        component: str = "tagpilot",
        instance: str = "",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._live = live
        self._clock = clock
        self._component = component
        self._instance = instance
        self._monotonic = monotonic
        self._recent: OrderedDict[tuple[ObjectKey, str, str, str], _Recorded] = OrderedDict()

    async def record(self, key: ObjectKey, event_type: str, reason: str, message: str) -> None:
        """Record one event about ``key`` (nothing when the object is gone)."""
        live = self._live(key)
        if live is None:
            return
        message = message[:_MESSAGE_LIMIT]
        identity = (key, event_type, reason, message)
        now = rfc3339(self._clock.now())
        try:
            if not await self._bump(identity, now):
                await self._create(identity, live, now)
        except TagpilotError as error:
            _log.warning(
                "event not recorded", kind=key.kind, namespace=key.namespace, name=key.name,
                reason=reason, error=error.message,
            )  # fmt: skip

    async def _bump(self, identity: tuple[ObjectKey, str, str, str], now: str) -> bool:
        recorded = self._recent.get(identity)
        if recorded is None or self._monotonic() - recorded.at > AGGREGATION_WINDOW:
            return False
        patch = {"count": recorded.count + 1, "lastTimestamp": now}
        try:
            await self._client.merge_patch(EVENTS, recorded.namespace, recorded.name, patch)
        except NotFoundError:  # expired or deleted: start a new one
            return False
        recorded.count += 1
        recorded.at = self._monotonic()
        self._recent.move_to_end(identity)
        return True

    async def _create(
        self, identity: tuple[ObjectKey, str, str, str], live: Mapping[str, Any], now: str
    ) -> None:
        key, event_type, reason, message = identity
        metadata = live.get("metadata") or {}
        name = f"{key.name}.{time.time_ns():x}"
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": key.namespace},
            "involvedObject": {
                "apiVersion": live.get("apiVersion"),
                "kind": key.kind,
                "namespace": key.namespace,
                "name": key.name,
                "uid": metadata.get("uid"),
                "resourceVersion": metadata.get("resourceVersion"),
            },
            "type": event_type,
            "reason": reason,
            "message": message,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": self._component},
            "reportingComponent": self._component,
            "reportingInstance": self._instance,
        }
        await self._client.create(EVENTS, key.namespace, body)
        self._recent[identity] = _Recorded(key.namespace, name, 1, now, self._monotonic())
        while len(self._recent) > _REMEMBERED:
            self._recent.popitem(last=False)
