"""A dispute over a failed warehouse QC: the buyer answers with text and photos, ops decide.

Opened when a return fails QC (after an express refund or not). If ops find for the buyer, the
return is refundable again (an express refund is kept); if they uphold the QC, an express
refund is taken back (a clawback of at most what was paid, less the import tax customs gives
back for the goods, which stays with the buyer: RULES.md §2) and the return is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.domain.errors import Conflict, IllegalTransition, InvalidInput
from doorstep.domain.events import Event, EventRecorder

MAX_EVIDENCE = 20
MAX_TEXT = 2000


class DisputeStatus(StrEnum):
    AWAITING_BUYER = "awaiting_buyer"
    ANSWERED = "answered"
    BUYER_UPHELD = "buyer_upheld"  # ops found for the buyer
    QC_UPHELD = "qc_upheld"  # ops upheld the warehouse's finding

    @property
    def open(self) -> bool:
        return self in (DisputeStatus.AWAITING_BUYER, DisputeStatus.ANSWERED)


@dataclass(frozen=True)
class DisputeEvidence:
    """What the buyer sent: a text and the ids of photos uploaded before."""

    added_at: datetime
    text: str = ""
    photo_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DisputeDecision:
    decided_at: datetime
    by: str
    buyer_upheld: bool
    note: str
    clawback_fen: int = 0
    # Import tax of the advance left with the buyer: customs gives it back for the goods
    # whatever QC found (RULES.md §2), so upholding the QC never takes it.
    tax_kept_fen: int = 0


@dataclass
class Dispute(EventRecorder):
    """One dispute per return (its id is derived from the return's)."""

    dispute_id: str
    return_id: str
    buyer_id: str
    opened_at: datetime
    respond_by: datetime
    grade: str
    qc_note: str
    qc_photo_ids: tuple[str, ...]
    advanced_fen: int  # what an express refund already paid (0: none yet)
    status: DisputeStatus = DisputeStatus.AWAITING_BUYER
    evidence: list[DisputeEvidence] = field(default_factory=list)
    decision: DisputeDecision | None = None
    version: int = 0

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if self.advanced_fen < 0:
            raise ValueError("money must not be negative")

    @classmethod
    def open(
        cls,
        return_id: str,
        buyer_id: str,
        at: datetime,
        answer_within: timedelta,
        grade: str,
        qc_note: str,
        qc_photo_ids: tuple[str, ...],
        advanced_fen: int,
    ) -> Dispute:
        """A dispute the buyer may answer until ``at + answer_within``."""
        made = cls(
            dispute_id(return_id),
            return_id,
            buyer_id,
            at,
            at + answer_within,
            grade,
            qc_note,
            qc_photo_ids,
            advanced_fen,
        )
        made._event(
            "opened",
            at,
            respond_by=made.respond_by.isoformat(),
            grade=grade,
            advanced_fen=advanced_fen,
        )
        return made

    def _event(self, what: str, at: datetime, **data: object) -> None:
        self.record(
            Event(
                f"dispute.{what}",
                "dispute",
                self.dispute_id,
                at,
                {"return_id": self.return_id, **data},
            )
        )

    def answer(self, evidence: DisputeEvidence) -> None:
        """The buyer's side: a text and/or photos, while the dispute is open."""
        if not self.status.open:
            raise IllegalTransition("dispute", self.status.value, "answer")
        text = evidence.text.strip()
        if not text and not evidence.photo_ids:
            raise InvalidInput(
                "dispute_evidence_empty",
                "Send a text or at least one photo.",
                "请提供文字说明或至少一张照片。",
            )
        if len(text) > MAX_TEXT:
            raise InvalidInput(
                "dispute_text_too_long",
                f"At most {MAX_TEXT} characters.",
                f"文字说明最多 {MAX_TEXT} 个字符。",
            )
        photos = sum(len(e.photo_ids) for e in self.evidence) + len(evidence.photo_ids)
        if len(self.evidence) >= MAX_EVIDENCE or photos > MAX_EVIDENCE:
            raise Conflict(
                "too_much_evidence",
                f"At most {MAX_EVIDENCE} pieces of evidence per dispute.",
                f"每个争议最多上传 {MAX_EVIDENCE} 份凭证。",
            )
        if evidence.added_at > self.respond_by:
            raise Conflict(
                "dispute_answer_late",
                "The time to answer this dispute is over; ops decide on what they have.",
                "争议答复时间已过，将根据现有材料处理。",
                respond_by=self.respond_by.isoformat(),
            )
        self.evidence.append(DisputeEvidence(evidence.added_at, text, evidence.photo_ids))
        self.status = DisputeStatus.ANSWERED
        self._event("answered", evidence.added_at, photos=len(evidence.photo_ids))

    def most_taken_back(self, tax_kept_fen: int = 0) -> tuple[int, int]:
        """Upholding the QC's default clawback, the most it may take, and the import tax the
        buyer keeps of the advance (``tax_kept_fen``, cut to the advance)."""
        kept = min(max(tax_kept_fen, 0), self.advanced_fen)
        return self.advanced_fen - kept, kept

    def decide(
        self,
        by: str,
        at: datetime,
        *,
        buyer_upheld: bool,
        note: str,
        clawback_fen: int | None,
        tax_kept_fen: int = 0,
    ) -> DisputeDecision:
        """Ops decide once. Upholding the QC takes back ``clawback_fen`` of an express refund
        (by default all of it less ``tax_kept_fen``, the import tax customs gives back for the
        goods, which is the buyer's whatever QC found; never more than that)."""
        if not self.status.open:
            raise IllegalTransition("dispute", self.status.value, "decide")
        amount = kept = 0
        if not buyer_upheld:
            most, kept = self.most_taken_back(tax_kept_fen)
            amount = most if clawback_fen is None else clawback_fen
            if not 0 <= amount <= most and kept:
                raise InvalidInput(
                    "clawback_out_of_range",
                    f"A clawback is between 0 and {most} fen: the {self.advanced_fen} fen paid"
                    f" less the {kept} fen import tax customs gives back, the buyer's.",
                    f"追回金额须在 0 至 {most} 分之间：已退 {self.advanced_fen} 分，"
                    f"其中海关退还的进口税 {kept} 分归买家。",
                    advanced_fen=most,
                    tax_kept_fen=kept,
                )
            if not 0 <= amount <= most:
                raise InvalidInput(
                    "clawback_out_of_range",
                    f"A clawback is between 0 and the {self.advanced_fen} fen paid.",
                    f"追回金额须在 0 至已退 {self.advanced_fen} 分之间。",
                    advanced_fen=self.advanced_fen,
                )
        elif clawback_fen:
            raise InvalidInput(
                "clawback_for_upheld_buyer",
                "Nothing is taken back from a buyer found in the right.",
                "判定买家无责时不能追回退款。",
            )
        self.decision = DisputeDecision(at, by, buyer_upheld, note.strip(), amount, kept)
        self.status = DisputeStatus.BUYER_UPHELD if buyer_upheld else DisputeStatus.QC_UPHELD
        self._event(
            "decided",
            at,
            outcome=self.status.value,
            clawback_fen=amount,
            tax_kept_fen=kept,
            by=by,
        )
        return self.decision


def dispute_id(return_id: str) -> str:
    """A return has at most one dispute; its id says which."""
    return f"D-{return_id}"
