"""A buyer's trust as the services read it: the account's starting score moved by its history
(domain/trust.py), counted in one query. Express refunds, exchanges shipped at pickup,
refund-only audits and ops read it."""

from __future__ import annotations

from dataclasses import replace

from doorstep.domain.errors import NotFound
from doorstep.domain.order import Buyer
from doorstep.domain.trust import TrustAssessment, TrustWeights, assess_trust
from doorstep.services.context import Services
from doorstep.services.ports import UnitOfWork


def assess(uow: UnitOfWork, buyer: Buyer, weights: TrustWeights) -> TrustAssessment:
    """The buyer's trust now, with the lines that explain it."""
    return assess_trust(buyer.trust_score, uow.histories.of_buyer(buyer.buyer_id), weights)


def as_assessed(uow: UnitOfWork, buyer: Buyer, weights: TrustWeights) -> Buyer:
    """The buyer with its stored starting score replaced by the assessed one, for rules that
    read ``trust_score`` (the audit)."""
    return replace(buyer, trust_score=assess(uow, buyer, weights).score)


def served_ahead(svc: Services, uow: UnitOfWork, buyer_id: str) -> bool:
    """Whether the buyer is served before the warehouse sees the goods (an express refund at
    pickup, an exchange's replacement shipped at pickup): not blocklisted, and trusted enough
    by the score their history gives now, so a lost dispute or a clawback stops both."""
    buyer = uow.buyers.get(buyer_id)
    if buyer is None or buyer.blocklisted:
        return False
    return assess(uow, buyer, svc.refunds.trust).score >= svc.refunds.express_min_trust


def buyer_trust(svc: Services, buyer_id: str) -> TrustAssessment:
    """Why a buyer is (not) trusted: for ops."""
    with svc.uow() as uow:
        buyer = uow.buyers.get(buyer_id)
        if buyer is None:
            raise NotFound("buyer", buyer_id)
        return assess(uow, buyer, svc.refunds.trust)
