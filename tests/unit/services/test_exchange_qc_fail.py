"""A replacement shipped before the warehouse saw the old item (trusted buyers get it at
pickup) was advanced as an express refund is: when the old item fails QC and ops uphold the
QC, what the buyer has not paid for the replacement is charged once
(``exchange-recover:<return_id>``), never capped at 0; a replacement not shipped yet is
released and a difference collected for it paid back."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    B3,
    PILLOW,
    at_the_door,
    inspect,
    new_order,
    sf,
)

from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import InvalidInput
from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.order import Order
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.domain.transfer import TransferPurpose, TransferStatus
from doorstep.services import courier, disputes, exchanges, pickup, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"  # 32,000 and 34,000 fen
WH = "wh-sh-bonded"


def _exchange(world: World, order: Order, to: str | None = None) -> str:
    return returns.open_return(
        world.svc,
        OpenReturn(
            order.buyer_id,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, Reason.NO_REASON),),
            replacements={"L1": to} if to else {},
        ),
    ).return_id


def _shipped_then_failed(world: World, order: Order, to: str | None = None) -> str:
    """A trusted buyer's exchange: picked up (the replacement leaves), then graded C."""
    rid = _exchange(world, order, to)
    appt = pickup.book_pickup(world.svc, B1, rid, sf(10))
    courier_id = at_the_door(world, appt)
    lists = courier.visit_checklists(world.svc, courier_id, appt.appointment_id)
    inspect(world, appt, rid, courier_id, {c.key: True for lc in lists for c in lc.checks})
    appt = world.store.item("appointments", appt.appointment_id)
    courier.pick_up(world.svc, courier_id, appt.appointment_id, appt.pickup_code)
    assert exchanges.get_exchange(world.svc, rid).status is ExchangeStatus.SHIPPED
    warehouse.receive(world.svc, WH, rid)
    assert warehouse.grade(world.svc, WH, rid, Grade.C, "used, stained").status is (
        ReturnStatus.DISPUTED
    )
    return rid


def _recoveries(world: World, rid: str) -> list[tuple[int, TransferStatus]]:
    return [
        (x.amount_fen, x.status)
        for x in world.store.items("transfers")
        if x.subject_id == rid and x.purpose is TransferPurpose.EXCHANGE_RECOVERY
    ]


def test_a_lost_dispute_charges_the_replacement_shipped_at_pickup(world: World) -> None:
    rid = _shipped_then_failed(world, new_order(world, buyer_id=B1, address=B1_HOME))
    assert disputes.get_dispute(world.svc, rid).advanced_fen == 39_900
    out = disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="stained")
    assert out.clawback is not None and out.clawback.status is TransferStatus.SUCCEEDED
    assert world.payments.collected[f"exchange-recover:{rid}"][1] == 39_900
    assert _recoveries(world, rid) == [(39_900, TransferStatus.SUCCEEDED)]
    assert exchanges.get_exchange(world.svc, rid).status is ExchangeStatus.CHARGED
    assert returns.get_return(world.svc, rid).status is ReturnStatus.CLOSED
    assert world.store.item("stock", PILLOW).on_hand == 9  # the replacement stays with the buyer
    names = world.store.event_names(rid)
    assert names[-1] == "exchange.charged"


def test_ops_may_charge_part_of_it_but_never_more(world: World) -> None:
    rid = _shipped_then_failed(world, new_order(world, buyer_id=B1, address=B1_HOME))
    with pytest.raises(InvalidInput, match="clawback_out_of_range"):
        disputes.decide_dispute(
            world.svc, "ops-001", rid, buyer_upheld=False, note="x", clawback_fen=39_901
        )
    disputes.decide_dispute(
        world.svc, "ops-001", rid, buyer_upheld=False, note="x", clawback_fen=10_000
    )
    assert _recoveries(world, rid) == [(10_000, TransferStatus.SUCCEEDED)]


def test_a_dearer_variant_is_charged_less_the_difference_already_paid(world: World) -> None:
    order = new_order(world, buyer_id=B1, address=B1_HOME, sku=LIP_1, unit_price_fen=32_000)
    rid = _shipped_then_failed(world, order, LIP_2)
    assert world.payments.collected[f"exchange-diff:{rid}"][1] == 2_000
    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="opened")
    # 34,000 for the replacement, 2,000 of it paid at filing: the old lipstick's 32,000.
    assert _recoveries(world, rid) == [(32_000, TransferStatus.SUCCEEDED)]


def test_a_dispute_found_for_the_buyer_charges_nothing(world: World) -> None:
    rid = _shipped_then_failed(world, new_order(world, buyer_id=B1, address=B1_HOME))
    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=True, note="fine")
    assert _recoveries(world, rid) == []
    assert returns.get_return(world.svc, rid).status is ReturnStatus.EXCHANGED


def test_a_replacement_not_shipped_is_released_and_its_difference_paid_back(
    world: World,
) -> None:
    order = new_order(world, sku=LIP_1, unit_price_fen=32_000)
    world.payments.timeouts = 100  # the collection is unanswered: nothing ships at receipt
    rid = _exchange(world, order, LIP_2)
    returns.choose_self_send(world.svc, B3, rid, ReturnMethod.SELF_SHIP)
    returns.register_shipment(world.svc, B3, rid, "SF1234567890123", "sf")
    warehouse.receive(world.svc, WH, rid)
    warehouse.grade(world.svc, WH, rid, Grade.C, "worn")
    assert disputes.get_dispute(world.svc, rid).advanced_fen == 0
    world.payments.timeouts = 0
    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="worn")
    assert exchanges.get_exchange(world.svc, rid).status is ExchangeStatus.RELEASED
    assert world.store.item("stock", LIP_2).reserved == 0
    assert world.payments.collected[f"exchange-diff:{rid}"][1] == 2_000
    assert world.payments.paid[f"exchange-diff-back:{rid}"][1] == 2_000
    assert _recoveries(world, rid) == []
