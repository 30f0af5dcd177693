"""Refunds: paid exactly once per return, through an idempotency key the provider honours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from doorstep.domain.errors import IllegalTransition
from doorstep.domain.events import Event, EventRecorder
from doorstep.domain.refund_amount import RefundQuote


class RefundKind(StrEnum):
    EXPRESS = "express"  # 极速退款: paid at pickup for trusted buyers
    STANDARD = "standard"  # after warehouse QC


@dataclass(frozen=True)
class RefundOnlyLimits:
    """When a refund-only request (仅退款) may be paid without a person looking first: a small
    amount for a trusted buyer. Both are settings (RULES.md: unconfirmed thresholds)."""

    instant_max_fen: int = 5_000
    min_trust: int = 700
    # An order not signed for this many days after it was placed counts as lost in delivery
    # when the buyer says so (unconfirmed practice: a setting).
    lost_after_days: int = 15


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class Refund(EventRecorder):
    """Money going back to a buyer for one return: goods plus the withheld import tax, and
    (refunds made since the amount is quoted) return freight less deductions, line by line in
    ``quote``; the amount paid is exactly the quote's total."""

    refund_id: str
    return_id: str
    buyer_id: str
    kind: RefundKind
    goods_fen: int
    tax_fen: int
    idempotency_key: str
    created_at: datetime
    status: RefundStatus = RefundStatus.PENDING
    provider_ref: str | None = None
    settled_at: datetime | None = None
    failure: str | None = None
    attempts: int = 0
    quote: RefundQuote | None = None

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if self.goods_fen < 0 or self.tax_fen < 0:
            raise ValueError("refund amounts must not be negative")

    @property
    def amount_fen(self) -> int:
        return self.quote.total_fen if self.quote else self.goods_fen + self.tax_fen

    @classmethod
    def for_quote(
        cls,
        refund_id: str,
        return_id: str,
        buyer_id: str,
        kind: RefundKind,
        quote: RefundQuote,
        at: datetime,
    ) -> Refund:
        """A pending refund of exactly what ``quote`` says."""
        return cls.request(
            refund_id, return_id, buyer_id, kind, quote.goods_fen, quote.tax_fen, at, quote
        )

    @classmethod
    def request(
        cls,
        refund_id: str,
        return_id: str,
        buyer_id: str,
        kind: RefundKind,
        goods_fen: int,
        tax_fen: int,
        at: datetime,
        quote: RefundQuote | None = None,
    ) -> Refund:
        """A pending refund; its key is derived from the return so a retry never pays twice."""
        refund = cls(
            refund_id,
            return_id,
            buyer_id,
            kind,
            goods_fen,
            tax_fen,
            f"refund:{return_id}",
            at,
            quote=quote,
        )
        refund.record(
            Event(
                "refund.requested",
                "refund",
                refund_id,
                at,
                {
                    "return_id": return_id,
                    "kind": kind.value,
                    "amount_fen": refund.amount_fen,
                    "tax_fen": tax_fen,
                    "freight_fen": quote.freight_fen if quote else 0,
                    "adjustments_fen": quote.adjustments_fen if quote else 0,
                },
            )
        )
        return refund

    @property
    def pending(self) -> bool:
        """Whether the provider's answer is still awaited (services/settlement.py)."""
        return self.status is RefundStatus.PENDING

    def succeed(self, provider_ref: str, at: datetime) -> None:
        if self.status is RefundStatus.SUCCEEDED:
            return  # the provider answered twice for one key: nothing more to do
        if self.status is not RefundStatus.PENDING:
            raise IllegalTransition("refund", self.status.value, "succeed")
        self.status = RefundStatus.SUCCEEDED
        self.provider_ref = provider_ref
        self.settled_at = at
        self.record(
            Event(
                "refund.succeeded",
                "refund",
                self.refund_id,
                at,
                {
                    "return_id": self.return_id,
                    "amount_fen": self.amount_fen,
                    "provider_ref": provider_ref,
                },
            )
        )

    def attempt_failed(self, reason: str, at: datetime, *, final: bool) -> None:
        """A provider call failed; a final failure needs ops, others are retried."""
        if self.status is not RefundStatus.PENDING:
            return  # a late or duplicated callback must not undo a settled refund
        self.attempts += 1
        self.failure = reason
        if final:
            self.status = RefundStatus.FAILED
        self.record(
            Event(
                "refund.attempt_failed",
                "refund",
                self.refund_id,
                at,
                {"return_id": self.return_id, "reason": reason, "final": final},
            )
        )
