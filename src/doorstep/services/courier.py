"""What a courier does at the door: arrive, inspect, check the code, pick up or fail."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime

from doorstep.domain.catalog import Product
from doorstep.domain.clock import local
from doorstep.domain.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from doorstep.domain.inspection import (
    MAX_PHOTOS_PER_UNIT,
    Check,
    UnitAnswer,
    UnitResult,
    checklist_for,
    expected_codes,
    identity_check,
    judge_unit,
    refusal_reason,
    weight_off,
)
from doorstep.domain.order import Order
from doorstep.domain.pickup import Appointment, AppointmentStatus, FailureReason
from doorstep.domain.returns import (
    Inspection,
    InspectionResult,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from doorstep.domain.route import StopState
from doorstep.services import exchanges
from doorstep.services.context import Services
from doorstep.services.lookups import load_appointment, load_return, lock_return
from doorstep.services.ports import UnitOfWork
from doorstep.services.refunds import start_express_refund
from doorstep.services.route import expected_etas, record_progress

# JD's pickup rules (RULES.md §5) for an item with no category specifics and no listed
# accessories (domain.inspection.checklist_for gives each product its own list).
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
class LineAnswer:
    """The courier's answers for every unit of one return line."""

    order_line_id: str
    units: tuple[UnitAnswer, ...]


@dataclass(frozen=True)
class InspectionInput:
    """A door inspection. With ``lines`` every unit is answered on its own (its checks, its
    scanned code, its photos) and units may be refused one by one; without, ``checklist``
    answers for every unit of the return at once."""

    return_id: str
    checklist: dict[str, bool]
    photo_ids: tuple[str, ...]
    verified_weight_g: int | None = None
    note: str = ""
    lines: tuple[LineAnswer, ...] = ()


@dataclass(frozen=True)
class LineChecklist:
    """What the courier checks on each unit of one return line, and whether he scans codes."""

    return_id: str
    order_line_id: str
    sku: str
    quantity: int
    checks: tuple[Check, ...]
    code_check: str
    code_required: bool


def line_checklists(uow: UnitOfWork, requests: list[ReturnRequest]) -> list[LineChecklist]:
    """The checklists of every line of ``requests``, in two reads whatever their number."""
    orders = {o.order_id: o for o in uow.orders.get_many({r.order_id for r in requests})}
    skus = {ln.sku for r in requests for ln in r.lines}
    products = {p.sku: p for p in uow.products.get_many(skus)}
    out = []
    for request in requests:
        order = orders.get(request.order_id)
        for ln in request.lines:
            product = products.get(ln.sku)
            order_line = order.line(ln.order_line_id) if order is not None else None
            if product is None or order_line is None:
                continue  # an order or product removed since: nothing to check it against
            out.append(
                LineChecklist(
                    request.return_id,
                    ln.order_line_id,
                    ln.sku,
                    ln.quantity,
                    checklist_for(product),
                    identity_check(product),
                    bool(expected_codes(product, order_line)),
                )
            )
    return out


def checklists_of(svc: Services, requests: list[ReturnRequest]) -> list[LineChecklist]:
    """The checklists of the returns a page already loaded (the courier's day)."""
    if not requests:
        return []
    with svc.uow() as uow:
        return line_checklists(uow, requests)


def visit_checklists(svc: Services, courier_id: str, appointment_id: str) -> list[LineChecklist]:
    """The checklists for every return on one of the courier's visits."""
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        return line_checklists(uow, uow.returns.get_many(appt.return_ids))


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
        etas = expected_etas(svc.travel, route, fleet, svc.clock.now())
        order = {s.appointment_id: i for i, s in enumerate(route.open)}
        for appt in tasks:
            if appt.appointment_id in order:
                appt.route_position = order[appt.appointment_id]
                appt.eta = etas.get(appt.appointment_id) or appt.eta
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
    """Record the door inspection of one return on the visit, unit by unit; a unit that fails
    a check stays with the buyer, and a return with no unit taken is refused."""
    _check_photos_given(data)
    now = svc.clock.now()
    answers = answers_digest(data)
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        if appt.status not in (AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED):
            raise Conflict("not_arrived", "Mark arrival before inspecting.", "请先确认到达。")
        if data.return_id not in appt.return_ids:
            raise NotFound("return_request", data.return_id)
        # The return's row is the queue: the same inspection sent twice at once is recorded
        # by the first and answered from it to the second (not a stale write).
        request = lock_return(uow, data.return_id)
        # Read the visit again under the return's lock: a pickup that held the lock while this
        # waited has completed it (and cut the return's lines to the units it took), so the
        # visit read before is stale and its lines would not match this inspection's units.
        appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        done = request.inspection
        if done is not None and done.repeated_by(answers, courier_id, appt.arrived_at):
            # The same inspection sent again (its answer was lost, perhaps after the pickup
            # that followed it): answered as the first, nothing recorded twice.
            return done
        if appt.status is AppointmentStatus.COMPLETED:
            raise appt.over()  # a new inspection after the pickup: the visit is over
        products = {p.sku: p for p in uow.products.get_many({ln.sku for ln in request.lines})}
        _check_photo_owner(uow, courier_id, _all_photos(data))
        if appt.handover.contactless:
            inspection = _contactless(request.lines, products, data, courier_id, now, answers)
            request.record_inspection(inspection)
            uow.returns.save(request)
            uow.commit()
            return inspection
        order = uow.orders.get(request.order_id)
        units = _judge(request.lines, order, products, data)
        expected = sum(products[u.sku].weight_g for u in units if u.taken)
        taken = any(u.taken for u in units)
        inspection = Inspection(
            InspectionResult.PASSED if taken else InspectionResult.REFUSED,
            _summary(units),
            data.photo_ids,
            data.verified_weight_g,
            now,
            courier_id,
            data.note,
            refusal_reason(units),
            units if data.lines else (),
            expected,
            data.verified_weight_g is not None
            and taken
            and weight_off(data.verified_weight_g, expected),
            answers=answers,
        )
        request.record_inspection(inspection)
        uow.returns.save(request)
        uow.commit()
        return inspection


