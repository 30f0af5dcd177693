"""Buyer portal: orders, pre-check, opening a return, its decision, timeline and receipt."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from doorstep.domain import bounds
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.events import Event
from doorstep.domain.identity import Role
from doorstep.domain.order import Order
from doorstep.domain.refund_amount import RefundQuote
from doorstep.domain.returns import CANCELLABLE, Condition, Reason, ReturnKind, ReturnRequest
from doorstep.entrypoints.web import labels, queries
from doorstep.entrypoints.web.forms import PathId, QueryText, read_upload, to_int
from doorstep.entrypoints.web.i18n import money, when
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import catalog, photos, pickup, returns, timeline
from doorstep.services import precheck as precheck_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)
BuyerPage = Annotated[Web, Depends(page(Role.BUYER))]
BuyerPost = Annotated[Web, Depends(action(Role.BUYER))]

# Condition checkboxes: an unchecked box is simply absent from the form.
CONDITION_FIELDS = tuple(labels.CONDITION)


@router.get("/")
def home(web: BuyerPage) -> Response:
    """My returns and my orders, each line with a "return this" action, and the pre-check."""
    svc = web.app.services
    orders = catalog.orders_of(svc, web.actor_id)
    mine = returns.returns_of(svc, web.actor_id)
    skus = {ln.sku for o in orders for ln in o.lines} | {ln.sku for r in mine for ln in r.lines}
    return render(
        web,
        "portal_home.html",
        orders=orders,
        returns=mine,
        names=queries.product_names(svc, skus),
        areas=catalog.list_areas(svc),
    )


@router.get("/portal/precheck")
def precheck(
    web: BuyerPage, sku: QueryText = "", adcode: QueryText = "", order_id: QueryText = ""
) -> Response:
    """Does door pickup work for this SKU at this district, until when, and why (not)."""
    svc = web.app.services
    result, error = None, None
    if sku and adcode:
        try:
            result = precheck_service.precheck(
                svc, sku.strip(), adcode.strip(), buyer_id=web.actor_id, order_id=order_id or None
            )
        except DomainError as exc:
            error = web.error_text(exc)
    orders = catalog.orders_of(svc, web.actor_id)
    skus = {ln.sku for o in orders for ln in o.lines}
    return render(
        web,
        "portal_precheck.html",
        status=200 if error is None else 404,
        result=result,
        error=error,
        sku=sku,
        adcode=adcode,
        order_id=order_id,
        orders=orders,
        names=queries.product_names(svc, skus | ({sku} if sku else set())),
        areas=catalog.list_areas(svc),
    )


def _new_form(
    web: Web,
    order_id: str,
    line_id: str,
    *,
    error: str | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
    quote: RefundQuote | None = None,
) -> Response:
    svc = web.app.services
    order = next((o for o in catalog.orders_of(svc, web.actor_id) if o.order_id == order_id), None)
    if order is None:
        raise InvalidInput("order_not_found", "Choose one of your orders.", "请选择您自己的订单。")
    names = queries.product_names(svc, {ln.sku for ln in order.lines})
    return render(
        web,
        "portal_new.html",
        status=status,
        here=f"/portal/returns/new?order_id={order_id}&line_id={line_id}",
        order=order,
        line_id=line_id,
        names=names,
        line_names=line_names(web, order, names),
        quote=quote,
        reasons=[r.value for r in Reason],
        kinds=[k.value for k in ReturnKind],
        condition_fields=CONDITION_FIELDS,
        defaults=Condition(),
        values=values or {},
        error=error,
    )


@router.get("/portal/returns/new")
def new_return(web: BuyerPage, order_id: QueryText = "", line_id: QueryText = "") -> Response:
    return _new_form(web, order_id, line_id)


Box = Annotated[str | None, Form()]


@dataclass(frozen=True)
class ReturnForm:
    """The new-return form as posted: one line of one order, its reason and condition."""

    order_id: str
    line_id: str
    kind: str
    quantity: str
    reason: str
    note: str
    ticked: dict[str, bool]

    @property
    def values(self) -> dict[str, Any]:
        """What to show again in the form."""
        shown = {"kind": self.kind, "quantity": self.quantity, "reason": self.reason}
        return shown | {"note": self.note} | {n: "on" for n, on in self.ticked.items() if on}

    def command(self, web: Web, photo_ids: tuple[str, ...] = ()) -> returns.OpenReturn:
        """The return asked for, or InvalidInput for a missing reason or a bad quantity."""
        try:
            chosen_reason, chosen_kind = Reason(self.reason), ReturnKind(self.kind)
        except ValueError:
            raise InvalidInput("choose_reason", "Choose a reason.", "请选择退货原因。") from None
        count = to_int(self.quantity, web._("Quantity"), low=1, high=999)
        line = returns.LineRequest(
            self.line_id, count, chosen_reason, Condition(**self.ticked), self.note.strip()
        )
        return returns.OpenReturn(
            buyer_id=web.actor_id,
            order_id=self.order_id,
            kind=chosen_kind,
            lines=(line,),
            photo_ids=photo_ids,
            note=self.note,
        )


def return_form(
    order_id: Annotated[str, Form(max_length=64)] = "",
    line_id: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=20)] = "refund",
    quantity: Annotated[str, Form(max_length=10)] = "1",
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
    opened: Box = None,
    seal_intact: Box = None,
    tags_attached: Box = None,
    activated: Box = None,
    used: Box = None,
    accessories_complete: Box = None,
    labels_intact: Box = None,
) -> ReturnForm:
    """Read the form; an unchecked box is simply absent."""
    boxes = {
        "opened": opened,
        "seal_intact": seal_intact,
        "tags_attached": tags_attached,
        "activated": activated,
        "used": used,
        "accessories_complete": accessories_complete,
        "labels_intact": labels_intact,
    }
    ticked = {name: box is not None for name, box in boxes.items()}
    return ReturnForm(order_id, line_id, kind, quantity, reason, note, ticked)


Posted = Annotated[ReturnForm, Depends(return_form)]


@router.post("/portal/returns/quote")
def quote_return(web: BuyerPost, form: Posted) -> Response:
    """Before filing: the form again, with what the refund would come to, line by line."""
    try:
        quote = returns.quote_return(web.app.services, form.command(web))
    except DomainError as exc:
        return _new_form(
            web, form.order_id, form.line_id, error=web.error_text(exc), status=422,
            values=form.values,
        )  # fmt: skip
    return _new_form(web, form.order_id, form.line_id, values=form.values, quote=quote)


@router.post("/portal/returns")
def open_return(
    web: BuyerPost, form: Posted, photo: Annotated[UploadFile | None, File()] = None
) -> Response:
    """Open (and so audit) a return; an optional photo is uploaded and attached as evidence."""
    svc = web.app.services
    try:
        cmd = form.command(web)
        data = read_upload(photo, web.app.settings.max_upload_bytes)
        photo_ids = (photos.upload_photo(svc, web.actor_id, data).photo_id,) if data else ()
        opened_return = returns.open_return(svc, replace(cmd, photo_ids=photo_ids))
    except DomainError as exc:
        return _new_form(
            web, form.order_id, form.line_id, error=web.error_text(exc), status=422,
            values=form.values,
        )  # fmt: skip
    return see_other(web, f"/portal/returns/{opened_return.return_id}")


def line_names(web: Web, order: Order, names: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Order line id → the product's name in the page's language."""
    return {ln.line_id: web.text(*names.get(ln.sku, (ln.sku, ln.sku))) for ln in order.lines}


