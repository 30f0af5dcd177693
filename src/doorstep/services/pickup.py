"""Booking, moving and cancelling door pickups, atomically against slot capacity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import partial

from doorstep.domain.clock import local
from doorstep.domain.coverage import ServiceArea, SlotTemplate, Window
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import Conflict, InvalidInput, NotFound, StaleWrite
from doorstep.domain.fleet import Courier as FleetCourier
from doorstep.domain.pickup import Appointment, Handover, SlotRef, check_bookable, check_wanted
from doorstep.domain.returns import ReturnRequest, ReturnStatus
from doorstep.domain.route import RouteStop, route_id
from doorstep.services import pickup_company as company
from doorstep.services.carrier_orders import order_for_visit, send_order, withdraw_order
from doorstep.services.context import Services
from doorstep.services.lookups import load_appointment, load_return, lock_return
from doorstep.services.offering import (
    OfferedSlot,
    SlotOffering,
    effective_capacity,
    template_for,
)
from doorstep.services.ports import UnitOfWork
from doorstep.services.route import (
    BOOKING_ATTEMPTS,
    Contention,
    Option,
    append_to_route,
    candidate_couriers,
    cheapest,
    expected_etas,
    options,
    planner_stop,
    put_on_route,
    resize_on_route,
    route_stop,
    take_off_route,
)


@dataclass(frozen=True)
class SlotChoice:
    """A window the buyer picked: carrier, day and start time."""

    carrier_id: str
    day: date
    start: time
    # Contactless (issue 8 §8): leave the parcel at the door or in a locker, with a note.
    handover: Handover = Handover.IN_PERSON
    handover_note: str = ""
    # The coupon the buyer saw on this window (issue 9 §9); checked against the offer.
    coupon_fen: int = 0


@dataclass(frozen=True)
class PickupOptions:
    """What the buyer sees: pending visits to join, windows to book, or why there are none."""

    return_id: str
    slots: tuple[OfferedSlot, ...]
    joinable: tuple[Appointment, ...]
    unavailable_reason: str | None = None


def _pickup_area(uow: UnitOfWork, request: ReturnRequest, *, share: bool = False) -> ServiceArea:
    """The area serving the return's address. ``share``: kept from change until commit, for
    a write that counts against its windows' figures (an area or template edit locks the
    area and moves every counter; one created from a figure read before the edit committed
    would keep the old figure)."""
    assert request.address is not None
    adcode = request.address.adcode
    area = uow.areas.get_for_share(adcode) if share else uow.areas.get(adcode)
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
    svc: Services,
    offering: SlotOffering,
    buyer_id: str,
    return_id: str,
    wanted: datetime | None = None,
) -> PickupOptions:
    """Windows to book for a return, and the buyer's pending visits at the same address;
    ``wanted``: when the buyer said suits them, passed to the offering (``InvalidInput``
    ``wanted_*`` when it is off the quarter hour or outside the booking horizon)."""
    now = svc.clock.now()
    if wanted is not None:
        wanted = check_wanted(wanted, now, svc.booking)
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
        if wanted is None:
            slots = offering.offer(uow, svc.calendar, area, request.address, now, svc.booking)
        else:
            slots = offering.offer(
                uow, svc.calendar, area, request.address, now, svc.booking, wanted
            )
        if offer.until is not None:
            slots = [s for s in slots if s.slot.starts_at <= offer.until]
        joinable = tuple(
            a
            for a in uow.appointments.active_for_buyer(
                buyer_id, request.address.adcode, local(now).date()
            )
            if a.address.same_place(request.address)
            and a.appointment_id != request.appointment_id
            and now < a.slot.ends_at
        )
        return PickupOptions(return_id, tuple(slots), joinable)


def book_pickup(svc: Services, buyer_id: str, return_id: str, choice: SlotChoice) -> Appointment:
    """Take one unit of the slot's capacity, put the visit on a courier's route and create
    it, or fail with nothing taken. A race lost on a route is retried here, not shown."""
    for _ in range(BOOKING_ATTEMPTS - 1):
        try:
            return _after_commit(svc, _book(svc, buyer_id, return_id, choice))
        except (Contention, StaleWrite):
            continue
    return _after_commit(svc, _book(svc, buyer_id, return_id, choice))


def _after_commit(svc: Services, booked: tuple[Appointment, str | None]) -> Appointment:
    """A company-served visit's order is sent once the booking is committed (no HTTP call
    inside the transaction); if the company does not answer, the worker sends it again."""
    appt, to_send = booked
    if to_send is not None:
        send_order(svc, to_send)
    return appt


def _book(
    svc: Services, buyer_id: str, return_id: str, choice: SlotChoice
) -> tuple[Appointment, str | None]:
    now = svc.clock.now()
    with svc.uow() as uow:
        # The return before the window and the route, as a withdrawal takes them: one of the
        # same return waits here, or this booking sees it withdrawn.
        request = lock_return(uow, return_id, buyer_id=buyer_id)
        if request.status is not ReturnStatus.APPROVED:
            raise Conflict(
                "not_bookable",
                "Only an approved return without a pickup can be booked.",
                "只有已审核通过且未预约的退货可以预约上门取件。",
                status=request.status.value,
            )
        area, template, slot = _target(uow, request, choice)
        check_bookable(slot, template, now, svc.booking)
        _check_until(request, slot)
        assert request.address is not None
        appt = Appointment.book(
            svc.ids.new("A"),
            buyer_id,
            request.address,
            slot,
            [request.return_id],
            now,
            choice.handover,
            choice.handover_note,
        )
        if area.served_by_company(slot.carrier_id):
            capacity = effective_capacity(uow, svc.calendar, area, template, slot)
            gone = partial(_gone, svc, uow, area, request, slot, now, full=True)
            return company.book(svc, uow, appt, request, capacity, gone)
        # Looked up before this visit changes the routes and counters the offer reads.
        coupon = _offered_coupon(svc, uow, area, request, slot, now) if choice.coupon_fen else 0
        seat = _seat(svc, uow, area, appt, now)
        if not uow.slots.take(slot, effective_capacity(uow, svc.calendar, area, template, slot)):
            raise _gone(svc, uow, area, request, slot, now, full=True)
        _take_seat(svc, uow, area, appt, seat, now)
        appt.promise_coupon(coupon, now)
        request.schedule_pickup(appt.appointment_id, now)
        uow.appointments.add(appt)
        uow.returns.save(request)
        uow.commit()
        return appt, None


def _offered_coupon(
    svc: Services,
    uow: UnitOfWork,
    area: ServiceArea,
    request: ReturnRequest,
    slot: SlotRef,
    now: datetime,
) -> int:
    """The coupon the offering gives this window now (0 if none): a buyer who saw a green
    window gets its coupon recorded; a claimed coupon is never taken on the client's word.
    Only bookings that claim a coupon pay for this second look at the offer."""
    assert request.address is not None
    offered = svc.offering.offer(uow, svc.calendar, area, request.address, now, svc.booking)
    return next((o.incentive_fen for o in offered if o.slot == slot), 0)


def join_pickup(svc: Services, buyer_id: str, return_id: str, appointment_id: str) -> Appointment:
    """Put another return on a visit already booked at the same address: no new capacity.
    A race lost to the courier or the company's callbacks on the visit is retried here."""
    for _ in range(BOOKING_ATTEMPTS - 1):
        try:
            return _join(svc, buyer_id, return_id, appointment_id)
        except (Contention, StaleWrite):
            continue
    return _join(svc, buyer_id, return_id, appointment_id)


