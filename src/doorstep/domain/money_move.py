"""Money moved for a purpose other than a return's refund: an exchange's price difference (paid
back or collected) and the import tax customs gives back. Each move has one idempotency key
(unique), is created in the transaction that decides it, paid outside any transaction, and
settled once under its row lock, like refunds (services/refunds.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from doorstep.domain.events import Event, EventRecorder


class Direction(StrEnum):
    PAY_OUT = "pay_out"  # to the buyer
    COLLECT = "collect"  # from the buyer


class MoveStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class MoneyMove(EventRecorder):
    """One payment to or from a buyer, for ``purpose`` of aggregate ``reference``."""

    move_id: str
    idempotency_key: str
    direction: Direction
    buyer_id: str
    amount_fen: int
    purpose: str
    reference: str
    created_at: datetime
    status: MoveStatus = MoveStatus.PENDING
    provider_ref: str | None = None
    settled_at: datetime | None = None
    failure: str | None = None
    attempts: int = 0

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if self.amount_fen <= 0:
            raise ValueError("a money move is a positive amount; the direction says which way")

    @classmethod
    def request(
        cls,
        move_id: str,
        key: str,
        direction: Direction,
        buyer_id: str,
        amount_fen: int,
        purpose: str,
        reference: str,
        at: datetime,
    ) -> MoneyMove:
        """A pending move with its ``money.requested`` event (on the reference's timeline)."""
        move = cls(move_id, key, direction, buyer_id, amount_fen, purpose, reference, at)
        move._event("money.requested", at)
        return move

    def _event(self, name: str, at: datetime, **data: object) -> None:
        self.record(
            Event(
                name,
                "money_move",
                self.reference,
                at,
                {
                    "move_id": self.move_id,
                    "purpose": self.purpose,
                    "direction": self.direction.value,
                    "amount_fen": self.amount_fen,
                    **data,
                },
            )
        )

    def succeed(self, provider_ref: str, at: datetime) -> bool:
        """Settle as paid; False (and nothing recorded) when it was settled already."""
        if self.status is not MoveStatus.PENDING:
            return False
        self.status, self.provider_ref, self.settled_at = MoveStatus.SUCCEEDED, provider_ref, at
        self._event("money.succeeded", at, provider_ref=provider_ref)
        return True

    def attempt_failed(self, reason: str, at: datetime, *, final: bool) -> None:
        """A failed call: retried later under the same key, or given up when ``final``."""
        if self.status is not MoveStatus.PENDING:
            return
        self.attempts += 1
        self.failure = reason
        if final:
            self.status, self.settled_at = MoveStatus.FAILED, at
            self._event("money.failed", at, reason=reason)