def describe(web: Web, event: Event) -> str:
    """A one-line detail for a timeline entry, from the event's data."""
    d = event.data
    name = event.name
    if name in ("appointment.booked", "appointment.rescheduled") and "day" in d:
        return f"{d['day']} {d.get('window', '')}"
    if name == "appointment.eta_updated" and "eta" in d:
        return when(datetime.fromisoformat(str(d["eta"])))
    if name == "appointment.attempt_failed":
        return web._(labels.FAILURE.get(str(d.get("reason")), str(d.get("reason"))))
    if name in ("return.picked_up", "return.shipped"):
        return f"{web._('Waybill')} {d.get('waybill_no', '')}"
    if name.startswith("refund.") and "amount_fen" in d:
        return money(int(d["amount_fen"]))
    if name in ("return.refunded", "return.refund_quoted") and "amount_fen" in d:
        return money(int(d["amount_fen"]))
    if name == "return.quality_checked" or name == "return.disputed":
        return f"{web._('Grade')} {d.get('grade', '')}"
    if name == "return.inspected_at_door":
        return web._("Passed") if d.get("result") == "passed" else web._("Refused")
    if name == "return.awaiting_dropoff":
        return web._(labels.METHOD.get(str(d.get("method")), str(d.get("method"))))
    return ""


