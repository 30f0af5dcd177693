"""Exchanges (issue 9 §6): reserve at request, ship at pickup or receipt, the difference paid
or refunded once, a refund instead when stock runs out."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    B3,
    at_the_door,
    inspect,
    new_order,
    yto,
)

from doorstep.domain.errors import Conflict, InvalidInput
from doorstep.domain.exchange import ExchangeStatus, ShipAt, StockLevel
from doorstep.domain.order import Order, Promotions
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.domain.transfer import TransferStatus
from doorstep.services import courier, exchanges, pickup, returns, timeline, transfers, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

SHOES_42, SHOES_43 = "CN-RUNNING-SHOES-42", "CN-RUNNING-SHOES-43"
JACKET_M, JACKET_L = "JP-DOWN-JACKET-M", "JP-DOWN-JACKET-L"
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
WH = "wh-sh-bonded"


def _order(world: World, sku: str, price: int, buyer: str = B3) -> Order:
    kw = {"buyer_id": B1, "address": B1_HOME} if buyer == B1 else {}
    return new_order(world, sku=sku, unit_price_fen=price, **kw)


def _exchange(world: World, order: Order, to: str | None = None, reason: Reason = Reason.NO_REASON):
    return returns.open_return(  # type: ignore[no-untyped-def]
        world.svc,
        OpenReturn(
            order.buyer_id,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, reason),),
            replacements={"L1": to} if to else {},
        ),
    )


def _stock(world: World, sku: str) -> tuple[int, int]:
    level = world.store.item("stock", sku)
    return level.on_hand, level.reserved


def _inspect_all(world: World, appt, return_id: str, courier_id: str) -> None:  # type: ignore[no-untyped-def]
    # Every check of the item's category passes (domain/inspection.py).
    lists = courier.visit_checklists(world.svc, courier_id, appt.appointment_id)
    answers = {c.key: True for lc in lists for c in lc.checks}
    inspect(world, appt, return_id, courier_id, answers)


def _pick_up(world: World, return_id: str, buyer: str) -> None:
    appt = pickup.book_pickup(world.svc, buyer, return_id, yto(13))
    courier_id = at_the_door(world, appt)
    _inspect_all(world, appt, return_id, courier_id)
    courier.pick_up(world.svc, courier_id, appt.appointment_id, appt.pickup_code)


def test_same_item_reserved_at_request_shipped_at_receipt(world: World) -> None:
    order = _order(world, JACKET_M, 79_900)
    request = _exchange(world, order)
    assert request.status is ReturnStatus.APPROVED
    assert _stock(world, JACKET_M) == (5, 1)
    exchange = exchanges.get_exchange(world.svc, request.return_id, buyer_id=B3)
    assert exchange.ship_at is ShipAt.RECEIPT and exchange.difference_fen == 0
    _pick_up(world, request.return_id, B3)
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.RESERVED
    warehouse.receive(world.svc, WH, request.return_id)
    shipped = exchanges.get_exchange(world.svc, request.return_id)
    # Out of stock for dispatch; the number is the outbound label's, not made up here.
    assert shipped.status is ExchangeStatus.SHIPPED and shipped.waybill_no is None
    assert _stock(world, JACKET_M) == (4, 0)
    labelled = exchanges.track_replacement(
        world.svc,
        request.return_id,
        "collected",
        "上海仓",
        waybill_no="sf1234567890123",
        carrier_id="sf",
    )
    assert (labelled.waybill_no, labelled.carrier_id) == ("SF1234567890123", "sf")
    with pytest.raises(Conflict, match="another waybill"):
        exchanges.track_replacement(
            world.svc, request.return_id, "x", waybill_no="SF1234567890999", carrier_id="sf"
        )
    with pytest.raises(InvalidInput):
        exchanges.track_replacement(
            world.svc, request.return_id, "x", waybill_no="NOT-A-WAYBILL", carrier_id="sf"
        )
    exchanges.track_replacement(world.svc, request.return_id, "out_for_delivery", "徐汇")
    done = warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    assert done.status is ReturnStatus.EXCHANGED
    names = [e.name for e in timeline.timeline(world.svc, request.return_id, buyer_id=B3)]
    assert names.index("exchange.replacement_shipped") < names.index("return.exchanged")
    assert "exchange.replacement_tracking" in names
    assert world.payments.calls == []  # no difference, no money


def test_trusted_buyer_gets_the_replacement_at_pickup(world: World) -> None:
    order = _order(world, JACKET_M, 79_900, buyer=B1)
    request = _exchange(world, order)
    assert exchanges.get_exchange(world.svc, request.return_id).ship_at is ShipAt.PICKUP
    appt = pickup.book_pickup(
        world.svc, B1, request.return_id, pickup.SlotChoice("sf", yto(13).day, yto(13).start)
    )
    courier_id = at_the_door(world, appt)
    _inspect_all(world, appt, request.return_id, courier_id)
    courier.pick_up(world.svc, courier_id, appt.appointment_id, appt.pickup_code)
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.SHIPPED


def test_dearer_variant_collects_the_difference_once_before_shipping(world: World) -> None:
    order = _order(world, LIP_1, 32_000)
    world.payments.timeouts = 1  # the first collection attempt times out
    request = _exchange(world, order, LIP_2)
    exchange = exchanges.get_exchange(world.svc, request.return_id)
    assert exchange.difference_fen == 2_000
    collection = world.store.item("transfers", exchange.difference_transfer_id)
    assert collection.status is TransferStatus.PENDING and collection.attempts == 1
    _pick_up(world, request.return_id, B3)
    warehouse.receive(world.svc, WH, request.return_id)
    # Not shipped while unpaid.
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.RESERVED
    world.payments.lose_answers = 1  # paid, but the answer is lost
    assert transfers.retry_pending(world.svc) == 0
    assert transfers.retry_pending(world.svc) == 1  # asked again: same key, same payment
    assert transfers.retry_pending(world.svc) == 0
    exchanges.advance_exchanges(world.svc)
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.SHIPPED
    keys = [c.idempotency_key for c in world.payments.calls]
    assert set(keys) == {f"exchange-diff:{request.return_id}"}
    assert world.payments.collected[keys[0]][1] == 2_000 and len(world.payments.collected) == 1
    assert world.payments.paid == {}
    # The buyer's timeline shows the collection's own events (found by the return's transfers).
    names = [e.name for e in timeline.timeline(world.svc, request.return_id, buyer_id=B3)]
    assert names.count("money.requested") == 1 and names.count("money.succeeded") == 1


def test_cheaper_variant_refunds_the_difference_once_when_shipped(world: World) -> None:
    order = _order(world, SHOES_42, 59_900)
    exchanges.upsert_stock(
        world.svc,
        [world.store.item("stock", SHOES_43).__class__(SHOES_43, "running-shoes", 55_900, 2)],
    )
    request = _exchange(world, order, SHOES_43)
    _pick_up(world, request.return_id, B3)
    warehouse.receive(world.svc, WH, request.return_id)
    exchanges.ship_if_due(world.svc, request.return_id)  # called twice: ships once
    exchanges.advance_exchanges(world.svc)
    assert [(c.idempotency_key, c.amount_fen) for c in world.payments.calls] == [
        (f"exchange-diff-refund:{request.return_id}", 4_000)
    ]
    assert _stock(world, SHOES_43) == (1, 0)


def test_a_cheaper_variant_never_pays_back_more_than_was_paid(world: World) -> None:
    # Two pairs at 59,900 with a 60,000 coupon: 59,800 paid, 29,900 a pair. One pair for a
    # 28,000 variant: the line-price difference, 31,900, is more than the pair's 29,900
    # (the coupon paid out as a difference); they get back what they paid for the pair less
    # the new pair's worth.
    order = replace(
        new_order(world, sku=SHOES_42, quantity=2, unit_price_fen=59_900),
        promotions=Promotions(coupon_fen=60_000),
    )
    world.store.put("orders", order.order_id, order)
    exchanges.upsert_stock(world.svc, [StockLevel(SHOES_43, "running-shoes", 28_000, 2)])
    request = _exchange(world, order, SHOES_43)
    _pick_up(world, request.return_id, B3)
    warehouse.receive(world.svc, WH, request.return_id)
    exchanges.ship_if_due(world.svc, request.return_id)
    # 29,900 paid for the pair, 28,000 the new one is worth: 1,900 back, not 31,900.
    assert [(c.idempotency_key, c.amount_fen) for c in world.payments.calls] == [
        (f"exchange-diff-refund:{request.return_id}", 1_900)
    ]


def test_out_of_stock_refuses_and_keeps_nothing(world: World) -> None:
    order = _order(world, SHOES_42, 59_900)
    with pytest.raises(Conflict) as refused:
        _exchange(world, order, SHOES_43)
    assert refused.value.code == "out_of_stock" and refused.value.details["alternative"] == "refund"
    assert world.store.items("returns") == [] or all(
        r.order_id != order.order_id for r in world.store.items("returns")
    )
    assert _stock(world, SHOES_43) == (0, 0)
    # The buyer files a refund instead.
    refund = returns.open_return(
        world.svc,
        OpenReturn(
            B3, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
        ),
    )
    assert refund.status is ReturnStatus.APPROVED


def test_not_a_variant_is_refused(world: World) -> None:
    order = _order(world, SHOES_42, 59_900)
    with pytest.raises(InvalidInput, match="not_a_variant"):
        _exchange(world, order, JACKET_L)


def test_refund_instead_releases_and_pays_back_a_collected_difference(world: World) -> None:
    order = _order(world, LIP_1, 32_000)
    request = _exchange(world, order, LIP_2)
    assert _stock(world, LIP_2) == (3, 1)
    converted = exchanges.refund_instead(world.svc, B3, request.return_id)
    assert converted.kind is ReturnKind.REFUND
    assert _stock(world, LIP_2) == (3, 0)
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.RELEASED
    paid_back = world.payments.paid[f"exchange-diff-back:{request.return_id}"]
    assert paid_back[1] == 2_000
    with pytest.raises(Conflict):
        exchanges.refund_instead(world.svc, B3, request.return_id)


def test_a_payback_waits_for_the_collection_and_fails_when_nothing_came_in(
    world: World,
) -> None:
    """The sweep must not pay back a difference whose collection is still unanswered (it did,
    before transfers were merged: the payback was just another pending move)."""
    order = _order(world, LIP_1, 32_000)
    world.payments.timeouts = 3  # filing's collection, refund-instead's ask, the sweep's ask
    request = _exchange(world, order, LIP_2)
    exchanges.refund_instead(world.svc, B3, request.return_id)
    assert transfers.retry_pending(world.svc) == 0
    assert world.payments.paid == {} and world.payments.collected == {}
    world.payments.decline = 1  # the collection is finally refused: nothing came in
    assert transfers.retry_pending(world.svc) == 2
    payback = world.store.item("transfers", _key(world, f"exchange-diff-back:{request.return_id}"))
    assert payback.status is TransferStatus.FAILED and payback.failure == "nothing_came_in"
    assert world.payments.paid == {} and world.payments.collected == {}
    keys = [c.idempotency_key for c in world.payments.calls]
    assert f"exchange-diff-back:{request.return_id}" not in keys


def test_a_payback_is_paid_once_the_late_collection_succeeds(world: World) -> None:
    order = _order(world, LIP_1, 32_000)
    world.payments.timeouts = 2
    request = _exchange(world, order, LIP_2)
    exchanges.refund_instead(world.svc, B3, request.return_id)
    assert world.payments.paid == {}
    assert transfers.retry_pending(world.svc) == 2  # collected, then paid back, in that order
    assert world.payments.collected[f"exchange-diff:{request.return_id}"][1] == 2_000
    assert world.payments.paid[f"exchange-diff-back:{request.return_id}"][1] == 2_000


def _key(world: World, idempotency_key: str) -> str:
    found = [x for x in world.store.items("transfers") if x.idempotency_key == idempotency_key]
    assert len(found) == 1
    return str(found[0].transfer_id)


def test_cancelling_an_exchange_gives_the_units_back(world: World) -> None:
    order = _order(world, JACKET_M, 79_900)
    request = _exchange(world, order, JACKET_L)
    assert _stock(world, JACKET_L) == (1, 1)
    returns.cancel_return(world.svc, B3, request.return_id, "changed my mind")
    assert _stock(world, JACKET_L) == (1, 0)


def test_declined_difference_keeps_the_replacement_home(world: World) -> None:
    order = _order(world, LIP_1, 32_000)
    world.payments.decline = 1
    request = _exchange(world, order, LIP_2)
    exchange = exchanges.get_exchange(world.svc, request.return_id)
    declined = world.store.item("transfers", exchange.difference_transfer_id)
    assert declined.status is TransferStatus.FAILED
    _pick_up(world, request.return_id, B3)
    warehouse.receive(world.svc, WH, request.return_id)
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.RESERVED
    # Nothing was collected, so nothing is paid back when the buyer takes the refund.
    exchanges.refund_instead(world.svc, B3, request.return_id)
    assert world.payments.paid == {} and world.payments.collected == {}