def _join(svc: Services, buyer_id: str, return_id: str, appointment_id: str) -> Appointment:
    now = svc.clock.now()
    with svc.uow() as uow:
        request = lock_return(uow, return_id, buyer_id=buyer_id)  # before the visit's route
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
        area = uow.areas.get(appt.slot.adcode)
        if appt.served_by_company:
            po = order_for_visit(uow.pickup_orders.for_appointments([appt.appointment_id]))
            if po is not None and request.return_id not in po.return_ids:
                po.return_ids.append(request.return_id)  # the company's courier takes both
                uow.pickup_orders.save(po)
        elif area is not None:
            resize_on_route(uow, area, appt, now)
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
    guard: Callable[[UnitOfWork], None] | None = None,
) -> Appointment:
    """Move a visit to another window: take the new capacity and route place first, then
    give the old ones back. ``guard`` runs in the move's transaction once the visit's
    returns are locked, before any window (it may lock and refuse, e.g. a rebalance checks
    the old window is still over capacity)."""
    for _ in range(BOOKING_ATTEMPTS - 1):
        try:
            return _after_commit(
                svc, _reschedule(svc, buyer_id, appointment_id, choice, reason, guard)
            )
        except (Contention, StaleWrite):
            continue
    return _after_commit(svc, _reschedule(svc, buyer_id, appointment_id, choice, reason, guard))


