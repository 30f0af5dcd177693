"""Typhoons, road closures, holiday peaks: cut capacity, move the visits that no longer fit to
the nearest windows that can still take them, and tell the buyers (events on their timeline)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from doorstep.domain.clock import local
from doorstep.domain.coverage import ServiceArea, SlotTemplate
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.disruption import Disruption, DisruptionKind
from doorstep.domain.errors import NotFound, StaleWrite
from doorstep.domain.pickup import ACTIVE, Appointment, AppointmentStatus, SlotRef, open_slots
from doorstep.services.carrier_orders import send_order
from doorstep.services.context import Services
from doorstep.services.lookups import load_appointment, load_return
from doorstep.services.offering import capacity_under, template_for
from doorstep.services.pickup import place_visit, release_visit
from doorstep.services.pickup_company import order_follows_visit
from doorstep.services.ports import UnitOfWork
from doorstep.services.route import BOOKING_ATTEMPTS, Contention, take_off_route

# The visits a disruption may move or strand: live, the courier not yet at the door.
_MOVABLE = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.ASSIGNED})


@dataclass(frozen=True)
class DisruptionReport:
    """What declaring (or lifting) did: visits moved, visits that found no window."""

    disruption: Disruption
    moved: tuple[tuple[str, str, str], ...]  # appointment id, old slot key, new slot key
    stranded: tuple[str, ...]  # appointment ids sent back to the buyer to choose again


def declare_disruption(
    svc: Services,
    by: str,
    kind: DisruptionKind,
    adcodes: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    capacity_pct: int,
    reason_en: str,
    reason_zh: str,
) -> DisruptionReport:
    """Record the disruption, shrink the windows it covers and re-home what no longer fits.
    A visit booked, joined or moved into a cut window while this ran makes it start over."""
    now = svc.clock.now()
    # Built once: a declaration that starts over keeps its id. Each attempt saves a copy, as
    # the events it records are taken from the object at commit.
    declared = Disruption.declare(
        svc.ids.new("D"),
        kind,
        adcodes,
        starts_at,
        ends_at,
        capacity_pct,
        reason_en,
        reason_zh,
        now,
        by,
    )
    for _ in range(BOOKING_ATTEMPTS - 1):
        try:
            return _sent(svc, _declare(svc, copy.deepcopy(declared)))
        except (Contention, StaleWrite):
            continue
    return _sent(svc, _declare(svc, copy.deepcopy(declared)))


def _sent(svc: Services, declared: tuple[DisruptionReport, list[str]]) -> DisruptionReport:
    report, to_send = declared
    for number in to_send:  # after the commit: no HTTP call inside the transaction
        send_order(svc, number)
    return report


def _declare(svc: Services, disruption: Disruption) -> tuple[DisruptionReport, list[str]]:
    now = svc.clock.now()
    with svc.uow() as uow:
        # The returns of the visits in the covered windows first, then the areas: the one lock
        # order of whatever changes a visit (pickup._locked_visit). A withdrawal or move of one
        # of them holds its return and waits for the window or the area; this declaration,
        # holding those and then waiting for the return, deadlocked with it on PostgreSQL.
        locked = _lock_covered_returns(uow, disruption)
        # The areas stay locked until commit: declarations and lifts over one area go one at
        # a time, so each computes its windows' capacity from every disruption committed
        # before it (two at once each left out the other's share, and the last write won).
        for adcode in sorted(set(disruption.adcodes)):
            if uow.areas.get_for_update(adcode) is None:
                raise NotFound("service_area", adcode)
        uow.disruptions.put(disruption)
        moved, stranded, to_send = _rebalance(svc, uow, disruption, now, locked)
        uow.commit()
    return DisruptionReport(disruption, tuple(moved), tuple(stranded)), to_send


def _lock_covered_returns(uow: UnitOfWork, disruption: Disruption) -> set[str]:
    """Lock, in key order and one statement, the returns of the live visits (a courier at the
    door aside: they stay) in the windows the disruption covers, read without locks; the ids
    locked. One area-day's visits are one read, whatever else the area holds."""
    covered: dict[tuple[str, date], set[SlotRef]] = {}
    for adcode in sorted(set(disruption.adcodes)):
        for slot, _area, _template in _windows(uow, adcode, disruption):
            covered.setdefault((adcode, slot.day), set()).add(slot)
    return_ids = [
        return_id
        for (adcode, day), slots in covered.items()
        for appt in uow.appointments.for_area_day(adcode, day)
        if appt.slot in slots and appt.status in _MOVABLE
        for return_id in appt.return_ids
    ]
    return {r.return_id for r in uow.returns.get_many_for_update(return_ids)}


