"""How much a return refunds (issue 9 §1): one pure function with a line-by-line breakdown.

Goods of the returned lines, plus their withheld import tax where customs lets it go back,
plus the return freight when the buyer does not bear it, minus what the buyer took with the
order and no longer earns: a coupon's share, a full reduction (满减) or free shipping whose
threshold the kept rest no longer reaches, a gift kept. All in integer fen.

Order-level amounts are reckoned on the units returned so far (this return and the refunds
before it), and each refund takes the difference. That is what makes part returns add up:
coupon shares round once over the whole order instead of once per return, a deduction taken
when a threshold broke is given back when the rest comes back too, and when every unit has
come back the refunds together are exactly what was paid. A refund never goes below zero
nor above what is left of what was paid; what that clamp holds back (or gives) is carried
to the order's next refund as the ``balance`` line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from doorstep.domain.customs_clock import customs_clock
from doorstep.domain.customs_return import DeclarationFate
from doorstep.domain.order import Order, OrderLine


class Returning(Protocol):
    """Units of one order line going back, and whether the seller is at fault for them
    (``ReturnLine`` is one; the return aggregate stores quotes, so no import of it here)."""

    @property
    def order_line_id(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def seller_at_fault(self) -> bool: ...


class Part(StrEnum):
    """What one line of a breakdown is."""

    GOODS = "goods"
    TAX = "tax"  # withheld cross-border import tax
    RETURN_FREIGHT = "return_freight"
    COUPON = "coupon"  # the returned goods' share of the order's coupons
    FULL_REDUCTION = "full_reduction"  # 满减 whose threshold the kept rest no longer reaches
    FREE_SHIPPING = "free_shipping"  # waived outbound freight, same
    GIFT = "gift"  # marked value of a gift kept while its item goes back
    BALANCE = "balance"  # carried from or to the order's other refunds


class FreightPayer(StrEnum):
    """Who bears the return freight (RULES.md §1): the buyer, unless someone else agreed."""

    NOBODY = "nobody"  # nothing is sent back (refund only)
    BUYER = "buyer"
    SELLER = "seller"  # the seller is at fault
    SHOP = "shop"  # the shop promised it at purchase (退货包运费)
    INSURANCE = "insurance"  # return-freight insurance (运费险)


class TaxStatus(StrEnum):
    """Whether the withheld import tax goes back (RULES.md §2, announcement 2020 No. 45)."""

    NO_TAX = "no_tax"  # domestic goods, or nothing was withheld
    REFUNDED = "refunded"  # applied within 30 days of release, back within 45
    IF_ARRIVES = "if_arrives"  # not back yet: may be advanced, taken back unless customs accepts
    APPLICATION_LATE = "application_late"  # applied after day 30 of release
    ARRIVED_LATE = "arrived_late"  # the parcel came back after day 45 of release
    RELEASE_UNKNOWN = "release_unknown"  # no release date: the clocks cannot be checked
    # The customs return's settlement already paid it (received before the return was
    # graded): the goods refund leaves it out rather than paying it twice.
    CUSTOMS_SETTLED = "customs_settled"
    # Back in time, but customs has not accepted the declaration yet: the declaration's
    # settlement pays the tax once customs accepts it, the goods refund leaves it out.
    CUSTOMS_PENDING = "customs_pending"
    CUSTOMS_REJECTED = "customs_rejected"  # customs refused the return declaration
    NOT_DECLARED = "not_declared"  # the return was not declared by day 30 of release

    @property
    def refundable(self) -> bool:
        return self in (TaxStatus.REFUNDED, TaxStatus.IF_ARRIVES)


@dataclass(frozen=True)
class TaxOutcome:
    status: TaxStatus
    arrive_by: datetime | None = None  # the 45-day arrival deadline, when one applies


NO_TAX_OUTCOME = TaxOutcome(TaxStatus.NO_TAX)


def tax_outcome(
    order: Order,
    *,
    filed_at: datetime,
    arrived_at: datetime | None,
    application_days: int,
    arrival_days: int,
    declaration: DeclarationFate,
    now: datetime,
) -> TaxOutcome:
    """Does the withheld tax go back? Only when customs accepted the return declaration
    within the limits (RULES.md §2): the return applied for by day ``application_days`` of
    the list's release, declared by then, the goods back by ``arrival_days``. ``arrived_at``
    is when the warehouse received the parcel (None: not yet); ``declaration`` is what
    customs made of the return's declaration at ``now``.

    Before the goods are back the answer is ``if_arrives``: the tax may be advanced (the
    express refund at pickup, under the trust rules), and the customs return takes it back
    when customs refuses, the declaration lapses or the goods miss day 45. Once they are
    back, the tax is paid only on an accepted declaration; while customs has not answered
    the declaration's own settlement pays it later (``customs_pending``)."""
    if not order.channel.cross_border or not any(ln.tax_fen for ln in order.lines):
        return NO_TAX_OUTCOME
    released = order.customs_released_at
    if released is None:
        return TaxOutcome(TaxStatus.RELEASE_UNKNOWN)
    # The same clock as the audit and the pre-check (domain/customs_clock.py).
    clock = customs_clock(
        released, {"application_days": application_days, "arrival_days": arrival_days}
    )
    arrive_by = clock.arrival_by
    if not clock.can_apply(filed_at):
        return TaxOutcome(TaxStatus.APPLICATION_LATE, arrive_by)
    # Late goods (back after day 45, or not back once it passed) whatever customs said.
    if not clock.arrived_in_time(arrived_at or now):
        return TaxOutcome(TaxStatus.ARRIVED_LATE, arrive_by)
    if declaration is DeclarationFate.REJECTED:
        return TaxOutcome(TaxStatus.CUSTOMS_REJECTED, arrive_by)
    if declaration is DeclarationFate.LAPSED or (
        declaration is DeclarationFate.NONE and not clock.can_apply(now)
    ):
        return TaxOutcome(TaxStatus.NOT_DECLARED, arrive_by)
    if arrived_at is None:
        return TaxOutcome(TaxStatus.IF_ARRIVES, arrive_by)
    if declaration is DeclarationFate.ACCEPTED:
        return TaxOutcome(TaxStatus.REFUNDED, arrive_by)
    return TaxOutcome(TaxStatus.CUSTOMS_PENDING, arrive_by)


