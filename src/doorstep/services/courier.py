"""What a courier does at the door: arrive, inspect, check the code, pick up or fail."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from doorstep.domain.clock import local
from doorstep.domain.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from doorstep.domain.pickup import Appointment, FailureReason
from doorstep.domain.returns import Inspection, InspectionResult, ReturnStatus
from doorstep.domain.route import StopState
from doorstep.services.context import Services
from doorstep.services.lookups import load_appointment, load_return
from doorstep.services.refunds import start_express_refund
from doorstep.services.route import planner_courier, record_progress

# JD's pickup rules (RULES.md §5): any of these false means the courier refuses the item.
CHECKLIST = (
    "outer_packaging",
    "plastic_wrap_intact",
    "original_box_present",
    "original_box_undamaged",
    "unused",
    "barcode_matches",
    "appearance_ok",
    "accessories_complete",
)

# Throttle rule: code tries per appointment. A six-digit code with five tries per ten minutes
# would take years to guess; a courier who mistyped calls the buyer to read it out again.
PICKUP_CODE = "pickup_code"


@dataclass(frozen=True)
class InspectionInput:
    return_id: str
    checklist: dict[str, bool]
    photo_ids: tuple[str, ...]
    verified_weight_g: int | None = None
    note: str = ""


def todays_tasks(svc: Services, courier_id: str) -> list[Appointment]:
    """The courier's visits for today in route order, each with its ETA as the route now
    stands (visits not on the route, e.g. finished ones, follow by window)."""
    today = local(svc.clock.now()).date()
    with svc.uow() as uow:
        tasks = uow.appointments.for_courier(courier_id, today)
        route = uow.routes.get(courier_id, today)
        fleet = uow.couriers.get(courier_id)
    order: dict[str, int] = {}
    if route is not None and fleet is not None:
        free_from = planner_courier(fleet, today, route).free_from_s
        order = {s.appointment_id: i for i, s in enumerate(route.open)}
        for appt in tasks:
            if appt.appointment_id in order:
                appt.route_position = order[appt.appointment_id]
                appt.eta = route.eta_of(appt.appointment_id, free_from) or appt.eta
    return sorted(
        tasks,
        key=lambda a: (
            a.appointment_id not in order,
            order.get(a.appointment_id, 0),
            a.slot.window.start,
            a.appointment_id,
        ),
    )


def arrive(svc: Services, courier_id: str, appointment_id: str) -> Appointment:
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        appt.arrive(courier_id, svc.clock.now())
        record_progress(
            uow, svc.travel, uow.couriers.list(), appt, StopState.IN_PROGRESS, svc.clock.now()
        )
        uow.appointments.save(appt)
        uow.commit()
        return appt


def inspect(
    svc: Services, courier_id: str, appointment_id: str, data: InspectionInput
) -> Inspection:
    """Record the door inspection of one return on the visit; a failed check refuses it."""
    unknown = set(data.checklist) - set(CHECKLIST)
    missing = set(CHECKLIST) - set(data.checklist)
    if unknown or missing:
        raise InvalidInput(
            "checklist_incomplete",
            "Answer every checklist item, and only those.",
            "请完整填写验货清单。",
            missing=sorted(missing),
            unknown=sorted(unknown),
        )
    if not data.photo_ids:
        raise InvalidInput(
            "inspection_photo_required",
            "At least one inspection photo is needed.",
            "验货至少需要一张照片。",
        )
    now = svc.clock.now()
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        if appt.status.value != "arrived":
            raise Conflict("not_arrived", "Mark arrival before inspecting.", "请先确认到达。")
        if data.return_id not in appt.return_ids:
            raise NotFound("return_request", data.return_id)
        for photo_id in data.photo_ids:
            photo = uow.photos.get(photo_id)
            if photo is None or photo.owner != courier_id:
                raise NotFound("photo", photo_id)
        failed = sorted(k for k, ok in data.checklist.items() if not ok)
        inspection = Inspection(
            InspectionResult.REFUSED if failed else InspectionResult.PASSED,
            dict(data.checklist),
            data.photo_ids,
            data.verified_weight_g,
            now,
            courier_id,
            data.note,
            ",".join(failed) or None,
        )
        request = load_return(uow, data.return_id)
        request.record_inspection(inspection)
        uow.returns.save(request)
        uow.commit()
        return inspection


def pick_up(svc: Services, courier_id: str, appointment_id: str, pickup_code: str) -> Appointment:
    """The buyer's code matches: every passed return leaves with one waybill."""
    now = svc.clock.now()
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        if appt.status.value != "arrived":
            raise Conflict("not_arrived", "Mark arrival before pickup.", "请先确认到达。")
        requests = [load_return(uow, rid) for rid in appt.return_ids]
        # Only an inspection made on this visit counts: an earlier failed visit's does not.
        passed = [
            r
            for r in requests
            if r.inspection is not None
            and r.inspection.result is InspectionResult.PASSED
            and appt.arrived_at is not None
            and r.inspection.inspected_at >= appt.arrived_at
            and r.status is ReturnStatus.AWAITING_PICKUP
        ]
        if not passed:
            raise Conflict(
                "nothing_to_pick_up",
                "No item on this visit passed inspection.",
                "本次上门没有验货通过的商品。",
            )
        if appt.courier_id is not None:
            # Tries on one visit queue on its route's row, so "check, compare, count a miss"
            # is one step: parallel guesses cannot pass the limit together, and a right code
            # sent twice is not refused for the duplicate (it loses with a stale write).
            uow.routes.lock(appt.courier_id, appt.slot.carrier_id, appt.slot.day)
        _check_code(svc, appt, pickup_code)
        carrier = uow.carriers.get(appt.slot.carrier_id)
        prefix = carrier.waybill_prefix if carrier else "DS"
        waybill = f"{prefix}{local(now):%y%m%d}{secrets.randbelow(10**8):08d}"
        for request in passed:
            request.pick_up(waybill, appt.slot.carrier_id, now)
            uow.returns.save(request)
        for request in requests:
            if (
                any(request is p for p in passed)
                or request.status is not ReturnStatus.AWAITING_PICKUP
            ):
                continue
            # Refused at the door: back to choosing a method (another visit, drop-off, ...).
            request.release_pickup(now, "inspection_refused")
            uow.returns.save(request)
        appt.complete(courier_id, now)
        record_progress(uow, svc.travel, uow.couriers.list(), appt, StopState.DONE, now)
        uow.appointments.save(appt)
        uow.commit()
    for request in passed:
        start_express_refund(svc, request.return_id)
    return appt


