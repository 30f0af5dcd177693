"""Courier page: today's visits in order; arrive, inspect with a photo, code → waybill, fail."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from doorstep.domain import bounds
from doorstep.domain.address import Address
from doorstep.domain.errors import DomainError, InvalidInput, NotFound
from doorstep.domain.identity import Role
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.pickup import FailureReason
from doorstep.entrypoints.web import labels, queries
from doorstep.entrypoints.web.forms import PathId, optional_int, read_upload
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import courier, photos

router = APIRouter(route_class=WebRoute, include_in_schema=False)
CourierPage = Annotated[Web, Depends(page(Role.COURIER))]
CourierPost = Annotated[Web, Depends(action(Role.COURIER))]


# Open visits first: the stop in hand leads the page; finished ones are folded at the bottom.
_FINISHED = ("completed", "failed", "cancelled")


def tasks_page(
    web: Web,
    *,
    focus: str | None = None,
    error: str | None = None,
    status: int = 200,
    kept_photos: dict[str, str] | None = None,
) -> Response:
    """The day's route: the stop in hand in full (the one the courier arrived at, else the
    next), every other stop as a one-line row that opens it; ``focus`` shows that one stop
    alone (the per-stop view). Only the stop shown in full reads its returns, so the page
    stays light however long the day."""
    svc = web.app.services
    # Window order from the service; inside a window, the planned route's order.
    tasks = sorted(
        courier.todays_tasks(svc, web.actor_id),
        key=lambda a: (
            a.slot.window.start,
            a.route_position if a.route_position is not None else 1_000_000,
        ),
    )
    open_tasks = [t for t in tasks if t.status.value not in _FINISHED]
    arrived = [t for t in open_tasks if t.status.value == "arrived"]
    top = (arrived or open_tasks)[0] if open_tasks else None
    hand = top
    if focus is not None:
        hand = next((t for t in tasks if t.appointment_id == focus), None)
        if hand is None and error is None:
            raise NotFound("appointment", focus)
        # A form's error about a stop not on today's route: the day's page says it.
        focus = focus if hand is not None else None
        hand = hand or top
    ids = list(hand.return_ids) if hand else []
    found = queries.returns_of_many(svc, ids)
    names = queries.product_names(svc, {ln.sku for r in found.values() for ln in r.lines})
    checks: dict[str, list[courier.LineChecklist]] = {}
    for c in courier.checklists_of(svc, list(found.values())):
        checks.setdefault(c.return_id, []).append(c)
    return render(
        web,
        "courier.html",
        status=status,
        here="/courier",
        hand=hand,
        single=focus is not None,
        is_next=hand is not None and hand is top,
        numbers={t.appointment_id: i for i, t in enumerate(tasks, 1)},
        later=[t for t in open_tasks if t is not hand],
        done_tasks=[t for t in tasks if t.status.value in _FINISHED and t is not hand],
        left=len(open_tasks),
        total=len(tasks),
        found=found,
        names=names,
        checks=checks,
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


@router.get("/courier/visits/{appointment_id}")
def one_stop(web: CourierPage, appointment_id: PathId) -> Response:
    """One stop of today's route in full, opened from its row on the day's page."""
    return tasks_page(web, focus=appointment_id)


def _done(web: Web, appointment_id: str, exc: DomainError | None) -> Response:
    if exc is not None:
        status = 422 if isinstance(exc, InvalidInput) else 409
        return tasks_page(web, focus=appointment_id, error=web.error_text(exc), status=status)
    return see_other(web, f"/courier#v-{appointment_id}")


@router.post("/courier/visits/{appointment_id}/arrive")
def arrive(web: CourierPost, appointment_id: PathId) -> Response:
    try:
        courier.arrive(web.app.services, web.actor_id, appointment_id)
    except DomainError as exc:
        return _done(web, appointment_id, exc)
    return _done(web, appointment_id, None)


@router.post("/courier/visits/{appointment_id}/inspect")
async def inspect(request: Request, web: CourierPost, appointment_id: PathId) -> Response:
    """Record every unit's checks, scanned code and photos, and the weight on the scale.

    ``all_ok`` ticks every item of every unit in one tap; ``photo_id`` reuses the photo
    uploaded on a refused attempt at this door, so it need not be taken again."""
    form = await request.form()  # already read (and cached) by the CSRF check
    try:
        return await run_in_threadpool(_inspect, web, appointment_id, form)
    finally:
        await form.close()  # the uploads' spooled files: nothing else closes them


def _inspect(web: Web, appointment_id: str, form: FormData) -> Response:
    svc = web.app.services
    return_id = _text(form, "return_id", 64)
    shared: tuple[str, ...] = ()
    try:
        weight = optional_int(_text(form, "weight_g", 10), web._("Weight (g)"), low=1, high=100_000)
        limit = web.app.settings.max_upload_bytes
        lines = courier.visit_checklists(svc, web.actor_id, appointment_id)
        # A contactless visit is inspected by photos and weight alone: no unit answers.
        answers = tuple(
            courier.LineAnswer(
                c.order_line_id,
                tuple(_unit(web, form, c, n, limit) for n in range(1, c.quantity + 1)),
            )
            for c in lines
            if c.return_id == return_id and "contactless" not in form
        )
        kept = _text(form, "photo_id", 64).strip()
        shared = _photo(web, form, "photo", limit) or ((kept,) if kept else ())
        result = courier.inspect(
            svc,
            web.actor_id,
            appointment_id,
            courier.InspectionInput(
                return_id, {}, shared, weight, _text(form, "note", 500).strip(), answers
            ),
        )
    except DomainError as exc:
        return _done(web, appointment_id, exc)
    if result.refusal_reason:
        # Only what was answered "no" (or scanned wrong) is named; the photo stays.
        sep = "，" if web.lang == "zh_CN" else ", "
        named = sep.join(
            web._(labels.CHECKLIST.get(k, k)) for k in result.refusal_reason.split(",")
        )
        head = (
            web._("Not accepted. Not as expected: %(items)s.")
            if result.result.value != "passed"
            else web._("Some units were refused and stay with the buyer: %(items)s.")
        )
        return tasks_page(
            web,
            focus=appointment_id,
            error=head % {"items": named},
            kept_photos={return_id: shared[0]} if shared else {},
        )
    return _done(web, appointment_id, None)


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _photo(web: Web, form: FormData, name: str, limit: int) -> tuple[str, ...]:
    upload = form.get(name)
    if not isinstance(upload, StarletteUpload):
        return ()
    data = read_upload(upload, limit)  # type: ignore[arg-type]
    if data is None:
        return ()
    return (photos.upload_photo(web.app.services, web.actor_id, data).photo_id,)


def _unit(web: Web, form: FormData, c: courier.LineChecklist, n: int, limit: int) -> UnitAnswer:
    """One unit's fields: ``u|line|n|check`` boxes, ``code|line|n``, ``photo|line|n``."""
    scanned = c.code_required and c.code_check
    every = "all_ok" in form
    checks = {
        k.key: every or f"u|{c.order_line_id}|{n}|{k.key}" in form
        for k in c.checks
        if k.key != scanned
    }
    code = _text(form, f"code|{c.order_line_id}|{n}", 40).strip() or None
    return UnitAnswer(checks, code, _photo(web, form, f"photo|{c.order_line_id}|{n}", limit))


@router.post("/courier/visits/{appointment_id}/pickup")
def pick_up(
    web: CourierPost, appointment_id: PathId, pickup_code: Annotated[str, Form(max_length=12)] = ""
) -> Response:
    """The buyer's code matches: the parcel leaves with a waybill, shown on the page."""
    try:
        # Blank on a contactless visit (nobody is at the door to give one).
        code = pickup_code.strip() or None
        if code is not None and not bounds.is_pickup_code(code):
            raise InvalidInput(
                "pickup_code_format",
                "The pickup code is 6 digits (0-9).",
                "取件码为 6 位数字（0-9）。",
            )
        courier.pick_up(web.app.services, web.actor_id, appointment_id, code)
    except DomainError as exc:
        return _done(web, appointment_id, exc)
    # The stop itself, with the waybill to write on the parcel, and the way to the next one.
    return see_other(web, f"/courier/visits/{appointment_id}")


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
    # The stop as recorded (reason and note), and the way to the next one.
    return see_other(web, f"/courier/visits/{appointment_id}")
