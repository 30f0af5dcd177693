"""The amount a lost dispute takes back of an express refund that advanced the import tax: the
tax customs gives back for goods back by day 45 on a declaration it accepted (or has not
answered yet) stays with the buyer (RULES.md §2), once; goods that missed day 45, or a
declaration customs rejected, give the buyer no tax to keep, and it is taken once. The
console's queue suggests, before each decision, the amount the decision then takes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
)
from tests.unit.services.test_customs_tax import (  # type: ignore[import-not-found]
    PILLOW_TAX,
    _express_at_pickup,
    _trusted_order,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.errors import InvalidInput
from doorstep.domain.returns import Grade, ReturnRequest
from doorstep.services import customs, disputes, warehouse

WH = "wh-sh-bonded"
PRICE, TAX = 39_900, PILLOW_TAX  # _trusted_order's pillow


@pytest.fixture
def broker(world: World) -> LocalCustomsBroker:
    made = LocalCustomsBroker()
    world.svc = replace(world.svc, customs_broker=made)
    return made


def _express(world: World, released_days_ago: int) -> ReturnRequest:
    """A bonded pillow of buyer-001 (trust 850), picked up and refunded with its tax at the
    door."""
    return _express_at_pickup(world, _trusted_order(world, released_days_ago))


def _fail_qc(world: World, request: ReturnRequest) -> None:
    warehouse.receive(world.svc, WH, request.return_id)
    warehouse.grade(world.svc, WH, request.return_id, Grade.C, "scratched", ("QCPHOTO",))
    opened = disputes.get_dispute(world.svc, request.return_id, buyer_id=B1)
    assert opened.advanced_fen == PRICE + TAX


def _lose(world: World, request: ReturnRequest, **asked: int) -> disputes.DisputeOutcome:
    return disputes.decide_dispute(
        world.svc, "ops-001", request.return_id, buyer_upheld=False, note="scratched", **asked
    )


def _suggested(world: World, request: ReturnRequest) -> tuple[int, int]:
    """The queue's default clawback and tax kept for the return's dispute."""
    (queued,) = [
        q
        for q in disputes.queue_with_defaults(world.svc)
        if q.dispute.return_id == request.return_id
    ]
    return queued.clawback_fen, queued.tax_kept_fen


def _kept(world: World, request: ReturnRequest) -> int:
    """What the buyer holds of all the money moved for the return."""
    rid = request.return_id
    paid = sum(v for k, (_, v) in world.payments.paid.items() if k.endswith(f":{rid}"))
    taken = sum(v for k, (_, v) in world.payments.clawed.items() if k.endswith(f":{rid}"))
    return paid - taken


def _only(world: World):  # type: ignore[no-untyped-def]
    (found,) = world.store.items("customs_returns")
    return found


def test_goods_back_in_time_on_a_settled_declaration_keep_their_tax(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express(world, released_days_ago=5)
    _fail_qc(world, request)
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.SETTLED and _only(world).tax_refund_fen == 0

    with pytest.raises(InvalidInput) as too_much:
        _lose(world, request, clawback_fen=PRICE + TAX)
    assert too_much.value.code == "clawback_out_of_range"
    assert too_much.value.details == {"advanced_fen": PRICE, "tax_kept_fen": TAX}
    assert _suggested(world, request) == (PRICE, TAX)
    out = _lose(world, request)
    assert out.clawback is not None and out.clawback.amount_fen == PRICE
    assert out.dispute.decision is not None and out.dispute.decision.tax_kept_fen == TAX
    customs.sweep_customs(world.svc)
    assert _kept(world, request) == TAX  # kept once: the settlement paid none of it again


def test_goods_back_in_time_before_the_settlement_keep_their_tax_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    broker.mode = "pending"
    request = _express(world, released_days_ago=5)
    customs.sweep_customs(world.svc)
    _fail_qc(world, request)
    assert _suggested(world, request) == (PRICE, TAX)
    out = _lose(world, request, clawback_fen=10_000)  # less than the most may be taken
    assert out.clawback is not None and out.clawback.amount_fen == 10_000
    assert out.dispute.decision is not None and out.dispute.decision.tax_kept_fen == TAX
    broker.mode = "accept"
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.SETTLED and _only(world).tax_refund_fen == 0
    assert _kept(world, request) == PRICE + TAX - 10_000


def test_a_declaration_rejected_after_the_decision_takes_the_tax_left_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express(world, released_days_ago=5)
    _fail_qc(world, request)  # never declared yet: customs has not answered
    assert _suggested(world, request) == (PRICE, TAX)
    out = _lose(world, request)
    assert out.clawback is not None and out.clawback.amount_fen == PRICE
    broker.mode = "reject"
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.REJECTED
    assert world.payments.clawed[f"tax-clawback:{request.return_id}"][1] == TAX
    assert _kept(world, request) == 0


def test_goods_back_after_day_45_keep_no_tax_and_it_is_taken_once(
    world: World, broker: LocalCustomsBroker
) -> None:
    broker.mode = "pending"
    request = _express(world, released_days_ago=25)
    customs.sweep_customs(world.svc)
    world.clock.advance(days=25)  # day 50 of release
    _fail_qc(world, request)
    assert _suggested(world, request) == (PRICE + TAX, 0)
    out = _lose(world, request)
    assert out.clawback is not None and out.clawback.amount_fen == PRICE + TAX
    assert out.dispute.decision is not None and out.dispute.decision.tax_kept_fen == 0
    broker.mode = "accept"
    customs.sweep_customs(world.svc)
    assert _only(world).status is CustomsStatus.SETTLED
    assert f"tax-clawback:{request.return_id}" not in world.payments.clawed
    assert _kept(world, request) == 0


def test_a_declaration_rejected_before_the_decision_leaves_the_price_to_take_back(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _express(world, released_days_ago=5)
    _fail_qc(world, request)  # the dispute records the whole advance
    broker.mode = "reject"
    customs.sweep_customs(world.svc)
    assert world.payments.clawed[f"tax-clawback:{request.return_id}"][1] == TAX
    # What the buyer still holds, the tax taken already: nothing kept, nothing taken twice.
    assert _suggested(world, request) == (PRICE, 0)
    out = _lose(world, request)
    assert out.clawback is not None and out.clawback.amount_fen == PRICE
    assert out.dispute.decision is not None and out.dispute.decision.tax_kept_fen == 0
    assert _kept(world, request) == 0
