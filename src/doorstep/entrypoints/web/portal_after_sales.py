"""Buyer pages of exchanges, drop-off and self-ship (issue 9 §6, §8): where to send the parcel
and who pays the freight, the stations near the buyer with a drop-off code and its QR, the
replacement of an exchange with its tracking, and a refund instead."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from markupsafe import Markup

from doorstep.domain.errors import DomainError, NotFound
from doorstep.domain.identity import Role
from doorstep.entrypoints.api.after_sales import qr_svg
from doorstep.entrypoints.web.forms import PathId
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import exchanges, self_send, timeline

router = APIRouter(route_class=WebRoute, include_in_schema=False)
BuyerPage = Annotated[Web, Depends(page(Role.BUYER))]
BuyerPost = Annotated[Web, Depends(action(Role.BUYER))]


def guide_page(
    web: Web, return_id: str, *, error: str | None = None, status: int = 200
) -> Response:
    guide = self_send.guide(web.app.services, web.actor_id, return_id)
    qr = Markup(qr_svg(guide.dropoff.code, guide.dropoff.station_id)) if guide.dropoff else None
    return render(
        web,
        "portal_self_send.html",
        status=status,
        here="/",
        g=guide,
        qr=qr,
        error=error,
    )


@router.get("/portal/returns/{return_id}/send-yourself")
def show_guide(web: BuyerPage, return_id: PathId) -> Response:
    """The return warehouse's address, who pays the freight, stations near me, my code."""
    return guide_page(web, return_id)


@router.post("/portal/returns/{return_id}/dropoff-code")
def get_code(
    web: BuyerPost, return_id: PathId, station_id: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """A drop-off code for the chosen station."""
    try:
        self_send.issue_dropoff_code(web.app.services, web.actor_id, return_id, station_id)
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.code == "return_request_not_found":
            raise
        return guide_page(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/portal/returns/{return_id}/send-yourself")


def exchange_page(
    web: Web, return_id: str, *, error: str | None = None, status: int = 200
) -> Response:
    svc = web.app.services
    exchange = exchanges.get_exchange(svc, return_id, buyer_id=web.actor_id)
    tracking = [
        e
        for e in timeline.timeline(svc, return_id, buyer_id=web.actor_id)
        if e.name.startswith("exchange.")
    ]
    return render(
        web,
        "portal_exchange.html",
        status=status,
        here="/",
        x=exchange,
        tracking=tracking,
        error=error,
    )


@router.get("/portal/returns/{return_id}/exchange")
def show_exchange(web: BuyerPage, return_id: PathId) -> Response:
    """The replacement: reserved, shipped (waybill and tracking), done."""
    return exchange_page(web, return_id)


@router.post("/portal/returns/{return_id}/refund-instead")
def refund_instead(web: BuyerPost, return_id: PathId) -> Response:
    """Take a refund instead of the replacement while it has not shipped."""
    try:
        exchanges.refund_instead(web.app.services, web.actor_id, return_id)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return exchange_page(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/portal/returns/{return_id}")
