"""Pickup orders at courier companies: recorded with the booking, sent after the commit.

No HTTP call happens inside a transaction that holds locks: booking (or cancel, reschedule)
records what must be told to the company on the ``PickupOrder`` in its own transaction; the
call is made after the commit, and its answer is written in a second, short transaction. A
crash or a failed call leaves the intent in place, and the worker sends it again (the
company de-duplicates creates by ``out_order_no``, so a repeat never makes a second order).
"""

from __future__ import annotations

from datetime import datetime

import structlog

from doorstep.domain.carrier_order import (
    TERMINAL,
    Answered,
    Cargo,
    CarrierStatus,
    Party,
    PendingOp,
    PickupOrder,
    UnifiedOrder,
    insured_parts,
)
from doorstep.domain.errors import Conflict, DomainError, NotFound, Unavailable
from doorstep.domain.order import Channel, Order
from doorstep.domain.pickup import Appointment
from doorstep.domain.places import warehouse_for
from doorstep.domain.returns import ReturnRequest
from doorstep.services import claims
from doorstep.services.context import Services
from doorstep.services.lookups import load_appointment
from doorstep.services.ports import CourierCompany, UnitOfWork

log = structlog.get_logger("doorstep.carriers")

SEND_BATCH = 50


def out_order_no(appointment_id: str, attempt: int) -> str:
    """The idempotency key of a visit's n-th pickup order (a new one after a failed pickup)."""
    return f"{appointment_id}-{attempt}"


def external_courier_id(carrier_id: str) -> str:
    """The courier id a company-served visit carries: the company's courier, not one of ours."""
    return f"ext:{carrier_id}"


def unified_order(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    requests: list[ReturnRequest],
    number: str,
    bought: dict[str, Order],
    insured_fen: int,
) -> UnifiedOrder:
    """The unified pickup order (RULES.md §6) for a visit, from what the booking loaded
    (``bought``: the returns' orders by id); ``insured_fen`` is the value it declares
    (``declared_values``)."""
    a = appt.address
    sender = Party(
        a.contact_name, a.contact_phone, a.province, a.city, a.district, a.detail, a.adcode
    )
    skus = [line.sku for r in requests for line in r.lines]
    products = {p.sku: p for p in uow.products.get_many(skus)}
    quantity = sum(line.quantity for r in requests for line in r.lines)
    weight = sum(
        (products[line.sku].weight_g if line.sku in products else 500) * line.quantity
        for r in requests
        for line in r.lines
    )
    names = [products[s].name_zh if s in products else s for s in dict.fromkeys(skus)]
    cross_border = any(o.channel.cross_border for o in bought.values())
    rules = svc.carrier_rules
    return UnifiedOrder(
        out_order_no=number,
        carrier_id=appt.slot.carrier_id,
        service_type="return_pickup",
        sender=sender,
        receiver=_receiver(uow, cross_border, rules.receiver),
        cargo=Cargo(
            "、".join(names)[:100] or "退货商品", max(quantity, 1), max(weight, 1), insured_fen
        ),
        day=appt.slot.day,
        start=appt.slot.window.start,
        end=appt.slot.window.end,
        callback_url=f"{rules.callback_base_url.rstrip('/')}/carriers/{appt.slot.carrier_id}/callbacks",
        inspection_rules=("outer_packaging", "unused", "barcode_matches", "accessories_complete"),
        barcodes=tuple(dict.fromkeys(skus)),
        remark=f"doorstep {appt.appointment_id}",
    )


def intend_order(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    requests: list[ReturnRequest],
    attempt: int,
    now: datetime,
) -> PickupOrder:
    """Record the order to send for a company-served visit, inside the booking transaction."""
    number = out_order_no(appt.appointment_id, attempt)
    bought = {}
    for request in requests:
        found = uow.orders.get(request.order_id)
        if found is not None:
            bought[found.order_id] = found
    parts = declared_values(uow, appt.slot.carrier_id, requests, bought)
    order = unified_order(svc, uow, appt, requests, number, bought, sum(parts.values()))
    po = PickupOrder.intend(order, appt.appointment_id, list(appt.return_ids), now, parts)
    uow.pickup_orders.add(po)
    return po


def declared_values(
    uow: UnitOfWork, carrier_id: str, requests: list[ReturnRequest], bought: dict[str, Order]
) -> dict[str, int]:
    """The value a pickup order declares (保价), per return: what the buyer paid for its
    units (``claims.transit_worth``: coupon share out, never the list price), joined
    returns together up to the company's maximum insured value (``Carrier.max_insured_fen``;
    the booking read its carrier already, ``CarrierRepo`` reads it once)."""
    worth = {}
    for request in requests:
        order = bought.get(request.order_id)
        worth[request.return_id] = claims.transit_worth(order, request) if order else 0
    carrier = uow.carriers.get(carrier_id)
    return insured_parts(worth, carrier.max_insured_fen if carrier else None)


def send_order(svc: Services, number: str) -> PickupOrder | None:
    """Tell the company what the order still needs (create, cancel, reschedule): the call is
    made outside any transaction, its answer recorded in a short one. Never raises for the
    company's failures: they are recorded on the order and the worker tries again.

    One send per order is on its way at a time (``PickupOrder.lease_send``): two moves of
    one visit sent at once could reach the company in either order and leave it with the
    older window. A caller that finds a send on its way leaves it to that sender, which
    sends again after its answer while the order still wants something (the newer window
    wanted meanwhile), so the newest window is always sent last."""
    po = None
    for _ in range(SEND_ROUNDS):
        po, again = _send_once(svc, number)
        if not again:
            break
    return po


# Sends one caller makes in a row for one order while the buyer keeps moving it; what is
# still due after them is the worker's.
SEND_ROUNDS = 5


