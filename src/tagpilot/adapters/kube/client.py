"""A small async Kubernetes API client over httpx: CRUD, paged lists, watches, server-side apply.

Cluster mode's informers, status writer, event recorder and Lease elector use it; it knows
nothing of tagpilot's kinds beyond :class:`Resource`.  One ``httpx.AsyncClient`` (HTTP/1.1,
keep-alive) per client.  Errors are tagpilot's (``errors``): an apiserver refusal says the verb,
the path and the apiserver's message; a connection failure or timeout is a ``RetryableError``
naming the server.  Proxy environment variables are not used: the apiserver is reached directly.

A bearer token from ``token_file`` is re-read every minute and after a 401 (the request is
then sent once more), because projected ServiceAccount tokens rotate.
"""

from __future__ import annotations

import builtins
import copy
import json
import ssl
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from tagpilot import __version__
from tagpilot.adapters.kube._tls import ssl_context
from tagpilot.adapters.kube.config import KubeConfig
from tagpilot.adapters.kube.errors import NotFoundError, error_from_status, parse_retry_after
from tagpilot.adapters.kube.resources import Resource
from tagpilot.core.errors import RetryableError

__all__ = ["KubeClient", "ObjectList", "WatchEvent"]

_TOKEN_REFRESH_SECONDS = 60.0
_WATCH_GRACE_SECONDS = 30.0
_JSON = "application/json"
_MERGE_PATCH = "application/merge-patch+json"
_APPLY_PATCH = "application/apply-patch+yaml"  # a JSON document is valid YAML


@dataclass(frozen=True)
class ObjectList:
    """Every object of a list (all pages), and the resourceVersion to watch from."""

    items: list[dict[str, Any]]
    resource_version: str


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: ``type`` is ADDED, MODIFIED, DELETED or BOOKMARK."""

    type: str
    object: dict[str, Any]


class _BearerToken:
    """The ``Authorization`` header value: a fixed token, or one read from a file."""

    def __init__(self, config: KubeConfig, monotonic: Callable[[], float]) -> None:
        self._config = config
        self._monotonic = monotonic
        self._value: str | None = None
        self._read_at = 0.0

    @property
    def from_file(self) -> bool:
        return self._config.token is None and self._config.token_file is not None

    def forget(self) -> None:
        """Read the file again before the next request (after a 401)."""
        self._value = None

    def header(self) -> str | None:
        if self._config.token is not None:
            return f"Bearer {self._config.token.text()}"
        path = self._config.token_file
        if path is None:
            return None
        if self._value is None or self._monotonic() - self._read_at > _TOKEN_REFRESH_SECONDS:
            try:
                self._value = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as error:
                raise RetryableError(
                    f"cannot read the bearer token file {path}: {error}"
                ) from error
            self._read_at = self._monotonic()
        return f"Bearer {self._value}"


def _why(error: BaseException) -> str:
    """The most telling cause of a transport error (a failed certificate check, usually)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return (
                f"TLS certificate verification failed: {seen.verify_message} (is the "
                "configured certificate authority the one that signed the apiserver's?)"
            )
        if isinstance(seen, ssl.SSLError):
            return f"TLS failed: {seen.reason or seen}"
        seen = seen.__cause__ or seen.__context__
    return str(error) or type(error).__name__


