"""Server-rendered pages: buyer portal, courier page, warehouse page and ops console.

``install(api)`` adds the page routes and ``/static`` to the FastAPI app built by
``entrypoints.api.app.create_app``; the pages call the same services as the JSON API.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def install(api: FastAPI, *, secure_cookies: bool | None = None) -> None:
    """Mount the pages on ``api``; ``secure_cookies=None`` sets Secure over https only."""
    # Imported here so that building the API without pages stays as light as before.
    from doorstep.entrypoints.web import (
        auth_pages,
        console,
        console_customs,
        console_money,
        console_outbox,
        console_overtaken,
        console_transfers,
        contactless,
        courier,
        dashboard,
        portal,
        portal_after_sales,
        portal_money,
        portal_pickup,
        receipts,
        station,
        warehouse,
    )
    from doorstep.entrypoints.web.i18n import load_catalogs
    from doorstep.entrypoints.web.render import make_env
    from doorstep.entrypoints.web.session import WebState

    api.state.web = WebState(make_env(), load_catalogs(), secure_cookies)
    for module in (
        auth_pages,
        portal,
        portal_pickup,
        courier,
        warehouse,
        console,
        dashboard,
        console_outbox,
        portal_after_sales,
        console_customs,
    ):
        api.include_router(module.router)
    api.include_router(receipts.router)  # the receipt and its public verification page
    api.include_router(contactless.router)  # confirm/dispute a contactless pickup; ops queue
    api.include_router(station.router)  # a drop-off station's desk
    for money in (portal_money, console_money):  # issue 9 §3, §5
        api.include_router(money.router)
    api.include_router(console_transfers.router)  # transfers given up, sent again
    api.include_router(console_overtaken.router)  # pickups that overtook a cancel
    api.mount("/static", StaticFiles(directory=STATIC), name="web-static")
    api.add_api_route("/favicon.ico", favicon, include_in_schema=False)


@lru_cache(maxsize=1)
def _icon() -> bytes:
    """A parcel on doorstep blue, drawn once with Pillow (no third-party artwork)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 31, 31), radius=6, fill=(29, 78, 216, 255))
    draw.rectangle((7, 11, 24, 25), fill=(255, 255, 255, 255))
    draw.polygon([(7, 11), (11, 6), (28, 6), (24, 11)], fill=(191, 219, 254, 255))
    draw.line((15, 11, 15, 18), fill=(29, 78, 216, 255), width=3)
    buf = io.BytesIO()
    image.save(buf, format="ICO", sizes=[(32, 32)])
    return buf.getvalue()


async def favicon() -> Response:
    """Browsers ask for /favicon.ico on every site; answer with our icon, not a 404."""
    return Response(
        _icon(), media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"}
    )
