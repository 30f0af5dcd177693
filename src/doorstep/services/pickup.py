"""Booking, moving and cancelling door pickups, atomically against slot capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from doorstep.domain.address import Address
from doorstep.domain.coverage import ServiceArea, SlotTemplate, Window
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.pickup import Appointment, SlotRef, check_bookable
from doorstep.domain.returns import ReturnRequest, ReturnStatus
from doorstep.services.context import Services
from doorstep.services.lookups import load_appointment, load_return
from doorstep.services.offering import (
    OfferedSlot,
    SlotOffering,
    effective_capacity,
    template_for,
)
from doorstep.services.ports import UnitOfWork
from doorstep.services.routing import insert_appointment


@dataclass(frozen=True)
class SlotChoice:
    """A window the buyer picked: carrier, day and start time."""

    carrier_id: str
    day: date
    start: time


@dataclass(frozen=True)
class PickupOptions:
    """What the buyer sees: pending visits to join, windows to book, or why there are none."""

    return_id: str
    slots: tuple[OfferedSlot, ...]
    joinable: tuple[Appointment, ...]
    unavailable_reason: str | None = None


def _pickup_area(uow: UnitOfWork, request: ReturnRequest) -> ServiceArea:
    assert request.address is not None
    area = uow.areas.get(request.address.adcode)
    if area is None or not area.serves_pickup:
        raise Conflict(
            "area_not_covered",
            "Door pickup does not serve this address.",
            "该地址不在上门取件服务范围内。",
        )
    return area


def _template(uow: UnitOfWork, area: ServiceArea, carrier_id: str) -> SlotTemplate:
    if carrier_id not in area.carrier_ids:
        raise InvalidInput(
            "carrier_not_in_area",
            "That courier company does not serve here.",
            "该快递公司不服务此地区。",
            carrier_id=carrier_id,
        )
    template = template_for(uow, area, carrier_id)
    if template is None:
        raise NotFound("slot_template", f"{area.adcode}/{carrier_id}")
    return template


def pickup_options(
    svc: Services, offering: SlotOffering, buyer_id: str, return_id: str
) -> PickupOptions:
    """Windows to book for a return, and the buyer's pending visits at the same address."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        offer = request.decision.offers(ReturnMethod.PICKUP) if request.decision else None
        if (
            request.status not in (ReturnStatus.APPROVED, ReturnStatus.AWAITING_PICKUP)
            or offer is None
        ):
            why = request.decision.unavailable.get("pickup") if request.decision else None
            return PickupOptions(return_id, (), (), why or f"status_{request.status.value}")
        area = _pickup_area(uow, request)
        assert request.address is not None
        slots = offering.offer(uow, svc.calendar, area, request.address, now, svc.booking)
        if offer.until is not None:
            slots = [s for s in slots if s.slot.starts_at <= offer.until]
        joinable = tuple(
            a
            for a in uow.appointments.active_for_buyer(buyer_id)
            if a.address.same_place(request.address)
            and a.appointment_id != request.appointment_id
            and now < a.slot.ends_at
        )
        return PickupOptions(return_id, tuple(slots), joinable)


def book_pickup(svc: Services, buyer_id: str, return_id: str, choice: SlotChoice) -> Appointment:
    """Take one unit of the slot's capacity and create the visit, or fail with nothing taken."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        if request.status is not ReturnStatus.APPROVED:
            raise Conflict(
                "not_bookable",
                "Only an approved return without a pickup can be booked.",
                "只有已审核通过且未预约的退货可以预约上门取件。",
                status=request.status.value,
            )
        slot = _slot(uow, request, choice)
        area = _pickup_area(uow, request)
        template = _template(uow, area, choice.carrier_id)
        check_bookable(slot, template, now, svc.booking)
        _check_until(request, slot)
        assert request.address is not None
        _check_offered(svc, uow, area, request.address, slot, now)
        if not uow.slots.take(slot, effective_capacity(uow, svc.calendar, area, template, slot)):
            raise _slot_full(slot)
        assert request.address is not None
        appt = Appointment.book(
            svc.ids.new("A"), buyer_id, request.address, slot, [request.return_id], now
        )
        assign_courier(svc, uow, appt, now)
        request.schedule_pickup(appt.appointment_id, now)
        uow.appointments.add(appt)
        uow.returns.save(request)
        uow.commit()
        return appt


def join_pickup(svc: Services, buyer_id: str, return_id: str, appointment_id: str) -> Appointment:
    """Put another return on a visit already booked at the same address: no new capacity."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        appt = load_appointment(uow, appointment_id, buyer_id=buyer_id)
        assert request.address is not None
        if now >= appt.slot.ends_at:
            raise Conflict(
                "visit_over",
                "That visit's window is over; choose a window instead.",
                "该上门时段已结束，请重新选择时段。",
            )
        if not appt.address.same_place(request.address):
            raise Conflict(
                "different_address", "That visit is at another address.", "该预约的取件地址不同。"
            )
        if request.status is not ReturnStatus.APPROVED:
            raise Conflict(
                "not_bookable",
                "Only an approved return without a pickup can join.",
                "只有已审核通过且未预约的退货可以合并取件。",
            )
        _check_until(request, appt.slot)
        appt.join(request.return_id, now)
        request.schedule_pickup(appt.appointment_id, now)
        uow.appointments.save(appt)
        uow.returns.save(request)
        uow.commit()
        return appt


