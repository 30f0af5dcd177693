"""The printable pickup receipt (取件凭证) and the public page its QR code opens."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from doorstep.domain.errors import InvalidInput
from doorstep.domain.identity import Role
from doorstep.domain.receipt import MAX_TOKEN_CHARS
from doorstep.entrypoints.web import queries
from doorstep.entrypoints.web.forms import PathId
from doorstep.entrypoints.web.render import WebRoute, render
from doorstep.entrypoints.web.session import Web, page
from doorstep.services import timeline
from doorstep.services.ports import StoredPhoto

router = APIRouter(route_class=WebRoute, include_in_schema=False)
BuyerPage = Annotated[Web, Depends(page(Role.BUYER))]
AnyonePage = Annotated[Web, Depends(page())]
VERIFY_PATH = "/receipt/verify"


def verify_url(web: Web, token: str) -> str:
    """The absolute address the QR code opens (this server, as the buyer reached it)."""
    base = str(web.request.base_url).rstrip("/")
    return f"{base}{VERIFY_PATH}?{urlencode({'t': token})}"


def qr_data_uri(url: str) -> str:
    """The QR code as a PNG data URI, one pixel per module, scaled up crisp by the page
    (``image-rendering: pixelated``): about 1.5 KB where an SVG path was 17 KB, so the receipt
    stays within its HTML budget. Error correction M survives a crease or a smudge on paper."""
    return str(segno.make(url, error="m", micro=False).png_data_uri(scale=1, border=4))


@router.get("/portal/returns/{return_id}/receipt")
def printable(web: BuyerPage, return_id: PathId) -> Response:
    """The receipt to print or keep: items, condition, photos, courier, time, waybill, QR."""
    svc = web.app.services
    found = timeline.receipt(svc, return_id, buyer_id=web.actor_id)  # errors: WebRoute's page
    skus = {sku for sku, _n in found.items} | {sku for sku, _n, _w in found.refused}
    url = verify_url(web, found.token)
    return render(
        web,
        "receipt.html",
        here=f"/portal/returns/{return_id}",
        receipt=found,
        names=queries.product_names(svc, skus),
        verify_url=url,
        qr=qr_data_uri(url),
    )


@router.get(VERIFY_PATH)
def verify(web: AnyonePage, t: Annotated[str, Query(max_length=MAX_TOKEN_CHARS)] = "") -> Response:
    """Anyone holding the receipt sees what doorstep signed, or that it is not genuine."""
    svc = web.app.services
    try:
        facts = timeline.verify_receipt(svc, t)
    except InvalidInput as exc:
        return render(
            web, "receipt_verify.html", status=422, facts=None, problem=web.error_text(exc)
        )
    skus = {sku for sku, _n in facts.items} | {sku for sku, _n in facts.refused}
    return render(
        web,
        "receipt_verify.html",
        facts=facts,
        names=queries.product_names(svc, skus),
        problem=None,
    )


@router.get("/portal/returns/{return_id}/door-photos/{photo_id}")
def door_photo(web: BuyerPage, return_id: PathId, photo_id: PathId) -> Response:
    """A photo the courier took at the buyer's door (receipt, contactless review)."""
    return photo_response(
        timeline.door_photo(web.app.services, return_id, photo_id, buyer_id=web.actor_id)
    )


def photo_response(photo: StoredPhoto) -> Response:
    """A stored photo for one signed-in viewer (never cached by shared caches)."""
    return Response(
        photo.content,
        media_type=photo.media_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )
