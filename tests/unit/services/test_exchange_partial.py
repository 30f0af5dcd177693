"""Partial pickup carried into the exchange: the courier takes 2 of 3 units, so the
replacement ships 2, stock holds 2 (the third goes back), and a dearer variant's difference
collected for the third is paid back once (``exchange-diff-part:<return_id>``)."""

from __future__ import annotations

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    B3,
    PILLOW,
    new_order,
    sf,
    two_of_three_taken,
    yto,
)

from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.order import Order
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.domain.transfer import TransferPurpose, TransferStatus
from doorstep.services import exchanges, returns, transfers
from doorstep.services.returns import LineRequest, OpenReturn

LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"  # 32,000 and 34,000 fen; V02: 3 on hand
WH = "wh-sh-bonded"


def _exchange(world: World, order: Order, quantity: int, to: str | None = None) -> str:
    return returns.open_return(
        world.svc,
        OpenReturn(
            order.buyer_id,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", quantity, Reason.NO_REASON),),
            replacements={"L1": to} if to else {},
        ),
    ).return_id


def _stock(world: World, sku: str) -> tuple[int, int]:
    level = world.store.item("stock", sku)
    return level.on_hand, level.reserved


def test_a_trusted_buyer_gets_two_replacements_for_two_units_taken(world: World) -> None:
    order = new_order(world, buyer_id=B1, address=B1_HOME, quantity=3)
    rid = _exchange(world, order, 3)
    assert _stock(world, PILLOW) == (10, 3)
    two_of_three_taken(world, B1, rid, sf(10))
    shipped = exchanges.get_exchange(world.svc, rid)
    assert shipped.status is ExchangeStatus.SHIPPED and shipped.units == {PILLOW: 2}
    assert _stock(world, PILLOW) == (8, 0)  # two left for dispatch, the third is free again
    reduced = world.store.events_named("exchange.reduced")
    assert [(e.aggregate_id, e.data["freed"]) for e in reduced] == [(rid, {PILLOW: 1})]
    # The refused unit stayed with the buyer, who may exchange it on its own: 3 promised in all.
    again = _exchange(world, order, 1)
    assert exchanges.get_exchange(world.svc, again).units == {PILLOW: 1}
    assert _stock(world, PILLOW) == (8, 1)


def test_the_dearer_difference_of_the_unit_left_behind_is_paid_back_once(world: World) -> None:
    order = new_order(world, sku=LIP_1, unit_price_fen=32_000, quantity=3)
    rid = _exchange(world, order, 3, LIP_2)
    assert world.payments.collected[f"exchange-diff:{rid}"][1] == 6_000
    two_of_three_taken(world, B3, rid, yto(13))
    exchange = exchanges.get_exchange(world.svc, rid)
    # Not shipped yet (this buyer's replacement leaves at receipt), but it holds 2 units now.
    assert exchange.status is ExchangeStatus.RESERVED and exchange.units == {LIP_2: 2}
    assert exchange.difference_fen == 4_000 and _stock(world, LIP_2) == (3, 2)
    assert world.payments.paid[f"exchange-diff-part:{rid}"][1] == 2_000
    exchanges.ship_if_due(world.svc, rid)  # asked again: nothing more is given back
    exchanges.advance_exchanges(world.svc)
    transfers.retry_pending(world.svc)
    # The buyer then takes a refund instead: the rest of what was collected goes back.
    exchanges.refund_instead(world.svc, B3, rid)
    backs = {
        (x.purpose, x.amount_fen, x.status)
        for x in world.store.items("transfers")
        if x.subject_id == rid and x.purpose is not TransferPurpose.EXCHANGE_COLLECTION
    }
    assert backs == {
        (TransferPurpose.EXCHANGE_PART_BACK, 2_000, TransferStatus.SUCCEEDED),
        (TransferPurpose.EXCHANGE_PAYBACK, 4_000, TransferStatus.SUCCEEDED),
    }
    assert _stock(world, LIP_2) == (3, 0)
    keys = [c.idempotency_key for c in world.payments.calls]
    assert keys.count(f"exchange-diff-part:{rid}") == 1
