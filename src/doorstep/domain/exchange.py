"""Exchanges (换货): the replacement is reserved from stock when the buyer asks, shipped at
pickup for trusted buyers or at the warehouse's receipt for everyone else, and the price
difference between the old and the new variant is paid back or collected (issue 9 §6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from doorstep.domain.errors import Conflict, IllegalTransition
from doorstep.domain.events import Event, EventRecorder


@dataclass(frozen=True)
class StockLevel:
    """What the shop can send of one SKU: ``on_hand`` in the warehouse, ``reserved`` promised
    to exchanges not yet shipped. Variants of one product share a ``family``."""

    sku: str
    family: str
    unit_price_fen: int
    on_hand: int
    reserved: int = 0

    def __post_init__(self) -> None:
        if self.unit_price_fen < 0 or not 0 <= self.reserved <= self.on_hand:
            raise ValueError("stock must satisfy 0 <= reserved <= on_hand and a price >= 0")

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class ShipAt(StrEnum):
    PICKUP = "pickup"  # trusted buyers: the replacement leaves when the old one does
    RECEIPT = "receipt"  # others: when the warehouse has the old one back


class ExchangeStatus(StrEnum):
    RESERVED = "reserved"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    RELEASED = "released"  # turned into a refund or withdrawn: the units went back to stock
    CHARGED = "charged"  # shipped, but the old item failed QC: the buyer pays for the new one


@dataclass(frozen=True)
class ExchangeLine:
    order_line_id: str
    from_sku: str
    to_sku: str
    quantity: int
    paid_unit_fen: int  # what the buyer paid for the old one
    new_unit_fen: int  # the replacement's price when asked
    # The bought line's withheld import tax and its price: the line's tax rate (70 % of VAT
    # + consumption tax, RULES.md §2), 0 for domestic goods and exchanges made before the
    # difference's tax was collected.
    line_tax_fen: int = 0
    line_value_fen: int = 0

    def __post_init__(self) -> None:
        if self.quantity <= 0 or self.paid_unit_fen < 0 or self.new_unit_fen < 0:
            raise ValueError("an exchange line needs a positive quantity and prices >= 0")
        if self.line_tax_fen < 0 or self.line_value_fen < 0:
            raise ValueError("an exchange line's tax and value are >= 0")

    @property
    def price_difference_fen(self) -> int:
        return (self.new_unit_fen - self.paid_unit_fen) * self.quantity

    @property
    def difference_tax_fen(self) -> int:
        """The import tax on a dearer replacement's higher price (RULES.md §2: the tax is on
        the actual price, and the replacement is imported in the old unit's place, whose tax
        covers only its own price), at the bought line's rate, rounded down; none for a
        cheaper one (customs gives no tax back for exchanged units)."""
        more = self.price_difference_fen
        if more <= 0 or self.line_value_fen <= 0:
            return 0
        return more * self.line_tax_fen // self.line_value_fen

    @property
    def difference_fen(self) -> int:
        """What the buyer pays (positive) or gets back (negative): the price difference, and a
        dearer one's import tax."""
        return self.price_difference_fen + self.difference_tax_fen


