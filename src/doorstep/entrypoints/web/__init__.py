"""Server-rendered pages: buyer portal, courier page, warehouse page and ops console.

``install(api)`` adds the page routes and ``/static`` to the FastAPI app built by
``entrypoints.api.app.create_app``; the pages call the same services as the JSON API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def install(api: FastAPI, *, secure_cookies: bool | None = None) -> None:
    """Mount the pages on ``api``; ``secure_cookies=None`` sets Secure over https only."""
    # Imported here so that building the API without pages stays as light as before.
    from doorstep.entrypoints.web import (
        auth_pages,
        console,
        courier,
        dashboard,
        portal,
        portal_pickup,
        warehouse,
    )
    from doorstep.entrypoints.web.i18n import load_catalogs
    from doorstep.entrypoints.web.render import make_env
    from doorstep.entrypoints.web.session import WebState

    api.state.web = WebState(make_env(), load_catalogs(), secure_cookies)
    for module in (auth_pages, portal, portal_pickup, courier, warehouse, console, dashboard):
        api.include_router(module.router)
    api.mount("/static", StaticFiles(directory=STATIC), name="web-static")
