"""Server-side apply of built manifests, as Flux's kustomize-controller does it per object.

For each object: read the live copy, run a forced server-side apply as a dry run, and write
only when the dry run differs from the live object (labels, annotations, or anything outside
``metadata`` and ``status``), so an unchanged object costs no write and keeps its
resourceVersion; an object known to be absent is written without a dry run (there is nothing
to compare it with).  The live copies of many objects are read with one list per kind and
namespace (:meth:`ApiApplier.read`), so a re-apply that changes nothing costs one request
per object, its dry run.  The field manager is ``kustomize-controller``, Flux's own, so a cluster
moves between Flux and tagpilot in both directions without field-ownership conflicts.
Kinds are mapped to resources through the API server's discovery, refreshed when a kind is
unknown (right after a CRD was applied).  Which objects to apply in which order, what to skip
and what to prune are decided by the caller; this module only talks to the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.errors import KubeRequestRefused, NotFoundError
from tagpilot.adapters.kube.resources import Resource
from tagpilot.core.errors import StalledError
from tagpilot.core.kustomize.drift_ignore import payload_without_ignored, without_paths
from tagpilot.ports import AppliedObject, IgnoredPaths

__all__ = ["FIELD_MANAGER", "ApiApplier", "Applied", "RestMapper", "UnknownKindError"]

FIELD_MANAGER = "kustomize-controller"
Action = Literal["created", "configured", "unchanged"]
_IMMUTABLE_MARKERS = ("is immutable", "immutable field", "field is immutable")
_LIST_FROM = 2
"""Objects of one kind and namespace from which a list reads them (one alone: a get)."""
_LIST_PAGE = 500
_LISTS_AT_ONCE = 4


class UnknownKindError(StalledError):
    """The API server serves no resource for an object's apiVersion and kind."""


Applied = AppliedObject
"""What applying one object did, and the object as the API server now has it."""


class RestMapper:
    """apiVersion + kind → the resource to call, from discovery, cached per group version."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._known: dict[str, dict[str, Resource]] = {}

    async def resource(self, api_version: str, kind: str) -> Resource:
        """The resource serving ``kind`` at ``api_version``; discovery is asked again once
        when it is unknown (a CRD applied a moment ago)."""
        for refresh in (False, True):
            found = (await self._served(api_version, refresh)).get(kind)
            if found is not None:
                return found
        raise UnknownKindError(
            f"no {kind} in {api_version} on this cluster: is its CRD installed?",
            reason="ReconciliationFailed",
        )

    async def _served(self, api_version: str, refresh: bool) -> dict[str, Resource]:
        if refresh or api_version not in self._known:
            group, _, version = api_version.rpartition("/")
            try:
                listed = await self._client.api_resources(group, version)
            except NotFoundError:
                listed = []
            self._known[api_version] = {r.kind: r for r in listed}
        return self._known[api_version]


def _identity(obj: Mapping[str, Any]) -> tuple[str, str, str | None, str]:
    metadata = obj.get("metadata") or {}
    return (str(obj.get("apiVersion", "")), str(obj.get("kind", "")),
            metadata.get("namespace") or None, str(metadata.get("name", "")))  # fmt: skip


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What decides drift: labels, annotations and everything outside metadata and status."""
    metadata = obj.get("metadata") or {}
    body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    body["labels"] = metadata.get("labels") or {}
    body["annotations"] = metadata.get("annotations") or {}
    return body


def is_immutable(error: KubeRequestRefused | Exception) -> bool:
    """Whether an apply failed on an immutable field (Flux recreates such objects with
    ``spec.force``)."""
    text = str(error).lower()
    status = getattr(error, "status", None)
    return status in (409, 422) and any(marker in text for marker in _IMMUTABLE_MARKERS)


