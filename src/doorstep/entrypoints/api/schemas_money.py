"""Bodies of the money-after-refund paths: disputes, claims, trust, settlements, lead times."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from doorstep.domain.claim import ClaimKind, ClaimStatus, Liability
from doorstep.domain.dispute import DisputeStatus
from doorstep.entrypoints.api.schemas import Fen, Id, In, Out, Text

PhotoIds = Annotated[list[Id], Field(max_length=12)]


class DisputeEvidenceIn(In):
    text: Text = ""
    photo_ids: PhotoIds = Field(default_factory=list)


class DisputeDecisionIn(In):
    buyer_upheld: bool
    note: Text = ""
    clawback_fen: Fen | None = Field(
        default=None, description="Upholding the QC: how much of an express refund to take back "
        "(when left out: all of it less the import tax customs gives back for the goods, which "
        "stays with the buyer; never more than that)."
    )  # fmt: skip


class DisputeEvidenceOut(Out):
    added_at: datetime
    text: str
    photo_ids: list[str]


class DisputeDecisionOut(Out):
    decided_at: datetime
    by: str
    buyer_upheld: bool
    note: str
    clawback_fen: int = Field(description="What upholding the QC takes back, in fen.")
    tax_kept_fen: int = Field(
        default=0,
        description="Import tax of the express refund left with the buyer: customs gives it "
        "back for goods back by day 45, whatever QC found, in fen.",
    )


class DisputeOut(Out):
    dispute_id: str
    return_id: str
    buyer_id: str
    status: DisputeStatus
    opened_at: datetime
    respond_by: datetime
    grade: str
    qc_note: str
    qc_photo_ids: list[str]
    advanced_fen: int = Field(description="What an express refund already paid, in fen.")
    evidence: list[DisputeEvidenceOut]
    decision: DisputeDecisionOut | None
    clawback_status: str | None = None


class QueuedDisputeOut(DisputeOut):
    default_clawback_fen: int = Field(
        description="What upholding the QC would take back now if no amount is named, in fen: "
        "the express refund less the import tax the buyer keeps, and the most that may be asked."
    )
    tax_kept_fen: int = Field(
        description="Import tax of the express refund the buyer would keep (customs gives it "
        "back for goods back by day 45, whatever QC found), in fen."
    )


class ClaimLineIn(In):
    line_id: Id
    quantity: Annotated[int, Field(ge=1, le=10_000)]


class ClaimIn(In):
    order_id: Id
    kind: ClaimKind
    lines: Annotated[list[ClaimLineIn], Field(min_length=1, max_length=50)]
    text: Text = ""
    photo_ids: PhotoIds = Field(default_factory=list)


class ClaimAnswerIn(In):
    accept: bool
    text: Text = ""


class ClaimDecisionIn(In):
    approve: bool
    note: Text = ""


class ClaimLineOut(Out):
    order_line_id: str
    sku: str
    quantity: int
    value_fen: int


class ClaimEvidenceOut(Out):
    source: str
    added_at: datetime
    text: str
    photo_ids: list[str]


class ClaimOut(Out):
    claim_id: str
    kind: ClaimKind
    status: ClaimStatus
    order_id: str
    buyer_id: str
    return_id: str | None
    carrier_id: str | None
    liability: Liability
    compensation_fen: int
    filed_at: datetime
    answer_by: datetime | None
    lines: list[ClaimLineOut]
    evidence: list[ClaimEvidenceOut]
    decided_by: str | None
    decision_note: str
    compensated_at: datetime | None


class TrustLineOut(Out):
    code: str
    points: int
    en: str
    zh: str


class TrustOut(Out):
    buyer_id: str
    score: int
    express_min_trust: int
    lines: list[TrustLineOut]


class LedgerEntryOut(Out):
    entry_id: str
    claim_id: str
    amount_fen: int
    created_at: datetime
    note: str
    uninsured_fen: int = Field(
        description="The loss above what the carrier owed (the value declared to it, or its "
        "cap): doorstep's, not charged."
    )


class SettlementOut(Out):
    carrier_id: str
    total_fen: int = Field(description="Charged for claims (negative: deducted from payouts).")
    uninsured_fen: int = Field(
        description="Transit damage above what the carrier owed, borne by doorstep (positive)."
    )
    entries: list[LedgerEntryOut]


class LeadTimeOut(Out):
    count: int
    p50_h: float | None = Field(description="Median wait in hours (None without refunds).")
    p90_h: float | None = Field(description="90th percentile wait in hours.")


class DayLeadTimeOut(Out):
    day: date
    request_to_money: LeadTimeOut
    pickup_to_money: LeadTimeOut


class LeadTimesOut(Out):
    """How long buyers waited for money: from filing the return, and from the pickup."""

    request_to_money: LeadTimeOut
    pickup_to_money: LeadTimeOut
    days: list[DayLeadTimeOut]
    bucket_h: float = Field(
        description="The waits are counted to this many hours (each to the nearest): the "
        "percentiles are those of the waits so rounded. Every refund paid is counted.",
    )
