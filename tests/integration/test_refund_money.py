"""Refund amounts and timing on SQLite and PostgreSQL: the order's refunds reckoned one after
another under concurrency, overdue refunds found, pushed by the worker and escalated once."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, time

import pytest
from PIL import Image
from sqlalchemy import text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.order import Channel, Order, OrderLine, Promotions
from doorstep.domain.refund_timing import OverdueStage
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.entrypoints.worker import sweep
from doorstep.services import catalog, courier, photos, pickup, refund_timing, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
WH = "wh-sh-bonded"
TOMORROW = date(2026, 11, 26)


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _order(app: App, buyer: str, lines: tuple[OrderLine, ...], **kw: object) -> Order:
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    order = Order(
        f"MONEY-{uuid.uuid4().hex[:8]}", buyer, "shop-cn-home", Channel.DOMESTIC, placed, HOME,
        lines, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    catalog.import_orders(app.services, [order], None)
    return order


def test_two_refunds_of_one_order_at_once_add_up_to_what_was_paid(
    wired: App, payments: RecordingPayments
) -> None:
    """Two refund-only requests of one order approved together: each refund is quoted after
    the other (the order's row is locked), so the full reduction is taken once, not twice."""
    svc = wired.services
    lines = (
        OrderLine("L1", "CN-LATEX-PILLOW", 1, 60_000),
        OrderLine("L2", "CN-LATEX-PILLOW", 1, 40_000),
    )
    promotions = Promotions(coupon_fen=10_000, reduction_fen=5_000, reduction_threshold_fen=90_000)
    orders = [_order(wired, "buyer-001", lines, promotions=promotions) for _ in range(6)]
    approvals = []
    for order in orders:
        for line in ("L1", "L2"):
            # Not signed for: refund only, above the instant limit, so a person approves it.
            held = returns.open_return(
                svc,
                OpenReturn(
                    "buyer-001",
                    order.order_id,
                    ReturnKind.REFUND_ONLY,
                    (LineRequest(line, 1, Reason.NO_REASON),),
                ),
            )
            assert held.status is ReturnStatus.IN_REVIEW
            approvals.append(
                lambda rid=held.return_id: returns.review_return(
                    svc, rid, approve=True, reviewer="ops-001", note=""
                )
            )
    out = race([approvals[i % len(approvals)] for i in range(RACERS)])
    assert len(out.won) == 12 and set(out.codes) <= {"not_in_review", "stale_write"}
    for order in orders:
        paid = sorted(
            amount for key, (_ref, amount) in payments.paid.items()
            if key in _keys(wired, order.order_id)
        )  # fmt: skip
        # Whichever goes first loses the full reduction (the rest no longer reaches it); the
        # second takes only its coupon share.
        assert paid in ([36_000, 49_000], [31_000, 54_000]), paid
        assert sum(paid) == order.paid_fen == 85_000
    assert violations(wired, payments) == []


def _keys(app: App, order_id: str) -> set[str]:
    with app.services.uow() as uow:
        return {f"refund:{r.return_id}" for r in uow.returns.for_order(order_id)}


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (180, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


def _received(app: App, hour: int = 10) -> str:
    """buyer-003 (no express refund) sends a pillow back (picked up tomorrow at ``hour``);
    the warehouse receives it."""
    svc = app.services
    order = _order(
        app, "buyer-003", (OrderLine("L1", "CN-LATEX-PILLOW", 1, 39_900),),
        signed_at=datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
    )  # fmt: skip
    request = returns.open_return(
        svc,
        OpenReturn("buyer-003", order.order_id, ReturnKind.REFUND,
                   (LineRequest("L1", 1, Reason.NO_REASON),), address=HOME),
    )  # fmt: skip
    appt = pickup.book_pickup(
        svc, "buyer-003", request.return_id, pickup.SlotChoice("sf", TOMORROW, time(hour))
    )
    assert appt.courier_id is not None
    courier.arrive(svc, appt.courier_id, appt.appointment_id)
    shot = photos.upload_photo(svc, appt.courier_id, _jpeg()).photo_id
    checklist = dict.fromkeys(courier.CHECKLIST, True)
    courier.inspect(
        svc, appt.courier_id, appt.appointment_id,
        courier.InspectionInput(request.return_id, checklist, (shot,), 1_500),
    )  # fmt: skip
    courier.pick_up(svc, appt.courier_id, appt.appointment_id, appt.pickup_code)
    warehouse.receive(svc, WH, request.return_id)
    return str(request.return_id)


def _overdue_events(app: App, return_id: str) -> int:
    with app.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT COUNT(*) FROM events WHERE name = 'return.refund_overdue' "
                     "AND aggregate_id = :rid"),
                {"rid": return_id},
            ).scalar_one()
        )  # fmt: skip