def lift_disruption(svc: Services, by: str, disruption_id: str) -> Disruption:
    """End a disruption early; its windows get their normal capacity back."""
    now = svc.clock.now()
    with svc.uow() as uow:
        disruption = uow.disruptions.get(disruption_id)
        if disruption is None:
            raise NotFound("disruption", disruption_id)
        for adcode in sorted(set(disruption.adcodes)):
            uow.areas.get_for_update(adcode)  # one declaration or lift per area at a time
        # Read again under the locks: a lift that committed meanwhile is seen (lifted once).
        disruption = uow.disruptions.get(disruption_id) or disruption
        disruption.lift(now, by)
        uow.disruptions.put(disruption)
        # A window the lifted disruption touched may reach beyond it (a 9-10 closure cuts
        # the 9-11 window, which a 10-13 closure cuts too): look a day either side, and
        # capacity_under keeps only those in force for each window.
        others = [
            d
            for d in uow.disruptions.overlapping(
                disruption.starts_at - timedelta(days=1), disruption.ends_at + timedelta(days=1)
            )
            if d.disruption_id != disruption_id
        ]
        for adcode in disruption.adcodes:
            for slot, area, template in _windows(uow, adcode, disruption):
                uow.slots.set_capacity(
                    slot, capacity_under(svc.calendar, area, template, slot, others)
                )
        uow.commit()
        return disruption


def recent_disruptions(svc: Services, limit: int = 50) -> list[Disruption]:
    with svc.uow() as uow:
        return uow.disruptions.recent(limit)


def _windows(
    uow: UnitOfWork, adcode: str, disruption: Disruption
) -> list[tuple[SlotRef, ServiceArea, SlotTemplate]]:
    """Every template window of every carrier in the area that the disruption overlaps."""
    area = uow.areas.get(adcode)
    if area is None:
        return []
    out = []
    first = local(disruption.starts_at).date()
    last = local(disruption.ends_at).date()
    for carrier_id in area.carrier_ids:
        template = template_for(uow, area, carrier_id)
        if template is None:
            continue
        day = first
        while day <= last:
            for window in template.windows:
                slot = SlotRef(adcode, carrier_id, day, window)
                if disruption.covers(slot):
                    out.append((slot, area, template))
            day += timedelta(days=1)
    return out


