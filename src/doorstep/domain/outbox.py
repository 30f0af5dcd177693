"""The outbox's rules: who receives an event, and when a failed delivery is tried again.

Stored events are delivered to receivers (the buyer's phone and mailbox, a merchant's
webhook) at least once. Each (event, receiver) pair is one ``Delivery`` with its own state,
so a merchant whose endpoint is down does not hold up the buyer's text messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from doorstep.domain.events import Event

SMS = "buyer:sms"
EMAIL = "buyer:email"
MERCHANT_PREFIX = "merchant:"


def merchant(shop_id: str) -> str:
    """The receiver name of a shop's webhook endpoint."""
    return MERCHANT_PREFIX + shop_id


def event_id(seq: int) -> str:
    """The public id of a stored event: what receivers de-duplicate by."""
    return f"evt_{seq}"


def event_seq(public_id: str) -> int | None:
    """The sequence number inside a public event id, or None when it is not one."""
    digits = public_id.removeprefix("evt_")
    if digits == public_id or not digits or len(digits) > 18:
        return None
    if not all("0" <= ch <= "9" for ch in digits):
        return None
    return int(digits)


class DeliveryStatus(StrEnum):
    """Where one receiver's copy of an event stands."""

    PENDING = "pending"  # not tried yet
    RETRYING = "retrying"  # tried and failed; tried again at ``next_attempt_at``
    DELIVERED = "delivered"  # the receiver said yes (it may hear it again: at least once)
    DEAD = "dead"  # failed every try; waits for ops to re-drive it


# A delivery in these states holds back later events of the same return for its receiver.
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


@dataclass(frozen=True)
class StoredEvent:
    """An event as the outbox reads it back: with its sequence number."""

    seq: int
    event: Event

    @property
    def public_id(self) -> str:
        return event_id(self.seq)


@dataclass(frozen=True)
class Delivery:
    """One receiver's copy of one event."""

    event_seq: int
    receiver: str
    order_key: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_error: str = ""
    delivered_at: datetime | None = None
    event_name: str = ""
    # What is sent, fixed when the event is fanned out: a retry sends the same text or body.
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryRules:
    """Exponential backoff: the n-th failure waits ``base × 2^(n-1)``, at most ``cap``; after
    ``max_attempts`` tries the delivery is dead-lettered.

    No random jitter: deliveries fail at different times anyway (each is claimed when due),
    and a fixed schedule is what a merchant's support desk can be told.
    """

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")

    def after_failure(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after the ``attempts``-th failed try; None: dead-letter it."""
        if attempts >= self.max_attempts:
            return None
        # 2^(n-1) grows past any cap quickly; clamp the exponent before it overflows.
        wait: timedelta = self.base * (2 ** min(attempts - 1, 30))
        return now + min(wait, self.cap)
