"""Warehouse page: scan a parcel, see what the courier found at the door, receive, grade."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.identity import Role
from doorstep.domain.returns import Grade, ReturnRequest
from doorstep.entrypoints.web import queries
from doorstep.entrypoints.web.forms import PathId, QueryText
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import photos, returns, warehouse

router = APIRouter(route_class=WebRoute, include_in_schema=False)
WarehousePage = Annotated[Web, Depends(page(Role.WAREHOUSE))]
WarehousePost = Annotated[Web, Depends(action(Role.WAREHOUSE))]


def _scanned(web: Web, code: str) -> list[ReturnRequest]:
    """What a scan names: a return number (R-…), or the waybill printed on the parcel, under
    which one visit may have sent several returns."""
    svc = web.app.services
    if code.upper().startswith("R-"):
        return [returns.get_return(svc, code)]
    return warehouse.find_waybill(svc, code)


def parcel_page(web: Web, code: str, *, error: str | None = None, status: int = 200) -> Response:
    """The scan field, and the returns the scanned code names."""
    svc = web.app.services
    found: list[ReturnRequest] = []
    # A scanner types the code and presses Enter; surrounding spaces are its noise.
    code = code.strip()
    if code:
        try:
            found = _scanned(web, code)
        except DomainError as exc:
            if error is None:
                error, status = web.error_text(exc), 404
    names = queries.product_names(svc, {ln.sku for r in found for ln in r.lines})
    return render(
        web,
        "warehouse.html",
        status=status,
        here=f"/warehouse?code={code}" if code else "/warehouse",
        return_id=code,
        found=found,
        names=names,
        grades=[g.value for g in Grade],
        error=error,
    )


@router.get("/warehouse")
def find(web: WarehousePage, return_id: QueryText = "", code: QueryText = "") -> Response:
    """``code`` is what the scan field sends; ``return_id`` what links and redirects send."""
    return parcel_page(web, code or return_id)


@router.get("/warehouse/photos/{photo_id}")
def door_photo(web: WarehousePage, photo_id: PathId) -> Response:
    """A door photo for the receiving desk (photos are private: staff and their owner)."""
    photo = photos.get_photo(web.app.services, photo_id)
    return Response(
        photo.content,
        media_type=photo.media_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.post("/warehouse/parcels/{return_id}/receive")
def receive(web: WarehousePost, return_id: PathId) -> Response:
    try:
        warehouse.receive(web.app.services, web.actor_id, return_id)
    except DomainError as exc:
        return parcel_page(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/warehouse?return_id={return_id}")


@router.post("/warehouse/parcels/{return_id}/grade")
def grade(
    web: WarehousePost,
    return_id: PathId,
    grade: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """QC grade; a good grade refunds, a bad one opens a dispute."""
    try:
        try:
            chosen = Grade(grade)
        except ValueError:
            raise InvalidInput("choose_grade", "Choose a grade.", "请选择质检等级。") from None
        warehouse.grade(web.app.services, web.actor_id, return_id, chosen, note.strip())
    except DomainError as exc:
        return parcel_page(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/warehouse?return_id={return_id}")