class ApiApplier:
    """Applies, reads and deletes objects through the API server."""

    def __init__(
        self, client: KubeClient, *, field_manager: str = FIELD_MANAGER,
        mapper: RestMapper | None = None,
    ) -> None:  # fmt: skip
        self._client = client
        self._mapper = mapper or RestMapper(client)
        self._manager = field_manager

    def as_service_account(self, namespace: str, name: str) -> ApiApplier:
        """This applier acting as ``system:serviceaccount:<namespace>:<name>`` (Flux's
        ``spec.serviceAccountName``): the account's RBAC decides what may be applied.
        Discovery stays with the controller's own identity."""
        user = f"system:serviceaccount:{namespace}:{name}"
        return ApiApplier(self._client.impersonating(user), field_manager=self._manager,
                          mapper=self._mapper)  # fmt: skip

    async def get(self, obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The live copy of ``obj`` (by apiVersion, kind, namespace, name), or None."""
        api_version, kind, namespace, name = _identity(obj)
        resource = await self._mapper.resource(api_version, kind)
        try:
            return await self._client.get(resource, _scope(resource, namespace), name)
        except NotFoundError:
            return None

    async def apply(self, obj: Mapping[str, Any]) -> Applied:
        """Apply ``obj`` unless a dry run shows it would change nothing."""
        await self._target(obj)  # a namespaced object without a namespace fails first
        live = await self.get(obj)
        if live is not None and await self.unchanged(obj, live):
            return Applied("unchanged", live)
        return await self.write(obj, live)

    async def read(
        self, objects: Sequence[Mapping[str, Any]]
    ) -> dict[int, Mapping[str, Any] | None]:
        """The live copies of ``objects`` by position (None: absent), one list per kind and
        namespace holding several of them.  Left out: objects alone of their kind and
        namespace, of a kind not served, or whose list is refused (an impersonated account
        may get but not list); the caller reads those one by one, meeting their errors there."""
        groups: dict[tuple[Resource, str | None], list[int]] = {}
        for position, obj in enumerate(objects):
            api_version, kind, namespace, _ = _identity(obj)
            try:
                resource = await self._mapper.resource(api_version, kind)
            except UnknownKindError:
                continue
            if resource.namespaced and not namespace:
                continue
            groups.setdefault((resource, _scope(resource, namespace)), []).append(position)
        found: dict[int, Mapping[str, Any] | None] = {}
        listed = [
            (place, members) for place, members in groups.items() if len(members) >= _LIST_FROM
        ]
        lanes = asyncio.Semaphore(_LISTS_AT_ONCE)
        pages = await asyncio.gather(*(self._list(*place, lanes) for place, _ in listed))
        for (_, members), page in zip(listed, pages, strict=True):
            if page is not None:
                for position in members:
                    found[position] = page.get(_identity(objects[position])[3])
        return found

    async def _list(
        self, resource: Resource, scope: str | None, lanes: asyncio.Semaphore
    ) -> dict[str, Mapping[str, Any]] | None:
        try:
            async with lanes:
                listed = await self._client.list(resource, scope, limit=_LIST_PAGE)
        except (KubeRequestRefused, NotFoundError):
            return None
        return {str((item.get("metadata") or {}).get("name", "")): item for item in listed.items}

    async def unchanged(
        self, obj: Mapping[str, Any], live: Mapping[str, Any], ignored: IgnoredPaths = ()
    ) -> bool:
        """Whether a forced server-side dry run of ``obj`` equals ``live`` (labels,
        annotations, everything outside metadata and status), the ``ignored`` fields
        removed from both sides."""
        resource, scope, name = await self._target(obj)
        body = payload_without_ignored(obj, live, ignored, manager=self._manager)
        trial = await self._client.apply(
            resource, scope, name, body, field_manager=self._manager, dry_run=True
        )
        return _comparable(without_paths(trial, ignored)) == _comparable(
            without_paths(live, ignored)
        )

    async def write(
        self, obj: Mapping[str, Any], live: Mapping[str, Any] | None, ignored: IgnoredPaths = ()
    ) -> Applied:
        """Apply ``obj`` (forced): ``created`` when there was no ``live`` copy.  Each
        ``ignored`` field is left to another Apply owner or kept at its live value."""
        resource, scope, name = await self._target(obj)
        body = payload_without_ignored(obj, live, ignored, manager=self._manager)
        applied = await self._client.apply(resource, scope, name, body, field_manager=self._manager)
        return Applied("created" if live is None else "configured", applied)

    async def _target(self, obj: Mapping[str, Any]) -> tuple[Resource, str | None, str]:
        api_version, kind, namespace, name = _identity(obj)
        resource = await self._mapper.resource(api_version, kind)
        if resource.namespaced and not namespace:
            raise StalledError(
                f"{kind}/{name}: namespace not specified (set metadata.namespace, or the "
                "Kustomization's targetNamespace)",
                reason="ReconciliationFailed",
            )
        return resource, _scope(resource, namespace), name

    async def delete(self, obj: Mapping[str, Any]) -> bool:
        """Delete ``obj`` in the background; False when it was already gone."""
        api_version, kind, namespace, name = _identity(obj)
        resource = await self._mapper.resource(api_version, kind)
        try:
            await self._client.delete(
                resource, _scope(resource, namespace), name, propagation="Background"
            )
        except NotFoundError:
            return False
        return True


def _scope(resource: Resource, namespace: str | None) -> str | None:
    return namespace if resource.namespaced else None
