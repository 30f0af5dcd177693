"""A dearer variant's difference is collected at filing; wherever the exchange is released
(the buyer withdraws, review refuses it, the buyer takes a refund instead) the collected
money goes back once, under ``exchange-diff-back:<return_id>``."""

from __future__ import annotations

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import new_order  # type: ignore[import-not-found]

from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.order import Order
from doorstep.domain.returns import Reason, ReturnKind, ReturnRequest, ReturnStatus
from doorstep.domain.transfer import TransferPurpose, TransferStatus
from doorstep.services import exchanges, returns, transfers
from doorstep.services.returns import LineRequest, OpenReturn

LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"  # 32,000 and 34,000 fen in the demo stock


def _exchange(world: World, order: Order, reason: Reason = Reason.NO_REASON) -> ReturnRequest:
    return returns.open_return(
        world.svc,
        OpenReturn(
            order.buyer_id,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, reason),),
            replacements={"L1": LIP_2},
        ),
    )


def _paybacks(world: World, return_id: str) -> list[tuple[int, TransferStatus]]:
    return [
        (x.amount_fen, x.status)
        for x in world.store.items("transfers")
        if x.subject_id == return_id and x.purpose is TransferPurpose.EXCHANGE_PAYBACK
    ]


def test_withdrawing_an_exchange_pays_the_collected_difference_back(world: World) -> None:
    request = _exchange(world, new_order(world, sku=LIP_1, unit_price_fen=32_000))
    assert world.payments.collected[f"exchange-diff:{request.return_id}"][1] == 2_000
    returns.cancel_return(world.svc, request.buyer_id, request.return_id, "changed my mind")
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.RELEASED
    assert world.payments.paid[f"exchange-diff-back:{request.return_id}"][1] == 2_000
    assert _paybacks(world, request.return_id) == [(2_000, TransferStatus.SUCCEEDED)]
    assert world.store.item("stock", LIP_2).reserved == 0


def test_a_refused_exchange_pays_the_collected_difference_back(world: World) -> None:
    # A quality claim without a photo is held for review; the difference is collected anyway.
    request = _exchange(world, new_order(world, sku=LIP_1, unit_price_fen=32_000), Reason.QUALITY)
    assert request.status is ReturnStatus.IN_REVIEW
    assert world.payments.collected[f"exchange-diff:{request.return_id}"][1] == 2_000
    returns.review_return(world.svc, request.return_id, approve=False, reviewer="ops", note="")
    assert world.payments.paid[f"exchange-diff-back:{request.return_id}"][1] == 2_000
    assert world.store.item("stock", LIP_2).reserved == 0


def test_withdrawn_after_taking_a_refund_instead_pays_back_once(world: World) -> None:
    request = _exchange(world, new_order(world, sku=LIP_1, unit_price_fen=32_000))
    exchanges.refund_instead(world.svc, request.buyer_id, request.return_id)
    returns.cancel_return(world.svc, request.buyer_id, request.return_id, "no longer")
    back = f"exchange-diff-back:{request.return_id}"
    assert [c.idempotency_key for c in world.payments.calls].count(back) == 1
    assert _paybacks(world, request.return_id) == [(2_000, TransferStatus.SUCCEEDED)]


def test_a_pending_collection_is_paid_back_only_once_it_came_in(world: World) -> None:
    world.payments.timeouts = 3  # filing's collection, the withdrawal's ask, the first sweep
    request = _exchange(world, new_order(world, sku=LIP_1, unit_price_fen=32_000))
    returns.cancel_return(world.svc, request.buyer_id, request.return_id, "x")
    assert world.payments.paid == {} and world.payments.collected == {}
    assert _paybacks(world, request.return_id) == [(2_000, TransferStatus.PENDING)]
    transfers.retry_pending(world.svc)
    assert world.payments.paid == {}
    transfers.retry_pending(world.svc)  # collected, then paid back, in that order
    assert world.payments.collected[f"exchange-diff:{request.return_id}"][1] == 2_000
    assert world.payments.paid[f"exchange-diff-back:{request.return_id}"][1] == 2_000


def test_a_declined_collection_is_not_paid_back_on_withdrawal(world: World) -> None:
    world.payments.decline = 1
    request = _exchange(world, new_order(world, sku=LIP_1, unit_price_fen=32_000))
    returns.cancel_return(world.svc, request.buyer_id, request.return_id, "x")
    assert _paybacks(world, request.return_id) == []
    assert world.payments.paid == {} and world.payments.collected == {}
