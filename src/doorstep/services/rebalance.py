"""Move the visits a window holds beyond its capacity to the nearest later windows.

A capacity edit never cancels a visit (``domain/capacity_edit.py``): a window it lowers below
its bookings is listed for ops. This action moves the extra visits, the latest booked first,
each to the nearest later window of the same carrier and area with room, as a reschedule
(``appointment.rescheduled`` with reason ``over_capacity``; the buyer is told, as for a
disruption's move). Each move re-checks, in its own transaction and under the window's counter
lock, that the window is still over capacity and the visit still in it: rebalances run at once
or retried move exactly the visits over, and a target is taken like any booking (never past
its capacity).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.pickup import AppointmentStatus, SlotRef, open_slots
from doorstep.services import pickup
from doorstep.services.context import Services
from doorstep.services.offering import capacity_under, slot_capacity, template_for
from doorstep.services.ports import UnitOfWork

REASON = "over_capacity"
# Visits a move may take from the window (booked, assigned): not one on its way or done.
_MOVABLE = (AppointmentStatus.BOOKED, AppointmentStatus.ASSIGNED)
# A target refused for these is tried no more; the visit goes on to the next one.
_TARGET_GONE = {"slot_full", "slot_not_offered", "stale_write"}


@dataclass(frozen=True)
class Moved:
    """One visit moved out of the window."""

    appointment_id: str
    to: SlotRef


@dataclass(frozen=True)
class Rebalanced:
    """What a rebalance did: the visits it moved and how many the window still holds over
    its capacity (no later window with room, or a visit's pickup deadline before them)."""

    moved: tuple[Moved, ...]
    left_over: int


def rebalance_window(
    svc: Services, adcode: str, carrier_id: str, day: date, start: time
) -> Rebalanced:
    """Move the visits beyond the window's capacity, latest booked first, to the nearest
    later windows of its carrier and area with room; nothing when it is not over."""
    source, visits, targets = _plan(svc, adcode, carrier_id, day, start)
    moved: list[Moved] = []
    for appointment_id in visits:
        for i, target in enumerate(targets):
            choice = pickup.SlotChoice(carrier_id, target.day, target.window.start)
            try:
                pickup.reschedule_pickup(
                    svc, None, appointment_id, choice, REASON, _still_over(source, appointment_id)
                )
            except Conflict as exc:
                if exc.code == "not_over_capacity":
                    return Rebalanced(tuple(moved), 0)
                if exc.code in _TARGET_GONE:
                    continue
                break  # this visit cannot move (moved meanwhile, past its deadline): the next
            moved.append(Moved(appointment_id, target))
            del targets[: i if _room_left(svc, target) else i + 1]
            break
    return Rebalanced(tuple(moved), _over(svc, source))


def _plan(
    svc: Services, adcode: str, carrier_id: str, day: date, start: time
) -> tuple[SlotRef, list[str], list[SlotRef]]:
    """The window, its movable visits latest booked first, and the later windows of its
    carrier and area with room now, nearest first (each taken again when moved into)."""
    now = svc.clock.now()
    with svc.uow() as uow:
        area = uow.areas.get(adcode)
        template = template_for(uow, area, carrier_id) if area is not None else None
        window = template.window(start) if template is not None else None
        if area is None or template is None or window is None:
            raise NotFound("window", f"{adcode}/{carrier_id}/{day.isoformat()}/{start:%H:%M}")
        source = SlotRef(adcode, carrier_id, day, window)
        visits = [
            a
            for a in uow.appointments.for_carrier_day(carrier_id, day)
            if a.slot.adcode == adcode and a.slot.window.start == start and a.status in _MOVABLE
        ]
        visits.sort(key=lambda a: (a.created_at, a.appointment_id), reverse=True)
        later = [
            s
            for s in open_slots(adcode, carrier_id, template, now, svc.booking)
            if s.starts_at > source.starts_at
        ]
        if not later:
            return source, [a.appointment_id for a in visits], []
        loads = uow.slots.loads(later, slot_capacity(area, template))
        disruptions = uow.disruptions.overlapping(later[0].starts_at, later[-1].ends_at)
        targets = [
            s
            for s in later
            if loads[s].booked
            < min(loads[s].capacity, capacity_under(svc.calendar, area, template, s, disruptions))
        ]
        return source, [a.appointment_id for a in visits], targets


def _still_over(source: SlotRef, appointment_id: str) -> Callable[[UnitOfWork], None]:
    """The move's first step: share the area (as a booking does, so capacity edits keep
    their lock order), lock the window's counter, and refuse unless the window is still
    over capacity and the visit still in it."""

    def check(uow: UnitOfWork) -> None:
        uow.areas.get_for_share(source.adcode)
        load = uow.slots.load_for_update(source)
        if load is None or load.booked <= load.capacity:
            raise Conflict(
                "not_over_capacity",
                "The window no longer holds more visits than its capacity.",
                "该时段的预约已不超过容量。",
            )
        appt = uow.appointments.get(appointment_id)
        if appt is None or appt.status not in _MOVABLE or _key(appt.slot) != _key(source):
            raise Conflict(
                "visit_moved",
                "The visit has already left the window.",
                "该预约已不在此时段。",
            )

    return check


def _key(slot: SlotRef) -> tuple[str, str, date, time]:
    """A counter's key: a template switch may change a window's end, never its start."""
    return slot.adcode, slot.carrier_id, slot.day, slot.window.start


def _room_left(svc: Services, target: SlotRef) -> bool:
    with svc.uow() as uow:
        load = uow.slots.loads([target], 0)[target]
    return load.booked < load.capacity


def _over(svc: Services, source: SlotRef) -> int:
    with svc.uow() as uow:
        load = uow.slots.loads([source], 0)[source]
    return max(0, load.booked - load.capacity)
