"""The daemon's Starlette application: health, readiness, metrics, webhooks and the API.

``tagpilot run`` builds it with :func:`build_app` and serves it with
:func:`tagpilot.server.serve.serve`.  Routes:

``GET /healthz``   200 while the process runs
``GET /readyz``    200 once ``is_ready()`` (the engine finished its first load) while
                   the state store takes writes, else 503 with the reason
``GET /metrics``   Prometheus text format
``POST /hook/{sha256}``   Receiver deliveries (see :mod:`tagpilot.server.webhooks`):
                   404 unknown path, 503 suspended Receiver, 413 body over 1 MiB,
                   401/400 refused, 200 ``{"receiver", "triggered": [...]}`` accepted
``/api/v1/...``    the JSON API (:mod:`tagpilot.server.api`), for loopback clients or the
                   token holder (:mod:`tagpilot.server.access`); when it has an address
                   of its own, :func:`build_api_app` serves it there and ``build_app``
                   is given ``api=None``
``GET /status...`` the read-only status page (:mod:`tagpilot.server.page`), for whoever
                   reaches this address, like ``/metrics``; its JSON is under
                   ``/api/v1/status`` behind the API's gate
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tagpilot.server.access import ApiAccess
from tagpilot.server.api import StoreProblem, api_routes, error_response
from tagpilot.server.metrics import METRICS_CONTENT_TYPE, Metrics
from tagpilot.server.page.gather import LiveStatus
from tagpilot.server.page.routes import page_routes, status_api_routes
from tagpilot.server.protocols import ServerEngine, StatusStore, Trigger
from tagpilot.server.receivers import ReceiverEntry, ReceiverTable, delivery_targets
from tagpilot.server.webhooks import MAX_BODY_BYTES, Rejected, read_limited, verify

__all__ = ["LOOPBACK_ONLY", "build_api_app", "build_app"]

LOOPBACK_ONLY = ApiAccess()
"""The API's default gate: no token, loopback clients only."""
_RESULT_BY_STATUS = {400: "invalid", 401: "unauthorized", 413: "too_large"}


class _Webhooks:
    """The ``/hook/`` endpoint: find the Receiver, verify, trigger its targets."""

    def __init__(
        self, engine: ServerEngine, trigger: Trigger, metrics: Metrics, receivers: ReceiverTable
    ) -> None:
        self.engine, self.trigger = engine, trigger
        self.metrics, self.receivers = metrics, receivers

    async def deliver(self, request: Request) -> Response:
        entry = self.receivers.find(request.url.path)
        if entry is None:
            self.metrics.webhook("unknown", "not_found")
            return error_response(404, "no receiver at this path")
        if entry.receiver.spec.suspend:
            self.metrics.webhook(entry.label, "suspended")
            return error_response(503, f"receiver {entry.label} is suspended")
        body = await read_limited(request, MAX_BODY_BYTES)
        if body is None:
            return self._refused(
                entry, Rejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")
            )
        verdict = verify(entry.receiver, entry.token.reveal(), request.headers, body)
        if isinstance(verdict, Rejected):
            return self._refused(entry, verdict)
        targets = delivery_targets(entry.receiver, self.engine, verdict.images)
        for key in targets:
            self.trigger(key, f"webhook from Receiver {entry.label}")
        self.metrics.webhook(entry.label, "accepted")
        return JSONResponse({"receiver": entry.label, "triggered": [str(key) for key in targets]})

    def _refused(self, entry: ReceiverEntry, verdict: Rejected) -> Response:
        self.metrics.webhook(entry.label, _RESULT_BY_STATUS.get(verdict.status, "rejected"))
        return error_response(verdict.status, verdict.reason)


async def _healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


def _probe_routes(
    metrics: Metrics, is_ready: Callable[[], bool], store_problem: StoreProblem
) -> list[Route]:
    async def readyz(request: Request) -> Response:
        if not is_ready():
            return PlainTextResponse("not ready: the first manifest load has not finished\n", 503)
        problem = store_problem()
        if problem is not None:
            reason = f"not ready: the state store cannot be written: {problem}\n"
            return PlainTextResponse(reason, 503)
        return PlainTextResponse("ready\n")

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    return [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]


def build_app(
    engine: ServerEngine,
    trigger: Trigger,
    store: StatusStore,
    metrics: Metrics,
    receivers: ReceiverTable,
    *,
    is_ready: Callable[[], bool] = lambda: True,
    store_problem: StoreProblem = lambda: None,
    api: ApiAccess | None = LOOPBACK_ONLY,
    live_status: LiveStatus | None = None,
) -> Starlette:
    """The application over the daemon's engine, scheduler trigger, store and metrics.

    ``receivers`` is read on every delivery, so ``receivers.replace(...)`` after a reload
    takes effect at once.  ``store_problem`` says why the state store cannot be written
    (None: it can).  ``api`` gates the JSON API; None leaves it out (it has its own address).
    ``live_status`` gives the status page the objects' statuses from the cluster.
    """
    webhooks = _Webhooks(engine, trigger, metrics, receivers)
    routes = [
        *_probe_routes(metrics, is_ready, store_problem),
        Route("/hook/{digest}", webhooks.deliver, methods=["POST"]),
        *page_routes(
            engine, store, receivers, store_problem=store_problem, live_status=live_status
        ),
    ]
    if api is not None:
        routes += api_routes(engine, trigger, store, access=api, store_problem=store_problem)
        routes += status_api_routes(engine, store, receivers, access=api, live_status=live_status)
    return Starlette(routes=routes)


def build_api_app(
    engine: ServerEngine,
    trigger: Trigger,
    store: StatusStore,
    *,
    access: ApiAccess,
    store_problem: StoreProblem = lambda: None,
) -> Starlette:
    """The JSON API (and ``/healthz``) alone, for its own ``--api-address``."""
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        *api_routes(engine, trigger, store, access=access, store_problem=store_problem),
        *status_api_routes(engine, store, None, access=access),
    ]
    return Starlette(routes=routes)