@dataclass
class Exchange(EventRecorder):
    """The replacement side of an exchange return; events go on the return's timeline."""

    return_id: str
    buyer_id: str
    order_id: str
    lines: list[ExchangeLine]
    ship_at: ShipAt
    created_at: datetime
    status: ExchangeStatus = ExchangeStatus.RESERVED
    waybill_no: str | None = None
    carrier_id: str | None = None
    shipped_at: datetime | None = None
    difference_transfer_id: str | None = None
    version: int = 0
    history: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if not self.lines:
            raise ValueError("an exchange replaces at least one line")

    @property
    def difference_fen(self) -> int:
        """Positive: the buyer pays more; negative: the buyer gets money back. A dearer
        variant's import tax is part of it (``difference_tax_fen``)."""
        return sum(line.difference_fen for line in self.lines)

    @property
    def difference_tax_fen(self) -> int:
        """The import tax in ``difference_fen`` (withheld by the platform with it)."""
        return sum(line.difference_tax_fen for line in self.lines)

    @property
    def units(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.to_sku] = out.get(line.to_sku, 0) + line.quantity
        return out

    def _event(self, name: str, at: datetime, **data: object) -> None:
        self.record(Event(name, "exchange", self.return_id, at, dict(data)))

    @classmethod
    def reserve(
        cls,
        return_id: str,
        buyer_id: str,
        order_id: str,
        lines: list[ExchangeLine],
        ship_at: ShipAt,
        at: datetime,
    ) -> Exchange:
        """A reservation made with the request (the stock rows were taken by the caller)."""
        exchange = cls(return_id, buyer_id, order_id, lines, ship_at, at)
        exchange._event(
            "exchange.reserved",
            at,
            lines=[{"to_sku": ln.to_sku, "quantity": ln.quantity} for ln in lines],
            ship_at=ship_at.value,
            difference_fen=exchange.difference_fen,
            difference_tax_fen=exchange.difference_tax_fen,
        )
        return exchange

    def follow_return(self, kept: Mapping[str, int], at: datetime) -> dict[str, int]:
        """Partial pickup: the courier took fewer units than the exchange replaces (``kept``:
        units per order line still on the return), so the replacement follows what left the
        door. Returns the units per SKU no longer promised, for the caller to give back to
        stock; empty when the lines already match."""
        if self.status is not ExchangeStatus.RESERVED:
            raise IllegalTransition("exchange", self.status.value, "follow_return")
        freed: dict[str, int] = {}
        lines = []
        for line in self.lines:
            keep = min(kept.get(line.order_line_id, 0), line.quantity)
            if keep < line.quantity:
                freed[line.to_sku] = freed.get(line.to_sku, 0) + line.quantity - keep
            if keep > 0:
                lines.append(replace(line, quantity=keep))
        if not freed:
            return {}
        if not lines:
            # Nothing left the door: there is no pickup to follow, the exchange is released.
            raise IllegalTransition("exchange", self.status.value, "follow_return")
        before = self.difference_fen
        self.lines = lines
        self._event(
            "exchange.reduced",
            at,
            lines=[{"to_sku": ln.to_sku, "quantity": ln.quantity} for ln in lines],
            freed=freed,
            difference_fen=self.difference_fen,
            difference_fen_before=before,
        )
        return freed

    def ship(self, at: datetime, *, paid: bool) -> None:
        """The replacement leaves stock for dispatch; a buyer who owes a difference pays
        first. Its waybill is the outbound courier's, known when the label is printed
        (``track`` with a waybill), never made up here."""
        if self.status is not ExchangeStatus.RESERVED:
            raise IllegalTransition("exchange", self.status.value, "ship")
        if self.difference_fen > 0 and not paid:
            raise Conflict(
                "difference_unpaid",
                "The price difference must be paid before the replacement ships.",
                "需先补付差价，换货商品才会发出。",
                difference_fen=self.difference_fen,
            )
        self.status, self.shipped_at = ExchangeStatus.SHIPPED, at
        self._event("exchange.replacement_shipped", at)

    def track(
        self,
        status: str,
        at: datetime,
        location: str = "",
        *,
        waybill_no: str | None = None,
        carrier_id: str | None = None,
    ) -> None:
        """A tracking update of the replacement's parcel, shown on the return's timeline; the
        first one with a waybill (the outbound label) gives the parcel its number, once."""
        if self.status is not ExchangeStatus.SHIPPED:
            raise IllegalTransition("exchange", self.status.value, "track")
        if waybill_no is not None:
            if self.waybill_no is not None and (waybill_no, carrier_id) != (
                self.waybill_no,
                self.carrier_id,
            ):
                raise Conflict(
                    "replacement_waybill_differs",
                    "The replacement already travels under another waybill.",
                    "换货包裹已有其他运单号。",
                    waybill_no=self.waybill_no,
                )
            if carrier_id is None:
                raise ValueError("a waybill comes with its carrier")
            self.waybill_no, self.carrier_id = waybill_no, carrier_id
        self.history.append(status)
        self._event(
            "exchange.replacement_tracking",
            at,
            waybill_no=self.waybill_no,
            status=status,
            location=location,
        )

    def complete(self, at: datetime) -> None:
        """Old one checked at the warehouse, new one on its way: the exchange is done."""
        if self.status is not ExchangeStatus.SHIPPED:
            raise IllegalTransition("exchange", self.status.value, "complete")
        self.status = ExchangeStatus.COMPLETED
        self._event("exchange.completed", at)

    @property
    def value_fen(self) -> int:
        """What the replacement units are worth at the price they were exchanged for, with
        the import tax on a dearer one's higher price."""
        return sum(ln.new_unit_fen * ln.quantity + ln.difference_tax_fen for ln in self.lines)

    def refund_fen(self, paid_fen: int) -> int:
        """What a cheaper replacement pays back once it ships: the difference at the old
        units' line price, but never more than the buyer paid for them (``paid_fen``: net of
        their coupon share and reductions, after the order's other refunds and claims) less
        what the replacement is worth, so an order's coupon is not paid out as a difference
        (0 when the buyer owes the difference)."""
        if self.difference_fen >= 0:
            return 0
        return min(-self.difference_fen, max(paid_fen - self.value_fen, 0))

    def unpaid_fen(self, collected_fen: int, refunded_fen: int) -> int:
        """What the buyer has not paid for a shipped replacement if the exchange falls through
        (the old item failed QC and the buyer lost the dispute): its value, less a dearer
        variant's difference they paid (``collected_fen``), plus a cheaper one's difference
        paid to them (``refunded_fen``); the price of the old item, when both moved."""
        return max(self.value_fen - collected_fen + refunded_fen, 0)

    def charge(self, at: datetime, amount_fen: int) -> None:
        """The old item failed QC and ops upheld it: the buyer keeps the replacement and is
        charged ``amount_fen`` for it (0: ops waived it); the exchange is finished."""
        if self.status is not ExchangeStatus.SHIPPED:
            raise IllegalTransition("exchange", self.status.value, "charge")
        if amount_fen < 0:
            raise ValueError("a charge is not negative")
        self.status = ExchangeStatus.CHARGED
        self._event("exchange.charged", at, amount_fen=amount_fen)

    def release(self, at: datetime, reason: str) -> None:
        """Give the reserved units back (refund instead, or the return was withdrawn)."""
        if self.status is not ExchangeStatus.RESERVED:
            raise IllegalTransition("exchange", self.status.value, "release")
        self.status = ExchangeStatus.RELEASED
        self._event("exchange.released", at, reason=reason)
