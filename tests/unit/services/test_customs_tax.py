"""The import tax goes back only on customs' answer (RULES.md §2), not on the clocks alone: an
express refund may advance it at pickup, and the customs return takes it back when customs
rejects the declaration, the declaration lapses (never declared by day 30) or the goods miss
day 45; a goods refund pays it only on an accepted declaration."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.fakes_after_sales import (  # type: ignore[import-not-found]
    FakeCustomsRepository,
)
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    B3,
    at_the_door,
    inspect,
    new_order,
    sf,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.refund_amount import TaxStatus
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnRequest
from doorstep.domain.transfer import TransferPurpose, TransferStatus, transfer_key
from doorstep.services import courier, customs, pickup, returns, transfers, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

WH = "wh-sh-bonded"
PILLOW_TAX = 3_630
JACKET_TAX = 7_270


@pytest.fixture
def broker(world: World) -> LocalCustomsBroker:
    made = LocalCustomsBroker()
    world.svc = replace(world.svc, customs_broker=made)
    return made


def _trusted_order(world: World, released_days_ago: int) -> Order:
    """A bonded pillow of buyer-001 (trust 850: paid at pickup), released so many days ago."""
    now = world.clock.now()
    order = Order(
        world.ids.new("O"),
        B1,
        "shop-test",
        Channel.BONDED,
        now - timedelta(days=released_days_ago + 3),
        B1_HOME,
        (OrderLine("L1", "CN-LATEX-PILLOW", 1, 39_900, PILLOW_TAX),),
        signed_at=now - timedelta(days=2),
        customs_released_at=now - timedelta(days=released_days_ago),
        declaration_no="DX",
    )
    world.store.put("orders", order.order_id, order)
    return order


def _express_at_pickup(world: World, order: Order) -> ReturnRequest:
    """Filed, picked up, and (trusted buyer) refunded with the tax advanced at the door."""
    request = returns.open_return(
        world.svc,
        OpenReturn(
            B1, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
        ),
    )
    appt = pickup.book_pickup(world.svc, B1, request.return_id, sf(10))
    cid = at_the_door(world, appt)
    inspect(world, appt, request.return_id, cid)
    appt = world.store.item("appointments", appt.appointment_id)
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    assert world.payments.paid[f"refund:{request.return_id}"][1] == 39_900 + PILLOW_TAX
    return request


def _jacket_return(world: World) -> ReturnRequest:
    order = new_order(
        world,
        channel=Channel.BONDED,
        released_days_ago=5,
        lines=(OrderLine("L1", "JP-DOWN-JACKET-M", 1, 79_900, JACKET_TAX),),
    )
    world.store.put("orders", order.order_id, replace(order, declaration_no="D1"))
    return returns.open_return(
        world.svc,
        OpenReturn(
            B3, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
        ),
    )


def _self_ship(world: World, request: ReturnRequest) -> None:
    now = world.clock.now()
    with world.svc.uow() as uow:
        r = uow.returns.get(request.return_id)
        r.choose_self_send(ReturnMethod.SELF_SHIP, None, now)
        r.register_shipment("SF1234567890123", "sf", now)
        uow.returns.save(r)
        uow.commit()


def _self_ship_and_receive(world: World, request: ReturnRequest) -> None:
    _self_ship(world, request)
    warehouse.receive(world.svc, WH, request.return_id)


def _clawed(world: World, request: ReturnRequest) -> int:
    key = transfer_key(TransferPurpose.TAX_CLAWBACK, request.return_id)
    return world.payments.clawed[key][1] if key in world.payments.clawed else 0


def _quoted(world: World, request: ReturnRequest) -> tuple[TaxStatus, int, int]:
    """What the return now says the refund comes to: tax status, tax, total."""
    quote = returns.get_return(world.svc, request.return_id).quote
    assert quote is not None
    return quote.tax.status, quote.tax_fen, quote.total_fen


def _only(world: World):  # type: ignore[no-untyped-def]
    (found,) = world.store.items("customs_returns")
    return found


def test_advanced_tax_is_taken_back_when_the_parcel_arrives_after_day_45(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express_at_pickup(world, _trusted_order(world, released_days_ago=25))
    customs.sweep_customs(world.svc)
    world.clock.advance(days=25)  # day 50 of release
    warehouse.receive(world.svc, WH, request.return_id)
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    customs.sweep_customs(world.svc)

    cr = _only(world)
    assert cr.status is CustomsStatus.SETTLED and cr.tax_refund_fen == 0
    assert _clawed(world, request) == PILLOW_TAX
    assert world.store.events_named("tax_clawback.succeeded")
    assert _quoted(world, request) == (TaxStatus.ARRIVED_LATE, 0, 39_900)
    customs.sweep_customs(world.svc)
    assert transfers.retry_pending(world.svc) == 0
    assert len(world.payments.clawed) == 1  # taken back once


def test_advanced_tax_is_taken_back_when_customs_rejects_the_declaration(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express_at_pickup(world, _trusted_order(world, released_days_ago=5))
    broker.mode = "reject"
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.REJECTED
    assert _clawed(world, request) == PILLOW_TAX
    assert _quoted(world, request) == (TaxStatus.CUSTOMS_REJECTED, 0, 39_900)

    warehouse.receive(world.svc, WH, request.return_id)
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    customs.sweep_customs(world.svc)
    assert len(world.payments.clawed) == 1
    assert sum(v for _, v in world.payments.paid.values()) - _clawed(world, request) == 39_900


def test_goods_refund_after_a_rejected_declaration_leaves_the_tax_out(
    world: World, broker: LocalCustomsBroker
) -> None:
    broker.mode = "reject"
    request = _jacket_return(world)
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.REJECTED
    _self_ship_and_receive(world, request)
    graded = warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")

    assert graded.quote is not None and graded.quote.tax.status is TaxStatus.CUSTOMS_REJECTED
    assert graded.quote.tax_fen == 0
    assert {k: v for k, (_, v) in world.payments.paid.items()} == {
        f"refund:{request.return_id}": 79_900
    }


def test_never_declared_by_day_30_lapses_and_advanced_tax_goes_back(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express_at_pickup(world, _trusted_order(world, released_days_ago=28))
    world.clock.advance(days=3)  # the sweep never ran before day 30 passed
    swept = customs.sweep_customs(world.svc)

    cr = _only(world)
    assert swept.lapsed == 1 and cr.status is CustomsStatus.LAPSED
    assert world.store.event_names(cr.customs_return_id).count("customs.lapsed") == 1
    assert broker.declarations == {}  # too late to declare: nothing was sent
    assert _clawed(world, request) == PILLOW_TAX
    assert _quoted(world, request) == (TaxStatus.NOT_DECLARED, 0, 39_900)
    assert customs.queue(world.svc) == []  # no longer live
    customs.sweep_customs(world.svc)
    assert len(world.payments.clawed) == 1


def test_goods_refund_after_a_lapsed_declaration_leaves_the_tax_out(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _jacket_return(world)
    _self_ship(world, request)
    world.clock.advance(days=26)  # day 31, never declared
    warehouse.receive(world.svc, WH, request.return_id)
    graded = warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    assert graded.quote is not None and graded.quote.tax.status is TaxStatus.NOT_DECLARED
    assert world.payments.total_paid_fen == 79_900
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.LAPSED
    assert world.payments.total_paid_fen == 79_900 and world.payments.clawed == {}


def test_unanswered_declaration_tax_is_paid_by_the_settlement_not_the_goods_refund(
    world: World, broker: LocalCustomsBroker
) -> None:
    broker.mode = "pending"
    request = _jacket_return(world)
    customs.sweep_customs(world.svc)
    _self_ship_and_receive(world, request)
    graded = warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    assert graded.quote is not None and graded.quote.tax.status is TaxStatus.CUSTOMS_PENDING
    assert world.payments.total_paid_fen == 79_900

    broker.mode = "accept"
    customs.sweep_customs(world.svc)
    cr = _only(world)
    assert cr.status is CustomsStatus.SETTLED and cr.tax_refund_fen == JACKET_TAX
    assert world.payments.total_paid_fen == 79_900 + JACKET_TAX  # the tax once, on acceptance


def test_tax_clawback_waits_for_the_refund_that_advanced_it(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _trusted_order(world, released_days_ago=5)
    world.payments.timeouts = 1  # the express refund's answer is not known yet
    request = returns.open_return(
        world.svc,
        OpenReturn(
            B1, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
        ),
    )
    appt = pickup.book_pickup(world.svc, B1, request.return_id, sf(10))
    cid = at_the_door(world, appt)
    inspect(world, appt, request.return_id, cid)
    appt = world.store.item("appointments", appt.appointment_id)
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    broker.mode = "reject"
    customs.sweep_customs(world.svc)

    (back,) = [t for t in world.store.items("transfers")]
    assert back.purpose is TransferPurpose.TAX_CLAWBACK and back.status is TransferStatus.PENDING
    assert world.payments.clawed == {}  # nothing taken back before the advance is paid
    from doorstep.services import refunds

    refunds.retry_pending_refunds(world.svc)
    assert transfers.retry_pending(world.svc) == 1
    assert _clawed(world, request) == PILLOW_TAX


def test_a_lost_dispute_takes_back_only_what_the_tax_clawback_left(
    world: World, broker: LocalCustomsBroker
) -> None:
    """QC fails (the dispute records the whole advance), then customs rejects (the tax is
    taken back): upholding the QC takes back the goods part, never the tax a second time."""
    from doorstep.domain.errors import InvalidInput
    from doorstep.services import disputes

    broker.mode = "pending"
    request = _express_at_pickup(world, _trusted_order(world, released_days_ago=5))
    customs.sweep_customs(world.svc)
    warehouse.receive(world.svc, WH, request.return_id)
    warehouse.grade(world.svc, WH, request.return_id, Grade.C, "scratched", ("QCPHOTO",))
    opened = disputes.get_dispute(world.svc, request.return_id, buyer_id=B1)
    assert opened.advanced_fen == 39_900 + PILLOW_TAX
    broker.mode = "reject"
    customs.sweep_customs(world.svc)
    assert _clawed(world, request) == PILLOW_TAX

    with pytest.raises(InvalidInput) as too_much:
        disputes.decide_dispute(
            world.svc,
            "ops-001",
            request.return_id,
            buyer_upheld=False,
            note="x",
            clawback_fen=39_900 + PILLOW_TAX,
        )
    assert too_much.value.code == "clawback_out_of_range"
    out = disputes.decide_dispute(
        world.svc, "ops-001", request.return_id, buyer_upheld=False, note="deep scratches"
    )
    assert out.clawback is not None and out.clawback.amount_fen == 39_900
    assert sum(amount for _, amount in world.payments.clawed.values()) == 39_900 + PILLOW_TAX


def test_a_return_that_joined_after_the_unlocked_read_is_locked_on_a_second_pass(
    world: World, broker: LocalCustomsBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The declaration is read unlocked, its returns locked, then it is read again under the
    # order's lock: a return attached in between was not locked, so the lapse starts over
    # rather than take its tax back (and re-quote it) without its lock.
    first = _express_at_pickup(world, _trusted_order(world, released_days_ago=28))
    second = _express_at_pickup(world, _trusted_order(world, released_days_ago=28))
    world.clock.advance(days=3)
    repo = FakeCustomsRepository
    unlocked_get = repo.get
    reads: list[str] = []

    def stale_first_read(self, key: str):  # type: ignore[no-untyped-def]
        found = unlocked_get(self, key)
        reads.append(key)
        if len(reads) == 1:  # as read before the second return joined
            found.lines = [ln for ln in found.lines if ln.return_id != second.return_id]
        return found

    monkeypatch.setattr(repo, "get", stale_first_read)
    cr = customs.declare(world.svc, _only(world).customs_return_id)

    # Both taken back and re-quoted: the second under its lock on the second pass (without
    # it, its tax went back but its quote kept the tax).
    assert cr.status is CustomsStatus.LAPSED
    assert _clawed(world, first) == _clawed(world, second) == PILLOW_TAX
    assert _quoted(world, first) == _quoted(world, second) == (TaxStatus.NOT_DECLARED, 0, 39_900)
