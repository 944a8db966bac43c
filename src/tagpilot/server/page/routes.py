"""The status page's routes: read-only HTML under ``/status`` and its JSON under the API.

HTML (on the HTTP address, like ``/metrics``; read-only, nothing secret)::

    GET /                                      redirects to /status
    GET /status?namespace=&notReady=1          overview (filters in the query)
    GET /status/policy/{namespace}/{name}      one ImagePolicy: tags, verdicts, warnings
    GET /status/automation/{namespace}/{name}  one ImageUpdateAutomation: its history
    GET /status/timeline                       per image: picked → committed, as SVG
    GET /status/assets/page.css|page.js        the page's only assets, from the package

Every page takes ``?refresh=N`` (seconds, 1 to 3600, default 5).  JSON, behind the API's
gate (:mod:`tagpilot.server.access`), is the same data the pages show::

    GET /api/v1/status/overview?namespace=&notReady=1
    GET /api/v1/status/policies/{namespace}/{name}
    GET /api/v1/status/automations/{namespace}/{name}
    GET /api/v1/status/timeline
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Any, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tagpilot.core.statusview import filter_rows
from tagpilot.server.access import ApiAccess
from tagpilot.server.api import Endpoint, StoreProblem, error_response, guarded
from tagpilot.server.page import html
from tagpilot.server.page.gather import LiveStatus, PageData
from tagpilot.server.protocols import ServerEngine, StatusStore
from tagpilot.server.receivers import ReceiverTable

__all__ = ["DEFAULT_REFRESH", "page_routes", "status_api_routes"]

DEFAULT_REFRESH = 5
V = TypeVar("V")
V_contra = TypeVar("V_contra", contravariant=True)
_ASSETS = {"page.css": "text/css", "page.js": "text/javascript"}
_HEADERS = {
    # The page is a view: no caching, no framing, and no script but our own.
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
}


class Render(Protocol[V_contra]):
    """An HTML view of one object's page."""

    def __call__(self, view: V_contra, *, refresh: int, banner: str | None = None) -> str:
        """The page's HTML."""
        ...


class Documented(Protocol):
    """A view model with a JSON form."""

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        ...


def _refresh(request: Request) -> int:
    value = request.query_params.get("refresh", "")
    return int(value) if value.isdigit() and 1 <= int(value) <= 3600 else DEFAULT_REFRESH


def _filters(request: Request) -> tuple[str | None, bool]:
    query = request.query_params
    return query.get("namespace") or None, query.get("notReady", "") in ("1", "true")


def _banner(store_problem: StoreProblem) -> str | None:
    problem = store_problem()
    if problem is None:
        return None
    return f"The state store cannot be written ({problem}); what is shown may be stale."


def page_routes(
    engine: ServerEngine,
    store: StatusStore,
    receivers: ReceiverTable | None,
    *,
    store_problem: StoreProblem = lambda: None,
    live_status: LiveStatus | None = None,
) -> list[Route]:
    """The HTML pages and their assets (``live_status``: see :class:`PageData`)."""
    data = PageData(engine, store, receivers, live_status)

    def page(text: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(text, status_code=status, headers=_HEADERS)

    async def root(request: Request) -> Response:
        return RedirectResponse(html.ROOT, status_code=307)

    async def overview(request: Request) -> Response:
        namespace, not_ready = _filters(request)
        rows = data.rows()
        namespaces = sorted({row.namespace for row in rows})
        shown = filter_rows(rows, namespace=namespace, not_ready=not_ready)
        return page(
            html.overview_page(
                shown, data.receiver_rows(), namespaces=namespaces, namespace=namespace,
                not_ready=not_ready, refresh=_refresh(request), banner=_banner(store_problem),
            )
        )  # fmt: skip

    def detail(kind: str, view: Callable[[str, str], V], render: Render[V]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            namespace, name = request.path_params["namespace"], request.path_params["name"]
            refresh = _refresh(request)
            try:
                found = view(namespace, name)
            except KeyError:
                missing = f"{kind} {namespace}/{name} is not loaded."
                return page(html.not_found_page(missing, refresh=refresh), 404)
            return page(render(found, refresh=refresh, banner=_banner(store_problem)))

        return endpoint

    policy = detail("ImagePolicy", data.policy, html.policy_page)
    automation = detail("ImageUpdateAutomation", data.automation, html.automation_page)

    async def timeline(request: Request) -> Response:
        banner = _banner(store_problem)
        return page(html.timeline_page(data.timeline(), refresh=_refresh(request), banner=banner))

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS:
            return Response("not found\n", status_code=404, media_type="text/plain")
        body = files("tagpilot.server.page").joinpath("assets", name).read_bytes()
        return Response(body, media_type=_ASSETS[name], headers={"Cache-Control": "no-cache"})

    return [
        Route("/", root, methods=["GET"]),
        Route(html.ROOT, overview, methods=["GET"]),
        Route(f"{html.ROOT}/policy/{{namespace}}/{{name}}", policy, methods=["GET"]),
        Route(f"{html.ROOT}/automation/{{namespace}}/{{name}}", automation, methods=["GET"]),
        Route(f"{html.ROOT}/timeline", timeline, methods=["GET"]),
        Route(f"{html.ASSETS}/{{name}}", asset, methods=["GET"]),
    ]


def status_api_routes(
    engine: ServerEngine,
    store: StatusStore,
    receivers: ReceiverTable | None,
    *,
    access: ApiAccess,
    live_status: LiveStatus | None = None,
) -> list[Route]:
    """``/api/v1/status/...``: the pages' data as JSON, behind the API's gate."""
    data = PageData(engine, store, receivers, live_status)

    async def overview(request: Request) -> Response:
        namespace, not_ready = _filters(request)
        rows = filter_rows(data.rows(), namespace=namespace, not_ready=not_ready)
        return JSONResponse(
            {
                "items": [row.document() for row in rows],
                "receivers": [r.document() for r in data.receiver_rows()],
            }
        )

    def detail(kind: str, view: Callable[[str, str], Documented]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            namespace, name = request.path_params["namespace"], request.path_params["name"]
            try:
                return JSONResponse(view(namespace, name).document())
            except KeyError:
                return error_response(404, f"{kind} {namespace}/{name} not found")

        return endpoint

    policy = detail("ImagePolicy", data.policy)
    automation = detail("ImageUpdateAutomation", data.automation)

    async def timeline(request: Request) -> Response:
        return JSONResponse({"items": [entry.document() for entry in data.timeline()]})

    base = "/api/v1/status"
    return [
        Route(f"{base}/overview", guarded(overview, access), methods=["GET"]),
        Route(f"{base}/policies/{{namespace}}/{{name}}", guarded(policy, access), methods=["GET"]),
        Route(
            f"{base}/automations/{{namespace}}/{{name}}",
            guarded(automation, access),
            methods=["GET"],
        ),
        Route(f"{base}/timeline", guarded(timeline, access), methods=["GET"]),
    ]
