"""Units of an order line under after-sales: a unit bought is compensated at most once, by a
return, an exchange, a refund-only request or a buyer's claim (damage on arrival,
counterfeit; RULES.md §1, §3), whichever asked first.

Withdrawn and refused returns and rejected claims give their units back. Transit damage holds
nothing of its own: it is the courier company's debt for a return's units (which the return
already holds), not a second compensation to the buyer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from doorstep.domain.claim import Claim, ClaimKind, ClaimStatus
from doorstep.domain.errors import Conflict, InvalidInput
from doorstep.domain.order import Order
from doorstep.domain.returns import ReturnRequest, ReturnStatus

# Returns in these states hold no units any more: nothing went back and nothing was paid.
RETURNS_RELEASED = frozenset({ReturnStatus.CANCELLED, ReturnStatus.REJECTED})


def claim_holds_units(claim: Claim) -> bool:
    """Whether a claim compensates (or may still compensate) its lines' units."""
    return claim.kind is not ClaimKind.TRANSIT_DAMAGE and claim.status is not ClaimStatus.REJECTED


def units_held(
    returns: Iterable[ReturnRequest],
    claims: Iterable[Claim],
    *,
    besides_return: str | None = None,
) -> dict[str, int]:
    """Units per order line held by ``returns`` (except ``besides_return``) and ``claims``."""
    held: dict[str, int] = {}
    for request in returns:
        if request.return_id == besides_return or request.status in RETURNS_RELEASED:
            continue
        for line in request.lines:
            held[line.order_line_id] = held.get(line.order_line_id, 0) + line.quantity
    for claim in claims:
        if not claim_holds_units(claim):
            continue
        for claimed in claim.lines:
            held[claimed.order_line_id] = held.get(claimed.order_line_id, 0) + claimed.quantity
    return held


def check_units_free(
    order: Order, wanted: Iterable[tuple[str, int]], held: Mapping[str, int]
) -> None:
    """Refuse more units than were bought (``quantity_exceeds_purchase``), or units that
    another return, exchange, refund-only request or claim already holds
    (``quantity_already_claimed``): money follows these quantities, whatever the policy says.
    Each wanted line id must be a line of ``order``."""
    for line_id, quantity in wanted:
        bought = order.line(line_id)
        assert bought is not None, "the caller checks line ids first"
        left = bought.quantity - held.get(line_id, 0)
        if quantity <= left:
            continue
        if quantity > bought.quantity:
            raise InvalidInput(
                "quantity_exceeds_purchase",
                f"Only {bought.quantity} of this item were bought.",
                f"该商品共购买 {bought.quantity} 件。",
                line_id=line_id,
                bought=bought.quantity,
            )
        raise Conflict(
            "quantity_already_claimed",
            f"Only {max(left, 0)} of {bought.quantity} can still be returned, refunded or "
            "claimed; the rest is under another after-sales request or claim.",
            f"该商品最多还可申请 {max(left, 0)} 件（共购买 {bought.quantity} 件），"
            "其余已在其他售后申请或理赔中。",
            line_id=line_id,
            left=max(left, 0),
        )