class KubeClient:
    """Talks to one apiserver as one identity; ``async with`` closes its connections."""

    def __init__(
        self,
        config: KubeConfig,
        *,
        user_agent: str = f"tagpilot/{__version__}",
        timeout: float = 30.0,
    ) -> None:
        self.config = config
        """Where and who."""
        self.requests: Counter[str] = Counter()
        """Requests sent, by verb (get, list, watch, create, update, patch, apply, delete,
        discovery): for metrics and benchmarks."""
        self._timeout = timeout
        self._token = _BearerToken(config, time.monotonic)
        self._http = httpx.AsyncClient(
            base_url=config.server,
            verify=ssl_context(config),
            http1=True,
            http2=False,
            trust_env=False,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent, "Accept": _JSON},
        )

    impersonate: str | None = None
    """A user whose rights requests are made with (``Impersonate-User``); None: our own."""

    def impersonating(self, user: str) -> KubeClient:
        """The same connections and credentials, acting as ``user`` (the caller needs the
        ``impersonate`` right); closing the copy is closing this client."""
        twin = copy.copy(self)
        twin.impersonate = user
        return twin

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    # -- the verbs ------------------------------------------------------------------------

    async def get(
        self, res: Resource, namespace: str | None, name: str, *, subresource: str | None = None
    ) -> dict[str, Any]:
        """One object (or its subresource); :class:`NotFoundError` when absent."""
        return await self._json("get", "GET", res.api_path(namespace, name, subresource))

    async def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
    ) -> ObjectList:
        """Every matching object, following ``continue`` pages of ``limit`` objects.

        Items get ``apiVersion`` and ``kind`` filled in (a list leaves them out), so they look
        like the objects of watch events.
        """
        path = res.api_path(namespace)
        params = _selectors(label_selector, field_selector)
        if limit is not None:
            params["limit"] = str(limit)
        items: list[dict[str, Any]] = []
        while True:
            page = await self._json("list", "GET", path, params=params)
            for item in page.get("items") or []:
                items.append({"apiVersion": res.api_version, "kind": res.kind, **item})
            metadata = page.get("metadata") or {}
            if not metadata.get("continue"):
                return ObjectList(items, str(metadata.get("resourceVersion", "")))
            params["continue"] = str(metadata["continue"])

    async def watch(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        resource_version: str,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = 300,
        bookmarks: bool = True,
    ) -> AsyncGenerator[WatchEvent, None]:
        """Changes after ``resource_version`` until the server ends the watch.

        The server closes the stream after ``timeout_seconds``; a read waits at most that plus
        a grace period, so a silent connection cannot hang the watcher.  An ERROR event raises
        its error: :class:`GoneError` when the resourceVersion is too old (list again).
        """
        path = res.api_path(namespace)
        params = _selectors(label_selector, field_selector)
        params.update(
            watch="true",
            resourceVersion=resource_version,
            timeoutSeconds=str(timeout_seconds),
            allowWatchBookmarks="true" if bookmarks else "false",
        )
        request = f"WATCH {path}"
        timeout = httpx.Timeout(self._timeout, read=timeout_seconds + _WATCH_GRACE_SECONDS)
        self.requests["watch"] += 1
        try:
            async with self._http.stream(
                "GET", path, params=params, headers=self._headers(), timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._refusal(request, response)
                async for line in response.aiter_lines():
                    if line.strip():
                        yield _event(request, line)
        except httpx.TransportError as error:
            raise self._unreachable(request, error) from error

    async def create(
        self, res: Resource, namespace: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        """POST a new object; :class:`AlreadyExistsError` when the name is taken."""
        return await self._json("create", "POST", res.api_path(namespace), body=body)

    async def replace(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """PUT the whole object; a stale ``metadata.resourceVersion`` raises ConflictError."""
        path = res.api_path(namespace, name, subresource)
        return await self._json("update", "PUT", path, body=body)

    async def merge_patch(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        patch: dict[str, Any],
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386): ``None`` values delete fields."""
        path = res.api_path(namespace, name, subresource)
        return await self._json("patch", "PATCH", path, body=patch, content_type=_MERGE_PATCH)

    async def apply(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        *,
        field_manager: str,
        force: bool = True,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Server-side apply ``body`` as ``field_manager``; without ``force`` a field owned
        by another manager raises :class:`ConflictError`."""
        params = {"fieldManager": field_manager, "force": "true" if force else "false"}
        if dry_run:
            params["dryRun"] = "All"
        path = res.api_path(namespace, name, subresource)
        return await self._json(
            "apply", "PATCH", path, params=params, body=body, content_type=_APPLY_PATCH
        )

    async def delete(
        self, res: Resource, namespace: str | None, name: str, *, propagation: str | None = None
    ) -> None:
        """Delete one object; :class:`NotFoundError` when it is already gone (caller decides).

        ``propagation`` is the ``propagationPolicy`` (``Background``, ``Foreground``, ``Orphan``).
        """
        body = None if propagation is None else {
            "apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation,
        }  # fmt: skip
        await self._json("delete", "DELETE", res.api_path(namespace, name), body=body)

    async def api_resources(self, group: str, version: str) -> builtins.list[Resource]:
        """The resources ``group/version`` serves (discovery), subresources left out;
        :class:`NotFoundError` when the group version is not served."""
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        found = await self._json("discovery", "GET", path)
        return [
            Resource(group, version, str(entry["name"]), str(entry.get("kind", "")),
                     bool(entry.get("namespaced")))
            for entry in found.get("resources") or []
            if "/" not in str(entry.get("name", ""))
        ]  # fmt: skip

    async def served_versions(self, group: str) -> builtins.list[str]:
        """The versions the apiserver serves for ``group``, preferred first; [] if none."""
        if not group:
            found = await self._json("discovery", "GET", "/api")
            return [str(version) for version in found.get("versions") or []]
        try:
            found = await self._json("discovery", "GET", f"/apis/{group}")
        except NotFoundError:
            return []
        versions = [str(entry.get("version")) for entry in found.get("versions") or []]
        preferred = str((found.get("preferredVersion") or {}).get("version", ""))
        if preferred in versions:
            versions.remove(preferred)
            versions.insert(0, preferred)
        return versions

    # -- plumbing -------------------------------------------------------------------------

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = {}
        authorization = self._token.header()
        if authorization is not None:
            headers["Authorization"] = authorization
        if content_type is not None:
            headers["Content-Type"] = content_type
        if self.impersonate is not None:
            headers["Impersonate-User"] = self.impersonate
        return headers

    async def _json(
        self,
        verb: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        content_type: str = _JSON,
    ) -> dict[str, Any]:
        request = f"{method} {path}"
        content = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            self.requests[verb] += 1
            try:
                response = await self._http.request(
                    method,
                    path,
                    params=params,
                    content=content,
                    headers=self._headers(content_type if content is not None else None),
                )
            except httpx.TransportError as error:
                raise self._unreachable(request, error) from error
            if response.status_code == 401 and attempt == 1 and self._token.from_file:
                self._token.forget()  # the token may have rotated since we read it
                continue
            break
        if response.status_code >= 400:
            raise self._refusal(request, response)
        try:
            answer = response.json()
        except ValueError as error:
            raise RetryableError(
                f"kube-apiserver {self.config.server} answered {request} with a body that is "
                "not JSON"
            ) from error
        return answer if isinstance(answer, dict) else {}

    def _refusal(self, request: str, response: httpx.Response) -> Exception:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return error_from_status(request, response.status_code, response.content, retry_after)

    def _unreachable(self, request: str, error: httpx.TransportError) -> RetryableError:
        server = self.config.server
        if isinstance(error, httpx.TimeoutException):
            return RetryableError(
                f"kube-apiserver {server} did not answer {request} in time ({_why(error)})",
                reason="Timeout",
            )
        return RetryableError(f"cannot reach kube-apiserver {server} for {request}: {_why(error)}")


def _selectors(label_selector: str | None, field_selector: str | None) -> dict[str, str]:
    params = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return params


def _event(request: str, line: str) -> WatchEvent:
    try:
        event = json.loads(line)
        kind, obj = str(event["type"]), event["object"]
    except (ValueError, KeyError, TypeError) as error:
        raise RetryableError(f"kube-apiserver sent a malformed watch event on {request}") from error
    if kind == "ERROR":
        raise error_from_status(request, int(obj.get("code") or 500), obj)
    return WatchEvent(kind, obj)
