"""A refund instead of an exchange whose old item already passed QC: the return is an
inspected refund, so its refund starts in the same unit of work (before, nothing paid it
until the overdue sweep, 7 days later)."""

from __future__ import annotations

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import new_order  # type: ignore[import-not-found]

from doorstep.domain.decision import ReturnMethod
from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import exchanges, refunds, returns, transfers, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
WH = "wh-sh-bonded"


def _inspected_exchange(world: World) -> ReturnRequest:
    """An exchange for the dearer lipstick whose collection is still unanswered when the old
    one is graded A: the replacement waits, the return is inspected."""
    order = new_order(world, sku=LIP_1, unit_price_fen=32_000)
    world.payments.timeouts = 100  # the provider does not answer collections
    request = returns.open_return(
        world.svc,
        OpenReturn(
            order.buyer_id,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, Reason.NO_REASON),),
            replacements={"L1": LIP_2},
        ),
    )
    returns.choose_self_send(world.svc, order.buyer_id, request.return_id, ReturnMethod.SELF_SHIP)
    returns.register_shipment(world.svc, order.buyer_id, request.return_id, "SF1234567890123", "sf")
    warehouse.receive(world.svc, WH, request.return_id)
    graded = warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    assert graded.status is ReturnStatus.INSPECTED
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.RESERVED
    world.payments.timeouts = 0
    return graded


def test_refund_instead_of_an_inspected_exchange_pays_the_refund_at_once(world: World) -> None:
    request = _inspected_exchange(world)
    after = exchanges.refund_instead(world.svc, request.buyer_id, request.return_id)
    assert after.kind is ReturnKind.REFUND and after.status is ReturnStatus.REFUNDED
    assert after.refund_id is not None
    assert world.payments.paid[f"refund:{request.return_id}"][1] == 32_000
    # The collected difference goes back too, once it came in.
    assert world.payments.collected[f"exchange-diff:{request.return_id}"][1] == 2_000
    assert world.payments.paid[f"exchange-diff-back:{request.return_id}"][1] == 2_000
    names = world.store.event_names(request.return_id)
    assert names.index("return.converted_to_refund") < names.index("return.refunded")


def test_a_refund_unanswered_at_refund_instead_is_paid_by_the_sweep(world: World) -> None:
    request = _inspected_exchange(world)
    world.payments.timeouts = 2  # the collection's and the refund's first asks
    after = exchanges.refund_instead(world.svc, request.buyer_id, request.return_id)
    assert after.status is ReturnStatus.INSPECTED and after.refund_id is not None
    refunds.retry_pending_refunds(world.svc)
    transfers.retry_pending(world.svc)  # collected, then paid back
    done = returns.get_return(world.svc, request.return_id)
    assert done.status is ReturnStatus.REFUNDED
    assert [k for k in world.payments.paid if k.startswith("refund:")] == [
        f"refund:{request.return_id}"
    ]
    assert world.payments.paid[f"exchange-diff-back:{request.return_id}"][1] == 2_000