def reschedule_pickup(
    svc: Services,
    buyer_id: str | None,
    appointment_id: str,
    choice: SlotChoice,
    reason: str = "buyer_request",
) -> Appointment:
    """Move a visit to another window: take the new capacity first, then give the old back."""
    now = svc.clock.now()
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, buyer_id=buyer_id)
        requests = [load_return(uow, rid) for rid in appt.return_ids]
        slot = _slot(uow, requests[0], choice)
        area = _pickup_area(uow, requests[0])
        template = _template(uow, area, choice.carrier_id)
        check_bookable(slot, template, now, svc.booking)
        for request in requests:
            _check_until(request, slot)
        _check_offered(svc, uow, area, appt.address, slot, now)
        if not uow.slots.take(slot, effective_capacity(uow, svc.calendar, area, template, slot)):
            raise _slot_full(slot)
        failed_before = appt.status.value == "failed"
        old = appt.reschedule(slot, now, reason)
        if not failed_before:
            uow.slots.release(old)  # a failed attempt used its window; nothing to give back
        assign_courier(svc, uow, appt, now)
        for request in requests:
            request.schedule_pickup(appt.appointment_id, now)
            uow.returns.save(request)
        uow.appointments.save(appt)
        uow.commit()
        return appt


def cancel_pickup(svc: Services, buyer_id: str, appointment_id: str) -> Appointment:
    """Cancel the visit; its returns go back to choosing a method, the slot is freed."""
    now = svc.clock.now()
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, buyer_id=buyer_id)
        was_failed = appt.status.value == "failed"
        appt.cancel(now, "buyer_cancelled")
        if not was_failed:
            uow.slots.release(appt.slot)
        for return_id in appt.return_ids:
            request = load_return(uow, return_id)
            if request.status is ReturnStatus.AWAITING_PICKUP:
                request.release_pickup(now, "appointment_cancelled")
                uow.returns.save(request)
        uow.appointments.save(appt)
        uow.commit()
        return appt


def _check_offered(
    svc: Services,
    uow: UnitOfWork,
    area: ServiceArea,
    address: Address,
    slot: SlotRef,
    now: datetime,
) -> None:
    """Book only what the offering policy would show now: with route-aware offering, a
    window the couriers can no longer keep is refused even if its count has room."""
    offered = svc.offering.offer(uow, svc.calendar, area, address, now, svc.booking)
    if all(o.slot != slot for o in offered):
        load = uow.slots.loads([slot], 1)[slot]
        if load.booked >= load.capacity:
            raise _slot_full(slot)
        raise Conflict(
            "slot_not_offered",
            "That window can no longer be kept; please choose another.",
            "该时段已无法安排上门，请选择其他时段。",
            slot=slot.key,
        )


def _slot(uow: UnitOfWork, request: ReturnRequest, choice: SlotChoice) -> SlotRef:
    area = _pickup_area(uow, request)
    template = _template(uow, area, choice.carrier_id)
    window = template.window(choice.start)
    if window is None:
        raise InvalidInput(
            "slot_not_in_template",
            f"{choice.start:%H:%M} is not a pickup window here.",
            f"{choice.start:%H:%M} 不是该地区的可预约时段。",
        )
    return SlotRef(area.adcode, choice.carrier_id, choice.day, Window(window.start, window.end))


def _check_until(request: ReturnRequest, slot: SlotRef) -> None:
    offer = request.decision.offers(ReturnMethod.PICKUP) if request.decision else None
    if offer is not None and offer.until is not None and slot.starts_at > offer.until:
        raise Conflict(
            "slot_after_deadline",
            f"Pickup must happen by {offer.until:%Y-%m-%d %H:%M}.",
            f"须在 {offer.until:%Y-%m-%d %H:%M} 前完成取件。",
            until=offer.until.isoformat(),
        )


def assign_courier(svc: Services, uow: UnitOfWork, appt: Appointment, now: datetime) -> None:
    """Cheapest insertion into a courier's route; where the area has no coordinates or no
    route can take it, the courier of the carrier with the nearest depot and fewest visits
    (the background re-plan then reports it if it truly cannot be kept)."""
    if insert_appointment(uow, svc, appt, now):
        return
    _assign_by_load(uow, appt, now)


def _assign_by_load(uow: UnitOfWork, appt: Appointment, now: datetime) -> None:
    """First version: the courier of that carrier with the fewest visits that day, nearest depot
    first. Route planning (issue 3) re-assigns and orders the day's visits."""
    candidates = [
        c
        for c in uow.couriers.list()
        if c.carrier_id == appt.slot.carrier_id
        and c.shift_start <= appt.slot.window.start
        and appt.slot.window.end <= c.shift_end
    ]
    if not candidates:
        return

    def load(courier_id: str) -> int:
        return sum(1 for a in uow.appointments.for_courier(courier_id, appt.slot.day) if a.active)

    candidates.sort(
        key=lambda c: (c.depot_adcode != appt.slot.adcode, load(c.courier_id), c.courier_id)
    )
    appt.assign(candidates[0].courier_id, now)


def get_appointment(
    svc: Services,
    appointment_id: str,
    *,
    buyer_id: str | None = None,
    courier_id: str | None = None,
) -> Appointment:
    with svc.uow() as uow:
        return load_appointment(uow, appointment_id, buyer_id=buyer_id, courier_id=courier_id)


def _slot_full(slot: SlotRef) -> Conflict:
    return Conflict(
        "slot_full",
        "That window has just been fully booked.",
        "该时段已约满，请选择其他时段。",
        slot=slot.key,
    )
