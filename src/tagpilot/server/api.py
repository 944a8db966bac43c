"""The JSON API the CLI talks to: list and get objects with status, events, and actions.

``GET  /api/v1/objects?kind=&namespace=``                  objects: spec, labels, status
``GET  /api/v1/objects/{kind}/{namespace}/{name}``         one object, with its spec
``GET  /api/v1/events?kind=&namespace=&name=&limit=``      newest-first events (one object:
                                                          its own; else filtered from the
                                                          newest 1000 of all)
``POST /api/v1/objects/{kind}/{namespace}/{name}/reconcile|suspend|resume``

A POST body is a JSON object; ``reconcile`` and ``resume`` read ``requestedAt`` from it (as
``flux reconcile`` sets the ``reconcile.fluxcd.io/requestedAt`` annotation) and hand it to
the trigger, so the reconcile records it as ``status.lastHandledReconcileAt``.  Actions
answer the object's summary (``status`` included): 202 when a reconcile was queued, 200
for ``suspend``.  GitRepository objects are inputs: they can be read, suspended and
resumed, not reconciled.

Errors are JSON ``{"error": message}``: 400 for a bad query or body, 401/403 for a
client the gate refuses (:mod:`tagpilot.server.access`), 404 for an unknown object, 409
for reconciling a suspended object (as ``flux reconcile`` refuses), 413 for a body over
:data:`MAX_API_BODY_BYTES`, 415 for a POST without ``Content-Type: application/json``.
While the state store cannot be written, every status shows Ready False with reason
``StateStoreFailed``: what it holds is the last status that could be saved.  Requiring
JSON on POSTs makes a browser send a CORS preflight first, which this API never
answers, so a web page cannot trigger actions on a loopback daemon.  Built by
:func:`api_routes`; mounted by ``build_app``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tagpilot.api.descriptors import IMAGE_UPDATE
from tagpilot.ports import ObjectKey, RecordedEvent
from tagpilot.reconcile.outcome import READY, format_time
from tagpilot.server.access import ApiAccess
from tagpilot.server.protocols import (
    API_KINDS,
    RECONCILABLE_KINDS,
    RUNS_SHOWN,
    ServerEngine,
    StatusStore,
    Trigger,
)
from tagpilot.server.webhooks import read_limited

__all__ = [
    "DEFAULT_EVENT_LIMIT",
    "MAX_API_BODY_BYTES",
    "MAX_EVENT_LIMIT",
    "STORE_FAILED_REASON",
    "StoreProblem",
    "api_routes",
    "error_response",
    "guarded",
]

DEFAULT_EVENT_LIMIT = 100
MAX_API_BODY_BYTES = 64 << 10
"""An action's body is ``{"requestedAt": ...}``; 64 KiB is far more than any needs."""
STORE_FAILED_REASON = "StateStoreFailed"
MAX_EVENT_LIMIT = 1000
_ACTIONS = ("reconcile", "suspend", "resume")

Endpoint = Callable[[Request], Awaitable[Response]]
StoreProblem = Callable[[], str | None]
"""Why the state store cannot be written now, or None."""


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    """A JSON error body ``{"error": message}`` with ``status``."""
    return JSONResponse({"error": message}, status_code=status)


def guarded(handler: Endpoint, access: ApiAccess) -> Endpoint:
    """``handler`` behind ``access``: refused clients get its 401/403 JSON error."""

    async def endpoint(request: Request) -> Response:
        client = request.client.host if request.client is not None else None
        refusal = access.refusal(client, request.headers.get("authorization", ""))
        if refusal is not None:
            response = error_response(*refusal)
            if refusal[0] == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="tagpilot"'
            return response
        try:
            return await handler(request)
        except _ApiError as error:
            return error_response(error.status, error.message)

    return endpoint


def _kind(value: str | None) -> str | None:
    if value in (None, "") or value in API_KINDS:
        return value or None
    raise _ApiError(400, f"unknown kind '{value}'; expected one of {', '.join(API_KINDS)}")


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_EVENT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_EVENT_LIMIT:
        raise _ApiError(400, f"limit must be a whole number from 1 to {MAX_EVENT_LIMIT}")
    return int(value)


