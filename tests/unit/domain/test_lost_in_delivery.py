"""Lost in delivery as its own refund-only reason (issue 9 §4): nothing can be sent back, a
loss the courier company declared is paid in full without the refund-only limits, a loss
presumed from silence is held to them, and a signed-for order goes to a person."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from doorstep.domain.audit import AuditInput, audit
from doorstep.domain.decision import Decision, Outcome, Verdict
from doorstep.domain.refund import RefundOnlyLimits
from doorstep.domain.returns import Reason, ReturnKind

LOST = Reason.LOST_IN_DELIVERY
LIMITS = RefundOnlyLimits(instant_max_fen=5_000, min_trust=700, lost_after_days=15)


def _ctx(world: Any, *, price: int = 3_000, trust: int = 800, **kw: Any) -> AuditInput:
    lost_at = kw.pop("lost_at", None)
    kw.setdefault("signed_at", None)
    kw.setdefault("kind", ReturnKind.REFUND_ONLY)
    ctx: AuditInput = world.input(reason=LOST, unit_price_fen=price, **kw)
    return replace(
        ctx,
        order=replace(ctx.order, lost_at=lost_at),
        buyer=replace(ctx.buyer, trust_score=trust),
        refund_only=LIMITS,
    )


def _lost(decision: Decision) -> tuple[Verdict, str]:
    [found] = [f for f in decision.findings if f.rule == "lost_in_delivery"]
    assert found.text_en and found.text_zh
    assert not any(mark in found.text_zh for mark in ",;?!")  # full-width in Chinese
    return found.verdict, found.reason


def test_a_lost_parcel_cannot_be_sent_back(world: Any) -> None:
    for kind in (ReturnKind.REFUND, ReturnKind.EXCHANGE):
        decision = audit(world.policy(), _ctx(world, kind=kind))
        assert decision.outcome is Outcome.REJECT
        assert _lost(decision) == (Verdict.REJECT, "lost_refund_only")


def test_a_loss_the_company_declared_is_paid_without_the_limits(world: Any) -> None:
    """Above the instant limit and from a buyer under the trust bar: still paid at once."""
    ctx = _ctx(world, price=90_000, trust=300, lost_at=world.now - timedelta(days=2))
    decision = audit(world.policy(), ctx)
    assert _lost(decision) == (Verdict.PASS, "lost_confirmed")
    assert decision.outcome is Outcome.APPROVE, decision.findings
    assert decision.methods == ()  # nothing goes back
    assert all(f.rule != "refund_only_limits" for f in decision.findings)


@pytest.mark.parametrize(
    ("price", "trust", "outcome"),
    [(3_000, 800, Outcome.APPROVE), (90_000, 800, Outcome.REVIEW), (3_000, 300, Outcome.REVIEW)],
)
def test_a_presumed_loss_keeps_the_refund_only_limits(
    world: Any, price: int, trust: int, outcome: Outcome
) -> None:
    ctx = _ctx(world, price=price, trust=trust)  # placed 19 days before ``now``
    decision = audit(world.policy(), ctx)
    assert _lost(decision) == (Verdict.INFO, "lost_presumed")
    assert decision.outcome is outcome


def test_too_early_to_call_a_parcel_lost(world: Any) -> None:
    ctx = _ctx(world)
    early = replace(ctx, now=ctx.order.placed_at + timedelta(days=14, hours=23))
    decision = audit(world.policy(), early)
    assert _lost(decision) == (Verdict.REJECT, "lost_too_early")
    [found] = [f for f in decision.findings if f.rule == "lost_in_delivery"]
    assert found.until == ctx.order.placed_at + timedelta(days=15)
    on_time = replace(ctx, now=ctx.order.placed_at + timedelta(days=15))
    assert _lost(audit(world.policy(), on_time)) == (Verdict.INFO, "lost_presumed")


def test_a_signed_for_order_said_to_be_lost_goes_to_a_person(world: Any) -> None:
    ctx = _ctx(world, signed_at=world.signed, lost_at=world.now - timedelta(days=1))
    decision = audit(world.policy(), ctx)
    assert _lost(decision) == (Verdict.REVIEW, "lost_but_signed")
    assert decision.outcome is Outcome.REVIEW


def test_other_reasons_meet_no_lost_rule(world: Any) -> None:
    ctx = world.input(kind=ReturnKind.REFUND_ONLY, signed_at=None, reason=Reason.QUALITY)
    assert all(f.rule != "lost_in_delivery" for f in audit(world.policy(), ctx).findings)
