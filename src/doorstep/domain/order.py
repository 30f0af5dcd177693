"""Orders and buyers: what was bought, by whom, through which customs channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from doorstep.domain import bounds
from doorstep.domain.address import Address
from doorstep.domain.retention import ERASED, ERASED_PHONE


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
    # A gift (赠品) that came free with another line; keeping it when that line goes back
    # costs its marked value (RULES.md §1).
    gift_for: str | None = None
    gift_value_fen: int = 0
    # What identifies the goods at the door (RULES.md §5): the SKU's barcode, and for
    # serialised goods the serial number of each unit shipped.
    barcode: str | None = None
    serial_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError("quantity must be positive")
        if self.unit_price_fen < 0 or self.tax_fen < 0 or self.gift_value_fen < 0:
            raise ValueError("money must not be negative")
        if len(self.serial_numbers) > self.quantity or len(set(self.serial_numbers)) < len(
            self.serial_numbers
        ):
            raise ValueError("at most one distinct serial number per unit")
        if self.gift_for is not None and (self.unit_price_fen or self.tax_fen):
            raise ValueError("a gift line is free: no price and no tax")

    def price_for(self, quantity: int) -> int:
        return self.unit_price_fen * quantity

    def tax_for(self, quantity: int) -> int:
        # Tax is withheld per line; a part return gets the proportional share, rounded down
        # so a sequence of part returns never refunds more than was withheld.
        return self.tax_fen * quantity // self.quantity


@dataclass(frozen=True)
class Promotions:
    """Order-level discounts, in fen: what a part return may take back (RULES.md §1)."""

    coupon_fen: int = 0  # coupons used on the order, shared by the lines pro rata to price
    reduction_fen: int = 0  # full reduction (满减) ...
    reduction_threshold_fen: int = 0  # ... for goods of at least this much
    free_shipping_threshold_fen: int = 0  # 满额包邮: outbound freight waived from this much
    waived_shipping_fen: int = 0  # the outbound freight the shop waived

    def __post_init__(self) -> None:
        if (
            min(
                self.coupon_fen,
                self.reduction_fen,
                self.reduction_threshold_fen,
                self.free_shipping_threshold_fen,
                self.waived_shipping_fen,
            )
            < 0
        ):
            raise ValueError("money must not be negative")
        if self.reduction_fen and self.reduction_threshold_fen < self.reduction_fen:
            raise ValueError("a full reduction needs a threshold of at least its amount")
        if self.waived_shipping_fen and not self.free_shipping_threshold_fen:
            raise ValueError("waived shipping needs its free-shipping threshold")


NO_PROMOTIONS = Promotions()


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
    promotions: Promotions = NO_PROMOTIONS
    # When the courier company delivering the order declared the parcel lost (the shop's
    # import says so); a refund-only request for a lost parcel is then paid without limits.
    lost_at: datetime | None = None
    # Who pays the return freight of a no-reason return besides the buyer: the shop's
    # promise at purchase (退货包运费) or freight insurance bought with the order (运费险).
    return_freight_by_shop: bool = False
    freight_insurance: bool = False

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("an order has at least one line")
        for moment in (self.placed_at, self.signed_at, self.customs_released_at, self.lost_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("order times must be timezone-aware")
        if len({line.line_id for line in self.lines}) != len(self.lines):
            raise ValueError("order line ids must be unique")
        bought = {line.line_id: line for line in self.lines if line.gift_for is None}
        if any(ln.gift_for is not None and ln.gift_for not in bought for ln in self.lines):
            raise ValueError("a gift belongs to a bought line of the same order")
        if self.promotions.coupon_fen + self.promotions.reduction_fen > self.goods_fen:
            raise ValueError("discounts cannot exceed the goods")

    @property
    def goods_fen(self) -> int:
        """The goods at their line prices, before order-level discounts."""
        return sum(line.price_for(line.quantity) for line in self.lines)

    @property
    def paid_fen(self) -> int:
        """What the buyer paid for goods and import tax: the most refunds can ever add up to
        (return freight reimbursed to the buyer comes on top; outbound freight is not refunded)."""
        tax = sum(line.tax_fen for line in self.lines)
        return self.goods_fen + tax - self.promotions.coupon_fen - self.promotions.reduction_fen

    def check_times(self, now: datetime) -> None:
        """Refuse times that cannot be true at ``now``: in the future, out of order, out of range.

        Checked when an order comes in (partner import), not when one is read: what is stored
        was checked, and a read must never fail on it.
        """
        stamps = {
            "placed_at": self.placed_at,
            "customs_released_at": self.customs_released_at,
            "signed_at": self.signed_at,
            "lost_at": self.lost_at,
        }
        for field_name, moment in stamps.items():
            if moment is not None:
                bounds.check_in_calendar(field_name, moment)
                bounds.check_not_after(field_name, moment, now)
        if self.customs_released_at is not None:
            bounds.check_not_before(
                "customs_released_at", self.customs_released_at, "placed_at", self.placed_at
            )
        if self.lost_at is not None:
            bounds.check_not_before("lost_at", self.lost_at, "placed_at", self.placed_at)
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
    # Where notifications go and in which language ("zh_CN" or "en"); e-mail is optional.
    email: str = ""
    lang: str = "zh_CN"
    # Retention (domain/retention.py): when the last account went, when the sweep is next
    # to look at this record (indexed; None once erased or back), and when it was erased.
    departed_at: datetime | None = None
    erase_due: datetime | None = None
    erased_at: datetime | None = None

    def depart(self, at: datetime) -> None:
        """The last account went: the retention sweep weighs this record from now on."""
        self.departed_at = at
        self.erase_due = at

    def came_back(self) -> None:
        """An account acts as this buyer again: nothing is erased while it does."""
        self.departed_at = None
        self.erase_due = None

    def erase(self, at: datetime) -> None:
        """The personal fields erased for good (see domain/retention.py for what stays).
        Trust score and blocklist stay: they are facts about this buyer id's transactions
        (why an express refund was or was not paid), not about the person."""
        self.name = ERASED
        self.phone = ERASED_PHONE
        self.email = ""
        # The address book served only future bookings; the addresses that transactions
        # used stay (erased) on their orders, returns and visits.
        self.addresses = []
        self.erase_due = None
        self.erased_at = at
