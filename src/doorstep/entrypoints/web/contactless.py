"""Contactless pickup pages: the buyer confirms or disputes, ops decide disputes with both
sides' evidence (the courier's photos and weight, the buyer's text and photos)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from doorstep.domain.errors import InvalidInput
from doorstep.domain.identity import Role
from doorstep.domain.pickup import DisputeOutcome
from doorstep.entrypoints.web import queries
from doorstep.entrypoints.web.forms import PathId, read_upload
from doorstep.entrypoints.web.receipts import photo_response
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import contactless, photos

router = APIRouter(route_class=WebRoute, include_in_schema=False)
BuyerPost = Annotated[Web, Depends(action(Role.BUYER))]
OpsPage = Annotated[Web, Depends(page(Role.OPS))]
OpsPost = Annotated[Web, Depends(action(Role.OPS))]


@router.post("/portal/appointments/{appointment_id}/contactless/confirm")
def confirm(web: BuyerPost, appointment_id: PathId) -> Response:
    """The buyer accepts the courier's photos and weight."""
    appt = contactless.confirm_contactless(web.app.services, web.actor_id, appointment_id)
    return see_other(web, f"/portal/returns/{appt.return_ids[0]}#contactless")


@router.post("/portal/appointments/{appointment_id}/contactless/dispute")
def dispute(
    web: BuyerPost,
    appointment_id: PathId,
    text: Annotated[str, Form(max_length=2000)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The buyer disputes, with a text and optionally a photo of their own."""
    svc = web.app.services
    data = read_upload(photo, web.app.settings.max_upload_bytes)
    shot = (photos.upload_photo(svc, web.actor_id, data).photo_id,) if data else ()
    appt = contactless.dispute_contactless(svc, web.actor_id, appointment_id, text, shot)
    return see_other(web, f"/portal/returns/{appt.return_ids[0]}#contactless")


@router.get("/console/contactless")
def queue(web: OpsPage) -> Response:
    """Disputed contactless pickups, oldest first, each with both sides' evidence."""
    svc = web.app.services
    found = contactless.disputed_pickups(svc)
    skus = {ln.sku for d in found for r in d.returns for ln in r.lines}
    return render(
        web,
        "console_contactless.html",
        here="/console/contactless",
        disputes=found,
        names=queries.product_names(svc, skus),
        outcomes=[o.value for o in DisputeOutcome],
    )


@router.post("/console/contactless/{appointment_id}/resolve")
def resolve(
    web: OpsPost,
    appointment_id: PathId,
    outcome: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Ops decide: the courier's evidence stands, or the buyer's."""
    try:
        decided = DisputeOutcome(outcome)
    except ValueError:
        raise InvalidInput(
            "choose_outcome", "Choose whose account stands.", "请选择采信哪一方。"
        ) from None
    contactless.resolve_contactless(web.app.services, web.actor_id, appointment_id, decided, note)
    return see_other(web, "/console/contactless")


@router.get("/console/photos/{photo_id}")
def evidence_photo(web: OpsPage, photo_id: PathId) -> Response:
    """Any stored photo, for ops weighing a dispute (couriers' and buyers' alike)."""
    return photo_response(photos.get_photo(web.app.services, photo_id))