def _check_code(svc: Services, appt: Appointment, code: str) -> None:
    """Refuse once too many wrong codes were tried on the visit; count only wrong ones."""
    wait = svc.throttle.check(PICKUP_CODE, appt.appointment_id)
    if wait is not None:
        minutes = -(-wait // 60)
        raise TooManyAttempts(
            "pickup_code_attempts_exhausted",
            "Too many wrong pickup codes for this visit. Call the buyer to confirm the code; "
            f"the next try is possible in {minutes} min.",
            f"本次上门取件码错误次数过多。请致电买家核对取件码，{minutes} 分钟后可再次尝试。",
            retry_after_s=wait,
        )
    try:
        appt.check_code(code)
    except Conflict:
        svc.throttle.hit(PICKUP_CODE, appt.appointment_id)
        raise


def fail_attempt(
    svc: Services, courier_id: str, appointment_id: str, reason: FailureReason, note: str
) -> Appointment:
    """The visit failed; the returns keep waiting and the buyer is asked to pick a new window."""
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        now = svc.clock.now()
        appt.fail(courier_id, reason, now, note)
        record_progress(uow, svc.travel, uow.couriers.list(), appt, StopState.DONE, now)
        for return_id in appt.return_ids:
            request = load_return(uow, return_id)
            request.void_inspection(now, f"attempt_failed:{reason.value}")
            uow.returns.save(request)
        uow.appointments.save(appt)
        uow.commit()
        return appt