def detail(web: Web, return_id: str, *, error: str | None = None, status: int = 200) -> Response:
    """Everything about one return on one page: decision, next step, pickup code, timeline."""
    svc = web.app.services
    r = returns.get_return(svc, return_id, buyer_id=web.actor_id)
    appt = (
        pickup.get_appointment(svc, r.appointment_id, buyer_id=web.actor_id)
        if r.appointment_id
        else None
    )
    events = timeline.timeline(svc, return_id, buyer_id=web.actor_id)
    order = next(o for o in catalog.orders_of(svc, web.actor_id) if o.order_id == r.order_id)
    names = queries.product_names(svc, {ln.sku for ln in order.lines})
    receipt = None
    if r.waybill_no and r.method is ReturnMethod.PICKUP:
        try:
            receipt = timeline.receipt(svc, return_id, buyer_id=web.actor_id)
        except DomainError:
            receipt = None
    return render(
        web,
        "portal_return.html",
        status=status,
        here=f"/portal/returns/{return_id}",
        r=r,
        appt=appt,
        events=[(e, describe(web, e)) for e in events],
        receipt=receipt,
        names=names,
        line_names=line_names(web, order, names),
        carriers=queries.carriers(svc),
        self_send=_self_send_methods(r),
        can_book=r.decision is not None and r.decision.offers(ReturnMethod.PICKUP) is not None,
        cancellable=r.status in CANCELLABLE,
        error=error,
    )


def _self_send_methods(r: ReturnRequest) -> list[Any]:
    if r.decision is None or r.status.value != "approved":
        return []
    return [m for m in r.decision.methods if m.method is not ReturnMethod.PICKUP]


@router.get("/portal/returns/{return_id}")
def show_return(web: BuyerPage, return_id: PathId) -> Response:
    return detail(web, return_id)


@router.post("/portal/returns/{return_id}/cancel")
def cancel_return(
    web: BuyerPost, return_id: PathId, reason: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    try:
        returns.cancel_return(
            web.app.services, web.actor_id, return_id, reason or "buyer_cancelled"
        )
    except DomainError as exc:
        return detail(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/portal/returns/{return_id}")


@router.post("/portal/returns/{return_id}/self-send")
def self_send(
    web: BuyerPost, return_id: PathId, method: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    """Drop-off or self-ship instead of door pickup."""
    try:
        chosen = ReturnMethod(method)
    except ValueError:
        return detail(web, return_id, error=web._("Choose how to send it."), status=422)
    try:
        returns.choose_self_send(web.app.services, web.actor_id, return_id, chosen)
    except DomainError as exc:
        return detail(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/portal/returns/{return_id}")


@router.post("/portal/returns/{return_id}/shipment")
def shipment(
    web: BuyerPost,
    return_id: PathId,
    waybill_no: Annotated[str, Form(max_length=40)] = "",
    carrier_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The waybill of a parcel the buyer sent."""
    try:
        waybill = waybill_no.strip()
        if not waybill:
            raise InvalidInput("waybill_required", "Enter the waybill number.", "请填写运单号。")
        if not bounds.is_waybill(waybill):
            raise InvalidInput(
                "waybill_format",
                "A waybill number is 6 to 32 letters and digits (A-Z, 0-9).",
                "运单号为 6 至 32 位字母或数字（A-Z、0-9）。",
            )
        returns.register_shipment(web.app.services, web.actor_id, return_id, waybill, carrier_id)
    except DomainError as exc:
        return detail(web, return_id, error=web.error_text(exc), status=422)
    return see_other(web, f"/portal/returns/{return_id}")