def _contactless(
    lines: list[ReturnLine],
    products: dict[str, Product],
    data: InspectionInput,
    courier_id: str,
    now: datetime,
    answers: str,
) -> Inspection:
    """Left at the door or in a locker: the parcel is not opened, so the courier's photos
    and the weight are the inspection; the buyer confirms or disputes them afterwards."""
    if data.checklist or data.lines or data.verified_weight_g is None:
        raise InvalidInput(
            "contactless_inspection",
            "A contactless pickup is inspected by photos and the weight only.",
            "无接触取件仅以拍照和称重验货。",
        )
    expected = sum(products[ln.sku].weight_g * ln.quantity for ln in lines if ln.sku in products)
    return Inspection(
        InspectionResult.PASSED,
        {},
        data.photo_ids,
        data.verified_weight_g,
        now,
        courier_id,
        data.note,
        None,
        (),
        expected,
        weight_off(data.verified_weight_g, expected),
        contactless=True,
        answers=answers,
    )


def answers_digest(data: InspectionInput) -> str:
    """What identifies one inspection's answers, whatever the order of its checklist keys:
    the same answers sent again are a repeat, any other answer a new inspection."""
    text = json.dumps(asdict(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _all_photos(data: InspectionInput) -> list[str]:
    return [*data.photo_ids, *(p for ln in data.lines for u in ln.units for p in u.photo_ids)]


def _check_photos_given(data: InspectionInput) -> None:
    if not _all_photos(data):
        raise InvalidInput(
            "inspection_photo_required",
            "At least one inspection photo is needed.",
            "验货至少需要一张照片。",
        )
    if data.lines and data.verified_weight_g is None:
        raise InvalidInput(
            "inspection_weight_required",
            "Weigh the parcel and enter its weight.",
            "请称重并填写包裹重量。",
        )
    if any(len(u.photo_ids) > MAX_PHOTOS_PER_UNIT for ln in data.lines for u in ln.units):
        raise InvalidInput(
            "too_many_photos",
            f"At most {MAX_PHOTOS_PER_UNIT} photos per unit.",
            f"每件商品最多 {MAX_PHOTOS_PER_UNIT} 张照片。",
        )


def _check_photo_owner(uow: UnitOfWork, courier_id: str, photo_ids: list[str]) -> None:
    for photo_id in dict.fromkeys(photo_ids):
        photo = uow.photos.get(photo_id)
        if photo is None or photo.owner != courier_id:
            raise NotFound("photo", photo_id)


def _judge(
    lines: list[ReturnLine],
    order: Order | None,
    products: dict[str, Product],
    data: InspectionInput,
) -> tuple[UnitResult, ...]:
    """Every unit of every return line, judged against its product and order line."""
    answers = {a.order_line_id: a.units for a in data.lines}
    if data.lines:
        wanted = {ln.order_line_id: ln.quantity for ln in lines}
        given = {a.order_line_id: len(a.units) for a in data.lines}
        if given != wanted or len(answers) != len(data.lines):
            raise InvalidInput(
                "inspection_units_mismatch",
                "Answer for every unit of every item on the return, once.",
                "请逐件填写退货中每件商品的验货结果。",
                expected=wanted,
            )
    total = sum(ln.quantity for ln in lines)
    out: list[UnitResult] = []
    seen: set[str] = set()
    for ln in lines:
        product = products.get(ln.sku)
        order_line = order.line(ln.order_line_id) if order is not None else None
        if product is None or order_line is None:
            raise NotFound("order_line", ln.order_line_id)
        unit_answers = answers.get(ln.order_line_id) or tuple(
            UnitAnswer(dict(data.checklist)) for _ in range(ln.quantity)
        )
        for i, answer in enumerate(unit_answers, start=1):
            out.append(
                judge_unit(
                    product,
                    order_line,
                    i,
                    answer,
                    shared_photos=not data.lines or total == 1,
                    codes_seen=seen,
                )
            )
    return tuple(out)


def _summary(units: tuple[UnitResult, ...]) -> dict[str, bool]:
    """One answer per check over the whole return: true only when every unit passed it."""
    out: dict[str, bool] = {}
    for u in units:
        for key, ok in u.checks.items():
            out[key] = out.get(key, True) and ok
    return out


def pick_up(
    svc: Services, courier_id: str, appointment_id: str, pickup_code: str | None
) -> Appointment:
    """The buyer's code matches (or, contactless, nobody is there to give one): every passed
    return leaves with one waybill. The same pickup sent again (the phone lost the answer)
    is answered as the first was, and finishes what the first may have left undone."""
    now = svc.clock.now()
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        if appt.status is AppointmentStatus.ARRIVED and appt.courier_id is not None:
            # Tries on one visit queue on its route's row, so "check, compare, count a miss"
            # is one step: parallel guesses cannot pass the limit together. The visit is read
            # again behind the lock: the same pickup that waited there for the first finds
            # it done and is answered as its repeat.
            uow.routes.lock(appt.courier_id, appt.slot.carrier_id, appt.slot.day)
            appt = load_appointment(uow, appointment_id, courier_id=courier_id)
        if appt.status is AppointmentStatus.COMPLETED:
            appt.check_repeat_of_pickup(courier_id, pickup_code)
            requests = uow.returns.get_many(appt.return_ids)
        else:
            requests = _take(svc, uow, appt, courier_id, pickup_code, now)
            uow.commit()
    # After the commit: express refunds for trusted buyers, replacements that leave at
    # pickup. A repeat runs this again for what the first left undone (its process died
    # after the commit): both steps are idempotent per return, and the worker's sweep
    # decides an express refund a repeat leaves to a concurrent change.
    for request in requests:
        if request.status is not ReturnStatus.PICKED_UP:
            continue  # refused at the door, or further on already: nothing left to start
        if request.express_owed_since is not None:
            start_express_refund(svc, request.return_id)
        exchanges.ship_if_due(svc, request.return_id)  # trusted buyers' replacements leave
    return appt


def _take(
    svc: Services,
    uow: UnitOfWork,
    appt: Appointment,
    courier_id: str,
    pickup_code: str | None,
    now: datetime,
) -> list[ReturnRequest]:
    """The pickup itself, in the caller's transaction: the returns it took."""
    if appt.status is not AppointmentStatus.ARRIVED:
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
    if not appt.handover.contactless:
        _check_code(svc, appt, pickup_code)
    carrier = uow.carriers.get(appt.slot.carrier_id)
    prefix = carrier.waybill_prefix if carrier else "DS"
    waybill = f"{prefix}{local(now):%y%m%d}{secrets.randbelow(10**8):08d}"
    for request in passed:
        request.pick_up(waybill, appt.slot.carrier_id, now)
        uow.returns.save(request)
    for request in requests:
        if any(request is p for p in passed) or request.status is not ReturnStatus.AWAITING_PICKUP:
            continue
        # Refused at the door: back to choosing a method (another visit, drop-off, ...).
        request.release_pickup(now, "inspection_refused")
        uow.returns.save(request)
    appt.complete(courier_id, now)
    appt.await_review(now + svc.door.contactless_confirm_within, now)
    record_progress(uow, svc.travel, uow.couriers.list(), appt, StopState.DONE, now)
    uow.appointments.save(appt)
    return passed


def _check_code(svc: Services, appt: Appointment, code: str | None) -> None:
    """Refuse once too many wrong codes were tried on the visit; count only wrong ones."""
    if code is None:
        raise InvalidInput(
            "pickup_code_required",
            "Ask the buyer for the 6-digit pickup code.",
            "请向买家索取 6 位取件码。",
        )
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
        # The returns' rows before the route's, the order of a withdrawal, a move or a
        # cancel of the same visit (each would otherwise wait for the other: a deadlock).
        for return_id in sorted(appt.return_ids):
            request = lock_return(uow, return_id)
            request.void_inspection(now, f"attempt_failed:{reason.value}")
            uow.returns.save(request)
        record_progress(uow, svc.travel, uow.couriers.list(), appt, StopState.DONE, now)
        uow.appointments.save(appt)
        uow.commit()
        return appt
