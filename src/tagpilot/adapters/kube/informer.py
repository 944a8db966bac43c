"""A list+watch cache of one resource, the way client-go's informers keep one.

The controller runtime starts one :class:`Informer` per watched kind; reconcile workers read
its ``cache`` and are woken by ``on_event``.  It lists, then watches from the list's
resourceVersion (with bookmarks, so a quiet resource still moves its resourceVersion on),
re-watches when the server ends a watch, and lists again after a 410 Gone.  After any relist it
compares the new list with the cache and reports what changed while it was not watching, so a
consumer never misses a change; the first list reports every object as ADDED.  Other errors
are logged and retried with a doubling backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import structlog

from tagpilot.adapters.kube.client import KubeClient, WatchEvent
from tagpilot.adapters.kube.errors import GoneError
from tagpilot.adapters.kube.resources import Resource
from tagpilot.core.errors import TagpilotError

__all__ = ["CacheKey", "EventHandler", "Informer", "object_key"]

CacheKey = tuple[str, str]
"""(namespace, name); the namespace is ``""`` for cluster-scoped objects."""

EventHandler = Callable[[str, dict[str, Any]], None]
"""``on_event(type, object)`` with type ADDED, MODIFIED or DELETED."""

_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 30.0
_WATCH_SECONDS = 300

_log = structlog.get_logger(__name__)


def object_key(obj: Mapping[str, Any]) -> CacheKey:
    """The cache key of an object."""
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _version(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class Informer:
    """List then watch one resource; keeps a cache; relists on 410; reconnects with backoff.

    ``watch_seconds`` is the server-side length of one watch (``timeoutSeconds``); after it the
    informer watches again from the last resourceVersion it saw.
    """

    def __init__(
        self,
        client: KubeClient,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        on_event: EventHandler | None = None,
        watch_seconds: int = _WATCH_SECONDS,
    ) -> None:
        self._client = client
        self._watch_seconds = watch_seconds
        self._res = res
        self._namespace = namespace
        self._selector = label_selector
        self._on_event = on_event
        self._cache: dict[CacheKey, dict[str, Any]] = {}
        self.synced = asyncio.Event()
        """Set once the first list is in the cache."""
        self.resource_version = ""
        """The last resourceVersion seen (list, event or bookmark)."""
        self._log = _log.bind(resource=res.plural, namespace=namespace or "*")

    @property
    def cache(self) -> Mapping[CacheKey, dict[str, Any]]:
        """(namespace, name) → the object as last seen.  Read-only for consumers."""
        return self._cache

    async def run(self) -> None:
        """List and watch until cancelled; the cache survives a cancel and a later ``run``."""
        delay = _BACKOFF_FIRST
        while True:
            try:
                await self._relist()
                delay = _BACKOFF_FIRST
                while True:
                    if not await self._watch_once():
                        # nothing at all, not even a bookmark: do not hammer a server that
                        # ends watches at once
                        await asyncio.sleep(_BACKOFF_FIRST)
            except GoneError as error:
                self._log.info("watch expired, listing again", reason=error.api_message)
                continue
            except TagpilotError as error:
                self._log.warning(
                    "list or watch failed, retrying", error=str(error), retry_in=delay
                )
            except Exception:  # a bug must not stop the cache for good; say so loudly
                self._log.exception("list or watch failed unexpectedly, retrying", retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)

    async def _relist(self) -> None:
        listed = await self._client.list(self._res, self._namespace, label_selector=self._selector)
        fresh = {object_key(obj): obj for obj in listed.items}
        old = self._cache
        self._cache = fresh
        self.resource_version = listed.resource_version
        self.synced.set()
        for key, obj in old.items():
            if key not in fresh:
                self._emit("DELETED", obj)
        for key, obj in fresh.items():
            if key not in old:
                self._emit("ADDED", obj)
            elif _version(old[key]) != _version(obj):
                self._emit("MODIFIED", obj)

    async def _watch_once(self) -> bool:
        """One watch until the server ends it; whether any event arrived."""
        stream = self._client.watch(
            self._res,
            self._namespace,
            resource_version=self.resource_version,
            label_selector=self._selector,
            timeout_seconds=self._watch_seconds,
        )
        seen = False
        async with contextlib.aclosing(stream):
            async for event in stream:
                self._apply(event)
                seen = True
        return seen

    def _apply(self, event: WatchEvent) -> None:
        version = _version(event.object)
        if version:
            self.resource_version = version
        if event.type == "BOOKMARK":
            return
        key = object_key(event.object)
        if event.type == "DELETED":
            self._cache.pop(key, None)
        elif event.type in ("ADDED", "MODIFIED"):
            self._cache[key] = event.object
        else:
            return
        self._emit(event.type, event.object)

    def _emit(self, kind: str, obj: dict[str, Any]) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(kind, obj)
        except Exception:  # a consumer's bug must not stop the cache
            self._log.exception("event handler failed", event=kind, object=object_key(obj))
