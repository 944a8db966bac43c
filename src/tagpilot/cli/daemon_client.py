"""The running daemon's JSON API (``tagpilot run``), as the flux-style commands use it.

``DaemonUnavailableError`` when nothing listens at the address; a 4xx answer is a
``StalledError`` with the daemon's message, anything else a ``RetryableError``.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from tagpilot.cli.views import ObjectView, view_of
from tagpilot.core.errors import RetryableError, StalledError
from tagpilot.ports import AutomationRun, ObjectKey, RecordedEvent
from tagpilot.server.access import auth_headers

__all__ = [
    "DEFAULT_SERVER",
    "EVENT_LIMIT",
    "ActionResult",
    "DaemonClient",
    "DaemonUnavailableError",
]

DEFAULT_SERVER = "http://127.0.0.1:9797"
EVENT_LIMIT = 1000


@dataclass(frozen=True)
class ActionResult:
    """The daemon's answer to an action: the object after it, and whether a reconcile queued."""

    view: ObjectView
    queued: bool


class DaemonUnavailableError(RetryableError):
    """Nothing answers at the daemon's address."""

    def __init__(self, url: str) -> None:
        super().__init__(f"no tagpilot daemon at {url}")
        self.url = url


def _error_text(response: httpx.Response) -> str:
    """The daemon's ``{"error": ...}`` message, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return response.text.strip()[:200] or response.reason_phrase


def _segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _object_path(key: ObjectKey) -> str:
    return f"/api/v1/objects/{_segment(key.kind)}/{_segment(key.namespace)}/{_segment(key.name)}"


def _view(item: Mapping[str, Any]) -> ObjectView:
    namespace, name = str(item["namespace"]), str(item["name"])
    return view_of(
        str(item["kind"]),
        namespace,
        name,
        spec=item.get("spec") or {},
        status=item.get("status"),
        suspended=bool(item.get("suspended")),
        runs=[AutomationRun.from_document(namespace, name, r) for r in item.get("runs") or ()],
    )


def _event(item: Mapping[str, Any]) -> RecordedEvent:
    key = ObjectKey(str(item["kind"]), str(item["namespace"]), str(item["name"]))
    time = datetime.fromisoformat(str(item["time"]))
    return RecordedEvent(key, str(item["type"]), str(item["reason"]), str(item["message"]), time)


class DaemonClient:
    """The daemon's JSON API; ``DaemonUnavailableError`` when nothing listens at ``url``."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout

    @property
    def label(self) -> str:
        """Where this client reads from."""
        return f"the tagpilot daemon at {self.url}"

    def _request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> httpx.Response:
        try:
            with httpx.Client(base_url=self.url, timeout=self._timeout, trust_env=False) as client:
                headers = auth_headers(os.environ)  # the daemon's API token, when configured
                return client.request(method, path, params=params, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise DaemonUnavailableError(self.url) from error
        except httpx.HTTPError as error:
            raise RetryableError(f"tagpilot daemon at {self.url}: {error}") from error

    def _json(self, response: httpx.Response) -> Any:
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                pass
        detail = _error_text(response)
        if response.is_client_error:
            raise StalledError(detail)
        raise RetryableError(
            f"tagpilot daemon at {self.url} answered {response.status_code} "
            f"to {response.request.method} {response.request.url.path}: {detail}"
        )

    def list_objects(self, kind: str, namespace: str | None) -> list[ObjectView]:
        """``GET /api/v1/objects?kind=&namespace=``."""
        params = {"kind": kind} | ({"namespace": namespace} if namespace is not None else {})
        items = self._json(self._request("GET", "/api/v1/objects", params=params))["items"]
        return sorted((_view(item) for item in items), key=lambda v: (v.namespace, v.name))

    def get_object(self, key: ObjectKey) -> ObjectView | None:
        """``GET /api/v1/objects/{kind}/{namespace}/{name}``; None when there is no such object."""
        response = self._request("GET", _object_path(key))
        return None if response.status_code == 404 else _view(self._json(response))

    def list_events(self, namespace: str | None, key: ObjectKey | None) -> list[RecordedEvent]:
        """``GET /api/v1/events?namespace=&kind=&name=``, oldest first."""
        params = {"limit": str(EVENT_LIMIT)}
        if namespace is not None:
            params["namespace"] = namespace
        if key is not None:
            params |= {"kind": key.kind, "namespace": key.namespace, "name": key.name}
        items = self._json(self._request("GET", "/api/v1/events", params=params))["items"]
        return sorted((_event(item) for item in items), key=lambda event: event.time)

    def act(self, key: ObjectKey, action: str, body: Mapping[str, Any]) -> ActionResult | None:
        """``POST .../{action}`` (reconcile, suspend, resume); None when there is no such object."""
        response = self._request("POST", f"{_object_path(key)}/{action}", body=dict(body))
        if response.status_code == 404:
            return None
        return ActionResult(_view(self._json(response)), queued=response.status_code == 202)
