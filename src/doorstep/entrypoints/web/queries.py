"""Small read-only lookups the pages need and no use case offers; one unit of work each.

Nothing here writes: each helper opens a unit of work, reads through the repositories and
leaves without committing (the unit of work rolls back).
"""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain import held_units
from doorstep.domain.fleet import Carrier, Courier
from doorstep.domain.policy import Policy
from doorstep.domain.refund import Refund
from doorstep.domain.returns import ReturnRequest
from doorstep.services import refunds
from doorstep.services.context import Services


def product_names(svc: Services, skus: set[str]) -> dict[str, tuple[str, str]]:
    """SKU → (Chinese name, English name) in one read; unknown SKUs show as themselves."""
    if not skus:
        return {}
    with svc.uow() as uow:
        found = {p.sku: (p.name_zh, p.name_en) for p in uow.products.get_many(skus)}
    return {sku: found.get(sku, (sku, sku)) for sku in sorted(skus)}


def carriers(svc: Services) -> list[Carrier]:
    with svc.uow() as uow:
        return uow.carriers.list()


def policy_history(svc: Services) -> list[Policy]:
    """Every stored policy version, newest first."""
    with svc.uow() as uow:
        return uow.policies.history()


def returns_of_many(svc: Services, ids: list[str]) -> dict[str, ReturnRequest]:
    """Returns by id in one read (the courier's visit lists them); missing ids are left out."""
    if not ids:
        return {}
    with svc.uow() as uow:
        return {r.return_id: r for r in uow.returns.get_many(ids)}


@dataclass(frozen=True)
class MoneyFacts:
    """What the buyer's page needs to say where the money is."""

    refund: Refund | None
    express_likely: bool  # a refund of this kind for this buyer would be paid at pickup
    couriers: dict[str, Courier]


def money_facts(svc: Services, request: ReturnRequest, courier_ids: set[str]) -> MoneyFacts:
    """The return's refund, whether an express refund is to be expected, and the couriers
    named on the page, in one unit of work (a fixed number of reads)."""
    with svc.uow() as uow:
        refund = uow.refunds.by_key(f"refund:{request.return_id}")
        couriers = (
            {c.courier_id: c for c in uow.couriers.get_many(courier_ids)} if courier_ids else {}
        )
        # The test start_express_refund makes at pickup (trust as history moves it now);
        # only a forecast for the wording.
        likely = refunds.express_buyer(svc, uow, request) and (
            request.quote is None or request.quote.total_fen <= svc.refunds.express_max_fen
        )
    return MoneyFacts(refund, likely, couriers)


def couriers_by_id(svc: Services, courier_ids: set[str]) -> dict[str, Courier]:
    """Couriers by id in one read."""
    if not courier_ids:
        return {}
    with svc.uow() as uow:
        return {c.courier_id: c for c in uow.couriers.get_many(courier_ids)}


def claimed_quantities(svc: Services, buyer_id: str, order_id: str) -> dict[str, int]:
    """Order line id → how many units the buyer's returns and claims on this order already
    hold (withdrawn and refused returns and rejected claims give theirs back)."""
    with svc.uow() as uow:
        found = [r for r in uow.returns.for_order(order_id) if r.buyer_id == buyer_id]
        claims = [c for c in uow.claims.for_order(order_id) if c.buyer_id == buyer_id]
    return held_units.units_held(found, claims)


@dataclass(frozen=True)
class BuyerHistory:
    """What a reviewer wants to know about a buyer at a glance."""

    trust_score: int | None
    blocklisted: bool
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def buyer_histories(svc: Services, buyer_ids: set[str]) -> dict[str, BuyerHistory]:
    """Each buyer's trust facts and returns per status, in two reads for all of them."""
    if not buyer_ids:
        return {}
    with svc.uow() as uow:
        buyers = {b.buyer_id: b for b in uow.buyers.get_many(buyer_ids)}
        counts = uow.returns.status_counts_for_buyers(buyer_ids)
    out = {}
    for buyer_id in buyer_ids:
        b = buyers.get(buyer_id)
        out[buyer_id] = BuyerHistory(
            b.trust_score if b else None, bool(b and b.blocklisted), counts.get(buyer_id, {})
        )
    return out
