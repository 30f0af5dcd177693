"""Money moved after a refund, once per purpose: a clawback of an express refund whose goods
failed QC (a negative adjustment, from the buyer) and a claim's compensation (to the buyer).

Same contract as ``Refund``: one idempotency key per purpose (``clawback:<return_id>``,
``claim:<claim_id>``), created in one transaction, the provider asked outside it with that
key, the answer settled in a second one; a duplicated or late answer settles nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from doorstep.domain.errors import IllegalTransition
from doorstep.domain.events import Event, EventRecorder


class TransferPurpose(StrEnum):
    CLAWBACK = "clawback"  # recover an express refund (from the buyer)
    CLAIM = "claim"  # pay a claim's compensation (to the buyer)

    @property
    def from_buyer(self) -> bool:
        return self is TransferPurpose.CLAWBACK

    @property
    def event_prefix(self) -> str:
        # "claim.*" names the claim's own lifecycle; its payment is a compensation.
        return "clawback" if self is TransferPurpose.CLAWBACK else "compensation"


class TransferStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def transfer_key(purpose: TransferPurpose, subject_id: str) -> str:
    """The one idempotency key of a purpose: the provider moves it once."""
    return f"{purpose.value}:{subject_id}"


@dataclass
class Transfer(EventRecorder):
    """One movement of money for one purpose; ``amount_fen`` is always positive, the purpose
    says its direction."""

    transfer_id: str
    purpose: TransferPurpose
    subject_id: str  # the return (clawback) or the claim (compensation)
    buyer_id: str
    amount_fen: int
    idempotency_key: str
    created_at: datetime
    status: TransferStatus = TransferStatus.PENDING
    provider_ref: str | None = None
    settled_at: datetime | None = None
    failure: str | None = None
    attempts: int = 0

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if self.amount_fen <= 0:
            raise ValueError("a transfer moves a positive amount")

    @classmethod
    def request(
        cls,
        transfer_id: str,
        purpose: TransferPurpose,
        subject_id: str,
        buyer_id: str,
        amount_fen: int,
        at: datetime,
    ) -> Transfer:
        """A pending transfer under its purpose's key."""
        made = cls(
            transfer_id,
            purpose,
            subject_id,
            buyer_id,
            amount_fen,
            transfer_key(purpose, subject_id),
            at,
        )
        made._event("requested", at)
        return made

    def _event(self, what: str, at: datetime, **data: object) -> None:
        self.record(
            Event(
                f"{self.purpose.event_prefix}.{what}",
                "transfer",
                self.transfer_id,
                at,
                {"subject_id": self.subject_id, "amount_fen": self.amount_fen, **data},
            )
        )

    def succeed(self, provider_ref: str, at: datetime) -> None:
        """The provider moved the money (a second answer for the same key changes nothing)."""
        if self.status is TransferStatus.SUCCEEDED:
            return
        if self.status is not TransferStatus.PENDING:
            raise IllegalTransition("transfer", self.status.value, "succeed")
        self.status = TransferStatus.SUCCEEDED
        self.provider_ref = provider_ref
        self.settled_at = at
        self._event("succeeded", at, provider_ref=provider_ref)

    def note_attempt_failed(self, reason: str, at: datetime, *, final: bool) -> None:
        """A provider call failed; a final failure needs ops, others are retried."""
        if self.status is not TransferStatus.PENDING:
            return
        self.attempts += 1
        self.failure = reason
        if final:
            self.status = TransferStatus.FAILED
        self._event("attempt_failed", at, reason=reason, final=final)
