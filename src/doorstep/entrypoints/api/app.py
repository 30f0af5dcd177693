"""The FastAPI application factory."""

from __future__ import annotations

import anyio
from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.gzip import GZipMiddleware

from doorstep.adapters.db.engine import database_ready
from doorstep.bootstrap import App
from doorstep.domain.errors import Unavailable
from doorstep.entrypoints.api import (
    after_sales,
    auth,
    auth_users,
    carriers,
    claims,
    contactless,
    courier,
    disputes,
    disruptions,
    errors,
    observe,
    ops,
    outbox,
    partner,
    photos,
    pickup,
    returns,
    tracking,
    transfers,
    warehouse,
)
from doorstep.entrypoints.api.body_limit import BodyLimit
from doorstep.entrypoints.web import install as install_web

DOCS_ASSETS = "/docs-assets"
BODY_OVERHEAD = 1_000_000
"""Bytes a request may carry beyond the largest photo: multipart framing, form fields, and
partner import batches (1,000 orders of a few hundred bytes each)."""


def create_app(wired: App) -> FastAPI:
    """An API over an already wired ``App`` (built by bootstrap, or by tests with fakes)."""
    max_body = wired.settings.max_upload_bytes + BODY_OVERHEAD
    # FastAPIOffline serves Swagger UI from files in its package, not from a CDN: /docs works
    # on a machine without internet access. ReDoc is off: its bundle still fetches a logo
    # from its CDN, and one documentation page is enough.
    api = FastAPIOffline(
        title="doorstep",
        version="0.1.0",
        summary="Returns with door-to-door courier pickup for cross-border e-commerce",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        static_url=DOCS_ASSETS,
        # Swagger UI would otherwise send the spec's address to an online validator.
        swagger_ui_parameters={"validatorUrl": None},
        # Every route binds its return / appointment id into the log context.
        dependencies=[Depends(observe.bind_route_ids)],
    )
    api.add_middleware(BodyLimit, max_bytes=max_body)
    # Pages, JSON and the stylesheet shrink to a quarter on a phone's connection; small
    # answers (healthz, redirects) are left alone.
    api.add_middleware(GZipMiddleware, minimum_size=1000)
    api.state.doorstep = wired
    # Threads for photo uploads, apart from the pool that serves every other sync endpoint.
    api.state.image_slots = anyio.CapacityLimiter(wired.settings.image_workers)
    errors.install(api)
    observe.install(api)

    # Liveness must not depend on the database: a slow or restarting database would otherwise
    # get every process killed by its supervisor. async: no thread hop for a constant answer.
    # Registered before the routers: routes match in order, and trying the ~50 API routes
    # first cost more than the answer itself (healthz at half a bare FastAPI app's rate).
    @api.get("/healthz", tags=["meta"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get(
        "/readyz",
        tags=["meta"],
        summary="Readiness: the database answers one trivial query",
        responses={503: {"description": "The database does not answer"}},
    )
    def readyz() -> dict[str, str]:
        if not database_ready(wired.engine):
            raise Unavailable(
                "database_unavailable",
                "The database does not answer; try again shortly.",
                "数据库暂时无法访问，请稍后重试。",
            )
        return {"status": "ok"}

    for module in (
        auth,
        returns,
        pickup,
        courier,
        warehouse,
        ops,
        outbox,
        disruptions,
        partner,
        photos,
        after_sales,
    ):
        api.include_router(module.router, responses=errors.RESPONSES)
    api.include_router(auth_users.router, responses=errors.RESPONSES)
    api.include_router(carriers.router, responses=errors.RESPONSES)
    api.include_router(tracking.router, responses=errors.RESPONSES)
    api.include_router(contactless.router, responses=errors.RESPONSES)
    for money in (claims, disputes):  # issue 9 §3, §5
        api.include_router(money.router, responses=errors.RESPONSES)
    api.include_router(transfers.router, responses=errors.RESPONSES)

    # The server-rendered pages (entrypoints/web) on the same app.
    install_web(api, secure_cookies=wired.settings.secure_cookies)
    return api


def app_from_environment() -> FastAPI:
    """The app of one ``serve --workers N`` process, wired from DOORSTEP_* settings.

    uvicorn imports this by name in each worker; the parent process has already migrated
    (and seeded), so the workers do not race each other through the migrations.
    """
    from doorstep.bootstrap import build, configure_logging
    from doorstep.config import Settings

    settings = Settings()
    configure_logging(settings)
    return create_app(build(settings, run_migrations=False))
