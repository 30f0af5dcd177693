"""Every money and capacity path raced by 24 units of work at once, on SQLite and PostgreSQL.

Each race goes through the public services (nothing below them), lets exactly the allowed
number of callers win, requires every loser to get a domain ``Conflict`` (a 409 over HTTP),
and then checks the invariants in SQL (tests/integration/races.py). The figures (races,
racers, violations) are printed in the session summary (tests/integration/conftest.py).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from itertools import cycle
from typing import Any

import pytest
from PIL import Image
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.errors import Conflict
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.pickup import Appointment
from doorstep.domain.refund import RefundKind, RefundStatus
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import catalog, courier, photos, pickup, refunds, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"  # trust 850: express refunds, refund-only without review when small
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
SMALL = 4_900  # under the refund-only instant limit (50 yuan)
TOMORROW = date(2026, 11, 26)
DAY_AFTER = date(2026, 11, 27)
WH = "wh-sh-bonded"
ALL_PASS = dict.fromkeys(courier.CHECKLIST, True)
CLAIMED = {"quantity_already_claimed"}
# What a booking, move, cancellation or join may lose with: the window filled up or is no
# longer kept (route-aware offering), someone else changed the visit first, or the visit has
# moved on (cancelled, or already in the window asked for).
BOOKING = {"slot_full", "slot_not_offered", "stale_write", "illegal_transition", "same_slot"}


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


# --- building blocks, all through the services -----------------------------------------------


def _orders(
    app: App, n: int, *, quantity: int = 1, price: int = SMALL, signed: bool = True
) -> list[Order]:
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:8]
    made = [
        Order(
            f"RACE-{batch}-{i:03d}",
            BUYER,
            "shop-cn-home",
            Channel.DOMESTIC,
            placed,
            HOME,
            (OrderLine("L1", "CN-LATEX-PILLOW", quantity, price),),
            signed_at=placed + timedelta(days=1) if signed else None,
        )
        for i in range(n)
    ]
    catalog.import_orders(app.services, made, None)
    return made


def _claim(
    app: App, order: Order, kind: ReturnKind = ReturnKind.REFUND, quantity: int = 1
) -> ReturnRequest:
    return returns.open_return(
        app.services,
        OpenReturn(BUYER, order.order_id, kind, (LineRequest("L1", quantity, Reason.NO_REASON),)),
    )


def _approved(app: App, n: int, *, price: int = SMALL) -> list[str]:
    out = []
    for order in _orders(app, n, price=price):
        request = _claim(app, order)
        assert request.status is ReturnStatus.APPROVED, request.decision
        out.append(request.return_id)
    return out


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (180, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


def _at_the_door(app: App, return_id: str, choice: pickup.SlotChoice) -> Callable[[], Any]:
    """Booked, the courier arrived and the item passed the door inspection: the courier's
    next step (pick it up) is returned, to be called once or raced."""
    svc = app.services
    appt = pickup.book_pickup(svc, BUYER, return_id, choice)
    courier_id = appt.courier_id
    assert courier_id is not None
    courier.arrive(svc, courier_id, appt.appointment_id)
    shot = photos.upload_photo(svc, courier_id, _jpeg()).photo_id
    courier.inspect(
        svc,
        courier_id,
        appt.appointment_id,
        courier.InspectionInput(return_id, ALL_PASS, (shot,), 1_500),
    )
    return lambda: courier.pick_up(svc, courier_id, appt.appointment_id, appt.pickup_code)


def _sf(hour: int, day: date = TOMORROW) -> pickup.SlotChoice:
    return pickup.SlotChoice("sf", day, time(hour))


def _yto(hour: int, day: date = TOMORROW) -> pickup.SlotChoice:
    return pickup.SlotChoice("yto", day, time(hour))


def _each(*calls: Callable[[], Any]) -> list[Callable[[], Any]]:
    """``RACERS`` calls, taking the given ones in turn."""
    source = cycle(calls)
    return [next(source) for _ in range(RACERS)]


def _clean(app: App, payments: RecordingPayments) -> None:
    assert violations(app, payments) == []


# --- quantity claims ---------------------------------------------------------------------------


def test_claims_on_one_unit_let_exactly_one_through(
    wired: App, payments: RecordingPayments
) -> None:
    for order in _orders(wired, 4):
        kinds = cycle(ReturnKind)
        calls = [lambda k=next(kinds), o=order: _claim(wired, o, k) for _ in range(RACERS)]
        out = race(calls)
        assert len(out.won) == 1 and set(out.codes) == CLAIMED, out.codes
    _clean(wired, payments)


def test_claims_on_three_units_let_exactly_three_through(
    wired: App, payments: RecordingPayments
) -> None:
    for order in _orders(wired, 2, quantity=3):
        out = race(_each(lambda o=order: _claim(wired, o)))
        assert len(out.won) == 3 and set(out.codes) == CLAIMED, out.codes
    _clean(wired, payments)


# --- refund-only payouts -----------------------------------------------------------------------


def test_refund_only_on_one_unit_pays_once(wired: App, payments: RecordingPayments) -> None:
    for order in _orders(wired, 3, signed=False):  # not delivered: refund-only fits
        out = race(_each(lambda o=order: _claim(wired, o, ReturnKind.REFUND_ONLY)))
        [winner] = out.won
        assert winner.status is ReturnStatus.REFUNDED and set(out.codes) == CLAIMED
    assert len(payments.paid) == 3 and payments.total_paid_fen == 3 * SMALL
    _clean(wired, payments)


def test_reviewers_approving_together_pay_once(wired: App, payments: RecordingPayments) -> None:
    svc = wired.services
    for order in _orders(wired, 2, price=9_900, signed=False):  # above the instant limit
        held = _claim(wired, order, ReturnKind.REFUND_ONLY)
        assert held.status is ReturnStatus.IN_REVIEW and not payments.log_for(held.return_id)
        out = race(
            _each(
                lambda r=held.return_id: returns.review_return(
                    svc, r, approve=True, reviewer="ops-001", note=""
                )
            )
        )
        assert len(out.won) == 1 and out.won[0].status is ReturnStatus.REFUNDED
        assert set(out.codes) <= {"not_in_review", "stale_write", "illegal_transition"}
    assert len(payments.paid) == 2
    _clean(wired, payments)


def test_withdrawing_while_a_reviewer_approves_never_pays_a_withdrawn_return(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    for order in _orders(wired, 3, price=9_900, signed=False):
        rid = _claim(wired, order, ReturnKind.REFUND_ONLY).return_id
        race(
            _each(
                lambda r=rid: returns.review_return(svc, r, approve=True, reviewer="ops", note=""),
                lambda r=rid: returns.cancel_return(svc, BUYER, r, "changed my mind"),
            )
        )
        final = returns.get_return(svc, rid).status
        assert final in (ReturnStatus.REFUNDED, ReturnStatus.CANCELLED)
        assert (f"refund:{rid}" in payments.paid) is (final is ReturnStatus.REFUNDED)
    _clean(wired, payments)


# --- express refund at pickup, standard refund at QC, the retry sweep -------------------------


def test_express_refund_at_pickup_pays_once(wired: App, payments: RecordingPayments) -> None:
    svc = wired.services
    for hour, rid in zip((10, 12), _approved(wired, 2, price=19_900), strict=True):
        out = race(
            _each(
                _at_the_door(wired, rid, _sf(hour)),
                lambda r=rid: refunds.start_express_refund(svc, r),
            )
        )
        # One pickup takes the parcel, the others are answered as its repeats (the visit is
        # completed once: ``violations``).
        assert sum(isinstance(w, Appointment) for w in out.won) == RACERS // 2
        [refund] = [r for r in refunds_of(wired, rid)]
        assert refund.kind is RefundKind.EXPRESS and refund.status is RefundStatus.SUCCEEDED
    assert len(payments.paid) == 2 and payments.total_paid_fen == 2 * 19_900
    _clean(wired, payments)


def test_grading_and_retrying_together_pay_once(wired: App, payments: RecordingPayments) -> None:
    svc = wired.services
    # Above the express cap (3 000 yuan) and below the high-value review: paid after QC.
    for hour, rid in zip((14, 16), _approved(wired, 2, price=400_000), strict=True):
        _at_the_door(wired, rid, _sf(hour))()  # picked up: no express refund this high
        warehouse.receive(svc, WH, rid)
        payments.fail_next = 3  # the first attempts time out: retries race the grading
        out = race(
            _each(
                lambda r=rid: warehouse.grade(svc, WH, r, Grade.A, "as new"),
                lambda r=rid: refunds.start_standard_refund(svc, r),
                lambda: refunds.retry_pending_refunds(svc),
            )
        )
        graded = [w for w in out.won if isinstance(w, ReturnRequest)]
        assert len(graded) >= 1
        refunds.retry_pending_refunds(svc)  # what the worker does after the timeouts
        assert returns.get_return(svc, rid).status is ReturnStatus.REFUNDED
        assert payments.paid[f"refund:{rid}"][1] == 400_000
    assert len(payments.paid) == 2
    _clean(wired, payments)


def test_concurrent_retry_sweeps_settle_each_refund_once(
    wired: App, payments: RecordingPayments
) -> None:
    payments.fail_next = 6
    pending = [_claim(wired, o, ReturnKind.REFUND_ONLY) for o in _orders(wired, 6, signed=False)]
    assert all(r.status is ReturnStatus.APPROVED for r in pending) and payments.paid == {}
    race(_each(lambda: refunds.retry_pending_refunds(wired.services)))
    for request in pending:
        assert returns.get_return(wired.services, request.return_id).status is (
            ReturnStatus.REFUNDED
        )
    assert len(payments.paid) == 6
    _clean(wired, payments)


def refunds_of(app: App, return_id: str) -> list[Any]:
    with app.services.uow() as uow:
        found = uow.refunds.by_key(f"refund:{return_id}")
    return [found] if found else []


# --- capacity: book, reschedule, cancel, join -------------------------------------------------


def test_booking_one_window_never_overbooks(wired: App, payments: RecordingPayments) -> None:
    svc = wired.services
    ids = _approved(wired, RACERS)
    out = race([lambda r=rid: pickup.book_pickup(svc, BUYER, r, _yto(9)) for rid in ids])
    assert 1 <= len(out.won) < RACERS
    assert set(out.codes) <= {"slot_full", "slot_not_offered"}, out.codes
    _clean(wired, payments)


def test_rescheduling_in_crossfire_keeps_counts(wired: App, payments: RecordingPayments) -> None:
    svc = wired.services
    ids = _approved(wired, 8)
    # Two windows moved into each other at once (the order of row locks is opposite), plus
    # a third both move to.
    here = [pickup.book_pickup(svc, BUYER, rid, _yto(13)) for rid in ids[:4]]
    there = [pickup.book_pickup(svc, BUYER, rid, _yto(15)) for rid in ids[4:]]
    calls = []
    for appt, other in [(a, _yto(15)) for a in here] + [(a, _yto(13)) for a in there]:
        for choice in (other, _yto(17), other):
            calls.append(
                lambda a=appt, c=choice: pickup.reschedule_pickup(svc, BUYER, a.appointment_id, c)
            )
    out = race(calls)
    assert len(out.won) >= 1
    assert set(out.codes) <= BOOKING, out.codes
    _clean(wired, payments)


def test_cancelling_while_others_book_the_freed_places(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    ids = _approved(wired, 30)
    booked: list[Appointment] = []
    for rid in ids:
        try:
            booked.append(pickup.book_pickup(svc, BUYER, rid, _yto(11, DAY_AFTER)))
        except Conflict:
            break  # the window is full
    waiting = [rid for rid in ids if rid not in {a.return_ids[0] for a in booked}]
    cancels = [
        lambda a=appt: pickup.cancel_pickup(svc, BUYER, a.appointment_id) for appt in booked[:6]
    ]
    books = [
        lambda r=rid: pickup.book_pickup(svc, BUYER, r, _yto(11, DAY_AFTER)) for rid in waiting[:12]
    ]
    out = race(cancels + cancels + books)
    assert set(out.codes) <= BOOKING, out.codes
    _clean(wired, payments)


def test_joining_a_visit_while_it_is_cancelled(wired: App, payments: RecordingPayments) -> None:
    svc = wired.services
    first, *others = _approved(wired, RACERS + 1)
    visit = pickup.book_pickup(svc, BUYER, first, _yto(13, DAY_AFTER))
    calls: list[Callable[[], Any]] = [
        lambda r=rid: pickup.join_pickup(svc, BUYER, r, visit.appointment_id) for rid in others
    ]
    calls[RACERS // 2] = lambda: pickup.cancel_pickup(svc, BUYER, visit.appointment_id)
    out = race(calls)
    assert set(out.codes) <= BOOKING, out.codes
    _clean(wired, payments)
