"""Buyer portal: orders, pre-check, opening a return, its decision, timeline and receipt."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from doorstep.domain import bounds
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.identity import Role
from doorstep.domain.order import Order
from doorstep.domain.refund_amount import RefundQuote
from doorstep.domain.returns import CANCELLABLE, Condition, Reason, ReturnKind, ReturnRequest
from doorstep.entrypoints.web import labels, queries
from doorstep.entrypoints.web import portal_view as view
from doorstep.entrypoints.web.forms import PathId, QueryText, read_upload, to_int
from doorstep.entrypoints.web.i18n import N_
from doorstep.entrypoints.web.paging import PageNo, one_page
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import catalog, exchanges, photos, pickup, returns, timeline
from doorstep.services import precheck as precheck_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)
BuyerPage = Annotated[Web, Depends(page(Role.BUYER))]
BuyerPost = Annotated[Web, Depends(action(Role.BUYER))]

# Condition checkboxes: an unchecked box is simply absent from the form.
CONDITION_FIELDS = tuple(labels.CONDITION)


@router.get("/")
def home(web: BuyerPage, rp: PageNo = 1, op: PageNo = 1) -> Response:
    """My returns and my orders (newest first, a page at a time), each order line with a
    "return this" action, and the pre-check."""
    svc = web.app.services
    orders = one_page(
        sorted(catalog.orders_of(svc, web.actor_id), key=lambda o: o.order_id, reverse=True),
        op,
        "/",
        "op",
        {"rp": rp},
    )
    mine = one_page(returns.returns_of(svc, web.actor_id), rp, "/", "rp", {"op": op})
    skus = {ln.sku for o in orders.items for ln in o.lines}
    skus |= {ln.sku for r in mine.items for ln in r.lines}
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
    web: BuyerPage,
    sku: QueryText = "",
    adcode: QueryText = "",
    order_id: QueryText = "",
    op: PageNo = 1,
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
    mine = sorted(catalog.orders_of(svc, web.actor_id), key=lambda o: o.order_id, reverse=True)
    # The order list is paged like the home page's; the chosen order stays a choice.
    orders = one_page(
        mine, op, "/portal/precheck", "op", {"sku": sku, "adcode": adcode, "order_id": order_id}
    )
    choices = orders.items + [o for o in mine if o.order_id == order_id and o not in orders.items]
    skus = {ln.sku for o in choices for ln in o.lines}
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
        choices=choices,
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
    order = _own_order(web, order_id)
    variants = exchanges.variants_of(svc, [ln.sku for ln in order.lines])  # issue 9 §6
    names = queries.product_names(
        svc, {ln.sku for ln in order.lines} | {v.sku for vs in variants.values() for v in vs}
    )
    left = returnable(order, queries.claimed_quantities(svc, web.actor_id, order_id))
    return render(
        web,
        "portal_new.html",
        status=status,
        here=f"/portal/returns/new?order_id={order_id}&line_id={line_id}",
        order=order,
        line_id=line_id,
        left=left,
        names=names,
        line_names=line_names(web, order, names),
        quote=quote,
        reasons=[r.value for r in Reason],
        kinds=[k.value for k in ReturnKind],
        variants=variants,
        condition_fields=CONDITION_FIELDS,
        defaults=Condition(),
        values=values or {},
        error=error,
    )


def _own_order(web: Web, order_id: str) -> Order:
    order = next(
        (o for o in catalog.orders_of(web.app.services, web.actor_id) if o.order_id == order_id),
        None,
    )
    if order is None:
        raise InvalidInput("order_not_found", "Choose one of your orders.", "请选择您自己的订单。")
    return order


def returnable(order: Order, claimed: dict[str, int]) -> dict[str, int]:
    """Order line id → units that can still be returned (bought less what returns and claims
    hold)."""
    return {ln.line_id: max(ln.quantity - claimed.get(ln.line_id, 0), 0) for ln in order.lines}


@router.get("/portal/returns/new")
def new_return(web: BuyerPage, order_id: QueryText = "", line_id: QueryText = "") -> Response:
    return _new_form(web, order_id, line_id)


@dataclass(frozen=True)
class ReturnForm:
    """The new-return form as posted: how many of each line of one order, why, condition."""

    order_id: str
    line_id: str  # the line the form was opened for (kept when the form is shown again)
    kind: str
    quantities: dict[str, str]  # order line id → the typed quantity
    reason: str
    note: str
    ticked: dict[str, bool]
    swaps: dict[str, str]  # exchanges: line id -> the SKU wanted instead

    @property
    def values(self) -> dict[str, Any]:
        """What to show again in the form."""
        shown: dict[str, Any] = {"kind": self.kind, "reason": self.reason, "note": self.note}
        shown |= {f"qty:{k}": v for k, v in self.quantities.items()}
        shown |= {f"swap:{k}": v for k, v in self.swaps.items()}
        return shown | {n: "on" for n, on in self.ticked.items() if on}

    def command(self, web: Web, photo_ids: tuple[str, ...] = ()) -> returns.OpenReturn:
        """The return asked for, or InvalidInput for a missing reason or a quantity above what
        can still be returned (checked here so that a typo never files a doomed return)."""
        try:
            chosen_reason, chosen_kind = Reason(self.reason), ReturnKind(self.kind)
        except ValueError:
            raise InvalidInput("choose_reason", "Choose a reason.", "请选择退货原因。") from None
        svc = web.app.services
        order = _own_order(web, self.order_id)
        left = returnable(order, queries.claimed_quantities(svc, web.actor_id, order.order_id))
        names = line_names(web, order, queries.product_names(svc, {ln.sku for ln in order.lines}))
        lines = []
        for ln in order.lines:
            raw = self.quantities.get(ln.line_id, "").strip() or "0"
            count = to_int(raw, names[ln.line_id], low=0, high=left[ln.line_id])
            if count:
                lines.append(
                    returns.LineRequest(
                        ln.line_id,
                        count,
                        chosen_reason,
                        Condition(**self.ticked),
                        self.note.strip(),
                    )
                )
        if not lines:
            raise InvalidInput(
                "choose_quantity",
                "Enter how many to return of at least one item.",
                "请至少为一件商品填写退货数量。",
            )
        return returns.OpenReturn(
            buyer_id=web.actor_id,
            order_id=self.order_id,
            kind=chosen_kind,
            lines=tuple(lines),
            photo_ids=photo_ids,
            note=self.note,
            replacements={k: v for k, v in self.swaps.items() if k in left},
        )


_MAX_LINES = 100  # no order has more lines; more quantity fields are not read


async def return_form(
    request: Request, order_id: Annotated[str, Form(max_length=64)] = ""
) -> ReturnForm:
    """Read the form; an unchecked box is simply absent, and every field is cut to its length
    like the other forms' fields. (Naming one field makes FastAPI parse the form itself, and so
    close an uploaded file's temporary file after the response.)"""
    form = await request.form()

    def field(name: str, default: str, limit: int) -> str:
        value = form.get(name)
        return (value if isinstance(value, str) else default)[:limit]

    quantities: dict[str, str] = {}
    for key, value in form.multi_items():
        if key.startswith("qty:") and isinstance(value, str) and len(quantities) < _MAX_LINES:
            quantities[key[4:][:64]] = value[:10]
    if not quantities and field("line_id", "", 64):  # the one-line form of older pages
        quantities[field("line_id", "", 64)] = field("quantity", "1", 10)
    ticked = {name: name in form for name in CONDITION_FIELDS}
    swaps = {
        key[5:][:64]: value[:64]
        for key, value in list(form.multi_items())[: _MAX_LINES * 4]
        if key.startswith("swap:") and isinstance(value, str) and value
    }
    return ReturnForm(
        order_id,
        field("line_id", "", 64),
        field("kind", "refund", 20),
        quantities,
        field("reason", "", 40),
        field("note", "", 1000),
        ticked,
        swaps,
    )


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
    return see_other(web, f"/portal/returns/{opened_return.return_id}?done=filed")