def test_overdue_refund_is_found_and_the_worker_escalates_it_once(
    wired: App, clock: FixedClock
) -> None:
    rid = _received(wired)
    assert refund_timing.overdue_refunds(wired.services).shown == []
    clock.advance(days=8)
    [late] = refund_timing.overdue_refunds(wired.services).shown
    assert late.return_id == rid and late.stage is OverdueStage.AWAITING_QC
    first = sweep(wired)
    assert (first["refunds_overdue"], first["overdue_escalated"]) == (1, 1)
    second = sweep(wired)
    assert (second["refunds_overdue"], second["overdue_escalated"]) == (1, 0)
    assert _overdue_events(wired, rid) == 1
    [still] = refund_timing.overdue_refunds(wired.services).shown
    assert still.flagged


def test_more_overdue_than_one_page_are_found_counted_and_pushed(
    wired: App, clock: FixedClock
) -> None:
    """Pages of two over five owed returns (three received at one moment, so the key's
    return id decides): the first shown oldest first with the count of all, every one pushed."""
    rids = []
    for n in range(5):
        rids.append(_received(wired, hour=10 + n))
        if n >= 2:
            clock.advance(minutes=30)
    clock.advance(days=8)
    received = {rid: returns.get_return(wired.services, rid).received_at for rid in rids}
    order = sorted(rids, key=lambda r: (received[r], r))
    overdue = refund_timing.overdue_refunds(wired.services, limit=2)
    assert [o.return_id for o in overdue.shown] == order[:2] and overdue.total == 5
    pushed = refund_timing.push_overdue_refunds(wired.services, batch=2)
    assert (pushed.overdue, pushed.escalated) == (5, 5)
    assert [_overdue_events(wired, rid) for rid in rids] == [1] * 5
    assert refund_timing.push_overdue_refunds(wired.services, batch=2).escalated == 0


def test_money_back_at_the_door_is_neither_listed_nor_counted_as_overdue(
    wired: App, clock: FixedClock
) -> None:
    """buyer-001's express refund is paid at pickup; the parcel is received and waits for QC:
    it owes nothing (the SQL leaves out returns with a succeeded refund), so count = list."""
    from tests.integration.test_races import _approved, _at_the_door, _yto  # type: ignore[import-not-found]

    [paid] = _approved(wired, 1)
    _at_the_door(wired, paid, _yto(9))()
    warehouse.receive(wired.services, WH, paid)
    assert returns.get_return(wired.services, paid).status is ReturnStatus.RECEIVED
    with wired.engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM refunds WHERE return_id = :r"), {"r": paid}
        ).scalar_one()
    assert status == "succeeded"
    late = _received(wired)
    clock.advance(days=8)
    overdue = refund_timing.overdue_refunds(wired.services)
    assert [o.return_id for o in overdue.shown] == [late] and overdue.total == 1


def test_concurrent_pushes_escalate_once(wired: App, clock: FixedClock) -> None:
    rids = [_received(wired) for _ in range(2)]
    clock.advance(days=9)
    out = race([lambda: refund_timing.push_overdue_refunds(wired.services)] * RACERS)
    assert sum(p.escalated for p in out.won) + len(out.lost) >= 2
    assert sum(p.escalated for p in out.won) == 2
    assert [_overdue_events(wired, rid) for rid in rids] == [1, 1]


def test_a_refund_graded_late_is_paid_and_leaves_the_overdue_list(
    wired: App, clock: FixedClock, payments: RecordingPayments
) -> None:
    rid = _received(wired)
    clock.advance(days=8)
    payments.fail_next = 1  # the grade's payment times out: pending
    warehouse.grade(wired.services, WH, rid, Grade.A, "")
    [late] = refund_timing.overdue_refunds(wired.services).shown
    assert late.stage is OverdueStage.PENDING
    result = sweep(wired)  # the retry pays it before the push looks
    assert result["refunds_retried"] == 1 and result["refunds_overdue"] == 0
    assert refund_timing.overdue_refunds(wired.services).shown == []
    assert returns.get_return(wired.services, rid).status is ReturnStatus.REFUNDED
    assert violations(wired, payments) == []
