"""What a QC grade sets off besides the refund (issue 9 §3, §5): a failed QC opens a dispute
the buyer can answer, and gives back the import tax of goods back in the zone that no
refund will carry once their declaration settled without it; transit damage (intact at
the door, damaged at the warehouse) opens a claim charged to the carrier. Runs inside the
grading transaction, so all happen with it."""

from __future__ import annotations

from doorstep.domain.errors import StaleWrite
from doorstep.domain.returns import ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import claims, customs, disputes
from doorstep.services.context import Services
from doorstep.services.ports import UnitOfWork


def after_grade(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> list[str]:
    """Open the dispute or the transit-damage claim the grade calls for; returns the
    transfers to pay once the grading commits (the tax a failed QC leaves no refund to
    carry)."""
    if request.quality_check is None:
        return []
    # Grading checks the return's version only when it saves; two graders at once would
    # both insert the claim (or dispute) first and the loser would hit a unique key instead
    # of a clean conflict. Locking the row here makes the loser wait and give way.
    current = uow.returns.get_for_update(request.return_id)
    if current is None or current.version != request.version:
        raise StaleWrite()
    disputes.open_for_failed_qc(svc, uow, request, request.quality_check.checked_at)
    claims.open_transit_claim(svc, uow, request)
    if request.status is not ReturnStatus.DISPUTED or request.kind is ReturnKind.EXCHANGE:
        return []  # a refund starts, carrying the tax, or the tax stays with the exchange
    if request.quote is not None and not request.quote.tax_fen:
        return []  # no tax withheld (domestic), or none customs gives back: no query more
    # No goods refund now (only if a dispute is found for the buyer), yet the goods are back
    # in the zone: a declaration that settled without them owes their tax now.
    paid = customs.pay_returned_tax(svc, uow, request)
    return [paid] if paid is not None else []
