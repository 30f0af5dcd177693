"""Courier page: today's visits in order; arrive, inspect with a photo, code → waybill, fail."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from doorstep.domain import bounds
from doorstep.domain.address import Address
from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.identity import Role
from doorstep.domain.pickup import FailureReason
from doorstep.entrypoints.web import labels, queries
from doorstep.entrypoints.web.forms import PathId, optional_int, read_upload
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import courier, photos

router = APIRouter(route_class=WebRoute, include_in_schema=False)
CourierPage = Annotated[Web, Depends(page(Role.COURIER))]
CourierPost = Annotated[Web, Depends(action(Role.COURIER))]
Box = Annotated[str | None, Form()]


# Open visits first: the next stop leads the page; finished ones go to the bottom.
_FINISHED = ("completed", "failed", "cancelled")


def tasks_page(
    web: Web,
    *,
    error: str | None = None,
    status: int = 200,
    kept_photos: dict[str, str] | None = None,
) -> Response:
    """The day's route with the next stop on top, opened; finished visits folded below."""
    svc = web.app.services
    # Window order from the service; inside a window, the planned route's order.
    tasks = sorted(
        courier.todays_tasks(svc, web.actor_id),
        key=lambda a: (
            a.slot.window.start,
            a.route_position if a.route_position is not None else 1_000_000,
        ),
    )
    ids = [rid for t in tasks for rid in t.return_ids]
    found = queries.returns_of_many(svc, ids)
    names = queries.product_names(svc, {ln.sku for r in found.values() for ln in r.lines})
    return render(
        web,
        "courier.html",
        status=status,
        here="/courier",
        open_tasks=[t for t in tasks if t.status.value not in _FINISHED],
        done_tasks=[t for t in tasks if t.status.value in _FINISHED],
        total=len(tasks),
        found=found,
        names=names,
        checklist=courier.CHECKLIST,
        failures=[r.value for r in FailureReason],
        kept_photos=kept_photos or {},
        map_link=map_link,
        error=error,
    )


def map_link(address: Address) -> str:
    """A link the phone's map app opens (Amap's public URI API): the pin when the address
    has coordinates, otherwise a search for the address."""
    label = f"{address.city}{address.district}{address.detail}"
    if address.lat is not None and address.lon is not None:
        query = {"position": f"{address.lon},{address.lat}", "name": label, "callnative": "1"}
        return "https://uri.amap.com/marker?" + urlencode(query)
    return "https://uri.amap.com/search?" + urlencode({"keyword": label, "callnative": "1"})


@router.get("/courier")
def today(web: CourierPage) -> Response:
    return tasks_page(web)


def _done(web: Web, appointment_id: str, exc: DomainError | None) -> Response:
    if exc is not None:
        status = 422 if isinstance(exc, InvalidInput) else 409
        return tasks_page(web, error=web.error_text(exc), status=status)
    return see_other(web, f"/courier#v-{appointment_id}")


@router.post("/courier/visits/{appointment_id}/arrive")
def arrive(web: CourierPost, appointment_id: PathId) -> Response:
    try:
        courier.arrive(web.app.services, web.actor_id, appointment_id)
    except DomainError as exc:
        return _done(web, appointment_id, exc)
    return _done(web, appointment_id, None)


@router.post("/courier/visits/{appointment_id}/inspect")
def inspect(
    web: CourierPost,
    appointment_id: PathId,
    return_id: Annotated[str, Form(max_length=64)] = "",
    weight_g: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
    outer_packaging: Box = None,
    plastic_wrap_intact: Box = None,
    original_box_present: Box = None,
    original_box_undamaged: Box = None,
    unused: Box = None,
    barcode_matches: Box = None,
    appearance_ok: Box = None,
    accessories_complete: Box = None,
    all_ok: Box = None,
    photo_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Record the checklist, a photo taken at the door and the weight on the scale.

    ``all_ok`` ticks every item in one tap; ``photo_id`` reuses the photo uploaded on a
    refused attempt at this door, so it need not be taken again."""
    ticked = {
        "outer_packaging": outer_packaging,
        "plastic_wrap_intact": plastic_wrap_intact,
        "original_box_present": original_box_present,
        "original_box_undamaged": original_box_undamaged,
        "unused": unused,
        "barcode_matches": barcode_matches,
        "appearance_ok": appearance_ok,
        "accessories_complete": accessories_complete,
    }
    svc = web.app.services
    answers = {k: all_ok is not None or v is not None for k, v in ticked.items()}
    try:
        weight = optional_int(weight_g, web._("Weight (g)"), low=1, high=100_000)
        data = read_upload(photo, web.app.settings.max_upload_bytes)
        if data is not None:
            photo_id = photos.upload_photo(svc, web.actor_id, data).photo_id
        elif not photo_id.strip():
            raise InvalidInput(
                "inspection_photo_required",
                "At least one inspection photo is needed.",
                "验货至少需要一张照片。",
            )
        result = courier.inspect(
            svc,
            web.actor_id,
            appointment_id,
            courier.InspectionInput(
                return_id,
                answers,
                (photo_id,),
                weight,
                note.strip(),
            ),
        )
    except DomainError as exc:
        return _done(web, appointment_id, exc)
    if result.result.value != "passed":
        # Only what was answered "no" is named; the photo stays for the next try.
        failed = [k for k, ok in result.checklist.items() if not ok]
        sep = "，" if web.lang == "zh_CN" else ", "
        named = sep.join(web._(labels.CHECKLIST.get(k, k)) for k in failed)
        return tasks_page(
            web,
            error=web._("Not accepted. Not as expected: %(items)s.") % {"items": named},
            kept_photos={return_id: photo_id},
        )
    return _done(web, appointment_id, None)


@router.post("/courier/visits/{appointment_id}/pickup")
def pick_up(
    web: CourierPost, appointment_id: PathId, pickup_code: Annotated[str, Form(max_length=12)] = ""
) -> Response:
    """The buyer's code matches: the parcel leaves with a waybill, shown on the page."""
    try:
        code = pickup_code.strip()
        if not bounds.is_pickup_code(code):
            raise InvalidInput(
                "pickup_code_format",
                "The pickup code is 6 digits (0-9).",
                "取件码为 6 位数字（0-9）。",
            )
        courier.pick_up(web.app.services, web.actor_id, appointment_id, code)
    except DomainError as exc:
        return _done(web, appointment_id, exc)
    return _done(web, appointment_id, None)


@router.post("/courier/visits/{appointment_id}/fail")
def fail(
    web: CourierPost,
    appointment_id: PathId,
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """A failed attempt with its reason; the buyer is asked to pick a new window."""
    try:
        try:
            why = FailureReason(reason)
        except ValueError:
            raise InvalidInput(
                "choose_failure_reason", "Choose a reason.", "请选择失败原因。"
            ) from None
        courier.fail_attempt(web.app.services, web.actor_id, appointment_id, why, note.strip())
    except DomainError as exc:
        return _done(web, appointment_id, exc)
    return _done(web, appointment_id, None)
