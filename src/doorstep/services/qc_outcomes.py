"""What a QC grade sets off besides the refund (issue 9 §3, §5): a failed QC opens a dispute
the buyer can answer; transit damage (intact at the door, damaged at the warehouse) opens a
claim charged to the carrier. Runs inside the grading transaction, so both happen with it."""

from __future__ import annotations

from doorstep.domain.returns import ReturnRequest
from doorstep.services import claims, disputes
from doorstep.services.context import Services
from doorstep.services.ports import UnitOfWork


def after_grade(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> None:
    """Open the dispute or the transit-damage claim the grade calls for."""
    if request.quality_check is None:
        return
    disputes.open_for_failed_qc(svc, uow, request, request.quality_check.checked_at)
    claims.open_transit_claim(svc, uow, request)
