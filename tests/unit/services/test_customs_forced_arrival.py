"""A return still on its way when ops force its declaration's settlement (RULES.md §2,
announcement 2020 No. 45): the settlement left it out, so its goods arriving by day 45 give
the buyer's annual total back then, once, and its tax goes back once (with the goods refund,
which the settlement did not pay for, or, when their QC fails and no refund comes, on its own
at the grade, and a refund after a dispute found for the buyer leaves it out); goods back
after day 45 give neither, and tax an express refund advanced for them is taken back, as
the settlement would have."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import B3, new_order  # type: ignore[import-not-found]
from tests.unit.services.test_customs_tax import (  # type: ignore[import-not-found]
    PILLOW_TAX,
    _clawed,
    _express_at_pickup,
    _quoted,
    _trusted_order,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.domain.customs_return import CustomsReturn, CustomsStatus
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.refund_amount import TaxStatus
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnRequest
from doorstep.services import customs, disputes, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

JACKET, UNIT, TAX = "JP-DOWN-JACKET-M", 79_900, 7_270
WH = "wh-sh-bonded"
WAYBILL = "SF1234567890123"
YEAR = 2026  # the orders' year: day 46 of release may fall in the next


@pytest.fixture
def broker(world: World) -> LocalCustomsBroker:
    made = LocalCustomsBroker()
    world.svc = replace(world.svc, customs_broker=made)
    return made


def _bonded(world: World) -> Order:
    order = new_order(
        world,
        channel=Channel.BONDED,
        released_days_ago=5,
        lines=tuple(OrderLine(f"L{i}", JACKET, 1, UNIT, TAX) for i in (1, 2)),
    )
    order = replace(order, declaration_no=f"D{order.order_id}")
    world.store.put("orders", order.order_id, order)
    return order


def _refund(world: World, order: Order, line: str) -> ReturnRequest:
    return returns.open_return(
        world.svc,
        OpenReturn(
            B3, order.order_id, ReturnKind.REFUND, (LineRequest(line, 1, Reason.NO_REASON),)
        ),
    )


def _ship(world: World, request: ReturnRequest, waybill: str = WAYBILL) -> None:
    with world.svc.uow() as uow:
        r = uow.returns.get(request.return_id)
        r.choose_self_send(ReturnMethod.SELF_SHIP, None, world.clock.now())
        r.register_shipment(waybill, "sf", world.clock.now())
        uow.returns.save(r)
        uow.commit()


def _forced_with_one_on_its_way(world: World) -> tuple[CustomsReturn, ReturnRequest]:
    """Two returns declared and accepted; one is back and refunded, the other on its way
    when ops force the settlement."""
    order = _bonded(world)
    back, away = _refund(world, order, "L1"), _refund(world, order, "L2")
    customs.sweep_customs(world.svc)
    _ship(world, back, "SF1111111111111")
    warehouse.receive(world.svc, WH, back.return_id)
    warehouse.grade(world.svc, WH, back.return_id, Grade.A, "ok")
    _ship(world, away)
    (cr,) = world.store.items("customs_returns")
    settled = customs.settle(world.svc, cr.customs_return_id, force=True)
    assert settled.status is CustomsStatus.SETTLED
    assert (settled.quota_restored_fen, settled.quota_restored_for) == (UNIT, (back.return_id,))
    return settled, away


def _tax_to_buyer(world: World, return_id: str) -> int:
    """The tax the buyer got back for ``return_id``: its refund's tax part, and any
    customs-tax payment."""
    refund = world.payments.paid.get(f"refund:{return_id}")
    customs_tax = sum(
        v for k, (_, v) in world.payments.paid.items() if k.startswith("customs-tax:")
    )
    return (refund[1] - UNIT if refund else 0) + customs_tax


@pytest.mark.parametrize("by_waybill", [False, True])
def test_goods_back_by_day_45_after_a_forced_settlement_give_the_quota_back_once(
    world: World, broker: LocalCustomsBroker, by_waybill: bool
) -> None:
    cr, away = _forced_with_one_on_its_way(world)
    used_before = customs.quota_of(world.svc, B3, YEAR).used_fen
    world.clock.advance(days=20)  # day 25 of release: in time

    if by_waybill:
        warehouse.receive_waybill(world.svc, WH, WAYBILL)
    else:
        warehouse.receive(world.svc, WH, away.return_id)

    assert customs.quota_of(world.svc, B3, YEAR).used_fen == used_before - UNIT
    cr = world.store.item("customs_returns", cr.customs_return_id)
    assert cr.quota_restored_fen == 2 * UNIT
    assert set(cr.quota_restored_for) == {r.return_id for r in returns_of(world)}
    assert [e.data for e in world.store.events_named("customs.quota_restored")] == [
        {"return_id": away.return_id, "value_fen": UNIT}
    ]
    warehouse.grade(world.svc, WH, away.return_id, Grade.A, "ok")
    assert _tax_to_buyer(world, away.return_id) == TAX  # with the goods refund, once
    customs.sweep_customs(world.svc)
    customs.settle(world.svc, cr.customs_return_id, force=True)
    assert customs.quota_of(world.svc, B3, YEAR).used_fen == used_before - UNIT
    assert _tax_to_buyer(world, away.return_id) == TAX


def returns_of(world: World) -> list[ReturnRequest]:
    return list(world.store.items("returns"))


def test_goods_back_after_day_45_give_no_quota_back(
    world: World, broker: LocalCustomsBroker
) -> None:
    _, away = _forced_with_one_on_its_way(world)
    used_before = customs.quota_of(world.svc, B3, YEAR).used_fen
    world.clock.advance(days=41)  # day 46 of release
    warehouse.receive(world.svc, WH, away.return_id)
    warehouse.grade(world.svc, WH, away.return_id, Grade.A, "ok")

    assert customs.quota_of(world.svc, B3, YEAR).used_fen == used_before
    assert world.store.events_named("customs.quota_restored") == []
    assert _tax_to_buyer(world, away.return_id) == 0


def test_tax_advanced_for_goods_a_forced_settlement_left_out_is_taken_back_when_late(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express_at_pickup(world, _trusted_order(world, released_days_ago=5))
    customs.sweep_customs(world.svc)  # declared, accepted; the parcel is on its way
    (cr,) = world.store.items("customs_returns")
    settled = customs.settle(world.svc, cr.customs_return_id, force=True)
    assert settled.status is CustomsStatus.SETTLED and settled.tax_refund_fen == 0
    world.clock.advance(days=45)  # day 50 of release

    warehouse.receive(world.svc, WH, request.return_id)

    assert _clawed(world, request) == PILLOW_TAX
    assert _quoted(world, request) == (TaxStatus.ARRIVED_LATE, 0, 39_900)
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    customs.sweep_customs(world.svc)
    assert len(world.payments.clawed) == 1


def test_advanced_tax_stays_when_the_goods_are_back_in_time(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express_at_pickup(world, _trusted_order(world, released_days_ago=5))
    customs.sweep_customs(world.svc)
    (cr,) = world.store.items("customs_returns")
    customs.settle(world.svc, cr.customs_return_id, force=True)
    world.clock.advance(days=10)

    warehouse.receive(world.svc, WH, request.return_id)

    assert world.payments.clawed == {}
    assert not [k for k in world.payments.paid if k.startswith("customs-tax:")]
    cr = world.store.item("customs_returns", cr.customs_return_id)
    assert cr.quota_restored_for == (request.return_id,) and cr.quota_restored_fen == 39_900


def test_goods_left_out_that_fail_qc_get_their_tax_back_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    cr, away = _forced_with_one_on_its_way(world)
    world.clock.advance(days=20)  # day 25 of release: in time
    warehouse.receive(world.svc, WH, away.return_id)
    assert _quoted(world, away)[1] == TAX  # left to its refund

    warehouse.grade(world.svc, WH, away.return_id, Grade.C, "scratched")

    # No goods refund, but the goods are back in the zone: the tax the settlement would
    # have paid is paid now, once, and the declaration names the return.
    assert world.payments.paid[f"customs-tax-return:{away.return_id}"][1] == TAX
    assert f"refund:{away.return_id}" not in world.payments.paid
    cr = world.store.item("customs_returns", cr.customs_return_id)
    assert away.return_id in cr.tax_paid_for and cr.paid_tax_of(away.return_id)
    assert [e.data for e in world.store.events_named("customs.tax_paid")] == [
        {"return_id": away.return_id, "tax_fen": TAX}
    ]
    customs.sweep_customs(world.svc)
    customs.settle(world.svc, cr.customs_return_id, force=True)
    assert len(world.store.events_named("customs.tax_paid")) == 1


def test_a_dispute_found_for_the_buyer_refunds_the_goods_without_the_tax_paid_already(
    world: World, broker: LocalCustomsBroker
) -> None:
    _, away = _forced_with_one_on_its_way(world)
    world.clock.advance(days=20)
    warehouse.receive(world.svc, WH, away.return_id)
    warehouse.grade(world.svc, WH, away.return_id, Grade.C, "scratched")

    disputes.decide_dispute(world.svc, "ops-001", away.return_id, buyer_upheld=True, note="ok")

    assert world.payments.paid[f"refund:{away.return_id}"][1] == UNIT
    assert _quoted(world, away) == (TaxStatus.CUSTOMS_SETTLED, 0, UNIT)
    assert _tax_to_buyer(world, away.return_id) == 0  # only customs-tax: (the other's)
    assert world.payments.paid[f"customs-tax-return:{away.return_id}"][1] == TAX


def test_goods_left_out_that_come_late_and_fail_qc_get_no_tax_back(
    world: World, broker: LocalCustomsBroker
) -> None:
    _, away = _forced_with_one_on_its_way(world)
    world.clock.advance(days=41)  # day 46 of release
    warehouse.receive(world.svc, WH, away.return_id)

    warehouse.grade(world.svc, WH, away.return_id, Grade.C, "scratched")

    assert not [k for k in world.payments.paid if k.startswith("customs-tax-return:")]
    assert world.store.events_named("customs.tax_paid") == []


def test_a_failed_qc_pays_no_tax_an_express_refund_carries_already(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express_at_pickup(world, _trusted_order(world, released_days_ago=5))
    customs.sweep_customs(world.svc)
    (cr,) = world.store.items("customs_returns")
    customs.settle(world.svc, cr.customs_return_id, force=True)
    world.clock.advance(days=10)
    warehouse.receive(world.svc, WH, request.return_id)

    warehouse.grade(world.svc, WH, request.return_id, Grade.C, "scratched")

    assert not [k for k in world.payments.paid if k.startswith("customs-tax-return:")]
    assert world.store.events_named("customs.tax_paid") == []