def _reschedule(
    svc: Services,
    buyer_id: str | None,
    appointment_id: str,
    choice: SlotChoice,
    reason: str,
    guard: Callable[[UnitOfWork], None] | None,
) -> tuple[Appointment, str | None]:
    now = svc.clock.now()
    with svc.uow() as uow:
        appt, requests = _locked_visit(uow, appointment_id, buyer_id)
        appt.require_movable()  # an emptied visit (withdrawn) is cancelled, with no returns
        if guard is not None:
            guard(uow)
        area, template, slot = _target(uow, requests[0], choice)
        check_bookable(slot, template, now, svc.booking)
        for request in requests:
            _check_until(request, slot)
        if slot == appt.slot:
            raise Conflict("same_slot", "That is already the booked window.", "已预约该时段。")
        if appt.served_by_company:
            if slot.carrier_id != appt.slot.carrier_id:
                raise InvalidInput(
                    "carrier_change_not_allowed",
                    "A courier company's visit moves to another window of the same company.",
                    "快递公司上门预约只能改约到同一快递公司的其他时段。",
                )
            capacity = effective_capacity(uow, svc.calendar, area, template, slot)
            gone = partial(_gone, svc, uow, area, requests[0], slot, now, full=True)
            return company.reschedule(svc, uow, appt, requests, slot, capacity, reason, gone)
        moved = replace(appt, slot=slot)
        seat = _seat(svc, uow, area, moved, now)
        capacity = effective_capacity(uow, svc.calendar, area, template, slot)
        # A failed attempt used its window: nothing to give back. Rows are locked in key
        # order (slots, then routes) so that two moves in opposite directions never wait on
        # each other; a release undone by a refused take is rolled back with the rest.
        give_back = [] if appt.status.value == "failed" else [appt.slot]
        for counted in sorted([slot, *give_back], key=lambda s: s.key):
            if counted != slot:
                uow.slots.release(counted)
            elif not uow.slots.take(slot, capacity):
                raise _gone(svc, uow, area, requests[0], slot, now, full=True)
        _lock_routes(uow, appt, seat, slot)
        take_off_route(uow, svc.travel, uow.couriers.list(), appt, now)
        appt.reschedule(slot, now, reason)
        _take_seat(svc, uow, area, appt, seat, now)
        for request in requests:
            request.schedule_pickup(appt.appointment_id, now)
            uow.returns.save(request)
        uow.appointments.save(appt)
        uow.commit()
        return appt, None


