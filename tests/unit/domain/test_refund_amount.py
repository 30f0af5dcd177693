"""The refund amount (issue 9 §1): examples, and properties over random orders and returns."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.customs_return import DeclarationFate
from doorstep.domain.order import Channel, Order, OrderLine, Promotions
from doorstep.domain.refund_amount import (
    AmountLine,
    Earlier,
    FreightPayer,
    Part,
    RefundQuote,
    TaxOutcome,
    TaxStatus,
    quote_refund,
    tax_outcome,
)
from doorstep.domain.returns import Reason, ReturnLine

T0 = datetime(2026, 4, 1, 10, 0, tzinfo=SHANGHAI)
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
NO_TAX = TaxOutcome(TaxStatus.NO_TAX)
REFUNDED = TaxOutcome(TaxStatus.REFUNDED)
FREIGHT = 1_200


def order(*lines: OrderLine, channel: Channel = Channel.DOMESTIC, **kw: object) -> Order:
    return Order("O1", "B1", "S1", channel, T0, HOME, lines, signed_at=T0, **kw)  # type: ignore[arg-type]


def back(line_id: str, quantity: int = 1, reason: Reason = Reason.NO_REASON) -> ReturnLine:
    return ReturnLine(line_id, "SKU", quantity, reason)


def parts(quote: RefundQuote) -> list[tuple[str, int]]:
    return [(ln.part.value, ln.amount_fen) for ln in quote.lines]


# --- examples -----------------------------------------------------------------------------------


def test_goods_only_for_a_plain_no_reason_return() -> None:
    o = order(OrderLine("L1", "A", 2, 10_000))
    quote = quote_refund(o, [back("L1")], tax=NO_TAX, return_freight_fen=FREIGHT)
    assert parts(quote) == [("goods", 10_000)]
    assert quote.total_fen == 10_000 and quote.freight_payer is FreightPayer.BUYER


def test_tax_only_when_customs_lets_it_go_back() -> None:
    o = order(OrderLine("L1", "A", 3, 10_000, tax_fen=2_731), channel=Channel.BONDED)
    with_tax = quote_refund(o, [back("L1", 2)], tax=REFUNDED, return_freight_fen=FREIGHT)
    assert parts(with_tax) == [("goods", 20_000), ("tax", 1_820)]  # 2731 × 2 // 3
    late = quote_refund(
        o, [back("L1", 2)], tax=TaxOutcome(TaxStatus.ARRIVED_LATE), return_freight_fen=FREIGHT
    )
    assert parts(late) == [("goods", 20_000)]


@pytest.mark.parametrize(
    ("reason", "kw", "payer"),
    [
        (Reason.QUALITY, {}, FreightPayer.SELLER),
        (Reason.WRONG_ITEM, {}, FreightPayer.SELLER),
        (Reason.DAMAGED_ON_ARRIVAL, {}, FreightPayer.SELLER),
        (Reason.NOT_AS_DESCRIBED, {}, FreightPayer.SELLER),
        (Reason.NO_REASON, {"return_freight_by_shop": True}, FreightPayer.SHOP),
        (Reason.NO_REASON, {"freight_insurance": True}, FreightPayer.INSURANCE),
    ],
)
def test_return_freight_when_the_buyer_does_not_bear_it(
    reason: Reason, kw: dict[str, bool], payer: FreightPayer
) -> None:
    o = order(OrderLine("L1", "A", 1, 10_000), **kw)
    quote = quote_refund(o, [back("L1", 1, reason)], tax=NO_TAX, return_freight_fen=FREIGHT)
    assert quote.freight_payer is payer
    assert parts(quote) == [("goods", 10_000), ("return_freight", FREIGHT)]
    assert quote.total_fen == 11_200 and quote.freight_fen == FREIGHT


def test_no_freight_for_a_refund_only() -> None:
    o = order(OrderLine("L1", "A", 1, 10_000))
    quote = quote_refund(
        o, [back("L1", 1, Reason.QUALITY)], tax=NO_TAX, return_freight_fen=FREIGHT,
        sends_goods=False,
    )  # fmt: skip
    assert quote.freight_payer is FreightPayer.NOBODY and quote.total_fen == 10_000


def test_coupon_shared_pro_rata_and_whole_over_part_returns() -> None:
    o = order(
        OrderLine("L1", "A", 1, 10_000),
        OrderLine("L2", "B", 2, 10_000),
        promotions=Promotions(coupon_fen=1_000),
    )
    first = quote_refund(o, [back("L2")], tax=NO_TAX, return_freight_fen=0)
    assert parts(first) == [("goods", 10_000), ("coupon", -333)]
    earlier = Earlier().plus([back("L2")], first)
    second = quote_refund(o, [back("L1"), back("L2")], tax=NO_TAX, return_freight_fen=0,
                          earlier=earlier)  # fmt: skip
    assert parts(second) == [("goods", 10_000), ("goods", 10_000), ("coupon", -667)]
    assert first.total_fen + second.total_fen == o.paid_fen == 29_000


def test_broken_full_reduction_is_deducted_for_a_no_reason_return_only() -> None:
    o = order(
        OrderLine("L1", "A", 1, 20_000),
        OrderLine("L2", "B", 1, 12_000),
        promotions=Promotions(reduction_fen=3_000, reduction_threshold_fen=30_000),
    )
    buyer = quote_refund(o, [back("L2")], tax=NO_TAX, return_freight_fen=0)
    assert parts(buyer) == [("goods", 12_000), ("full_reduction", -3_000)]
    seller = quote_refund(o, [back("L2", 1, Reason.QUALITY)], tax=NO_TAX, return_freight_fen=0)
    assert parts(seller) == [("goods", 12_000)]
    everything = quote_refund(o, [back("L1"), back("L2")], tax=NO_TAX, return_freight_fen=0)
    assert everything.total_fen == o.paid_fen == 29_000


def test_free_shipping_deducted_while_something_is_kept_and_given_back_after() -> None:
    o = order(
        OrderLine("L1", "A", 1, 39_900),
        OrderLine("L2", "B", 2, 5_900),
        promotions=Promotions(free_shipping_threshold_fen=49_900, waived_shipping_fen=1_200),
    )
    towels = quote_refund(o, [back("L2", 2)], tax=NO_TAX, return_freight_fen=0)
    assert parts(towels) == [("goods", 11_800), ("free_shipping", -1_200)]
    rest = quote_refund(o, [back("L1")], tax=NO_TAX, return_freight_fen=0,
                        earlier=Earlier().plus([back("L2", 2)], towels))  # fmt: skip
    assert parts(rest) == [("goods", 39_900), ("free_shipping", 1_200)]
    assert towels.total_fen + rest.total_fen == o.paid_fen


def test_a_kept_gift_costs_its_marked_value_until_it_comes_back() -> None:
    o = order(
        OrderLine("L1", "A", 2, 39_900),
        OrderLine("L3", "GIFT", 2, 0, gift_for="L1", gift_value_fen=2_900),
    )
    kept = quote_refund(o, [back("L1", 2, Reason.QUALITY)], tax=NO_TAX, return_freight_fen=0)
    assert parts(kept) == [("goods", 79_800), ("gift", -5_800)]
    one_pillow = quote_refund(o, [back("L1", 1)], tax=NO_TAX, return_freight_fen=0)
    assert parts(one_pillow) == [("goods", 39_900)]  # the other pillow still earns the gift
    gifts = quote_refund(o, [back("L3", 2)], tax=NO_TAX, return_freight_fen=0,
                         earlier=Earlier().plus([back("L1", 2)], kept))  # fmt: skip
    assert parts(gifts) == [("goods", 0), ("gift", 5_800)]


def test_a_deduction_larger_than_the_goods_is_carried_not_negative() -> None:
    o = order(
        OrderLine("L1", "A", 1, 29_000),
        OrderLine("L2", "B", 1, 1_000),
        promotions=Promotions(reduction_fen=3_000, reduction_threshold_fen=30_000),
    )
    small = quote_refund(o, [back("L2")], tax=NO_TAX, return_freight_fen=FREIGHT)
    assert small.total_fen == 0 and parts(small)[-1] == ("balance", 2_000)
    rest = quote_refund(o, [back("L1")], tax=NO_TAX, return_freight_fen=FREIGHT,
                        earlier=Earlier().plus([back("L2")], small))  # fmt: skip
    assert parts(rest) == [("goods", 29_000), ("balance", -2_000)]
    assert rest.total_fen == o.paid_fen == 27_000


def test_tax_outcome_follows_both_customs_clocks() -> None:
    released = T0
    o = replace(
        order(OrderLine("L1", "A", 1, 10_000, tax_fen=910), channel=Channel.BONDED),
        customs_released_at=released,
    )

    def status(
        filed_days: int,
        arrived_days: int | None,
        fate: DeclarationFate = DeclarationFate.ACCEPTED,
        now_days: int | None = None,
    ) -> TaxStatus:
        arrived = None if arrived_days is None else released + timedelta(days=arrived_days)
        now_days = now_days if now_days is not None else (arrived_days or filed_days)
        return tax_outcome(
            o,
            filed_at=released + timedelta(days=filed_days),
            arrived_at=arrived,
            application_days=30,
            arrival_days=45,
            declaration=fate,
            now=released + timedelta(days=now_days),
        ).status

    assert status(10, None) is TaxStatus.IF_ARRIVES
    assert status(10, 20) is TaxStatus.REFUNDED
    assert status(10, 45) is TaxStatus.REFUNDED  # until the end of day 45
    assert status(10, 46) is TaxStatus.ARRIVED_LATE
    assert status(31, None) is TaxStatus.APPLICATION_LATE

    def unanswered(of: Order) -> TaxStatus:
        return tax_outcome(of, filed_at=T0, arrived_at=None, application_days=30,
                           arrival_days=45, declaration=DeclarationFate.NONE, now=T0).status  # fmt: skip

    assert unanswered(replace(o, customs_released_at=None)) is TaxStatus.RELEASE_UNKNOWN
    assert unanswered(order(OrderLine("L1", "A", 1, 10_000))) is TaxStatus.NO_TAX


def test_tax_outcome_reads_the_declarations_fate_not_only_the_clocks() -> None:
    """The tax goes back only on a declaration customs accepted (RULES.md §2)."""
    o = replace(
        order(OrderLine("L1", "A", 1, 10_000, tax_fen=910), channel=Channel.BONDED),
        customs_released_at=T0,
    )

    def status(fate: DeclarationFate, arrived_days: int | None, now_days: int) -> TaxStatus:
        return tax_outcome(
            o,
            filed_at=T0 + timedelta(days=5),
            arrived_at=None if arrived_days is None else T0 + timedelta(days=arrived_days),
            application_days=30,
            arrival_days=45,
            declaration=fate,
            now=T0 + timedelta(days=now_days),
        ).status

    # Back in time, but customs refused or it was never declared: nothing goes back.
    assert status(DeclarationFate.REJECTED, 20, 20) is TaxStatus.CUSTOMS_REJECTED
    assert status(DeclarationFate.REJECTED, None, 10) is TaxStatus.CUSTOMS_REJECTED
    assert status(DeclarationFate.LAPSED, 20, 32) is TaxStatus.NOT_DECLARED
    assert status(DeclarationFate.NONE, 20, 32) is TaxStatus.NOT_DECLARED
    # Back in time, customs has not answered: the declaration's settlement pays it later.
    assert status(DeclarationFate.PENDING, 20, 20) is TaxStatus.CUSTOMS_PENDING
    assert not TaxStatus.CUSTOMS_PENDING.refundable
    # Not back yet: it may be advanced while customs may still accept it in time...
    assert status(DeclarationFate.PENDING, None, 10) is TaxStatus.IF_ARRIVES
    assert status(DeclarationFate.NONE, None, 10) is TaxStatus.IF_ARRIVES
    # ...but not once day 45 passed without the goods, even on an accepted declaration.
    assert status(DeclarationFate.ACCEPTED, None, 46) is TaxStatus.ARRIVED_LATE
    assert status(DeclarationFate.ACCEPTED, 50, 50) is TaxStatus.ARRIVED_LATE


def test_a_quote_without_its_tax_keeps_the_rest_and_never_goes_below_zero() -> None:
    o = replace(
        order(OrderLine("L1", "A", 1, 10_000, tax_fen=910), channel=Channel.BONDED),
        customs_released_at=T0,
    )
    advanced = quote_refund(
        o, [back("L1")], tax=TaxOutcome(TaxStatus.IF_ARRIVES), return_freight_fen=FREIGHT
    )
    assert advanced.tax_fen == 910 and advanced.total_fen == 10_910
    kept = advanced.without_tax(TaxOutcome(TaxStatus.CUSTOMS_REJECTED))
    assert kept.tax_fen == 0 and kept.total_fen == 10_000 and kept.goods_fen == 10_000
    assert kept.tax.status is TaxStatus.CUSTOMS_REJECTED
    assert sum(ln.amount_fen for ln in kept.lines) == kept.total_fen
    # A refund clamped below its tax (a balance took most of it) keeps nothing, not less.
    clamped = RefundQuote(
        (
            AmountLine(Part.GOODS, 1_000),
            AmountLine(Part.TAX, 910),
            AmountLine(Part.BALANCE, -1_500),
        ),
        410,
        1_910,
        TaxOutcome(TaxStatus.IF_ARRIVES),
        FreightPayer.BUYER,
    )
    nothing = clamped.without_tax(TaxOutcome(TaxStatus.ARRIVED_LATE))
    assert nothing.total_fen == 0 and nothing.tax_fen == 0
    assert sum(ln.amount_fen for ln in nothing.lines) == 0


# --- properties ---------------------------------------------------------------------------------


@st.composite
def orders(draw: st.DrawFn) -> Order:
    n = draw(st.integers(1, 4))
    cross_border = draw(st.booleans())
    lines = []
    for i in range(1, n + 1):
        quantity = draw(st.integers(1, 5))
        price = draw(st.integers(0, 300_000))
        tax = draw(st.integers(0, price * quantity // 3)) if cross_border else 0
        lines.append(OrderLine(f"L{i}", f"S{i}", quantity, price, tax))
    for i in range(draw(st.integers(0, 2))):
        lines.append(
            OrderLine(
                f"G{i}", f"GIFT{i}", draw(st.integers(1, 3)), 0,
                gift_for=f"L{draw(st.integers(1, n))}", gift_value_fen=draw(st.integers(0, 50_000)),
            )
        )  # fmt: skip
    goods = sum(ln.price_for(ln.quantity) for ln in lines)
    coupon = draw(st.integers(0, goods))
    reduction = draw(st.integers(0, goods - coupon))
    free_threshold = draw(st.integers(0, goods + 10_000))
    promotions = Promotions(
        coupon_fen=coupon,
        reduction_fen=reduction,
        reduction_threshold_fen=draw(st.integers(reduction, max(reduction, goods + 10_000))),
        free_shipping_threshold_fen=free_threshold,
        waived_shipping_fen=draw(st.integers(0, 2_000)) if free_threshold else 0,
    )
    return order(
        *lines,
        channel=Channel.BONDED if cross_border else Channel.DOMESTIC,
        promotions=promotions,
        freight_insurance=draw(st.booleans()),
        return_freight_by_shop=draw(st.booleans()),
    )


@st.composite
def returns_of_everything(draw: st.DrawFn) -> tuple[Order, list[list[ReturnLine]]]:
    """An order and every one of its units sent back over one to four returns."""
    o = draw(orders())
    chunks = draw(st.integers(1, 4))
    batches: list[dict[str, int]] = [{} for _ in range(chunks)]
    for line in o.lines:
        for _unit in range(line.quantity):
            batch = batches[draw(st.integers(0, chunks - 1))]
            batch[line.line_id] = batch.get(line.line_id, 0) + 1
    reasons = st.sampled_from(list(Reason))
    returns = [
        [back(line_id, qty, draw(reasons)) for line_id, qty in batch.items()]
        for batch in batches
        if batch
    ]
    return o, draw(st.permutations(returns))


def _run(
    o: Order, returns: list[list[ReturnLine]], taxes: list[TaxOutcome], freight: int
) -> list[RefundQuote]:
    earlier = Earlier()
    quotes = []
    for returned, tax in zip(returns, taxes, strict=False):
        quote = quote_refund(o, returned, tax=tax, return_freight_fen=freight, earlier=earlier)
        quotes.append(quote)
        earlier = earlier.plus(returned, quote)
    return quotes


LATE = TaxOutcome(TaxStatus.ARRIVED_LATE)


@settings(max_examples=200, deadline=None)
@given(
    returns_of_everything(),
    st.lists(st.sampled_from([REFUNDED, LATE]), min_size=4, max_size=4),
    st.integers(0, 3_000),
)
def test_refunds_never_negative_never_above_paid_and_add_up_to_the_order(
    case: tuple[Order, list[list[ReturnLine]]], taxes: list[TaxOutcome], freight: int
) -> None:
    """Whatever the split, order and reasons: each refund is at least zero, together they never
    pass what was paid, and once everything is back they are exactly what was paid less the
    tax that customs kept."""
    o, returns = case
    quotes = _run(o, returns, taxes, freight)
    paid_back = 0
    for quote in quotes:
        assert quote.total_fen >= 0
        assert sum(ln.amount_fen for ln in quote.lines) == quote.total_fen
        assert 0 <= quote.freight_fen <= freight
        paid_back += quote.total_fen - quote.freight_fen
        assert paid_back <= o.paid_fen
    withheld = sum(ln.tax_fen for ln in o.lines)
    assert paid_back == o.paid_fen - withheld + sum(q.tax_fen for q in quotes)
    if all(tax is REFUNDED for tax in taxes):
        assert paid_back == o.paid_fen


@settings(max_examples=200, deadline=None)
@given(returns_of_everything())
def test_goods_and_tax_lines_add_up_to_the_order_lines(
    case: tuple[Order, list[list[ReturnLine]]],
) -> None:
    o, returns = case
    quotes = _run(o, returns, [REFUNDED] * 4, 0)
    for line in o.lines:
        for part, expected in (
            (Part.GOODS, line.price_for(line.quantity)),
            (Part.TAX, line.tax_fen),
        ):
            got = sum(
                ln.amount_fen for q in quotes for ln in q.lines
                if ln.part is part and ln.line_id == line.line_id
            )  # fmt: skip
            assert got == expected


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_one_return_never_refunds_more_than_its_lines_cost(o: Order, data: st.DataObject) -> None:
    picked = data.draw(st.lists(st.sampled_from(o.lines), min_size=1, unique=True))
    returned = [
        back(ln.line_id, data.draw(st.integers(1, ln.quantity)), data.draw(st.sampled_from(list(Reason))))
        for ln in picked
    ]  # fmt: skip
    quote = quote_refund(o, returned, tax=REFUNDED, return_freight_fen=FREIGHT)
    cost = sum(
        o.lines[[ln.line_id for ln in o.lines].index(r.order_line_id)].price_for(r.quantity)
        + o.lines[[ln.line_id for ln in o.lines].index(r.order_line_id)].tax_for(r.quantity)
        for r in returned
    )
    assert 0 <= quote.total_fen - quote.freight_fen <= cost
    assert quote.freight_fen in (0, FREIGHT)
