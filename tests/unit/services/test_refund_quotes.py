"""The refund amount through the services: quoted before filing, on the decision, paid exactly."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    PILLOW,
    at_the_door,
    inspect,
    new_order,
    open_return,
    yto,
)

from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.order import Channel, OrderLine, Promotions
from doorstep.domain.refund_amount import FreightPayer, Part, TaxStatus
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.services import courier, pickup, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

WH = "wh-sh-bonded"
LINES = (
    OrderLine("L1", PILLOW, 2, 39_900),
    OrderLine("L2", PILLOW, 1, 129_900),
    OrderLine("L3", PILLOW, 2, 0, gift_for="L1", gift_value_fen=2_900),
)
PROMOTIONS = Promotions(
    coupon_fen=10_000,
    reduction_fen=15_000,
    reduction_threshold_fen=150_000,
    free_shipping_threshold_fen=9_900,
    waived_shipping_fen=1_000,
)


def _promoted(world: World, **kw: object):  # type: ignore[no-untyped-def]
    order = replace(new_order(world, lines=LINES), promotions=PROMOTIONS, **kw)
    world.store.put("orders", order.order_id, order)
    return order


def _cmd(order, *lines: LineRequest, kind: ReturnKind = ReturnKind.REFUND) -> OpenReturn:  # type: ignore[no-untyped-def]
    return OpenReturn(order.buyer_id, order.order_id, kind, lines)


def _through_qc(world: World, return_id: str) -> None:
    appt = pickup.book_pickup(world.svc, B3, return_id, yto(13))
    cid = at_the_door(world, appt)
    inspect(world, appt, return_id, cid)
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    warehouse.receive(world.svc, WH, return_id)
    warehouse.grade(world.svc, WH, return_id, Grade.A, "")


def test_quote_before_filing_stores_nothing(world: World) -> None:
    order = _promoted(world, freight_insurance=True)
    before = len(world.store.events)
    quote = returns.quote_return(world.svc, _cmd(order, LineRequest("L2", 1, Reason.NO_REASON)))
    parts = [(ln.part, ln.amount_fen) for ln in quote.lines]
    assert parts == [
        (Part.GOODS, 129_900),
        (Part.COUPON, -6_194),  # 10 000 × 129 900 / 209 700, rounded down
        (Part.FULL_REDUCTION, -15_000),  # 79 800 kept < 150 000
        (Part.RETURN_FREIGHT, 1_200),
    ]
    assert quote.freight_payer is FreightPayer.INSURANCE and quote.total_fen == 109_906
    assert len(world.store.events) == before and world.store.items("returns") == []


def test_quote_is_checked_like_filing(world: World) -> None:
    order = _promoted(world)
    with pytest.raises(InvalidInput, match="quantity_exceeds_purchase"):
        returns.quote_return(world.svc, _cmd(order, LineRequest("L1", 3, Reason.NO_REASON)))
    with pytest.raises(NotFound):
        returns.quote_return(
            world.svc, replace(_cmd(order, LineRequest("L1", 1, Reason.NO_REASON)), buyer_id="x")
        )
    with pytest.raises(InvalidInput, match="exchange_has_no_refund"):
        returns.quote_return(
            world.svc, _cmd(order, LineRequest("L1", 1, Reason.NO_REASON), kind=ReturnKind.EXCHANGE)
        )
    open_return(world, order, line="L2")
    with pytest.raises(Conflict, match="quantity_already_claimed"):
        returns.quote_return(world.svc, _cmd(order, LineRequest("L2", 1, Reason.NO_REASON)))


def test_the_refund_pays_exactly_the_quote_on_the_decision(world: World) -> None:
    order = _promoted(world)
    shown = returns.quote_return(
        world.svc, _cmd(order, LineRequest("L1", 2, Reason.QUALITY))
    )  # the pillows go back for a quality problem; their free gifts stay
    request = returns.open_return(world.svc, _cmd(order, LineRequest("L1", 2, Reason.QUALITY)))
    if request.status is ReturnStatus.IN_REVIEW:  # quality claims without a photo are reviewed
        request = returns.review_return(
            world.svc, request.return_id, approve=True, reviewer="ops-001", note=""
        )
    assert request.quote == shown
    assert [(ln.part, ln.amount_fen) for ln in shown.lines] == [
        (Part.GOODS, 79_800),
        (Part.COUPON, -3_805),
        (Part.GIFT, -5_800),
        (Part.RETURN_FREIGHT, 1_200),  # the seller is at fault
    ]
    _through_qc(world, request.return_id)
    [refund] = world.store.items("refunds")
    assert refund.quote == shown and refund.amount_fen == shown.total_fen == 71_395
    assert world.payments.total_paid_fen == 71_395
    requested = world.store.events_named("refund.requested")[0].data
    assert requested["freight_fen"] == 1_200 and requested["adjustments_fen"] == -9_605


def test_refunds_of_one_order_add_up_to_what_was_paid(world: World) -> None:
    order = _promoted(world)
    first = open_return(world, order, line="L2")
    _through_qc(world, first.return_id)
    second = returns.open_return(
        world.svc,
        _cmd(order, LineRequest("L1", 2, Reason.NO_REASON), LineRequest("L3", 2, Reason.NO_REASON)),
    )
    _through_qc(world, second.return_id)
    paid = [r.amount_fen for r in world.store.items("refunds")]
    assert sum(paid) == order.paid_fen == 209_700 - 10_000 - 15_000
    assert world.payments.total_paid_fen == order.paid_fen


def test_tax_is_kept_when_the_parcel_arrives_after_day_45(world: World) -> None:
    order = new_order(
        world,
        channel=Channel.BONDED,
        released_days_ago=20,
        lines=(OrderLine("L1", PILLOW, 1, 10_000, 910),),
    )
    request = open_return(world, order)
    assert request.quote is not None and request.quote.tax.status is TaxStatus.IF_ARRIVES
    assert request.quote.total_fen == 10_910
    appt = pickup.book_pickup(world.svc, B3, request.return_id, yto(13))
    cid = at_the_door(world, appt)
    inspect(world, appt, request.return_id, cid)
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    world.clock.advance(days=30)  # released 50 days ago when it arrives
    warehouse.receive(world.svc, WH, request.return_id)
    graded = warehouse.grade(world.svc, WH, request.return_id, Grade.A, "")
    assert graded.status is ReturnStatus.REFUNDED
    assert graded.quote is not None and graded.quote.tax.status is TaxStatus.ARRIVED_LATE
    assert world.payments.total_paid_fen == 10_000
    quoted = world.store.events_named("return.refund_quoted")
    assert [e.data["amount_fen"] for e in quoted] == [10_910, 10_000]