def _locked_visit(
    uow: UnitOfWork, appointment_id: str, buyer_id: str | None
) -> tuple[Appointment, list[ReturnRequest]]:
    """The visit and its returns, the returns' rows locked in key order before any window
    or route (the order a withdrawal, a failed attempt and a pickup take), and the visit
    read again under those locks: whatever changed it through its returns (a withdrawal, a
    failed attempt) committed before this read, or waits for this transaction. A return
    that joined or left between the two reads makes the caller start over."""
    first = load_appointment(uow, appointment_id, buyer_id=buyer_id)
    locked = {rid: lock_return(uow, rid) for rid in sorted(first.return_ids)}
    appt = load_appointment(uow, appointment_id, buyer_id=buyer_id)
    if sorted(appt.return_ids) != list(locked):
        raise Contention()
    return appt, [locked[rid] for rid in appt.return_ids]


def cancel_pickup(svc: Services, buyer_id: str, appointment_id: str) -> Appointment:
    """Cancel the visit; its returns go back to choosing a method, the slot is freed. A
    visit changed while this ran (one of its returns withdrawn) is read again, not shown."""
    for _ in range(BOOKING_ATTEMPTS - 1):
        try:
            return _cancel(svc, buyer_id, appointment_id)
        except (Contention, StaleWrite):
            continue
    return _cancel(svc, buyer_id, appointment_id)


def _cancel(svc: Services, buyer_id: str, appointment_id: str) -> Appointment:
    now = svc.clock.now()
    with svc.uow() as uow:
        appt, requests = _locked_visit(uow, appointment_id, buyer_id)
        held_window = appt.active
        appt.cancel(now, "buyer_cancelled")
        to_send = release_visit(svc, uow, appt, now, held_window=held_window)
        for request in requests:
            if request.status is ReturnStatus.AWAITING_PICKUP:
                request.release_pickup(now, "appointment_cancelled")
                uow.returns.save(request)
        uow.appointments.save(appt)
        uow.commit()
    if to_send is not None:
        send_order(svc, to_send)
    return appt


def release_visit(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    now: datetime,
    *,
    held_window: bool,
    reason: str = "buyer_cancelled",
) -> str | None:
    """A visit just cancelled (in this transaction, so only once) gives back what it held:
    the window's count and its stop on our courier's route, or its order at the courier
    company. ``held_window``: whether it held its window before the cancel (a failed
    attempt used its window and is done on the route: neither is given back); ``reason``
    goes to the company's order. Returns the company order's ``out_order_no`` to send
    after the commit, or None."""
    to_send = withdraw_order(uow, appt, now, reason) if appt.served_by_company else None
    if held_window:
        uow.slots.release(appt.slot)
        if not appt.served_by_company:
            take_off_route(uow, svc.travel, uow.couriers.list(), appt, now)
    return to_send


def return_left(
    svc: Services, uow: UnitOfWork, appt: Appointment, now: datetime, *, held_window: bool
) -> str | None:
    """A return left the visit (``Appointment.leave``, in this transaction): a visit left
    empty was cancelled and gives back what it held (``release_visit``); one that keeps
    other returns stays, its route stop shrunk to what it still carries (as a join grows
    it). The company order to send after the commit, or None."""
    if not appt.return_ids:
        return release_visit(svc, uow, appt, now, held_window=held_window)
    area = uow.areas.get(appt.slot.adcode)
    if appt.active and not appt.served_by_company and area is not None:
        resize_on_route(uow, area, appt, now)
    return None


def _lock_routes(uow: UnitOfWork, appt: Appointment, seat: _Seat, slot: SlotRef) -> None:
    """Lock the visit's current route and its new one (in ``slot``) in key order."""
    keys = set()
    if appt.courier_id is not None:
        keys.add((appt.courier_id, appt.slot.carrier_id, appt.slot.day))
    if seat.option is not None:
        route = seat.option.route
        keys.add((seat.option.courier.courier_id, route.carrier_id, route.day))
    elif seat.fallback is not None:
        keys.add((seat.fallback.courier_id, slot.carrier_id, slot.day))
    for courier_id, carrier_id, day in sorted(keys, key=lambda k: route_id(k[0], k[2])):
        uow.routes.lock(courier_id, carrier_id, day)