@dataclass(frozen=True)
class AmountLine:
    """One line of a breakdown; deductions are negative."""

    part: Part
    amount_fen: int
    line_id: str | None = None
    quantity: int = 0


@dataclass(frozen=True)
class Earlier:
    """What the order's earlier refunds covered: units per order line, the sum of their
    breakdowns before clamping, what they paid (return freight excluded), the tax they gave
    back, and the threshold deductions they took."""

    units: Mapping[str, int] = field(default_factory=dict)
    subtotal_fen: int = 0
    paid_fen: int = 0
    tax_fen: int = 0
    reduction_fen: int = 0
    shipping_fen: int = 0

    def plus(self, returned: Sequence[Returning], quote: RefundQuote) -> Earlier:
        """These, with one more refund."""
        units = dict(self.units)
        for line in returned:
            units[line.order_line_id] = units.get(line.order_line_id, 0) + line.quantity
        return Earlier(
            units,
            self.subtotal_fen + quote.subtotal_fen,
            self.paid_fen + quote.total_fen - quote.freight_fen,
            self.tax_fen + quote.tax_fen,
            self.reduction_fen - quote.part_fen(Part.FULL_REDUCTION),
            self.shipping_fen - quote.part_fen(Part.FREE_SHIPPING),
        )


@dataclass(frozen=True)
class RefundQuote:
    """The amount of one refund and why, line by line."""

    lines: tuple[AmountLine, ...]
    total_fen: int
    subtotal_fen: int  # the lines before the balance and the return freight
    tax: TaxOutcome
    freight_payer: FreightPayer

    def __post_init__(self) -> None:
        if self.total_fen < 0 or sum(ln.amount_fen for ln in self.lines) != self.total_fen:
            raise ValueError("a refund's lines add up to its total, which is not negative")

    def part_fen(self, part: Part) -> int:
        """The lines of one kind added up."""
        return sum(ln.amount_fen for ln in self.lines if ln.part is part)

    @property
    def goods_fen(self) -> int:
        return self.part_fen(Part.GOODS)

    @property
    def tax_fen(self) -> int:
        return self.part_fen(Part.TAX)

    @property
    def freight_fen(self) -> int:
        return self.part_fen(Part.RETURN_FREIGHT)

    @property
    def adjustments_fen(self) -> int:
        """Deductions, give-backs and balance together (usually negative)."""
        return self.total_fen - self.goods_fen - self.tax_fen - self.freight_fen

    def without_tax(self, tax: TaxOutcome) -> RefundQuote:
        """The refund as the buyer keeps it once its advanced import tax was taken back
        (customs gave none back, ``tax`` says why): the tax lines out, never below zero."""
        lines = [ln for ln in self.lines if ln.part is not Part.TAX]
        total = self.total_fen - self.tax_fen
        if total < 0:
            lines.append(AmountLine(Part.BALANCE, -total))
            total = 0
        return RefundQuote(
            tuple(lines), total, self.subtotal_fen - self.tax_fen, tax, self.freight_payer
        )


def freight_payer(
    order: Order, returned: Sequence[Returning], *, sends_goods: bool
) -> FreightPayer:
    """The seller pays when at fault (quality, wrong item, damaged, not as described...);
    for a no-reason return the buyer does, unless the shop promised it or insurance covers."""
    if not sends_goods:
        return FreightPayer.NOBODY
    if any(line.seller_at_fault for line in returned):
        return FreightPayer.SELLER
    if order.return_freight_by_shop:
        return FreightPayer.SHOP
    if order.freight_insurance:
        return FreightPayer.INSURANCE
    return FreightPayer.BUYER


