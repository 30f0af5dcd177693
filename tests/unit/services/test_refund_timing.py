"""Overdue refunds through the services: found, paid where possible, escalated once."""

from __future__ import annotations

from datetime import date

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import picked_up, trusted  # type: ignore[import-not-found]

from doorstep.domain.refund import RefundStatus
from doorstep.domain.refund_timing import OverdueStage
from doorstep.domain.returns import Grade, QualityCheck, ReturnStatus
from doorstep.services import refund_timing, refunds, warehouse
from doorstep.services.refund_timing import OverduePush

WH = "wh-sh-bonded"


def _received(world: World) -> str:
    request, _ = picked_up(world)
    warehouse.receive(world.svc, WH, request.return_id)
    return str(request.return_id)


def _eight_days_later(world: World) -> None:
    world.clock.advance(days=8)


def test_a_parcel_not_graded_in_seven_days_is_overdue_and_escalated_once(world: World) -> None:
    rid = _received(world)
    world.clock.advance(days=7)  # still the due day's morning
    assert refund_timing.overdue_refunds(world.svc).shown == []
    _eight_days_later(world)
    [late] = refund_timing.overdue_refunds(world.svc).shown
    assert (late.return_id, late.stage, late.flagged) == (rid, OverdueStage.AWAITING_QC, False)
    assert late.days_late == 8
    assert refund_timing.push_overdue_refunds(world.svc) == OverduePush(1, 0, 1)
    [event] = world.store.events_named("return.refund_overdue")
    assert event.aggregate_id == rid and event.data["stage"] == "awaiting_qc"
    assert refund_timing.push_overdue_refunds(world.svc) == OverduePush(1, 0, 0)
    assert len(world.store.events_named("return.refund_overdue")) == 1
    [still] = refund_timing.overdue_refunds(world.svc).shown
    assert still.flagged
    # Graded at last: paid, and no longer overdue.
    assert warehouse.grade(world.svc, WH, rid, Grade.A, "").status is ReturnStatus.REFUNDED
    assert refund_timing.overdue_refunds(world.svc).shown == []


def test_a_pending_refund_is_paid_by_the_push_not_escalated(world: World) -> None:
    rid = _received(world)
    world.payments.timeouts = 1
    warehouse.grade(world.svc, WH, rid, Grade.A, "")
    _eight_days_later(world)
    [late] = refund_timing.overdue_refunds(world.svc).shown
    assert late.stage is OverdueStage.PENDING
    assert refund_timing.push_overdue_refunds(world.svc) == OverduePush(1, 1, 0)
    assert world.store.item("returns", rid).status is ReturnStatus.REFUNDED
    assert world.store.events_named("return.refund_overdue") == []


def test_a_graded_return_whose_refund_never_started_is_paid(world: World) -> None:
    rid = _received(world)
    with world.svc.uow() as uow:  # a crash between the grade and the refund's start
        request = uow.returns.get(rid)
        request.grade(QualityCheck(Grade.A, world.clock.now(), WH))
        uow.returns.save(request)
        uow.commit()
    _eight_days_later(world)
    [late] = refund_timing.overdue_refunds(world.svc).shown
    assert late.stage is OverdueStage.NOT_STARTED and late.refund_id is None
    assert refund_timing.push_overdue_refunds(world.svc) == OverduePush(1, 1, 0)
    [refund] = world.store.items("refunds")
    assert refund.status is RefundStatus.SUCCEEDED and world.payments.total_paid_fen == 39_900


def test_a_declined_refund_is_escalated_for_ops(world: World) -> None:
    rid = _received(world)
    world.payments.decline = 1
    warehouse.grade(world.svc, WH, rid, Grade.A, "")
    _eight_days_later(world)
    assert refund_timing.push_overdue_refunds(world.svc) == OverduePush(1, 0, 1)
    [late] = refund_timing.overdue_refunds(world.svc).shown
    assert late.stage is OverdueStage.FAILED and late.flagged
    assert len(world.payments.calls) == 1  # a refusal for good is not asked again


def test_refunded_or_disputed_returns_are_not_overdue(world: World) -> None:
    paid = _received(world)
    disputed = _received(world)
    warehouse.grade(world.svc, WH, paid, Grade.A, "")
    warehouse.grade(world.svc, WH, disputed, Grade.C, "scratched")
    _eight_days_later(world)
    assert refund_timing.overdue_refunds(world.svc).shown == []
    assert refund_timing.push_overdue_refunds(world.svc) == OverduePush(0, 0, 0)


def test_more_overdue_than_one_page_are_all_found_counted_and_pushed(world: World) -> None:
    """Five owed returns, pages of two: the first ones are shown oldest first with the count
    of all, and the push pages through every one (the newest too)."""
    rids = []
    for _ in range(5):
        rids.append(_received(world))
        world.clock.advance(hours=1)
    _eight_days_later(world)
    overdue = refund_timing.overdue_refunds(world.svc, limit=2)
    assert [o.return_id for o in overdue.shown] == rids[:2] and overdue.total == 5
    assert refund_timing.push_overdue_refunds(world.svc, batch=2) == OverduePush(5, 0, 5)
    assert sorted(e.aggregate_id for e in world.store.events_named("return.refund_overdue")) == (
        sorted(rids)
    )
    assert refund_timing.push_overdue_refunds(world.svc, batch=2) == OverduePush(5, 0, 0)
    # Graded now: the newest two are paid and leave the set; the count follows.
    for rid in rids[3:]:
        warehouse.grade(world.svc, WH, rid, Grade.A, "")
    overdue = refund_timing.overdue_refunds(world.svc, limit=10)
    assert [o.return_id for o in overdue.shown] == rids[:3] and overdue.total == 3


def test_lead_times_count_every_refund_once_from_the_tally(world: World) -> None:
    rids = []
    for _ in range(3):
        rids.append(_received(world))
        world.clock.advance(hours=5)
    for rid in rids:
        warehouse.grade(world.svc, WH, rid, Grade.A, "")
    refund_id = world.store.item("returns", rids[0]).refund_id
    # The provider answering again (a retried callback, the worker's sweep) adds nothing.
    refunds.pay_refund(world.svc, refund_id)
    refunds.retry_pending_refunds(world.svc)
    lead = refund_timing.lead_times(world.svc)
    assert lead.request_to_money.count == lead.pickup_to_money.count == 3
    assert lead.bucket_h == 0.1
    with world.svc.uow() as uow:
        tally = uow.refunds.waits(date(2000, 1, 1), date(2100, 1, 1))
    assert sum(c.n for c in tally) == 6  # both waits of each refund, once


def test_money_back_at_the_door_is_neither_listed_nor_counted_as_overdue(world: World) -> None:
    """An express refund paid at pickup leaves the return received (QC later): it owes
    nothing, so the count agrees with the list."""
    request, _ = picked_up(world, **trusted(world))
    warehouse.receive(world.svc, WH, request.return_id)
    [refund] = world.store.items("refunds")
    assert refund.status is RefundStatus.SUCCEEDED
    assert world.store.item("returns", request.return_id).status is ReturnStatus.RECEIVED
    late = _received(world)
    _eight_days_later(world)
    overdue = refund_timing.overdue_refunds(world.svc)
    assert [o.return_id for o in overdue.shown] == [late] and overdue.total == 1