@dataclass(frozen=True)
class _Seat:
    """Where a visit will go: a route option, or (fixed-capacity offering) a courier whose
    route takes it last even if late, or, when the area has no coordinates (no stop), the
    least loaded courier to assign it to (None: nobody on shift)."""

    stop: RouteStop | None
    option: Option | None
    fallback: FleetCourier | None


def place_visit(
    svc: Services, uow: UnitOfWork, area: ServiceArea, appt: Appointment, now: datetime
) -> None:
    """Put a visit that was moved by someone else (a disruption) on the cheapest route,
    last on the least loaded one if no route can keep it (the re-plan reports that)."""
    _take_seat(svc, uow, area, appt, _seat(svc, uow, area, appt, now, must_keep=False), now)


def _seat(
    svc: Services,
    uow: UnitOfWork,
    area: ServiceArea,
    appt: Appointment,
    now: datetime,
    *,
    must_keep: bool = True,
) -> _Seat:
    """Find the cheapest route that keeps every promise with this visit added. A
    route-aware offering refuses the window when there is none."""
    if area.lat is None or area.lon is None:
        return _Seat(None, None, _by_load(uow, appt))
    stop = route_stop(uow, area, appt)
    slot = appt.slot
    couriers = candidate_couriers(uow.couriers.list(), area, slot.carrier_id)
    on = options(svc.route_cache, uow, svc.travel, couriers, slot.carrier_id, [slot.day], now)
    found = on(slot.day, planner_stop(stop))
    if found:
        return _Seat(stop, cheapest(found, svc.booking.call_out_s), None)
    if must_keep and svc.offering.route_aware:
        request = uow.returns.get(appt.return_ids[0])
        assert request is not None
        raise _gone(svc, uow, area, request, slot, now, full=False)
    if not couriers:
        return _Seat(None, None, None)  # nobody to send: booked, left for ops to assign
    return _Seat(stop, None, _least_loaded(uow, couriers, slot))


def _take_seat(
    svc: Services,
    uow: UnitOfWork,
    area: ServiceArea,
    appt: Appointment,
    seat: _Seat,
    now: datetime,
) -> None:
    if seat.stop is None:
        if seat.fallback is not None:
            _assign_in_fleet(uow, appt, seat.fallback, now)
        return
    if seat.option is not None:
        courier = seat.option.courier
        route = put_on_route(uow, svc.travel, svc.route_cache, seat.option, seat.stop, now)
    else:
        assert seat.fallback is not None
        courier = seat.fallback
        route = append_to_route(
            uow, svc.travel, courier, appt.slot.carrier_id, appt.slot.day, seat.stop, now
        )
    eta = expected_etas(svc.travel, route, courier, now).get(appt.appointment_id)
    position = next(i for i, s in enumerate(route.open) if s.appointment_id == appt.appointment_id)
    appt.assign(courier.courier_id, now)
    if eta is not None:
        appt.plan(courier.courier_id, position, eta, now)


def _least_loaded(uow: UnitOfWork, couriers: list[FleetCourier], slot: SlotRef) -> FleetCourier:
    """The courier on shift for the window with the fewest open visits that day."""
    on_shift = [
        c for c in couriers if c.shift_start <= slot.window.start and slot.window.end <= c.shift_end
    ] or couriers
    loads = {
        r.courier_id: len(r.open)
        for r in uow.routes.get_many(route_id(c.courier_id, slot.day) for c in on_shift)
    }
    return min(on_shift, key=lambda c: (loads.get(c.courier_id, 0), c.courier_id))


