"""Status events from courier companies: signed callbacks and poll answers, applied once,
forward only, to the pickup order and through it to the visit and its returns.

Companies retry callbacks and do not keep their order (RULES.md §6). So: an event id already
taken is acknowledged and ignored (the inbox's primary key decides, also under parallel
duplicates); the order's returns and then the order are locked while an event is applied
(the lock order of every path that changes a visit, ``pickup._locked_visit``); a stage
already passed
is recorded as a late update and changes nothing; a later stage carries the facts of the
stages it skipped (courier, waybill), which are applied in order.
"""

from __future__ import annotations

import time as monotonic_clock
from datetime import datetime

import structlog

from doorstep.domain import signature
from doorstep.domain.carrier_order import (
    MOVES_TO,
    RANK,
    CarrierStatus,
    CarrierUpdate,
    PickupOrder,
    UpdateKind,
)
from doorstep.domain.errors import DomainError, NotFound, StaleWrite, Unauthorized
from doorstep.domain.pickup import AppointmentStatus, FailureReason
from doorstep.domain.returns import Inspection, InspectionResult, ReturnRequest, ReturnStatus
from doorstep.services.carrier_orders import external_courier_id
from doorstep.services.context import Services
from doorstep.services.pickup_company import follow_company_move, overcommitted
from doorstep.services.ports import CarrierExchange, UnitOfWork
from doorstep.services.refunds import start_express_refund
from doorstep.services.route import Contention

log = structlog.get_logger("doorstep.carriers")
CS = CarrierStatus
MAX_BODY_BYTES = 64_000


def receive_callback(
    svc: Services,
    carrier_id: str,
    timestamp: str | None,
    signature_header: str | None,
    body: bytes,
) -> str:
    """Verify and apply one callback; returns ``applied``, ``duplicate`` or ``late``.

    Refusals say nothing about which orders or carriers exist: an unknown carrier and a bad
    signature get the same answer, and an order is looked up only among the signing
    carrier's own."""
    started = monotonic_clock.monotonic()
    now = svc.clock.now()
    outcome, update = "refused", None
    try:
        secret = svc.carrier_rules.secrets.get(carrier_id)
        company = svc.carriers.get(carrier_id)
        if not secret or company is None or len(body) > MAX_BODY_BYTES:
            # Verified against a throwaway secret so an unknown carrier costs the same time.
            signature.verify("x" * 32, timestamp, signature_header, body, now)
            raise _unknown_sender()
        signature.verify(secret, timestamp, signature_header, body, now)
        update = company.parse_callback(body)
        outcome = apply_update(svc, carrier_id, update, source="callback")
        return outcome
    except DomainError as exc:
        outcome = exc.code
        raise
    finally:
        _journal(svc, carrier_id, update, outcome, body, now, started)


def apply_update(svc: Services, carrier_id: str, update: CarrierUpdate, *, source: str) -> str:
    """Apply one company event (callback or poll) in one transaction; ``applied``,
    ``duplicate`` (event id seen) or ``late`` (a stage already passed: recorded only).

    A buyer changing the same visit at the same moment (withdrawal, cancel, move) holds its
    returns: the event waits for them and is applied on what the buyer left. A return that
    joined the order between its two reads, or a write lost anyway, makes the event start
    over here rather than on the company's next retry."""
    del source  # both sources are applied alike; the journal tells them apart
    for _ in range(APPLY_ATTEMPTS - 1):
        try:
            return _apply_once(svc, carrier_id, update)
        except (Contention, StaleWrite) as lost:
            log.info(
                "carrier_update_retried",
                out_order_no=update.out_order_no,
                event_id=update.event_id,
                reason=(
                    "returns_changed"
                    if isinstance(lost, Contention)
                    else lost.details.get("reason", "stale_version")
                ),
            )
    return _apply_once(svc, carrier_id, update)


APPLY_ATTEMPTS = 3