def line_names(web: Web, order: Order, names: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Order line id → the product's name in the page's language."""
    return {ln.line_id: web.text(*names.get(ln.sku, (ln.sku, ln.sku))) for ln in order.lines}


# Confirmations shown once after a form landed (post/redirect/get carries the word).
DONE = {
    "filed": N_("Your return is filed."),
    "booked": N_("Pickup booked. We will send the courier's name before the visit."),
    "moved": N_("Pickup moved to the new window."),
    "joined": N_("Added to the pickup already booked at this address."),
    "pickup_cancelled": N_("Pickup cancelled. Choose a new window or another way below."),
    "withdrawn": N_("Your return is withdrawn."),
    "self_send": N_("Noted: you send it yourself. Enter the waybill once it is sent."),
    "shipped": N_("Waybill saved. We follow the parcel from here."),
}


def detail(
    web: Web, return_id: str, *, error: str | None = None, status: int = 200, done: str = ""
) -> Response:
    """Everything about one return on one page: where it stands and what comes next first,
    then the money, the steps, the pickup code, the decision and the timeline."""
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
    courier_ids = {str(e.data["courier_id"]) for e in events if "courier_id" in e.data}
    courier_ids |= {appt.courier_id} if appt and appt.courier_id else set()
    facts = queries.money_facts(svc, r, courier_ids)
    courier_names = {cid: c.name for cid, c in facts.couriers.items()}
    assigned = facts.couriers.get(appt.courier_id) if appt and appt.courier_id else None
    said, next_step = view.headline(
        web, r, appt, facts.refund, assigned.name if assigned else "", svc.clock.now()
    )
    return render(
        web,
        "portal_return.html",
        status=status,
        here=f"/portal/returns/{return_id}",
        r=r,
        appt=appt,
        said=said,
        next_step=next_step,
        steps=view.steps(web, r, facts.refund),
        cash=view.money_line(web, r, facts.refund, facts.express_likely),
        holds=view.hold_reasons(web, r.decision) if r.status.value == "in_review" else [],
        story=view.story(web, events, courier_names),
        courier=assigned,
        unavailable=view.unavailable_reasons(web, r.decision),
        receipt=receipt,
        receipt_courier=courier_names.get(receipt.courier_id, "") if receipt else "",
        names=names,
        line_names=line_names(web, order, names),
        carriers=queries.carriers(svc),
        self_send=_self_send_methods(r),
        can_book=r.decision is not None and r.decision.offers(ReturnMethod.PICKUP) is not None,
        cancellable=r.status in CANCELLABLE,
        notice=web._(DONE[done]) if done in DONE else None,
        error=error,
    )


def _self_send_methods(r: ReturnRequest) -> list[Any]:
    if r.decision is None or r.status.value != "approved":
        return []
    return [m for m in r.decision.methods if m.method is not ReturnMethod.PICKUP]


@router.get("/portal/returns/{return_id}")
def show_return(web: BuyerPage, return_id: PathId, done: QueryText = "") -> Response:
    return detail(web, return_id, done=done)


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
    return see_other(web, f"/portal/returns/{return_id}?done=withdrawn")


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
    return see_other(web, f"/portal/returns/{return_id}?done=self_send")


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
    return see_other(web, f"/portal/returns/{return_id}?done=shipped")
