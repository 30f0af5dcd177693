"""Claims (破损包赔, 假一赔四): damage on arrival, transit damage and counterfeit goods, each
with its own lifecycle and who pays (RULES.md §3).

- damage on arrival: the buyer claims within 72 hours of signing (24 for food) with photos;
  the merchant answers within 24 hours, silence approves; the merchant pays the goods' value.
- transit damage: the courier's door inspection said intact and the warehouse says damaged;
  the courier company (or the own fleet) is liable for the goods' value up to a cap, or up to
  the value its pickup order declared (保价), deducted from its settlement; what is above it
  is doorstep's loss, kept on the claim; both inspections' photos are the evidence.
- counterfeit: the buyer claims with photos; the merchant may answer, ops decide; the merchant
  pays the price times a multiplier (four by default).

Lifecycle: awaiting_merchant -> approved | in_review; in_review -> approved | rejected;
approved -> compensated (money moved or the carrier charged). Every step is an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.domain.errors import Conflict, IllegalTransition, InvalidInput
from doorstep.domain.events import Event, EventRecorder
from doorstep.domain.refund_amount import (
    NO_TAX_OUTCOME,
    AmountLine,
    FreightPayer,
    Part,
    RefundQuote,
)

MAX_TEXT = 2000
MAX_PHOTOS = 12


class ClaimKind(StrEnum):
    DAMAGE_ON_ARRIVAL = "damage_on_arrival"  # 破损包赔
    TRANSIT_DAMAGE = "transit_damage"  # damaged between the door and the warehouse
    COUNTERFEIT = "counterfeit"  # 假一赔四


class Liability(StrEnum):
    MERCHANT = "merchant"
    CARRIER = "carrier"  # a courier company: deducted from its settlement
    OWN_FLEET = "own_fleet"  # the platform's own couriers: charged to the fleet's ledger


class ClaimStatus(StrEnum):
    AWAITING_MERCHANT = "awaiting_merchant"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMPENSATED = "compensated"

    @property
    def open(self) -> bool:
        return self in (ClaimStatus.AWAITING_MERCHANT, ClaimStatus.IN_REVIEW)


@dataclass(frozen=True)
class ClaimRules:
    """The claim windows and amounts; all settings (RULES.md §3, some unconfirmed)."""

    damage_window_h: int = 72
    food_damage_window_h: int = 24
    merchant_answer_h: int = 24
    counterfeit_multiplier: int = 4
    counterfeit_window_days: int = 90
    # What a courier company pays at most per parcel without declared value (unconfirmed).
    carrier_cap_fen: int = 200_000

    def __post_init__(self) -> None:
        if min(vars(self).values()) <= 0:
            raise ValueError("claim windows, multiplier and cap are positive")


@dataclass(frozen=True)
class ClaimLine:
    order_line_id: str
    sku: str
    quantity: int
    # These units at their line price, before order discounts; what the buyer paid for
    # them (net of coupon shares and reductions) is the claim's ``paid`` quote.
    value_fen: int

    def __post_init__(self) -> None:
        if self.quantity <= 0 or self.value_fen < 0:
            raise ValueError("a claim line has a positive quantity and a value")

    @property
    def seller_at_fault(self) -> bool:
        """Claimed goods were damaged or fake, never the buyer's choice: priced like a
        return at the seller's fault (a reduction's threshold is not the buyer's cost)."""
        return True


@dataclass(frozen=True)
class ClaimEvidence:
    """Who said what, with photos: the buyer, the merchant, the courier's door inspection or
    the warehouse's QC."""

    source: str  # buyer | merchant | door_inspection | warehouse_qc | ops
    added_at: datetime
    text: str = ""
    photo_ids: tuple[str, ...] = ()


def compensation_fen(
    kind: ClaimKind, goods_fen: int, rules: ClaimRules, insured_fen: int | None = None
) -> int:
    """What the liable party pays for goods the buyer paid ``goods_fen`` for: that, times
    the multiplier for counterfeit goods (假一赔四, RULES.md §3), or, for transit damage, up
    to the value declared to the courier company (``insured_fen``, its pickup order's part
    for the return) or without one up to its cap (charged to its settlement, nothing to the
    buyer, who is refunded as for good goods)."""
    if goods_fen < 0 or (insured_fen is not None and insured_fen < 0):
        raise ValueError("goods and declared values are not negative")
    if kind is ClaimKind.COUNTERFEIT:
        return goods_fen * rules.counterfeit_multiplier
    if kind is ClaimKind.TRANSIT_DAMAGE:
        return min(goods_fen, rules.carrier_cap_fen if insured_fen is None else insured_fen)
    return goods_fen


