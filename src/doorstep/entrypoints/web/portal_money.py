"""Buyer portal: answer a failed QC with text and a photo; file and follow claims
(damage on arrival, counterfeit) (issue 9 §3, §5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from doorstep.domain.claim import ClaimKind
from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.identity import Role
from doorstep.entrypoints.web import queries
from doorstep.entrypoints.web.forms import PathId, read_upload, to_int
from doorstep.entrypoints.web.paging import PageNo, one_page
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import catalog, claims, disputes, photos
from doorstep.services.claims import FileClaim

router = APIRouter(route_class=WebRoute, include_in_schema=False)
BuyerPage = Annotated[Web, Depends(page(Role.BUYER))]
BuyerPost = Annotated[Web, Depends(action(Role.BUYER))]
Photo = Annotated[UploadFile | None, File()]


def _photo(web: Web, upload: UploadFile | None) -> tuple[str, ...]:
    data = read_upload(upload, web.app.settings.max_upload_bytes)
    if data is None:
        return ()
    return (photos.upload_photo(web.app.services, web.actor_id, data).photo_id,)


def dispute_page(
    web: Web, return_id: str, *, error: str | None = None, status: int = 200
) -> Response:
    view = disputes.view_dispute(web.app.services, return_id, buyer_id=web.actor_id)
    return render(
        web,
        "portal_dispute.html",
        status=status,
        d=view.dispute,
        clawback=view.clawback,
        error=error,
    )


@router.get("/portal/returns/{return_id}/dispute")
def show_dispute(web: BuyerPage, return_id: PathId) -> Response:
    """What the warehouse found, what was advanced, and the form to answer it."""
    return dispute_page(web, return_id)


@router.post("/portal/returns/{return_id}/dispute")
def answer_dispute(
    web: BuyerPost,
    return_id: PathId,
    text: Annotated[str, Form(max_length=2000)] = "",
    photo: Photo = None,
) -> Response:
    try:
        shots = _photo(web, photo)
        disputes.answer_dispute(web.app.services, web.actor_id, return_id, text, shots)
    except DomainError as exc:
        return dispute_page(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/portal/returns/{return_id}/dispute")


def claims_page(
    web: Web, *, error: str | None = None, status: int = 200, cp: int = 1, op: int = 1
) -> Response:
    """The claim form over one page of the buyer's orders, and one page of claims, newest
    first."""
    svc = web.app.services
    mine = sorted(catalog.orders_of(svc, web.actor_id), key=lambda o: o.order_id, reverse=True)
    orders = one_page(mine, op, "/portal/claims", "op", {"cp": cp})
    filed = sorted(
        claims.claims_of_buyer(svc, web.actor_id), key=lambda c: c.filed_at, reverse=True
    )
    return render(
        web,
        "portal_claims.html",
        status=status,
        claims=one_page(filed, cp, "/portal/claims", "cp", {"op": op}),
        orders=orders,
        names=queries.product_names(svc, {ln.sku for o in orders.items for ln in o.lines}),
        kinds=(ClaimKind.DAMAGE_ON_ARRIVAL, ClaimKind.COUNTERFEIT),
        error=error,
    )


@router.get("/portal/claims")
def my_claims(web: BuyerPage, cp: PageNo = 1, op: PageNo = 1) -> Response:
    """The buyer's claims with their state (a page at a time), and the form to file one."""
    return claims_page(web, cp=cp, op=op)


@router.post("/portal/claims")
def file_claim(
    web: BuyerPost,
    line: Annotated[str, Form(max_length=130)] = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    quantity: Annotated[str, Form(max_length=6)] = "1",
    text: Annotated[str, Form(max_length=2000)] = "",
    photo: Photo = None,
) -> Response:
    try:
        if kind not in (ClaimKind.DAMAGE_ON_ARRIVAL.value, ClaimKind.COUNTERFEIT.value):
            raise InvalidInput("claim_kind_invalid", "Choose a claim type.", "请选择理赔类型。")
        order_id, _bar, line_id = line.partition("|")
        count = to_int(quantity, web._("Quantity"), low=1, high=10_000)
        claims.file_claim(
            web.app.services,
            FileClaim(
                web.actor_id,
                order_id,
                ClaimKind(kind),
                ((line_id, count),),
                text,
                _photo(web, photo),
            ),
        )
    except DomainError as exc:
        return claims_page(web, error=web.error_text(exc), status=409)
    return see_other(web, "/portal/claims")
