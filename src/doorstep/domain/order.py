"""Orders and buyers: what was bought, by whom, through which customs channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from doorstep.domain import bounds
from doorstep.domain.address import Address


class Channel(StrEnum):
    """How the goods entered the country."""

    BONDED = "bonded"  # 保税备货, customs code 1210
    DIRECT_MAIL = "direct_mail"  # 直邮, customs code 9610
    DOMESTIC = "domestic"

    @property
    def cross_border(self) -> bool:
        return self is not Channel.DOMESTIC


@dataclass(frozen=True)
class OrderLine:
    """One SKU on an order, with the price paid and the import tax withheld, in fen."""

    line_id: str
    sku: str
    quantity: int
    unit_price_fen: int
    tax_fen: int = 0
    not_returnable_confirmed: bool = False

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError("quantity must be positive")
        if self.unit_price_fen < 0 or self.tax_fen < 0:
            raise ValueError("money must not be negative")

    def price_for(self, quantity: int) -> int:
        return self.unit_price_fen * quantity

    def tax_for(self, quantity: int) -> int:
        # Tax is withheld per line; a part return gets the proportional share, rounded down
        # so a sequence of part returns never refunds more than was withheld.
        return self.tax_fen * quantity // self.quantity


@dataclass(frozen=True)
class Order:
    """A paid order; ``signed_at`` is when the buyer signed for delivery."""

    order_id: str
    buyer_id: str
    shop_id: str
    channel: Channel
    placed_at: datetime
    shipping_address: Address
    lines: tuple[OrderLine, ...]
    signed_at: datetime | None = None
    customs_released_at: datetime | None = None
    declaration_no: str | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("an order has at least one line")
        for moment in (self.placed_at, self.signed_at, self.customs_released_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("order times must be timezone-aware")
        if len({line.line_id for line in self.lines}) != len(self.lines):
            raise ValueError("order line ids must be unique")

    def check_times(self, now: datetime) -> None:
        """Refuse times that cannot be true at ``now``: in the future, out of order, out of range.

        Checked when an order comes in (partner import), not when one is read: what is stored
        was checked, and a read must never fail on it.
        """
        stamps = {
            "placed_at": self.placed_at,
            "customs_released_at": self.customs_released_at,
            "signed_at": self.signed_at,
        }
        for field_name, moment in stamps.items():
            if moment is not None:
                bounds.check_in_calendar(field_name, moment)
                bounds.check_not_after(field_name, moment, now)
        if self.customs_released_at is not None:
            bounds.check_not_before(
                "customs_released_at", self.customs_released_at, "placed_at", self.placed_at
            )
        if self.signed_at is not None:
            # Goods are signed for after they were bought and, if imported, after customs.
            bounds.check_not_before("signed_at", self.signed_at, "placed_at", self.placed_at)
            if self.customs_released_at is not None:
                bounds.check_not_before(
                    "signed_at", self.signed_at, "customs_released_at", self.customs_released_at
                )

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)


@dataclass
class Buyer:
    """A buyer account with the trust facts that express refunds and reviews read."""

    buyer_id: str
    name: str
    phone: str
    trust_score: int = 600
    blocklisted: bool = False
    addresses: list[Address] = field(default_factory=list)