def at_line_prices(lines: tuple[ClaimLine, ...]) -> RefundQuote:
    """The units of ``lines`` at their line prices, as claims filed before their paid price
    was kept compensated them (they are not re-priced)."""
    goods = sum(line.value_fen for line in lines)
    return RefundQuote(
        (AmountLine(Part.GOODS, goods),), goods, goods, NO_TAX_OUTCOME, FreightPayer.NOBODY
    )


def damage_deadline(signed_at: datetime, food: bool, rules: ClaimRules) -> datetime:
    """Until when damage on arrival may be claimed: 72 hours after signing, 24 for food."""
    hours = rules.food_damage_window_h if food else rules.damage_window_h
    return signed_at + timedelta(hours=hours)


@dataclass
class Claim(EventRecorder):
    claim_id: str
    kind: ClaimKind
    order_id: str
    buyer_id: str
    lines: tuple[ClaimLine, ...]
    liability: Liability
    compensation_fen: int
    filed_at: datetime
    # Only one claim of a kind per order line (or per return, for transit damage).
    dedupe_key: str
    status: ClaimStatus = ClaimStatus.AWAITING_MERCHANT
    answer_by: datetime | None = None
    return_id: str | None = None
    carrier_id: str | None = None
    evidence: list[ClaimEvidence] = field(default_factory=list)
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str = ""
    compensated_at: datetime | None = None
    version: int = 0
    # What the buyer paid for the claimed units, priced as a refund of them would be
    # (domain/refund_amount.py: coupon share, reductions, after the order's earlier refunds
    # and claims). None for claims filed before it was kept: those compensate line prices.
    paid: RefundQuote | None = None
    # Transit damage a courier company served: its pickup order's declared value for the
    # return (None: none declared, its cap applies), and the loss above what the company
    # owes, doorstep's own (never the buyer's: they are refunded as for good goods).
    insured_fen: int | None = None
    uninsured_fen: int = 0

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if not self.lines or self.compensation_fen < 0 or self.uninsured_fen < 0:
            raise ValueError("a claim has lines and non-negative compensation and loss")

    @property
    def goods_fen(self) -> int:
        """What the claim pays back for the goods themselves (a counterfeit claim's penalty
        beyond it is not paid back for goods)."""
        if self.paid is not None:
            return self.paid.total_fen
        return sum(line.value_fen for line in self.lines)

    @property
    def paid_back(self) -> RefundQuote:
        """The claim's goods part as a refund's quote, for reckoning the order's refunds
        after it; a claim from before ``paid`` was kept paid line prices."""
        return self.paid if self.paid is not None else at_line_prices(self.lines)

    @classmethod
    def file(
        cls,
        claim_id: str,
        kind: ClaimKind,
        order_id: str,
        buyer_id: str,
        lines: tuple[ClaimLine, ...],
        evidence: tuple[ClaimEvidence, ...],
        at: datetime,
        rules: ClaimRules,
        *,
        paid: RefundQuote,
        return_id: str | None = None,
        carrier_id: str | None = None,
        own_fleet: bool = False,
        insured_fen: int | None = None,
    ) -> Claim:
        """A new claim: a buyer's goes to the merchant first; transit damage is the carrier's
        at once (the two inspections decide it, nobody has to answer). ``paid`` is what the
        buyer paid for ``lines`` (``services/refund_quotes.paid_for_units``); ``insured_fen``
        the value a courier company's pickup order declared for the damaged return."""
        if kind is not ClaimKind.TRANSIT_DAMAGE and not any(e.photo_ids for e in evidence):
            raise InvalidInput(
                "claim_photos_required",
                "A damage or counterfeit claim needs at least one photo.",
                "破损或假货理赔需至少上传一张照片。",
            )
        for item in evidence:
            if len(item.text) > MAX_TEXT or len(item.photo_ids) > MAX_PHOTOS:
                raise InvalidInput(
                    "claim_evidence_too_large",
                    f"At most {MAX_TEXT} characters and {MAX_PHOTOS} photos.",
                    f"文字最多 {MAX_TEXT} 字，照片最多 {MAX_PHOTOS} 张。",
                )
        goods = paid.total_fen
        transit = kind is ClaimKind.TRANSIT_DAMAGE
        company = transit and not own_fleet
        # Only a courier company's declaration caps its debt; the own fleet is unchanged.
        insured = insured_fen if company else None
        compensation = compensation_fen(kind, goods, rules, insured)
        if transit:
            liability = Liability.OWN_FLEET if own_fleet else Liability.CARRIER
            dedupe = f"{kind.value}:{return_id}"
        else:
            liability = Liability.MERCHANT
            dedupe = f"{kind.value}:{order_id}:" + ",".join(sorted(x.order_line_id for x in lines))
        claim = cls(
            claim_id,
            kind,
            order_id,
            buyer_id,
            lines,
            liability,
            compensation,
            at,
            dedupe,
            status=ClaimStatus.APPROVED if transit else ClaimStatus.AWAITING_MERCHANT,
            answer_by=None if transit else at + timedelta(hours=rules.merchant_answer_h),
            return_id=return_id,
            carrier_id=carrier_id,
            evidence=list(evidence),
            paid=paid,
            insured_fen=insured,
            uninsured_fen=goods - compensation if company else 0,
        )
        more = {"insured_fen": insured, "uninsured_fen": claim.uninsured_fen} if company else {}
        claim._event(
            "filed",
            at,
            kind=kind.value,
            liability=liability.value,
            goods_fen=goods,
            compensation_fen=claim.compensation_fen,
            status=claim.status.value,
            **more,
        )
        return claim

    def _event(self, what: str, at: datetime, **data: object) -> None:
        self.record(
            Event(
                f"claim.{what}",
                "claim",
                self.claim_id,
                at,
                {"order_id": self.order_id, "return_id": self.return_id, **data},
            )
        )

    def _move(self, to: ClaimStatus, what: str, at: datetime, **data: object) -> None:
        self._event(what, at, **{"from": self.status.value, "to": to.value, **data})
        self.status = to

    def merchant_answer(self, at: datetime, *, accept: bool, text: str) -> None:
        """The merchant accepts (approved) or contests (ops decide), within its time."""
        if self.status is not ClaimStatus.AWAITING_MERCHANT:
            raise IllegalTransition("claim", self.status.value, "merchant_answer")
        assert self.answer_by is not None
        if at > self.answer_by:
            raise Conflict(
                "claim_answer_late",
                "The merchant's 24 hours are over; the claim was approved by silence.",
                "商家答复时限已过，理赔已默认通过。",
                answer_by=self.answer_by.isoformat(),
            )
        if len(text) > MAX_TEXT:
            raise InvalidInput(
                "claim_evidence_too_large", "At most 2000 characters.", "文字最多 2000 字。"
            )
        self.evidence.append(ClaimEvidence("merchant", at, text.strip()))
        # A counterfeit claim always goes to ops: the merchant's word settles no fraud question.
        approve = accept and self.kind is not ClaimKind.COUNTERFEIT
        target = ClaimStatus.APPROVED if approve else ClaimStatus.IN_REVIEW
        self._move(target, "merchant_answered", at, accept=accept)

    def lapse(self, at: datetime) -> bool:
        """The merchant said nothing within its time: damage is approved by silence, a
        counterfeit claim goes to ops. False if it is not due yet (or already answered)."""
        if self.status is not ClaimStatus.AWAITING_MERCHANT:
            return False
        assert self.answer_by is not None
        if at <= self.answer_by:
            return False
        target = (
            ClaimStatus.IN_REVIEW if self.kind is ClaimKind.COUNTERFEIT else ClaimStatus.APPROVED
        )
        self._move(target, "merchant_silent", at)
        return True

    def decide(self, by: str, at: datetime, *, approve: bool, note: str) -> None:
        """Ops decide a contested (or counterfeit) claim."""
        if self.status is not ClaimStatus.IN_REVIEW:
            raise IllegalTransition("claim", self.status.value, "decide")
        self.decided_by, self.decided_at, self.decision_note = by, at, note.strip()
        target = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
        self._move(target, "decided", at, by=by)

    def compensated(self, at: datetime, reference: str) -> None:
        """The compensation was paid (or charged to the carrier); once."""
        if self.status is ClaimStatus.COMPENSATED:
            return
        if self.status is not ClaimStatus.APPROVED:
            raise IllegalTransition("claim", self.status.value, "compensate")
        self.compensated_at = at
        self._move(
            ClaimStatus.COMPENSATED,
            "compensated",
            at,
            reference=reference,
            amount_fen=self.compensation_fen,
        )


@dataclass(frozen=True)
class LedgerEntry:
    """A charge against a carrier's (or the own fleet's) settlement for one claim."""

    entry_id: str
    carrier_id: str
    claim_id: str
    amount_fen: int  # negative: deducted from what the platform pays the carrier
    created_at: datetime
    note: str = ""
    # The claim's loss above what the carrier owed (doorstep's, positive), not charged.
    uninsured_fen: int = 0