def _apply_once(svc: Services, carrier_id: str, update: CarrierUpdate) -> str:
    now = svc.clock.now()
    with svc.uow() as uow:
        # Lock first, then claim the event id: parallel duplicates queue on the rows, and an
        # unknown order never leaves an inbox row behind.
        po, locked = _locked_order(uow, carrier_id, update.out_order_no, update)
        if not uow.carrier_inbox.take(
            carrier_id, update.event_id, po.out_order_no, update.kind.value, now
        ):
            outcome = "duplicate"
        else:
            before = po.status
            overtaking, needs_ops = po.overtakes_cancel(update), []
            if overtaking:
                waiting: list[str] | None = _released(po, locked, update.occurred_at)
            else:
                waiting = _waiting(po, locked) if _at_pickup(po, update) else None
            changed = po.apply(update, now, waiting)
            if changed and overtaking:
                _reinstate(uow, po, update, locked)
                needs_ops = [rid for rid in locked if rid not in po.return_ids]
                # The visit is made again up to the courier at the door: the pickup and
                # any later stage reported follow as for any pickup.
                before = CS.COURIER_ASSIGNED
            if changed and update.kind is UpdateKind.RESCHEDULED:
                _follow_move(svc, uow, po, update)
            elif changed:
                _follow(uow, po, before, update, [locked[rid] for rid in po.return_ids])
            uow.pickup_orders.save(po)
            uow.commit()
            outcome = "applied" if changed else "late"
            if needs_ops:
                # Ops find these by their ``carrier_order.cancel_overtaken`` event too.
                log.warning(
                    "carrier_cancel_overtaken",
                    out_order_no=po.out_order_no,
                    waybill_no=po.waybill_no,
                    needs_ops=needs_ops,
                )
    if po.picked_up and update.kind in _PARCEL_EVENTS:
        _refund_parcel(svc, po)
    return outcome


_PARCEL_EVENTS = (UpdateKind.PICKED_UP, UpdateKind.IN_TRANSIT, UpdateKind.DELIVERED)


def _locked_order(
    uow: UnitOfWork, carrier_id: str, out_order_no: str, update: CarrierUpdate
) -> tuple[PickupOrder, dict[str, ReturnRequest]]:
    """The order and its returns, the returns' rows locked in key order before the order's
    (a buyer's withdrawal, cancel or move of the visit holds its returns, then the window,
    then this order: the other way round they deadlocked on PostgreSQL), and the order read
    again under its lock. A return that joined it between the two reads makes the caller
    start over; only the signing carrier's own orders are found. A pickup that overtook
    our cancel takes its visit's window again: that window's row is locked between the
    returns' and the order's, as a buyer's cancel locks them."""
    first = uow.pickup_orders.get(out_order_no)
    if first is None or first.carrier_id != carrier_id:
        raise NotFound("carrier_order", out_order_no)
    locked = {r.return_id: r for r in uow.returns.get_many_for_update(first.return_ids)}
    # A buyer's cancel holds these returns too: read under their lock, whether it came
    # first is settled (the first read may predate it).
    now_read = uow.pickup_orders.get(out_order_no) if _at_pickup(first, update) else None
    window_locked = (now_read or first).overtakes_cancel(update)
    if window_locked:
        appt = uow.appointments.get(first.appointment_id)
        if appt is not None:
            uow.slots.load_for_update(appt.slot)
    po = uow.pickup_orders.get_for_update(out_order_no)
    assert po is not None, "a pickup order is never deleted"
    if po.overtakes_cancel(update) and not window_locked:
        raise Contention()  # cancelled without holding the returns: lock its window first
    # Compared with the ids asked for, not those found: a return missing from its table
    # would otherwise make the caller start over for ever.
    if not set(po.return_ids) <= set(first.return_ids):
        raise Contention()
    missing = next((rid for rid in po.return_ids if rid not in locked), None)
    if missing is not None:
        raise NotFound("return_request", missing)
    return po, locked


