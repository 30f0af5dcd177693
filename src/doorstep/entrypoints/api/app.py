"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from doorstep.adapters.db.engine import database_ready
from doorstep.bootstrap import App
from doorstep.domain.errors import Unavailable
from doorstep.entrypoints.api import (
    auth,
    courier,
    disruptions,
    errors,
    ops,
    partner,
    photos,
    pickup,
    returns,
    warehouse,
)
from doorstep.entrypoints.web import install as install_web


def create_app(wired: App) -> FastAPI:
    """An API over an already wired ``App`` (built by bootstrap, or by tests with fakes)."""
    api = FastAPI(
        title="doorstep",
        version="0.1.0",
        summary="Returns with door-to-door courier pickup for cross-border e-commerce",
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    api.state.doorstep = wired
    errors.install(api)
    for module in (auth, returns, pickup, courier, warehouse, ops, disruptions, partner, photos):
        api.include_router(module.router)

    # Liveness must not depend on the database: a slow or restarting database would otherwise
    # get every process killed by its supervisor. async: no thread hop for a constant answer.
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

    # The server-rendered pages (entrypoints/web) on the same app.
    install_web(api, secure_cookies=wired.settings.secure_cookies)
    return api


def app_from_environment() -> FastAPI:
    """The app of one ``serve --workers N`` process, wired from DOORSTEP_* settings.

    uvicorn imports this by name in each worker; the parent process has already migrated
    (and seeded), so the workers do not race each other through the migrations.
    """
    from doorstep.bootstrap import build
    from doorstep.config import Settings

    return create_app(build(Settings(), run_migrations=False))
