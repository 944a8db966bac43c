"""The ``StatusWriter`` of a cluster: merge patches on the objects' status subresource.

Flux's controllers patch ``/status`` with the difference between the status they read and
the one they computed; this writer does the same, so fields written by another manager (a
Flux controller before the switch) are kept unless tagpilot's status drops them, and an
unchanged status costs no request at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.errors import NotFoundError
from tagpilot.adapters.kube.resources import Resource
from tagpilot.core.mergepatch import merge_patch, union
from tagpilot.ports import ObjectKey

__all__ = ["ApiStatusWriter"]

LiveObject = Callable[[ObjectKey], Mapping[str, Any] | None]
"""The watched copy of an object, or None when it is gone."""


class ApiStatusWriter:
    """Writes statuses through the API server's status subresource."""

    def __init__(
        self, client: KubeClient, resources: Mapping[str, Resource], live: LiveObject
    ) -> None:
        self._client = client
        self._resources = resources
        self._live = live
        self._written: dict[ObjectKey, Mapping[str, Any]] = {}

    async def write_status(self, key: ObjectKey, status: Mapping[str, Any]) -> None:
        """Patch ``key``'s status to ``status``; nothing when it is gone or unchanged."""
        live = self._live(key)
        if live is None:
            self._written.pop(key, None)
            return
        # The watch may not have delivered our previous write yet: diff against both.
        seen = union(live.get("status") or {}, self._written.get(key) or {})
        patch = merge_patch(seen, status)
        if not patch:
            return
        try:
            await self._client.merge_patch(
                self._resources[key.kind], key.namespace, key.name, {"status": patch},
                subresource="status",
            )  # fmt: skip
        except NotFoundError:  # deleted while it was reconciled: nothing to report on
            self._written.pop(key, None)
            return
        self._written[key] = dict(status)

    def forget(self, key: ObjectKey) -> None:
        """Drop what was written for a deleted object."""
        self._written.pop(key, None)