async def _json_body(request: Request) -> dict[str, Any]:
    """The POST body: a JSON object (empty body: ``{}``); ``requestedAt`` must be text."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _ApiError(415, "POST requests need Content-Type: application/json")
    raw = await read_limited(request, MAX_API_BODY_BYTES)
    if raw is None:
        raise _ApiError(413, f"the body is larger than {MAX_API_BODY_BYTES} bytes")
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _ApiError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _ApiError(400, "the body must be a JSON object")
    if not isinstance(body.get("requestedAt", ""), str):
        raise _ApiError(400, "requestedAt must be an RFC 3339 time string")
    return body


class _Api:
    """The handlers, sharing the engine, trigger and store."""

    def __init__(
        self,
        engine: ServerEngine,
        trigger: Trigger,
        store: StatusStore,
        store_problem: StoreProblem,
    ) -> None:
        self.engine, self.trigger, self.store = engine, trigger, store
        self.store_problem = store_problem

    def status(self, key: ObjectKey) -> dict[str, Any]:
        """The stored status; Ready False while the store cannot be written."""
        status = self.store.get_status(key) or {}
        problem = self.store_problem()
        return status if problem is None else _store_failed(status, problem)

    def summary(self, key: ObjectKey) -> dict[str, Any]:
        """Identity, labels, spec (Flux's JSON names), suspension and stored status."""
        loaded = self.engine.object(key)
        summary = {
            "kind": key.kind,
            "namespace": key.namespace,
            "name": key.name,
            "labels": loaded.metadata.labels or {},
            "spec": loaded.model_dump(mode="json", by_alias=True)["spec"],
            "suspended": self.engine.is_suspended(key),
            "status": self.status(key),
        }
        if key.kind == IMAGE_UPDATE.kind:
            runs = self.store.runs(key.namespace, key.name, RUNS_SHOWN)
            summary["runs"] = [run.document() for run in runs]
        return summary

    def known(self, request: Request) -> ObjectKey:
        params = request.path_params
        key = ObjectKey(_kind(params["kind"]) or "", params["namespace"], params["name"])
        try:
            self.engine.object(key)
        except KeyError:
            raise _ApiError(404, f"{key.kind} {key.namespace}/{key.name} not found") from None
        return key

    async def list_objects(self, request: Request) -> Response:
        kind = _kind(request.query_params.get("kind"))
        namespace = request.query_params.get("namespace") or None
        loaded = self.engine.shown_keys()
        keys = sorted(
            key
            for key in loaded
            if (kind is None or key.kind == kind)
            and (namespace is None or key.namespace == namespace)
        )
        return JSONResponse({"items": [self.summary(key) for key in keys]})

    async def get_object(self, request: Request) -> Response:
        return JSONResponse(self.summary(self.known(request)))

    async def list_events(self, request: Request) -> Response:
        query = request.query_params
        kind, namespace, name = _kind(query.get("kind")), query.get("namespace"), query.get("name")
        limit = _limit(query.get("limit"))
        if kind and namespace and name:
            found = self.store.events(ObjectKey(kind, namespace, name), limit)
        else:
            found = [
                event
                for event in self.store.events(None, MAX_EVENT_LIMIT)
                if _event_matches(event, kind, namespace, name)
            ][:limit]
        return JSONResponse({"items": [_event_json(event) for event in found]})

    async def act(self, request: Request) -> Response:
        body = await _json_body(request)
        action = request.path_params["action"]
        if action not in _ACTIONS:
            raise _ApiError(404, f"unknown action '{action}'; expected {', '.join(_ACTIONS)}")
        key = self.known(request)
        reconcilable = key.kind in RECONCILABLE_KINDS
        if action == "reconcile" and not reconcilable:
            raise _ApiError(400, f"{key.kind} objects are inputs and are not reconciled")
        if action == "reconcile" and self.engine.is_suspended(key):
            raise _ApiError(409, f"{key.kind} {key.namespace}/{key.name} is suspended")
        if action in ("suspend", "resume"):
            self.engine.set_suspended(key, action == "suspend")
        queued = action != "suspend" and reconcilable
        if queued:
            self.trigger(key, f"api {action}", requested_at=body.get("requestedAt") or None)
        answer = {"action": action, **self.summary(key)}
        return JSONResponse(answer, status_code=202 if queued else 200)


def _store_failed(status: dict[str, Any], problem: str) -> dict[str, Any]:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != READY]
    ready = {
        "type": READY,
        "status": "False",
        "reason": STORE_FAILED_REASON,
        "message": f"the state store cannot be written ({problem}); the rest of this "
        "status is the last one saved and may be stale",
    }
    return {**status, "conditions": [ready, *conditions]}


def _event_matches(
    event: RecordedEvent, kind: str | None, namespace: str | None, name: str | None
) -> bool:
    key = event.key
    return (
        (kind is None or key.kind == kind)
        and (not namespace or key.namespace == namespace)
        and (not name or key.name == name)
    )


def _event_json(event: RecordedEvent) -> dict[str, str]:
    return {
        "kind": event.key.kind,
        "namespace": event.key.namespace,
        "name": event.key.name,
        "type": event.type,
        "reason": event.reason,
        "message": event.message,
        "time": format_time(event.time),
    }


def api_routes(
    engine: ServerEngine,
    trigger: Trigger,
    store: StatusStore,
    *,
    access: ApiAccess | None = None,
    store_problem: StoreProblem = lambda: None,
) -> list[Route]:
    """The ``/api/v1`` routes over ``engine``, ``trigger`` and ``store``, behind ``access``
    (default: loopback clients only)."""
    api = _Api(engine, trigger, store, store_problem)
    gate = access or ApiAccess()
    object_path = "/api/v1/objects/{kind}/{namespace}/{name}"
    return [
        Route("/api/v1/objects", guarded(api.list_objects, gate), methods=["GET"]),
        Route(object_path, guarded(api.get_object, gate), methods=["GET"]),
        Route("/api/v1/events", guarded(api.list_events, gate), methods=["GET"]),
        Route(object_path + "/{action}", guarded(api.act, gate), methods=["POST"]),
    ]
