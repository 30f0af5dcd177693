"""Every request: an id, one log line, one latency sample; and ``/metrics``.

``RequestObserver`` is plain ASGI (no ``BaseHTTPMiddleware``: that runs the app in another
task, costs a task per request and hides context variables set inside). It takes the caller's
``X-Request-ID`` when it is a short run of safe characters, else makes one, returns it in the
response and binds it into structlog's context, so every line logged for the request carries
it. The route's ``return_id`` / ``appointment_id`` are bound by ``bind_route_ids``, an
app-wide dependency, as soon as the route is known.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorstep.adapters.observability import metrics

HEADER = "x-request-id"
# Long enough for a UUID, a W3C trace id or an AWS trace header; nothing that could break a
# header, a console log line or a log query (no spaces, quotes, control characters).
_SAFE_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
ROUTE_IDS = ("return_id", "appointment_id")
UNMATCHED = "unmatched"
# A log line stays a line: what the client chose is cut to a sane length.
_LOGGED_CHARS = 64
_LOGGED_PATH_CHARS = 512

log = structlog.get_logger("doorstep.request")


def request_id(offered: str | None) -> str:
    """The caller's id when it is safe to echo and log, else a new one."""
    if offered is not None and _SAFE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def route_label(scope: Scope, path: str, plain: Sequence[BaseRoute] = ()) -> str:
    """The matched route's template (``/returns/{return_id}``), never the raw path: one
    series per route however many ids are asked for; everything unmatched shares one.

    FastAPI records the route it chose in the scope; for the plain Starlette routes and
    mounts in ``plain`` (``/openapi.json``, ``/static``) the path is matched here."""
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str):
        return template
    for route in plain:
        if route.path_regex.match(path):  # type: ignore[attr-defined]
            return str(route.path_format)  # type: ignore[attr-defined]
    return UNMATCHED


def plain_routes(app: object) -> list[BaseRoute]:
    """The routes of ``app`` that FastAPI does not record in the scope."""
    routes = getattr(app, "routes", [])
    return [r for r in routes if isinstance(r, Route | Mount) and not isinstance(r, APIRoute)]


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


class RequestObserver:
    """ASGI middleware: request id in and out, a log line and a latency sample per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.plain: list[BaseRoute] | None = None  # read from the app at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered = value.decode("latin-1")
                break
        rid = request_id(offered)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(HEADER, rid)
            await send(message)

        if self.plain is None:
            self.plain = plain_routes(scope.get("app"))
        path = scope["path"]
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope, path, self.plain)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            metrics.REQUEST_SECONDS.labels(method, route, _status_class(status)).observe(seconds)
            params = scope.get("path_params") or {}
            log.info(
                "request",
                method=scope["method"][:_LOGGED_CHARS],
                path=path[:_LOGGED_PATH_CHARS],
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
                **{k: str(params[k])[:_LOGGED_CHARS] for k in ROUTE_IDS if k in params},
            )


async def bind_route_ids(request: Request) -> None:
    """Bind the route's return / appointment id for everything the request logs after
    routing (async: it runs in the request's own context, which the endpoint inherits)."""
    ids = {k: str(v)[:_LOGGED_CHARS] for k, v in request.path_params.items() if k in ROUTE_IDS}
    if ids:
        structlog.contextvars.bind_contextvars(**ids)


def install(api: FastAPI) -> None:
    """Add the middleware and ``/metrics`` (Prometheus text; no database involved)."""
    api.add_middleware(RequestObserver)

    @api.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)
