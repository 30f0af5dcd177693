"""An exchange turned into a refund after its declaration settled (RULES.md §2, announcement
2020 No. 45): the settlement gave back neither tax nor quota for it (a replacement was to be
imported in its place), but none is now, so the units that went back in time and were
declared give the buyer's annual total back, once, in the year the order counted in; the tax
goes back with the goods refund. Late goods give neither; a conversion before the settlement
is settled like any refund; a partial pickup gives back the units taken. An exchange released
by a lost dispute before shipping (nothing imported in its place, no refund) gives back its
quota and its tax, once, whether its declaration settled before the decision or after."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    new_order,
    two_of_three_taken,
    yto,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.domain.customs_return import CustomsReturn, CustomsStatus
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import IllegalTransition
from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.services import customs, disputes, exchanges, returns, transfers, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"  # 32,000 and 34,000 fen
UNIT, TAX = 32_000, 2_910  # per unit
WH = "wh-sh-bonded"


@pytest.fixture
def broker(world: World) -> LocalCustomsBroker:
    made = LocalCustomsBroker()
    world.svc = replace(world.svc, customs_broker=made)
    return made


def _bonded(world: World, quantity: int = 1) -> Order:
    order = new_order(
        world,
        channel=Channel.BONDED,
        released_days_ago=5,
        lines=(OrderLine("L1", LIP_1, quantity, UNIT, TAX * quantity),),
    )
    order = replace(order, declaration_no=f"D{order.order_id}")
    world.store.put("orders", order.order_id, order)
    return order


def _exchange(world: World, order: Order, quantity: int = 1) -> str:
    """An exchange for the dearer shade whose collection the provider leaves unanswered: the
    replacement waits (still reserved) while the old units travel, arrive and pass QC."""
    world.payments.timeouts = 1_000
    return returns.open_return(
        world.svc,
        OpenReturn(
            B3,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", quantity, Reason.NO_REASON),),
            replacements={"L1": LIP_2},
        ),
    ).return_id


def _self_shipped(world: World, return_id: str) -> None:
    returns.choose_self_send(world.svc, B3, return_id, ReturnMethod.SELF_SHIP)
    returns.register_shipment(world.svc, B3, return_id, "SF1234567890123", "sf")


def _back_graded_settled(world: World, return_id: str) -> CustomsReturn:
    warehouse.receive(world.svc, WH, return_id)
    graded = warehouse.grade(world.svc, WH, return_id, Grade.A, "ok")
    assert graded.status is ReturnStatus.INSPECTED
    assert exchanges.get_exchange(world.svc, return_id).status is ExchangeStatus.RESERVED
    customs.sweep_customs(world.svc)
    (cr,) = world.store.items("customs_returns")
    assert cr.status is CustomsStatus.SETTLED
    assert (cr.tax_refund_fen, cr.quota_restored_fen) == (0, 0)  # an exchange: neither back
    world.payments.timeouts = 0
    return cr


def _restored_events(world: World) -> list[dict[str, object]]:
    return [e.data for e in world.store.events_named("customs.quota_restored")]


def test_refund_instead_after_settlement_gives_the_quota_back_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    rid = _exchange(world, order)
    customs.sweep_customs(world.svc)  # declared and accepted
    _self_shipped(world, rid)
    used_before = customs.quota_of(world.svc, B3).used_fen
    cr = _back_graded_settled(world, rid)
    assert customs.quota_of(world.svc, B3).used_fen == used_before

    after = exchanges.refund_instead(world.svc, B3, rid)
    assert after.kind is ReturnKind.REFUND and after.status is ReturnStatus.REFUNDED
    assert customs.quota_of(world.svc, B3).used_fen == used_before - UNIT
    cr = world.store.item("customs_returns", cr.customs_return_id)
    assert cr.quota_restored_fen == UNIT and cr.quota_restored_for == (rid,)
    assert _restored_events(world) == [{"return_id": rid, "value_fen": UNIT}]
    # The tax goes back once, with the goods refund (the settlement paid none of it).
    assert world.payments.paid[f"refund:{rid}"][1] == UNIT + TAX
    assert not [k for k in world.payments.paid if k.startswith("customs-tax:")]

    with pytest.raises(IllegalTransition):
        exchanges.refund_instead(world.svc, B3, rid)
    customs.settle(world.svc, cr.customs_return_id, force=True)
    customs.sweep_customs(world.svc)
    assert customs.quota_of(world.svc, B3).used_fen == used_before - UNIT
    assert len(_restored_events(world)) == 1


def test_goods_back_after_day_45_give_no_quota_and_no_tax(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    rid = _exchange(world, order)
    customs.sweep_customs(world.svc)  # declared and accepted by day 5
    _self_shipped(world, rid)
    world.clock.advance(days=41)  # day 46: the goods missed day 45
    used_before = customs.quota_of(world.svc, B3, 2026).used_fen
    _back_graded_settled(world, rid)

    exchanges.refund_instead(world.svc, B3, rid)
    assert customs.quota_of(world.svc, B3, 2026).used_fen == used_before
    assert _restored_events(world) == []
    assert world.payments.paid[f"refund:{rid}"][1] == UNIT  # no tax: arrived late


def test_refund_instead_before_settlement_is_settled_like_any_refund(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    rid = _exchange(world, order)
    customs.sweep_customs(world.svc)
    world.payments.timeouts = 0
    exchanges.refund_instead(world.svc, B3, rid)  # accepted, not settled: nothing yet
    assert _restored_events(world) == []
    _self_shipped(world, rid)
    used_before = customs.quota_of(world.svc, B3).used_fen
    warehouse.receive(world.svc, WH, rid)
    customs.sweep_customs(world.svc)

    (cr,) = world.store.items("customs_returns")
    assert (cr.tax_refund_fen, cr.quota_restored_fen) == (TAX, UNIT)
    assert cr.quota_restored_for == (rid,)
    assert customs.quota_of(world.svc, B3).used_fen == used_before - UNIT
    assert _restored_events(world) == []  # the settlement's own event says it


def test_a_partial_pickup_gives_back_the_units_taken(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world, quantity=3)
    rid = _exchange(world, order, quantity=3)
    customs.sweep_customs(world.svc)  # declared with 3 units, accepted
    two_of_three_taken(world, B3, rid, yto(13))
    used_before = customs.quota_of(world.svc, B3).used_fen
    cr = _back_graded_settled(world, rid)
    assert cr.lines[0].quantity == 3  # declared before the courier came

    exchanges.refund_instead(world.svc, B3, rid)
    assert customs.quota_of(world.svc, B3).used_fen == used_before - 2 * UNIT
    assert _restored_events(world) == [{"return_id": rid, "value_fen": 2 * UNIT}]
    assert world.payments.paid[f"refund:{rid}"][1] == 2 * (UNIT + TAX)


def _failed(world: World, return_id: str) -> None:
    warehouse.receive(world.svc, WH, return_id)
    graded = warehouse.grade(world.svc, WH, return_id, Grade.C, "scratched")
    assert graded.status is ReturnStatus.DISPUTED
    assert exchanges.get_exchange(world.svc, return_id).status is ExchangeStatus.RESERVED


def test_a_lost_dispute_after_settlement_gives_the_quota_and_tax_back_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    rid = _exchange(world, order)
    customs.sweep_customs(world.svc)  # declared and accepted
    _self_shipped(world, rid)
    used_before = customs.quota_of(world.svc, B3).used_fen
    _failed(world, rid)
    customs.sweep_customs(world.svc)
    (cr,) = world.store.items("customs_returns")
    assert cr.status is CustomsStatus.SETTLED and (cr.tax_refund_fen, cr.quota_restored_fen) == (
        0,
        0,
    )
    world.payments.timeouts = 0

    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="scratched")

    assert exchanges.get_exchange(world.svc, rid).status is ExchangeStatus.RELEASED
    assert customs.quota_of(world.svc, B3).used_fen == used_before - UNIT
    cr = world.store.item("customs_returns", cr.customs_return_id)
    assert (cr.quota_restored_fen, cr.quota_restored_for) == (UNIT, (rid,))
    assert (cr.tax_refund_fen, cr.tax_paid_for) == (TAX, (rid,))
    assert world.payments.paid[f"customs-tax-return:{rid}"][1] == TAX
    assert f"refund:{rid}" not in world.payments.paid
    with pytest.raises(IllegalTransition):
        disputes.decide_dispute(world.svc, "ops-002", rid, buyer_upheld=False, note="again")
    customs.sweep_customs(world.svc)
    assert _restored_events(world) == [{"return_id": rid, "value_fen": UNIT}]
    assert len(world.store.events_named("customs.tax_paid")) == 1


def test_a_lost_dispute_before_settlement_is_settled_like_a_return(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    rid = _exchange(world, order)
    customs.sweep_customs(world.svc)
    _self_shipped(world, rid)
    used_before = customs.quota_of(world.svc, B3).used_fen
    _failed(world, rid)
    world.payments.timeouts = 0
    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="scratched")
    assert customs.quota_of(world.svc, B3).used_fen == used_before  # not settled yet

    customs.sweep_customs(world.svc)

    (cr,) = world.store.items("customs_returns")
    assert cr.status is CustomsStatus.SETTLED
    assert (cr.tax_refund_fen, cr.tax_paid_for) == (TAX, (rid,))
    assert (cr.quota_restored_fen, cr.quota_restored_for) == (UNIT, (rid,))
    assert customs.quota_of(world.svc, B3).used_fen == used_before - UNIT
    assert world.payments.paid[f"customs-tax:{cr.customs_return_id}"][1] == TAX
    assert not [k for k in world.payments.paid if k.startswith("customs-tax-return:")]


def test_a_lost_dispute_over_a_shipped_replacement_gives_nothing_back(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    rid = _exchange(world, order)
    customs.sweep_customs(world.svc)
    _self_shipped(world, rid)
    used_before = customs.quota_of(world.svc, B3).used_fen
    world.payments.timeouts = 0
    transfers.retry_pending(world.svc)  # collected: the replacement ships at the receipt
    warehouse.receive(world.svc, WH, rid)
    assert exchanges.get_exchange(world.svc, rid).status is ExchangeStatus.SHIPPED
    warehouse.grade(world.svc, WH, rid, Grade.C, "scratched")
    customs.sweep_customs(world.svc)

    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="scratched")

    # The buyer keeps (and pays for) the replacement, imported in the unit's place.
    assert customs.quota_of(world.svc, B3).used_fen == used_before
    (cr,) = world.store.items("customs_returns")
    assert (cr.tax_refund_fen, cr.quota_restored_fen) == (0, 0)
