"""Quoting a refund: load what the amount depends on and ask the one domain function.

Used before filing (the quote endpoint and the portal form), at filing (the decision), and
when the refund starts (what is paid); the pre-check, the audit and the refund read the
customs clocks from the same policy rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from doorstep.domain.customs_return import DeclarationFate
from doorstep.domain.held_units import claim_holds_units
from doorstep.domain.order import Order
from doorstep.domain.policy import Policy, RuleConfig, default_policy
from doorstep.domain.refund import Refund, RefundStatus
from doorstep.domain.refund_amount import (
    NO_TAX_OUTCOME,
    AmountLine,
    Earlier,
    FreightPayer,
    Part,
    RefundQuote,
    Returning,
    TaxOutcome,
    TaxStatus,
    quote_refund,
    tax_outcome,
)
from doorstep.domain.returns import ReturnKind, ReturnLine
from doorstep.services.ports import UnitOfWork


def rule_or_default(policy: Policy, code: str) -> RuleConfig:
    """A policy rule's parameters; these terms apply even where ops switched the rule off."""
    return policy.rule(code) or RuleConfig(code)


def quote_lines(
    uow: UnitOfWork,
    order: Order,
    kind: ReturnKind,
    lines: Sequence[ReturnLine],
    *,
    filed_at: datetime,
    arrived_at: datetime | None,
    besides: str | None,
    now: datetime,
) -> RefundQuote:
    """The refund for ``lines`` of ``order`` after the order's other refunds (all but the one
    of return ``besides``), filed at ``filed_at``; ``arrived_at`` is the warehouse receipt."""
    policy = uow.policies.current() or default_policy(now)
    customs = rule_or_default(policy, "cross_border_deadline")
    terms = rule_or_default(policy, "refund_terms")
    # Read under the order's lock, which the customs answer and settlement take too
    # (services/customs.py): a refund quoted meanwhile sees the declaration's fate or is
    # counted (and its advanced tax taken back) by it, never neither.
    declared = uow.customs.for_returns([besides]) if besides is not None else []
    tax = tax_outcome(
        order,
        filed_at=filed_at,
        arrived_at=arrived_at,
        application_days=customs.param("application_days"),
        arrival_days=customs.param("arrival_days"),
        declaration=declared[0].fate(now) if declared else DeclarationFate.NONE,
        now=now,
    )
    if tax.status.refundable and any(cr.paid_tax_of(besides or "") for cr in declared):
        tax = TaxOutcome(TaxStatus.CUSTOMS_SETTLED, tax.arrive_by)
    return quote_refund(
        order,
        lines,
        tax=tax,
        return_freight_fen=terms.param("return_freight_fen"),
        sends_goods=kind is not ReturnKind.REFUND_ONLY,
        earlier=earlier_refunds(uow, order.order_id, besides=besides),
    )


def paid_for_units(
    uow: UnitOfWork, order: Order, lines: Sequence[Returning], *, besides: str | None
) -> RefundQuote:
    """What the buyer paid for these units, as a refund of them would pay it back after the
    order's refunds and claims so far (all but the refund of return ``besides``): goods less
    their coupon share, a reduction once nothing is kept, a gift kept; no import tax (it
    goes back only on a return declaration customs accepts, and a claim sends nothing
    back) and no freight. What a claim compensates (services/claims.py)."""
    return quote_refund(
        order,
        lines,
        tax=NO_TAX_OUTCOME,
        return_freight_fen=0,
        sends_goods=False,
        earlier=earlier_refunds(uow, order.order_id, besides=besides),
    )


def earlier_refunds(uow: UnitOfWork, order_id: str, *, besides: str | None) -> Earlier:
    """What the order's refunds and claims so far covered and paid back: refunds (a finally
    failed one paid nothing), and buyers' claims not rejected, paid or still to be (their
    units are held, their goods part is owed: domain/held_units.py). Transit damage is the
    courier company's debt for a return's units, not money to the buyer. Read under the
    order's lock, which claims are filed under too."""
    others = {r.return_id: r for r in uow.returns.for_order(order_id) if r.return_id != besides}
    earlier = Earlier()
    for refund in sorted(uow.refunds.for_returns(list(others)), key=lambda f: f.created_at):
        if refund.status is RefundStatus.FAILED:
            continue
        earlier = earlier.plus(others[refund.return_id].lines, refund.quote or _as_quoted(refund))
    for claim in uow.claims.for_order(order_id):
        if claim_holds_units(claim):
            earlier = earlier.plus(claim.lines, claim.paid_back)
    return earlier


def _as_quoted(refund: Refund) -> RefundQuote:
    # Refunds from before amounts were quoted paid goods plus tax, nothing else.
    return RefundQuote(
        (AmountLine(Part.GOODS, refund.goods_fen), AmountLine(Part.TAX, refund.tax_fen)),
        refund.amount_fen,
        refund.amount_fen,
        TaxOutcome(TaxStatus.REFUNDED if refund.tax_fen else TaxStatus.NO_TAX),
        FreightPayer.BUYER,
    )