def _refund_parcel(svc: Services, po: PickupOrder) -> None:
    """Express refunds for the parcel's returns (since the pickup, only the returns it took)
    still undecided. They start after the pickup's commit, so a delivery that died in
    between left them owed: the company sends that event again (it got no answer), and the
    repeat starts them (so does the worker's sweep, ``refunds.start_owed_express_refunds``).
    Creating a refund is idempotent per return."""
    with svc.uow() as uow:
        owed = [
            r.return_id
            for r in uow.returns.get_many(po.return_ids)
            if r.express_owed_since is not None
        ]
    for return_id in owed:
        start_express_refund(svc, return_id)


def _at_pickup(po: PickupOrder, update: CarrierUpdate) -> bool:
    """Whether the event may take the parcel: the pickup must know which returns are still
    waiting."""
    target = MOVES_TO.get(update.kind)
    return target in RANK and RANK[target] >= RANK[CS.PICKED_UP] and not po.picked_up


def _waiting(po: PickupOrder, locked: dict[str, ReturnRequest]) -> list[str]:
    """Which returns the company's courier finds at the door: those still waiting for this
    visit. One the buyer withdrew meanwhile is not handed over (nor refunded)."""
    return [
        rid
        for rid in po.return_ids
        if locked[rid].status is ReturnStatus.AWAITING_PICKUP
        and locked[rid].appointment_id == po.appointment_id
    ]


def _released(po: PickupOrder, locked: dict[str, ReturnRequest], at: datetime) -> list[str]:
    """The returns our cancel released that nothing took since (not withdrawn, not booked
    on another visit, not self-sent, pickup still offered): the parcel the company's
    courier took holds them, and they follow it. Any other is left to ops."""
    return [
        rid
        for rid in po.return_ids
        if locked[rid].status is ReturnStatus.APPROVED
        and locked[rid].appointment_id is None
        and locked[rid].pickup_offered(at)
    ]


def _reinstate(
    uow: UnitOfWork, po: PickupOrder, update: CarrierUpdate, locked: dict[str, ReturnRequest]
) -> None:
    """The visit cancelled for an order the company picked up anyway is made after all: it
    holds its window again (it did when the courier came; its row locked by
    ``_locked_order``) and its free returns wait on it for the pickup that follows."""
    appt = uow.appointments.get(po.appointment_id)
    if appt is None:
        return
    at = update.occurred_at
    appt.picked_up_after_cancel(external_courier_id(po.carrier_id), at, update.event_id)
    load = uow.slots.load_for_update(appt.slot)
    # No capacity condition: the visit was counted there when the courier came.
    after = uow.slots.take_over(appt.slot, load.capacity if load is not None else 0)
    if after.booked > after.capacity:
        uow.events.append(
            [overcommitted(appt, appt.slot, after.capacity, after.booked, at, "cancel_overtaken")]
        )
    for rid in po.return_ids:
        locked[rid].schedule_pickup(appt.appointment_id, at)
    uow.appointments.save(appt)


def _follow_move(svc: Services, uow: UnitOfWork, po: PickupOrder, update: CarrierUpdate) -> None:
    """The company moved the window: the visit and our slot counters follow it."""
    appt = uow.appointments.get(po.appointment_id)
    assert update.day and update.start and update.end  # checked by ``CarrierUpdate``
    if appt is not None:
        window = (update.day, update.start, update.end)
        follow_company_move(svc, uow, appt, po.status, window, update.occurred_at)