def _rebalance(
    svc: Services, uow: UnitOfWork, disruption: Disruption, now: datetime, locked: set[str]
) -> tuple[list[tuple[str, str, str]], list[str], list[str]]:
    """Move or strand the visits the cut windows no longer hold; also the company orders
    (``out_order_no``) to tell after the commit of a company-served visit moved or dropped.
    ``locked``: the returns locked before the areas; a visit to move or strand with a return
    outside them came into the window since: raise ``Contention`` (start over)."""
    moved: list[tuple[str, str, str]] = []
    stranded: list[str] = []
    to_send: list[str] = []
    all_disruptions = uow.disruptions.overlapping(
        disruption.starts_at - timedelta(days=1), disruption.ends_at + timedelta(days=7)
    )
    for adcode in disruption.adcodes:
        for slot, area, template in _windows(uow, adcode, disruption):
            capacity = capacity_under(svc.calendar, area, template, slot, all_disruptions)
            uow.slots.set_capacity(slot, capacity)
            booked = sorted(
                (
                    a
                    for a in uow.appointments.for_area_day(adcode, slot.day)
                    if a.slot == slot and a.status in ACTIVE
                ),
                # A courier already at the door stays; then the earliest bookings keep their place.
                key=lambda a: (
                    a.status is not AppointmentStatus.ARRIVED,
                    a.created_at,
                    a.appointment_id,
                ),
            )
            for stale in booked[capacity:]:
                if stale.status is AppointmentStatus.ARRIVED:
                    continue
                # Moving one visit re-times its new route and saves the others: reload.
                appt = load_appointment(uow, stale.appointment_id)
                if not set(appt.return_ids) <= locked:
                    raise Contention()
                target = _nearest_window(svc, uow, appt, area, template, all_disruptions, now)
                if target is None:
                    withdrawn = _strand(svc, uow, appt, disruption, now)
                    to_send += [withdrawn] if withdrawn is not None else []
                    stranded.append(appt.appointment_id)
                    continue
                take_off_route(uow, svc.travel, uow.couriers.list(), appt, now)
                old = appt.reschedule(target, now, f"disruption:{disruption.disruption_id}")
                appt.sla_exempt = True
                uow.slots.release(old)
                requests = [load_return(uow, return_id) for return_id in appt.return_ids]
                for request in requests:
                    request.schedule_pickup(appt.appointment_id, now)
                    uow.returns.save(request)
                if appt.served_by_company:
                    # The company's courier keeps the company's window unless told.
                    to_send.append(order_follows_visit(svc, uow, appt, requests, now))
                else:
                    place_visit(svc, uow, area, appt, now)
                uow.appointments.save(appt)
                moved.append((appt.appointment_id, old.key, target.key))
    return moved, stranded, to_send


def _nearest_window(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    area: ServiceArea,
    template: SlotTemplate,
    disruptions: Sequence[Disruption],
    now: datetime,
) -> SlotRef | None:
    """The open window closest in time to the booked one that still has room and deadline."""
    deadline = _pickup_deadline(uow, appt)
    candidates = open_slots(area.adcode, appt.slot.carrier_id, template, now, svc.booking)
    candidates.sort(
        key=lambda s: (abs((s.starts_at - appt.slot.starts_at).total_seconds()), s.starts_at)
    )
    for slot in candidates:
        if slot == appt.slot or (deadline is not None and slot.starts_at > deadline):
            continue
        capacity = capacity_under(svc.calendar, area, template, slot, disruptions)
        if capacity > 0 and uow.slots.take(slot, capacity):
            return slot
    return None


def _pickup_deadline(uow: UnitOfWork, appt: Appointment) -> datetime | None:
    deadlines = []
    for return_id in appt.return_ids:
        request = load_return(uow, return_id)
        offer = request.decision.offers(ReturnMethod.PICKUP) if request.decision else None
        if offer is not None and offer.until is not None:
            deadlines.append(offer.until)
    return min(deadlines) if deadlines else None


def _strand(
    svc: Services, uow: UnitOfWork, appt: Appointment, disruption: Disruption, now: datetime
) -> str | None:
    """No window can take the visit: cancel it and let the buyer choose (drop-off, later).
    It gives back what it held as a cancelled pickup does; the company order to cancel
    after the commit, if a company served it."""
    held_window = appt.active
    reason = f"disruption:{disruption.disruption_id}"
    appt.cancel(now, reason)
    withdrawn = release_visit(svc, uow, appt, now, held_window=held_window, reason=reason)
    for return_id in appt.return_ids:
        request = load_return(uow, return_id)
        request.release_pickup(now, reason)
        uow.returns.save(request)
    uow.appointments.save(appt)
    return withdrawn
