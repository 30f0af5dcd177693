"""A transfer: money moved to or from a buyer outside a return's own refund, exactly once per
purpose and subject: an exchange's price difference (collected, or paid back), a difference
given back when the buyer takes a refund instead, the import tax customs gives back, the
clawback of an express refund whose goods failed QC (or the charge for a replacement shipped
before its old item failed QC), a claim's compensation.

One contract for all of them, the refund's (services/refunds.py): the transfer is created with
its unique idempotency key in the transaction that decides it, the provider is asked outside
any transaction with that key, the answer is settled once with the row locked; a timeout
leaves it pending and the sweep asks again under the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from doorstep.domain.errors import IllegalTransition
from doorstep.domain.events import Event, EventRecorder


class ProviderCall(StrEnum):
    """Which payment-port operation moves a transfer's money."""

    PAY_OUT = "pay_out"  # to the buyer (``refund``)
    COLLECT = "collect"  # a charge to the buyer (``collect``)
    CLAWBACK = "clawback"  # a negative adjustment of a refund already paid (``clawback``)


class TransferPurpose(StrEnum):
    """Why money moves; the value is stored (at most 16 characters, the column's width)."""

    EXCHANGE_COLLECTION = "exchange_collect"  # the dearer variant's difference, from the buyer
    EXCHANGE_REFUND = "exchange_refund"  # the cheaper variant's difference, to the buyer
    EXCHANGE_PAYBACK = "exchange_payback"  # a collected difference back on release
    EXCHANGE_PART_BACK = "exchange_part"  # the difference of units the courier did not take
    # A partial pickup that left a cheaper line at the door raised the net the buyer owes past
    # what was collected at filing: the rest, from the buyer, and that rest back on release.
    EXCHANGE_TOP_UP = "exchange_more"
    EXCHANGE_TOP_UP_BACK = "exchange_more_bk"
    CUSTOMS_TAX = "customs_tax"  # withheld import tax given back (customs_return)
    # One return's withheld tax given back after its declaration settled without it (its
    # goods back by day 45, no refund to carry the tax); subject: the return.
    CUSTOMS_TAX_RETURN = "customs_tax_ret"
    CLAWBACK = "clawback"  # an express refund taken back after a lost dispute
    EXCHANGE_RECOVERY = "exchange_recover"  # a shipped replacement paid for after a lost dispute
    CLAIM_PAYOUT = "claim"  # a claim's compensation to the buyer
    # Import tax a refund advanced, taken back because customs gave none back (rejected,
    # never declared by day 30, or the goods missed day 45); subject: the return.
    TAX_CLAWBACK = "tax_clawback"

    @property
    def call(self) -> ProviderCall:
        """The payment-port operation of this purpose."""
        if self in (TransferPurpose.CLAWBACK, TransferPurpose.TAX_CLAWBACK):
            return ProviderCall.CLAWBACK
        if self in (
            TransferPurpose.EXCHANGE_COLLECTION,
            TransferPurpose.EXCHANGE_TOP_UP,
            TransferPurpose.EXCHANGE_RECOVERY,
        ):
            return ProviderCall.COLLECT
        return ProviderCall.PAY_OUT

    @property
    def from_buyer(self) -> bool:
        """True when the money comes from the buyer."""
        return self.call is not ProviderCall.PAY_OUT

    @property
    def key_prefix(self) -> str:
        # Every purpose has its own prefix: a key shared by two purposes of one subject makes
        # the second look like the first's repeat (request_transfer finds it, the provider
        # answers it with the first payment), so it is never paid. A mixed exchange (a dearer
        # and a cheaper line) collects at filing and, after a partial pickup, may owe the
        # buyer at shipping. "exchange-diff" stays the collection's: providers hold payments
        # under it; refunds written before under it keep the key stored on their row.
        return {
            TransferPurpose.EXCHANGE_COLLECTION: "exchange-diff",
            TransferPurpose.EXCHANGE_REFUND: "exchange-diff-refund",
            TransferPurpose.EXCHANGE_PAYBACK: "exchange-diff-back",
            TransferPurpose.EXCHANGE_PART_BACK: "exchange-diff-part",
            TransferPurpose.EXCHANGE_TOP_UP: "exchange-diff-more",
            TransferPurpose.EXCHANGE_TOP_UP_BACK: "exchange-diff-more-back",
            TransferPurpose.CUSTOMS_TAX: "customs-tax",
            TransferPurpose.CUSTOMS_TAX_RETURN: "customs-tax-return",
            TransferPurpose.CLAWBACK: "clawback",
            TransferPurpose.EXCHANGE_RECOVERY: "exchange-recover",
            TransferPurpose.CLAIM_PAYOUT: "claim",
            TransferPurpose.TAX_CLAWBACK: "tax-clawback",
        }[self]

    @property
    def event_prefix(self) -> str:
        # Event names consumers already read (labels, timeline, tests): "claim.*" is the
        # claim's own lifecycle, so its payment is a "compensation"; exchange and customs
        # payments were "money.*" events.
        if self is TransferPurpose.CLAWBACK:
            return "clawback"
        if self is TransferPurpose.EXCHANGE_RECOVERY:
            return "recovery"  # new with the purpose: no consumer read it before
        if self is TransferPurpose.CLAIM_PAYOUT:
            return "compensation"
        if self is TransferPurpose.TAX_CLAWBACK:
            return "tax_clawback"
        return "money"

    @property
    def awaits(self) -> TransferPurpose | None:
        """The purpose whose transfer (same subject) must have succeeded before this one is
        paid: money is given back only once it is known to have come in."""
        if self in (TransferPurpose.EXCHANGE_PAYBACK, TransferPurpose.EXCHANGE_PART_BACK):
            return TransferPurpose.EXCHANGE_COLLECTION
        if self is TransferPurpose.EXCHANGE_TOP_UP_BACK:
            return TransferPurpose.EXCHANGE_TOP_UP
        return None


class TransferStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def transfer_key(purpose: TransferPurpose, subject_id: str) -> str:
    """The one idempotency key of a purpose and subject: the provider moves it once."""
    return f"{purpose.key_prefix}:{subject_id}"


@dataclass
class Transfer(EventRecorder):
    """One movement of money for one purpose; ``amount_fen`` is always positive, the purpose
    says its direction. ``subject_id`` is the return (exchange, clawback), the claim or the
    customs return it is for."""

    transfer_id: str
    purpose: TransferPurpose
    subject_id: str
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
            raise ValueError("a transfer moves a positive amount; its purpose says which way")

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
        """A pending transfer under its purpose's key, with its ``*.requested`` event."""
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

    @property
    def awaited_key(self) -> str | None:
        """The key of the transfer that must succeed before this one is paid, if any."""
        first = self.purpose.awaits
        return None if first is None else transfer_key(first, self.subject_id)

    def _event(self, what: str, at: datetime, **data: object) -> None:
        self.record(
            Event(
                f"{self.purpose.event_prefix}.{what}",
                "transfer",
                self.transfer_id,
                at,
                {
                    "transfer_id": self.transfer_id,
                    "purpose": self.purpose.value,
                    "subject_id": self.subject_id,
                    "direction": self.purpose.call.value,
                    "amount_fen": self.amount_fen,
                    **data,
                },
            )
        )

    @property
    def pending(self) -> bool:
        """Whether the provider's answer is still awaited (services/settlement.py)."""
        return self.status is TransferStatus.PENDING

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

    def retry(self, actor_id: str, at: datetime) -> None:
        """Ops send a transfer that was given up to the provider again, under the same key
        (the provider answers a key it already moved with that payment, so nothing moves
        twice): pending once more, with a ``*.retried`` event naming who and after what."""
        if self.status is not TransferStatus.FAILED:
            raise IllegalTransition("transfer", self.status.value, "retry")
        self.status, self.settled_at = TransferStatus.PENDING, None
        self._event("retried", at, actor_id=actor_id, after=self.failure or "")

    def attempt_failed(self, reason: str, at: datetime, *, final: bool) -> None:
        """A provider call failed: retried later under the same key (``*.attempt_failed``),
        or given up for ops when ``final`` (``*.failed``)."""
        if self.status is not TransferStatus.PENDING:
            return
        self.attempts += 1
        self.failure = reason
        if final:
            self.status, self.settled_at = TransferStatus.FAILED, at
            self._event("failed", at, reason=reason)
        else:
            self._event("attempt_failed", at, reason=reason)