def _send_once(svc: Services, number: str) -> tuple[PickupOrder | None, bool]:
    """One send: lease, call, answer. True when the order wants another send at once."""
    now = svc.clock.now()
    with svc.uow() as uow:
        po = uow.pickup_orders.get_for_update(number)
        until = now + svc.carrier_rules.send_lease
        if po is None or not po.lease_send(now, until):
            return po, False
        uow.pickup_orders.save(po)
        uow.commit()
    company = svc.carriers.get(po.carrier_id)
    op = po.pending_op
    assert op is not None  # a lease is only taken for something to send
    error: DomainError | None = None
    carrier_order_id, answered = None, None
    if company is None:
        error = Unavailable(
            "carrier_not_connected",
            "No gateway is set up for this courier company.",
            "未配置该快递公司的接口。",
        )
    else:
        try:
            carrier_order_id, answered = _call(company, po, op)
        except (Unavailable, Conflict) as exc:
            error = exc
    now = svc.clock.now()
    with svc.uow() as uow:
        current = uow.pickup_orders.get_for_update(number)
        if current is None:
            return None, False
        current.end_send(until)
        if error is None and op is PendingOp.CREATE:
            # Also when the company's first callback overtook this answer: keep its order id.
            assert carrier_order_id is not None
            current.created(carrier_order_id, now, sent=po.order, answered=answered)
        elif current.pending_op is not op:
            pass  # the buyer changed what is owed meanwhile (a cancel): sent next round
        elif error is None:
            current.sent(now, sent=po.order, answered=answered)
        else:
            current.send_failed(
                f"{error.code}: {error.message_en}", now, _retry_at(svc, current, error, now)
            )
            log.warning("carrier_send_failed", out_order_no=number, op=op.value, code=error.code)
        uow.pickup_orders.save(current)
        uow.commit()
    due = current.next_send_at is not None and current.next_send_at <= now
    return current, error is None and current.pending_op is not None and due


def _call(
    company: CourierCompany, po: PickupOrder, op: PendingOp
) -> tuple[str | None, Answered | None]:
    """The call; the company's order id (for a create) and what its answer says it holds."""
    if op is PendingOp.CREATE:
        ack = company.create(po.order)
        return ack.carrier_order_id, ack.answered
    if op is PendingOp.CANCEL:
        company.cancel(po.out_order_no, "buyer_cancelled")
        return None, None
    order = po.order
    return None, company.reschedule(po.out_order_no, order.day, order.start, order.end)


def _retry_at(svc: Services, po: PickupOrder, error: DomainError, now: datetime) -> datetime | None:
    """When to try again: doubling waits while the company is unavailable, never after a
    refusal or the last attempt."""
    rules = svc.carrier_rules
    if isinstance(error, Conflict) or po.send_attempts + 1 >= rules.send_attempts:
        return None
    return now + rules.retry_after * (1 << min(po.send_attempts, 10))


def send_pending_orders(svc: Services, now: datetime, limit: int = SEND_BATCH) -> int:
    """The worker's resend: every order with something due to tell its company."""
    with svc.uow() as uow:
        due = uow.pickup_orders.due_to_send(now, limit)
    sent = 0
    for number in due:
        po = send_order(svc, number)
        sent += po is not None and po.pending_op is None and po.last_error is None
    return sent


def order_for_visit(orders: list[PickupOrder]) -> PickupOrder | None:
    """The latest of a visit's pickup orders (a failed pickup starts a new one)."""
    return max(orders, key=lambda po: (po.created_at, po.out_order_no), default=None)


def next_attempt(orders: list[PickupOrder]) -> int:
    """The attempt number of a visit's next pickup order."""
    return len(orders) + 1


def cancellable(po: PickupOrder) -> bool:
    return po.status in (
        CarrierStatus.PENDING,
        CarrierStatus.CREATED,
        CarrierStatus.ACCEPTED,
        CarrierStatus.COURIER_ASSIGNED,
    )


def get_order(svc: Services, number: str) -> PickupOrder | None:
    """A pickup order by its ``out_order_no`` (ops and support)."""
    with svc.uow() as uow:
        return uow.pickup_orders.get(number)


def _receiver(uow: UnitOfWork, cross_border: bool, default: Party) -> Party:
    """The return warehouse the parcel goes to: the bonded-zone one when any of the visit's
    goods are cross-border (they must be back in the zone for customs, RULES.md §2), an
    ordinary one otherwise (services/self_send.py shows buyers the same address)."""
    houses = uow.places.warehouses()
    if not houses:
        return default
    w = warehouse_for(Channel.BONDED if cross_border else Channel.DOMESTIC, houses)
    a = w.address
    return Party(w.name_zh, a.contact_phone, a.province, a.city, a.district, a.detail, a.adcode)


def visit_order(svc: Services, appointment_id: str, buyer_id: str | None) -> PickupOrder:
    """The company's order for a buyer's visit: its courier and times (404 for a visit of
    someone else, or one served by our own couriers)."""
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, buyer_id=buyer_id)
        po = order_for_visit(uow.pickup_orders.for_appointments([appt.appointment_id]))
    if po is None:
        raise NotFound("carrier_order", appointment_id)
    return po


def withdraw_order(
    uow: UnitOfWork, appt: Appointment, now: datetime, reason: str = "buyer_cancelled"
) -> str | None:
    """The visit was cancelled: cancel its order at the company too (refused once the
    company's courier took the parcel). The ``out_order_no`` to send after the commit, or
    None when the company never had the order."""
    po = order_for_visit(uow.pickup_orders.for_appointments([appt.appointment_id]))
    if po is None or po.status in TERMINAL:
        return None
    to_send = po.request_cancel(now, reason)
    uow.pickup_orders.save(po)
    return po.out_order_no if to_send else None