def _follow(
    uow: UnitOfWork,
    po: PickupOrder,
    before: CarrierStatus,
    update: CarrierUpdate,
    requests: list[ReturnRequest],
) -> None:
    """Carry the order's new stage to the visit and its returns (``requests``: those the
    order still names, their rows locked), every skipped stage in turn."""
    appt = uow.appointments.get(po.appointment_id)
    if appt is None:
        return
    ext = external_courier_id(po.carrier_id)
    at = update.occurred_at
    was, reached = RANK.get(before, 0), RANK.get(po.status, -1)
    if po.status is CS.FAILED and appt.status in _NOT_YET_THERE:
        appt.assign(ext, at)
        appt.fail(ext, po.failure_reason or FailureReason.BUYER_UNREACHABLE, at)
        for request in requests:
            request.void_inspection(at, f"attempt_failed:{appt.attempts[-1].reason}")
    elif po.status is CS.CANCELLED and appt.status in _NOT_YET_THERE:
        appt.cancel(at, "carrier_cancelled")
        uow.slots.release(appt.slot)
        for request in requests:
            if request.status is ReturnStatus.AWAITING_PICKUP:
                request.release_pickup(at, "carrier_cancelled")
    if was < RANK[CS.COURIER_ASSIGNED] <= reached and appt.status is AppointmentStatus.BOOKED:
        appt.assign(ext, at)
    if was < RANK[CS.PICKED_UP] <= reached:
        _picked_up(po, requests, update, at)
        if appt.status is AppointmentStatus.BOOKED:
            appt.assign(ext, at)
        if appt.status is AppointmentStatus.ASSIGNED:
            appt.arrive(ext, at)
        if appt.status is AppointmentStatus.ARRIVED:
            appt.complete(ext, at)
    for request in requests:
        if was < RANK[CS.IN_TRANSIT] <= reached and request.status is ReturnStatus.PICKED_UP:
            request.mark_in_transit(at, po.carrier_id)
        if was < RANK[CS.DELIVERED] <= reached and request.status in _MOVING:
            request.arrive_at_warehouse(at, po.carrier_id)
        uow.returns.save(request)
    uow.appointments.save(appt)


_NOT_YET_THERE = (AppointmentStatus.BOOKED, AppointmentStatus.ASSIGNED)
_MOVING = (ReturnStatus.PICKED_UP, ReturnStatus.IN_TRANSIT)


def _picked_up(
    po: PickupOrder, requests: list[ReturnRequest], update: CarrierUpdate, at: datetime
) -> None:
    """The company's courier took the parcel: its check at the door is the inspection."""
    assert po.waybill_no is not None
    courier = f" {po.courier.name}" if po.courier else ""
    for request in requests:
        if request.status is not ReturnStatus.AWAITING_PICKUP:
            continue
        request.record_inspection(
            Inspection(
                InspectionResult.PASSED,
                {rule: True for rule in po.order.inspection_rules},
                (),
                update.actual_weight_g,
                at,
                external_courier_id(po.carrier_id),
                note=f"checked by the {po.carrier_id} courier{courier}",
            )
        )
        request.pick_up(po.waybill_no, po.carrier_id, at, po.insured_part(request.return_id))


def _unknown_sender() -> Unauthorized:
    return Unauthorized(
        "signature_invalid",
        "The message signature is missing or wrong.",
        "消息签名缺失或不正确。",
    )


def _journal(
    svc: Services,
    carrier_id: str,
    update: CarrierUpdate | None,
    outcome: str,
    body: bytes,
    now: datetime,
    started: float,
) -> None:
    """Every callback, refused ones too, for support (the body only when it was verified)."""
    request: dict[str, object] = {"bytes": len(body)}
    if update is not None:
        request.update(
            event_id=update.event_id,
            kind=update.kind.value,
            occurred_at=update.occurred_at.isoformat(),
            waybill_no=update.waybill_no,
        )
    svc.exchanges.record(
        CarrierExchange(
            carrier_id=carrier_id[:64],
            out_order_no=update.out_order_no if update is not None else None,
            operation="callback",
            direction="in",
            status_code=None,
            outcome=outcome[:32],
            duration_ms=int((monotonic_clock.monotonic() - started) * 1000),
            at=now,
            request=request,
        )
    )
