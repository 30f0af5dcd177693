"""Door pickup in an area a courier company serves with its own couriers (issue 8 §4).

The window's capacity is taken as for our couriers (it is the company's quota there), but no
route of ours is touched: the visit gets a pickup order for the company, recorded in the same
transaction and sent after the commit by the caller (``carrier_orders.send_order``).
"""

from __future__ import annotations

from collections.abc import Callable

from doorstep.domain.carrier_order import BEFORE_PICKUP
from doorstep.domain.errors import Conflict
from doorstep.domain.pickup import Appointment, SlotRef
from doorstep.domain.returns import ReturnRequest
from doorstep.services.carrier_orders import intend_order, next_attempt, order_for_visit
from doorstep.services.context import Services
from doorstep.services.ports import UnitOfWork

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
    orders = uow.pickup_orders.for_appointments([appt.appointment_id])
    appt.reschedule(slot, now, reason)
    for request in requests:
        request.schedule_pickup(appt.appointment_id, now)
        uow.returns.save(request)
    uow.appointments.save(appt)
    po = order_for_visit(orders)
    if po is not None and po.status in BEFORE_PICKUP:
        po.request_reschedule(slot.day, slot.window.start, slot.window.end, now)
        uow.pickup_orders.save(po)
    else:
        po = intend_order(svc, uow, appt, requests, next_attempt(orders), now)
    uow.commit()
    return appt, po.out_order_no
