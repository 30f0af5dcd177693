"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from doorstep.bootstrap import App
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

    @api.get("/healthz", tags=["meta"], summary="Liveness and database reachability")
    def healthz() -> dict[str, str]:
        with wired.services.uow() as uow:
            uow.policies.current()
        return {"status": "ok"}

    # The server-rendered pages (entrypoints/web) on the same app.
    install_web(api, secure_cookies=wired.settings.secure_cookies)
    return api
