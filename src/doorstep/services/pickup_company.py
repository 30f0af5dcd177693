"""Door pickup in an area a courier company serves with its own couriers (issue 8 §4).

The window's capacity is taken as for our couriers (it is the company's quota there), but no
route of ours is touched: the visit gets a pickup order for the company, recorded in the same
transaction and sent after the commit by the caller (``carrier_orders.send_order``).

When the company itself moves the visit (its courier agreed another time with the buyer, a
callback or poll answer says ``rescheduled``), the company's capacity is its own business,
but our counters must keep counting the visits they stand for: the old window is given back
and the new one taken even when it is full on our side. A window taken past its capacity is
recorded as an over-commit (an event ops see, and a warning in the log) rather than refusing
a fact that has already happened at the company.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import structlog

from doorstep.domain.carrier_order import BEFORE_PICKUP, CarrierStatus
from doorstep.domain.clock import local
from doorstep.domain.coverage import Window
from doorstep.domain.errors import Conflict, InvalidInput
from doorstep.domain.events import Event
from doorstep.domain.pickup import Appointment, AppointmentStatus, SlotRef
from doorstep.domain.returns import ReturnRequest
from doorstep.services.carrier_orders import (
    external_courier_id,
    intend_order,
    next_attempt,
    order_for_visit,
)
from doorstep.services.context import Services
from doorstep.services.offering import effective_capacity, template_for
from doorstep.services.ports import UnitOfWork

log = structlog.get_logger("doorstep.carriers")

Gone = Callable[[], Conflict]


def book(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    request: ReturnRequest,
    capacity: int,
    gone: Gone,
) -> tuple[Appointment, str]:
    """Take the window and record the company's order; commits. The ``out_order_no`` to
    send after the commit; ``gone()`` is raised when the window is full."""
    now = appt.created_at
    if not uow.slots.take(appt.slot, capacity):
        raise gone()
    appt.served_by_company = True
    request.schedule_pickup(appt.appointment_id, now)
    uow.appointments.add(appt)
    po = intend_order(svc, uow, appt, [request], 1, now)
    uow.returns.save(request)
    uow.commit()
    return appt, po.out_order_no


def reschedule(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    requests: list[ReturnRequest],
    slot: SlotRef,
    capacity: int,
    reason: str,
    gone: Gone,
) -> tuple[Appointment, str]:
    """Move a company-served visit: the capacity as for our couriers; the company's order is
    told the new window, or, after a failed pickup, a new order is placed; commits."""
    now = svc.clock.now()
    give_back = [] if appt.status.value == "failed" else [appt.slot]
    # Rows in key order, as the own-fleet move does, so opposite moves never wait on each other.
    for counted in sorted([slot, *give_back], key=lambda s: s.key):
        if counted != slot:
            uow.slots.release(counted)
        elif not uow.slots.take(slot, capacity):
            raise gone()
    appt.reschedule(slot, now, reason)
    for request in requests:
        request.schedule_pickup(appt.appointment_id, now)
        uow.returns.save(request)
    uow.appointments.save(appt)
    number = order_follows_visit(svc, uow, appt, requests, now)
    uow.commit()
    return appt, number


def order_follows_visit(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    requests: list[ReturnRequest],
    now: datetime,
) -> str:
    """We moved a company-served visit (the buyer, or ops' disruption): the company's order
    is told the visit's new window, or, when it has none it can still move (a failed
    pickup, a refused create), a new order is placed; in the caller's transaction. The
    ``out_order_no`` to send after the commit."""
    orders = uow.pickup_orders.for_appointments([appt.appointment_id])
    po = order_for_visit(orders)
    slot = appt.slot
    if po is not None and po.status in BEFORE_PICKUP:
        po.request_reschedule(slot.day, slot.window.start, slot.window.end, now)
        uow.pickup_orders.save(po)
    else:
        po = intend_order(svc, uow, appt, requests, next_attempt(orders), now)
    return po.out_order_no


# How far ahead a company's courier may move a visit it agreed with the buyer: a month of
# absence plus a margin; farther than any window a buyer can book (booking_horizon_days).
COMPANY_MOVE_HORIZON = timedelta(days=45)


def follow_company_move(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    carrier_status: CarrierStatus,
    window: tuple[date, time, time],
    at: datetime,
) -> bool:
    """The company moved its order to ``window``: move the visit and its slot counters with
    it, in the caller's transaction. False when there is nothing to move (the visit is no
    longer waiting, or already in that window, e.g. the echo of our own reschedule)."""
    if appt.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ASSIGNED):
        return False
    day, start, end = window
    today = local(svc.clock.now()).date()
    if not today - timedelta(days=1) <= day <= today + COMPANY_MOVE_HORIZON:
        # A typo or a forged year would otherwise create a counter (and a visit) for it.
        raise InvalidInput(
            "carrier_window_out_of_range",
            f"A courier company may move a pickup to a day from yesterday to "
            f"{COMPANY_MOVE_HORIZON.days} days ahead.",
            f"快递公司改约的日期须在昨天至 {COMPANY_MOVE_HORIZON.days} 天内。",
            day=day.isoformat(),
        )
    old = appt.slot
    new = SlotRef(old.adcode, old.carrier_id, day, Window(start, end))
    if new == old:
        return False
    capacity = _capacity(svc, uow, new)
    over = None
    # Rows in key order, as every other move does, so opposite moves never wait on each other.
    for counted in sorted([old, new], key=lambda s: s.key):
        if counted == old:
            uow.slots.release(old)
        elif not uow.slots.take(new, capacity):
            over = uow.slots.take_over(new, capacity)
    appt.reschedule(new, at, f"carrier_rescheduled:{old.carrier_id}")
    if carrier_status is CarrierStatus.COURIER_ASSIGNED:
        # The company's courier keeps the visit; only the window moved.
        appt.assign(external_courier_id(old.carrier_id), at)
    uow.appointments.save(appt)
    if over is not None:
        uow.events.append([overcommitted(appt, new, over.capacity, over.booked, at)])
        log.warning(
            "slot_overcommitted",
            slot=new.key,
            appointment_id=appt.appointment_id,
            capacity=over.capacity,
            booked=over.booked,
        )
    return True


def _capacity(svc: Services, uow: UnitOfWork, slot: SlotRef) -> int:
    # Shared as a booking shares it: the figure counted against is the one edits leave.
    area = uow.areas.get_for_share(slot.adcode)
    template = template_for(uow, area, slot.carrier_id) if area is not None else None
    if area is None or template is None:
        return 0  # no longer served by us: every visit counted there is an over-commit
    return effective_capacity(uow, svc.calendar, area, template, slot)


def overcommitted(
    appt: Appointment,
    slot: SlotRef,
    capacity: int,
    booked: int,
    at: datetime,
    cause: str = "carrier_rescheduled",
) -> Event:
    """The event of a company's fact counted in a window past its capacity."""
    return Event(
        "slot.overcommitted",
        "slot",
        slot.key,
        at,
        {
            "appointment_id": appt.appointment_id,
            "carrier_id": slot.carrier_id,
            "day": slot.day.isoformat(),
            "window": slot.window.label,
            "capacity": capacity,
            "booked": booked,
            "cause": cause,
        },
    )