def _gone(
    svc: Services,
    uow: UnitOfWork,
    area: ServiceArea,
    request: ReturnRequest,
    slot: SlotRef,
    now: datetime,
    *,
    full: bool,
) -> Conflict:
    """The window is really gone: say so, with the next best windows to choose from."""
    assert request.address is not None
    offered = svc.offering.offer(uow, svc.calendar, area, request.address, now, svc.booking)
    offer = request.decision.offers(ReturnMethod.PICKUP) if request.decision else None
    until = offer.until if offer is not None else None
    alternatives = [
        {
            "carrier_id": o.slot.carrier_id,
            "day": o.slot.day.isoformat(),
            "start": o.slot.window.start.strftime("%H:%M"),
            "end": o.slot.window.end.strftime("%H:%M"),
        }
        for o in offered
        if o.slot != slot and (until is None or o.slot.starts_at <= until)
    ][:3]
    if full:
        return Conflict(
            "slot_full",
            "That window has just been fully booked.",
            "该时段已约满，请选择其他时段。",
            slot=slot.key,
            alternatives=alternatives,
        )
    return Conflict(
        "slot_not_offered",
        "That window can no longer be kept; please choose another.",
        "该时段已无法安排上门，请选择其他时段。",
        slot=slot.key,
        alternatives=alternatives,
    )


def _target(
    uow: UnitOfWork, request: ReturnRequest, choice: SlotChoice
) -> tuple[ServiceArea, SlotTemplate, SlotRef]:
    # Shared until commit: an edit of the area or its template waits for this booking, or
    # this booking counts against the edited figure (services/catalog.py moves the counters).
    area = _pickup_area(uow, request, share=True)
    template = _template(uow, area, choice.carrier_id)
    window = template.window(choice.start)
    if window is None:
        raise InvalidInput(
            "slot_not_in_template",
            f"{choice.start:%H:%M} is not a pickup window here.",
            f"{choice.start:%H:%M} 不是该地区的可预约时段。",
        )
    slot = SlotRef(area.adcode, choice.carrier_id, choice.day, Window(window.start, window.end))
    return area, template, slot


def _check_until(request: ReturnRequest, slot: SlotRef) -> None:
    offer = request.decision.offers(ReturnMethod.PICKUP) if request.decision else None
    if offer is not None and offer.until is not None and slot.starts_at > offer.until:
        raise Conflict(
            "slot_after_deadline",
            f"Pickup must happen by {offer.until:%Y-%m-%d %H:%M}.",
            f"须在 {offer.until:%Y-%m-%d %H:%M} 前完成取件。",
            until=offer.until.isoformat(),
        )


def _assign_in_fleet(
    uow: UnitOfWork, appt: Appointment, courier: FleetCourier, now: datetime
) -> None:
    """Assign the visit (no route stop: its area has no coordinates) under the courier's
    route lock for the day, as ``put_on_route`` and ``append_to_route`` write a route: a
    courier's account deletion locks each of their routes before it reads their visits, so
    it either sees this visit (and puts it back in the pool) or this booking finds the
    courier gone and starts over with the fleet read again."""
    uow.routes.lock(courier.courier_id, appt.slot.carrier_id, appt.slot.day)
    if uow.routes.get_in_fleet(courier.courier_id, appt.slot.day) is None:
        raise Contention()
    appt.assign(courier.courier_id, now)


def _by_load(uow: UnitOfWork, appt: Appointment) -> FleetCourier | None:
    """First version: the courier of that carrier with the fewest visits that day, nearest depot
    first (read without locks; ``_assign_in_fleet`` checks it is still in the fleet). Route
    planning (issue 3) re-assigns and orders the day's visits."""
    candidates = [
        c
        for c in uow.couriers.list()
        if c.carrier_id == appt.slot.carrier_id
        and c.shift_start <= appt.slot.window.start
        and appt.slot.window.end <= c.shift_end
    ]
    if not candidates:
        return None

    def load(courier_id: str) -> int:
        return sum(1 for a in uow.appointments.for_courier(courier_id, appt.slot.day) if a.active)

    return min(
        candidates,
        key=lambda c: (c.depot_adcode != appt.slot.adcode, load(c.courier_id), c.courier_id),
    )


def get_appointment(
    svc: Services,
    appointment_id: str,
    *,
    buyer_id: str | None = None,
    courier_id: str | None = None,
) -> Appointment:
    with svc.uow() as uow:
        return load_appointment(uow, appointment_id, buyer_id=buyer_id, courier_id=courier_id)
