"""Customs returns (issue 9 §7) on the fakes: one declaration per list, deadlines from release,
the broker's answers (accept, reject, timeout, twice), the tax refund and the quota restored
exactly once, alerts before each deadline."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import B3, new_order  # type: ignore[import-not-found]

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.domain.clock import customs_deadline
from doorstep.domain.customs_return import CustomsStatus, declaration_key
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnRequest
from doorstep.domain.transfer import TransferPurpose, transfer_key
from doorstep.services import customs, returns, transfers, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

JACKET = "JP-DOWN-JACKET-M"
WH = "wh-sh-bonded"


@pytest.fixture
def broker(world: World) -> LocalCustomsBroker:
    made = LocalCustomsBroker()
    world.svc = replace(world.svc, customs_broker=made)
    return made


def _bonded(world: World, released_days_ago: int = 5, lines: int = 1) -> Order:
    order = new_order(
        world,
        channel=Channel.BONDED,
        released_days_ago=released_days_ago,
        lines=tuple(OrderLine(f"L{i}", JACKET, 1, 79_900, 7_270) for i in range(1, lines + 1)),
    )
    order = replace(order, declaration_no=f"D{order.order_id}")
    world.store.put("orders", order.order_id, order)
    return order


def _return(
    world: World, order: Order, line: str = "L1", kind: ReturnKind = ReturnKind.REFUND
) -> ReturnRequest:
    return returns.open_return(
        world.svc,
        OpenReturn(B3, order.order_id, kind, (LineRequest(line, 1, Reason.NO_REASON),)),
    )


def _arrive(world: World, request: ReturnRequest) -> None:
    with world.svc.uow() as uow:
        r = uow.returns.get(request.return_id)
        r.choose_self_send(ReturnMethod.SELF_SHIP, None, world.clock.now())
        r.register_shipment("SF1234567890123", "sf", world.clock.now())
        uow.returns.save(r)
        uow.commit()
    warehouse.receive(world.svc, WH, request.return_id)


def _only(world: World):  # type: ignore[no-untyped-def]
    (found,) = world.store.items("customs_returns")
    return found


def test_one_declaration_per_list_with_deadlines_from_release(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world, lines=2)
    first = _return(world, order, "L1")
    second = _return(world, order, "L2")
    cr = _only(world)
    assert cr.return_ids == [first.return_id, second.return_id]
    assert cr.declaration_no == order.declaration_no and cr.warehouse_id == WH
    released = order.customs_released_at
    assert cr.application_by == customs_deadline(released, 30)
    assert cr.arrival_by == customs_deadline(released, 45)
    data = customs.declaration(world.svc, cr.customs_return_id)
    assert (
        data["trade_mode"] == "1210" and data["value_fen"] == 159_800 and data["tax_fen"] == 14_540
    )
    assert data["return_warehouse"]["warehouse_id"] == WH


def test_accepted_then_arrived_refunds_tax_and_restores_quota_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    request = _return(world, order)
    swept = customs.sweep_customs(world.svc)
    assert swept.declared == 1 and _only(world).status is CustomsStatus.ACCEPTED
    used_before = customs.quota_of(world.svc, B3).used_fen
    _arrive(world, request)
    customs.sweep_customs(world.svc)
    customs.sweep_customs(world.svc)  # a second pass settles nothing again
    cr = _only(world)
    assert cr.status is CustomsStatus.SETTLED and cr.tax_refund_fen == 7_270
    assert cr.quota_restored_fen == 79_900
    assert customs.quota_of(world.svc, B3).used_fen == max(used_before - 79_900, 0)
    assert (
        world.payments.paid[transfer_key(TransferPurpose.CUSTOMS_TAX, cr.customs_return_id)][1]
        == 7_270
    )
    assert len(world.payments.paid) == 1
    assert world.store.event_names(cr.customs_return_id).count("customs.settled") == 1


def test_tax_already_in_the_goods_refund_is_not_paid_twice(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    request = _return(world, order, kind=ReturnKind.REFUND)
    customs.sweep_customs(world.svc)
    _arrive(world, request)
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    customs.sweep_customs(world.svc)
    cr = _only(world)
    assert cr.status is CustomsStatus.SETTLED and cr.tax_refund_fen == 0
    assert (
        transfer_key(TransferPurpose.CUSTOMS_TAX, cr.customs_return_id) not in world.payments.paid
    )


def _paid_to_buyer(world: World) -> dict[str, int]:
    return {key: amount for key, (_, amount) in world.payments.paid.items()}


def test_tax_settled_before_grading_is_not_in_the_goods_refund(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    request = _return(world, order, kind=ReturnKind.REFUND)
    customs.sweep_customs(world.svc)
    _arrive(world, request)
    customs.sweep_customs(world.svc)  # settles at receipt, before QC grades the item
    cr = _only(world)
    assert cr.status is CustomsStatus.SETTLED and cr.tax_refund_fen == 7_270
    assert cr.tax_paid_for == (request.return_id,)
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")

    paid = _paid_to_buyer(world)
    assert sum(paid.values()) == 79_900 + 7_270  # goods once, tax once
    assert paid[transfer_key(TransferPurpose.CUSTOMS_TAX, cr.customs_return_id)] == 7_270
    graded = returns.get_return(world.svc, request.return_id)
    assert graded.quote is not None and graded.quote.tax.status.value == "customs_settled"
    assert graded.quote.tax_fen == 0


def test_forced_settlement_leaves_out_tax_already_refunded(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world, lines=2)
    back = _return(world, order, "L1", kind=ReturnKind.REFUND)
    _return(world, order, "L2", kind=ReturnKind.REFUND)  # still on its way
    customs.sweep_customs(world.svc)
    _arrive(world, back)
    warehouse.grade(world.svc, WH, back.return_id, Grade.A, "ok")  # its refund carries the tax
    cr = _only(world)
    assert cr.status is CustomsStatus.ACCEPTED  # waits for L2

    settled = customs.settle(world.svc, cr.customs_return_id, force=True)

    assert settled.status is CustomsStatus.SETTLED and settled.tax_refund_fen == 0
    assert settled.tax_paid_for == ()
    assert sum(_paid_to_buyer(world).values()) == 79_900 + 7_270
    assert settled.quota_restored_fen == 79_900


def test_quota_counts_orders_placed_after_a_restore(
    world: World, broker: LocalCustomsBroker
) -> None:
    """The used total is the year's orders less the restores, always: never the row frozen at
    the first restore."""
    request = _return(world, _bonded(world), kind=ReturnKind.REFUND)
    used_before = customs.quota_of(world.svc, B3).used_fen
    customs.sweep_customs(world.svc)
    _arrive(world, request)
    customs.sweep_customs(world.svc)
    assert customs.quota_of(world.svc, B3).used_fen == used_before - 79_900

    later = _bonded(world)  # a second jacket bought after the restore
    assert customs.quota_of(world.svc, B3).used_fen == used_before
    assert later.goods_fen == 79_900


def test_exchanged_units_keep_their_tax_and_quota_with_the_replacement(
    world: World, broker: LocalCustomsBroker
) -> None:
    """A bonded exchange: the old jacket is declared back into the zone, the replacement is
    imported in its place under the same withheld tax and within the same annual total, so
    the settlement gives neither back (RULES.md §2; architecture.md, "Customs returns")."""
    order = _bonded(world)
    exchange = returns.open_return(
        world.svc,
        OpenReturn(
            B3,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, Reason.NO_REASON),),
            replacements={"L1": "JP-DOWN-JACKET-L"},
        ),
    )
    used_before = customs.quota_of(world.svc, B3).used_fen
    customs.sweep_customs(world.svc)
    _arrive(world, exchange)
    warehouse.grade(world.svc, WH, exchange.return_id, Grade.A, "ok")
    customs.sweep_customs(world.svc)

    cr = _only(world)
    assert cr.return_ids == [exchange.return_id]  # still declared back into the zone
    assert cr.status is CustomsStatus.SETTLED
    assert (cr.tax_refund_fen, cr.quota_restored_fen) == (0, 0)
    assert world.payments.paid == {}
    assert customs.quota_of(world.svc, B3).used_fen == used_before


def test_exchange_turned_into_a_refund_gives_tax_and_quota_back(
    world: World, broker: LocalCustomsBroker
) -> None:
    from doorstep.services import exchanges

    order = _bonded(world)
    exchange = returns.open_return(
        world.svc,
        OpenReturn(
            B3,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, Reason.NO_REASON),),
            replacements={"L1": "JP-DOWN-JACKET-L"},
        ),
    )
    exchanges.refund_instead(world.svc, B3, exchange.return_id)  # nothing ships now
    customs.sweep_customs(world.svc)
    _arrive(world, exchange)
    customs.sweep_customs(world.svc)
    cr = _only(world)
    assert (cr.tax_refund_fen, cr.quota_restored_fen) == (7_270, 79_900)


def test_rejected_declaration_gives_nothing_back(world: World, broker: LocalCustomsBroker) -> None:
    broker.mode = "reject"
    order = _bonded(world)
    request = _return(world, order)
    customs.sweep_customs(world.svc)
    _arrive(world, request)
    customs.sweep_customs(world.svc)
    cr = _only(world)
    assert cr.status is CustomsStatus.REJECTED and cr.rejection == "declaration_mismatch"
    assert world.payments.calls == [] and world.store.items("customs_quota") == []


def test_broker_timeout_is_retried_under_the_same_key(
    world: World, broker: LocalCustomsBroker
) -> None:
    broker.mode = "timeout"
    order = _bonded(world)
    _return(world, order)
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.SUBMITTED
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.SUBMITTED
    broker.mode = "accept"
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.ACCEPTED
    assert len(broker.declarations) == 1


def test_answer_reported_twice_and_payment_lost_pay_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    request = _return(world, order)
    customs.sweep_customs(world.svc)
    _arrive(world, request)
    world.payments.lose_answers = 1  # paid, answer lost: a crash between call and commit
    cr_id = _only(world).customs_return_id
    customs.poll(world.svc, cr_id)
    customs.poll(world.svc, cr_id)  # the broker's success seen twice
    customs.settle(world.svc, cr_id)

    assert transfers.retry_pending(world.svc) == 1
    assert transfers.retry_pending(world.svc) == 0
    assert len(world.payments.paid) == 1
    assert world.payments.paid[transfer_key(TransferPurpose.CUSTOMS_TAX, cr_id)][1] == 7_270


def test_alerts_before_each_deadline_once(world: World, broker: LocalCustomsBroker) -> None:
    broker.mode = "pending"
    order = _bonded(world, released_days_ago=28)  # application due in 2 days
    _return(world, order)
    # Before declaring it the sweep warns about the application deadline (within 3 days).
    first = customs.sweep_customs(world.svc)
    assert first.alerts == 1
    assert customs.sweep_customs(world.svc).alerts == 0
    world.clock.advance(days=15)  # day 43: the arrival deadline is near, the parcel is not back
    assert customs.sweep_customs(world.svc).alerts == 1
    alerts = world.store.events_named("customs.deadline_alert")
    assert [e.data["deadline"] for e in alerts] == ["application", "arrival"]
    queue = customs.queue(world.svc)
    assert queue[0].deadline == "arrival" and queue[0].days_left == 2


def test_withdrawn_return_leaves_the_declaration_before_it_is_sent(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world, lines=2)
    keep = _return(world, order, "L1")
    gone = _return(world, order, "L2")
    returns.cancel_return(world.svc, B3, gone.return_id, "changed my mind")
    customs.sweep_customs(world.svc)
    assert _only(world).return_ids == [keep.return_id]


def test_domestic_and_refund_only_need_no_declaration(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = new_order(world)
    returns.open_return(
        world.svc,
        OpenReturn(
            B3, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
        ),
    )
    assert world.store.items("customs_returns") == []


def test_crash_between_the_broker_call_and_the_commit_accepts_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    _return(world, order)
    cr = _only(world)
    # Submitted and sent, then the process died before the broker's answer was stored.
    with world.svc.uow() as uow:
        locked = uow.customs.get_for_update(cr.customs_return_id)
        locked.submit(world.clock.now())
        uow.customs.save(locked)
        uow.commit()
    broker.declare(declaration_key(cr.customs_return_id), {"resent": False})
    customs.sweep_customs(world.svc)
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.ACCEPTED
    assert len(broker.declarations) == 1
    assert world.store.event_names(cr.customs_return_id).count("customs.accepted") == 1


def test_declined_tax_refund_is_not_retried_and_settles_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    order = _bonded(world)
    request = _return(world, order)
    customs.sweep_customs(world.svc)
    _arrive(world, request)
    world.payments.decline = 1
    customs.sweep_customs(world.svc)
    (tax,) = world.store.items("transfers")
    assert tax.status.value == "failed" and tax.idempotency_key.startswith("customs-tax:")
    assert transfers.retry_pending(world.svc) == 0
    assert world.payments.paid == {} and _only(world).status is CustomsStatus.SETTLED


def test_company_pickup_orders_go_to_the_bonded_warehouse_for_cross_border_goods(
    world: World,
) -> None:
    from doorstep.services.carrier_orders import _receiver
    from doorstep.services.context import RETURN_WAREHOUSE

    with world.uow() as uow:
        bonded = _receiver(uow, True, RETURN_WAREHOUSE)
        plain = _receiver(uow, False, RETURN_WAREHOUSE)
    assert "保税区" in bonded.detail and bonded.district == "浦东新区"
    assert "嘉定" in plain.detail