def quote_refund(
    order: Order,
    returned: Sequence[Returning],
    *,
    tax: TaxOutcome,
    return_freight_fen: int,
    sends_goods: bool = True,
    earlier: Earlier | None = None,
) -> RefundQuote:
    """The refund for ``returned`` (lines of ``order``, each at most once), after the
    ``earlier`` refunds of the same order. ``sends_goods`` is false for a refund only (仅退款):
    no parcel, no freight. The service checks line ids and quantities first."""
    earlier = earlier or Earlier()
    before = earlier.units
    after = dict(before)
    for line in returned:
        after[line.order_line_id] = after.get(line.order_line_id, 0) + line.quantity
    lines: list[AmountLine] = []
    for line in returned:
        bought = _line(order, line.order_line_id)
        lines.append(
            AmountLine(Part.GOODS, bought.price_for(line.quantity), bought.line_id, line.quantity)
        )
        if tax.status.refundable:
            share = _tax_share(bought, after) - _tax_share(bought, before)
            if share:
                lines.append(AmountLine(Part.TAX, share, bought.line_id, line.quantity))
    # Thresholds broken by the buyer's choice cost the buyer; the seller's fault does not.
    buyer_choice = not all(line.seller_at_fault for line in returned)
    lines += _order_deductions(order, earlier, after, buyer_choice=buyer_choice)
    subtotal = sum(ln.amount_fen for ln in lines)
    # Tax not (yet) given back is not refundable money: the ceiling counts only tax that was.
    tax_back = earlier.tax_fen + sum(ln.amount_fen for ln in lines if ln.part is Part.TAX)
    ceiling = order.paid_fen - sum(ln.tax_fen for ln in order.lines) + tax_back
    room = max(ceiling - earlier.paid_fen, 0)
    due = earlier.subtotal_fen - earlier.paid_fen + subtotal
    paid = min(max(due, 0), room)
    if paid != subtotal:
        lines.append(AmountLine(Part.BALANCE, paid - subtotal))
    payer = freight_payer(order, returned, sends_goods=sends_goods)
    covered = payer in (FreightPayer.SELLER, FreightPayer.SHOP, FreightPayer.INSURANCE)
    if covered and return_freight_fen:
        lines.append(AmountLine(Part.RETURN_FREIGHT, return_freight_fen))
        paid += return_freight_fen
    return RefundQuote(tuple(lines), paid, subtotal, tax, payer)


def _line(order: Order, line_id: str) -> OrderLine:
    found = order.line(line_id)
    if found is None:
        raise ValueError(f"order {order.order_id} has no line {line_id}")
    return found


def _tax_share(line: OrderLine, units: Mapping[str, int]) -> int:
    # Rounded down on the units returned so far, so part returns never add up to more than
    # was withheld and the last one takes what is left.
    return line.tax_fen * units.get(line.line_id, 0) // line.quantity


def _goods(order: Order, units: Mapping[str, int]) -> int:
    return sum(ln.price_for(units.get(ln.line_id, 0)) for ln in order.lines)


def _order_deductions(
    order: Order, earlier: Earlier, after: Mapping[str, int], *, buyer_choice: bool
) -> list[AmountLine]:
    promo = order.promotions
    total = order.goods_fen
    out: list[AmountLine] = []
    goods_before, goods_after = _goods(order, earlier.units), _goods(order, after)
    if promo.coupon_fen and total:
        share = promo.coupon_fen * goods_after // total - promo.coupon_fen * goods_before // total
        if share:
            out.append(AmountLine(Part.COUPON, -share))
    kept = total - goods_after
    # A threshold the kept rest no longer reaches costs the buyer who chose to return; the
    # seller's fault does not, until nothing is kept and the discount was simply never paid.
    lost = promo.reduction_fen if kept < promo.reduction_threshold_fen else 0
    if (buyer_choice or kept == 0) and lost != earlier.reduction_fen:
        out.append(AmountLine(Part.FULL_REDUCTION, earlier.reduction_fen - lost))
    # Waived outbound freight is owed only while something is kept below the threshold.
    owed = promo.waived_shipping_fen if 0 < kept < promo.free_shipping_threshold_fen else 0
    if (buyer_choice or owed < earlier.shipping_fen) and owed != earlier.shipping_fen:
        out.append(AmountLine(Part.FREE_SHIPPING, earlier.shipping_fen - owed))
    for gift in order.lines:
        if gift.gift_for is None or not gift.gift_value_fen:
            continue
        more = _kept_gift(order, gift, after) - _kept_gift(order, gift, earlier.units)
        if more:
            out.append(AmountLine(Part.GIFT, -more * gift.gift_value_fen, gift.line_id, more))
    return out


def _kept_gift(order: Order, gift: OrderLine, units: Mapping[str, int]) -> int:
    """Gift units kept once every unit of the item that earned the gift has gone back."""
    assert gift.gift_for is not None
    item = _line(order, gift.gift_for)
    if units.get(item.line_id, 0) < item.quantity:
        return 0
    return gift.quantity - units.get(gift.line_id, 0)
