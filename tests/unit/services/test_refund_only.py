"""Refund-only (仅退款): paid at once only when small, for a trusted buyer, where it fits; once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World, make_world  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    B3,
    new_order,
    open_return,
    photo,
)

from doorstep.domain.errors import Conflict
from doorstep.domain.order import Order
from doorstep.domain.refund import RefundOnlyLimits, RefundStatus
from doorstep.domain.returns import Reason, ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import refunds, returns
from doorstep.services.context import RefundRules


def _small(world: World, *, buyer_id: str = B1, price: int = 4_900, **kw: object) -> Order:
    return new_order(  # type: ignore[no-any-return]
        world, buyer_id=buyer_id, address=B1_HOME, unit_price_fen=price, **kw
    )


def _refund_only(
    world: World, order: Order, reason: Reason = Reason.DAMAGED_ON_ARRIVAL
) -> ReturnRequest:
    return open_return(  # type: ignore[no-any-return]
        world,
        order,
        kind=ReturnKind.REFUND_ONLY,
        reason=reason,
        photo_ids=(photo(world, order.buyer_id),),
    )


def _held_reasons(world: World, return_id: str) -> list[str]:
    [held] = [e for e in world.store.events_named("return.held_for_review")]
    assert held.aggregate_id == return_id
    return [r for r in held.data["reasons"] if r.startswith("refund_only")]


def test_small_refund_for_a_trusted_buyer_is_paid_at_once_and_once(world: World) -> None:
    r = _refund_only(world, _small(world))
    assert r.status is ReturnStatus.REFUNDED and r.decision.methods == ()
    assert [c.idempotency_key for c in world.payments.calls] == [f"refund:{r.return_id}"]
    assert world.payments.total_paid_fen == 4_900
    refunds.start_standard_refund(world.svc, r.return_id)
    assert len(world.payments.calls) == 1 and len(world.store.items("refunds")) == 1


def test_above_the_instant_limit_waits_for_a_person(world: World) -> None:
    r = _refund_only(world, _small(world, price=5_001))
    assert r.status is ReturnStatus.IN_REVIEW and world.payments.calls == []
    assert _held_reasons(world, r.return_id) == ["refund_only_above_instant_limit"]
    decided = returns.review_return(world.svc, r.return_id, approve=True, reviewer="ops", note="")
    assert decided.status is ReturnStatus.REFUNDED and world.payments.total_paid_fen == 5_001
    with pytest.raises(Conflict, match="not_in_review"):
        returns.review_return(world.svc, r.return_id, approve=True, reviewer="ops", note="")
    assert len(world.payments.calls) == 1


def test_tax_counts_towards_the_limit(world: World) -> None:
    r = _refund_only(world, _small(world, price=4_900, tax_fen=200))
    assert r.status is ReturnStatus.IN_REVIEW


@pytest.mark.parametrize("buyer_id", [B3, "buyer-005"])  # trust 600; blocklisted
def test_untrusted_buyers_are_never_paid_without_review(world: World, buyer_id: str) -> None:
    r = _refund_only(world, _small(world, buyer_id=buyer_id))
    assert r.status is ReturnStatus.IN_REVIEW and world.payments.calls == []
    assert "refund_only_trust_too_low" in _held_reasons(world, r.return_id)
    rejected = returns.review_return(
        world.svc, r.return_id, approve=False, reviewer="ops", note="no"
    )
    assert rejected.status is ReturnStatus.REJECTED and world.payments.calls == []


def test_no_reason_on_a_delivered_order_does_not_fit(world: World) -> None:
    r = _refund_only(world, _small(world), reason=Reason.NO_REASON)
    assert r.status is ReturnStatus.IN_REVIEW
    assert _held_reasons(world, r.return_id) == ["refund_only_goods_kept"]


def test_an_order_not_yet_delivered_fits(world: World) -> None:
    order = replace(_small(world), signed_at=None)
    world.store.put("orders", order.order_id, order)
    r = _refund_only(world, order, reason=Reason.NO_REASON)
    assert r.status is ReturnStatus.REFUNDED and world.payments.total_paid_fen == 4_900


def test_the_limits_are_settings() -> None:
    strict = make_world(refunds=RefundRules(refund_only=RefundOnlyLimits(1_000, 900)))
    assert _refund_only(strict, _small(strict)).status is ReturnStatus.IN_REVIEW
    generous = make_world(refunds=RefundRules(refund_only=RefundOnlyLimits(10_000, 600)))
    paid = _refund_only(generous, _small(generous, buyer_id=B3, price=9_000))
    assert paid.status is ReturnStatus.REFUNDED


def test_a_started_refund_cannot_be_withdrawn_and_is_retried(world: World) -> None:
    world.payments.timeouts = 1
    r = _refund_only(world, _small(world))
    assert r.status is ReturnStatus.APPROVED and r.refund_id is not None
    with pytest.raises(Conflict, match="refund_under_way"):
        returns.cancel_return(world.svc, B1, r.return_id, "changed my mind")
    [settled] = refunds.retry_pending_refunds(world.svc)
    assert settled.status is RefundStatus.SUCCEEDED
    assert returns.get_return(world.svc, r.return_id).status is ReturnStatus.REFUNDED
    assert world.payments.total_paid_fen == 4_900 and len(world.payments.paid) == 1


def test_the_same_units_are_never_refunded_twice(world: World) -> None:
    order = _small(world)
    _refund_only(world, order)
    for kind in ReturnKind:
        with pytest.raises(Conflict, match="quantity_already_claimed"):
            open_return(world, order, kind=kind, reason=Reason.DAMAGED_ON_ARRIVAL)
    assert world.payments.total_paid_fen == 4_900
