"""A dearer exchange variant's import tax (RULES.md §2: the tax, 70 % of VAT + consumption tax,
is withheld on the actual price; the replacement is imported in the returned unit's place,
whose withheld tax covers only its own price): the tax on the price difference, at the
bought line's rate, is quoted with the difference, collected with it and paid back wherever
it is paid back. Domestic goods and cheaper variants carry none."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    new_order,
    two_of_three_taken,
    yto,
)

from doorstep.domain.exchange import ExchangeLine
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.entrypoints.api.after_sales import exchange_out
from doorstep.services import exchanges, returns
from doorstep.services.returns import LineRequest, OpenReturn

LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"  # 32,000 and 34,000 fen
UNIT, TAX = 32_000, 2_910  # per unit: 9.09 % of the price
DIFF = 2_000
DIFF_TAX = DIFF * TAX // UNIT  # 181


def _order(world: World, channel: Channel, quantity: int = 1) -> Order:
    tax = TAX * quantity if channel.cross_border else 0
    order = new_order(
        world,
        channel=channel,
        released_days_ago=5 if channel.cross_border else None,
        lines=(OrderLine("L1", LIP_1, quantity, UNIT, tax),),
    )
    if channel.cross_border:
        order = replace(order, declaration_no=f"D{order.order_id}")
        world.store.put("orders", order.order_id, order)
    return order


def _exchange(world: World, order: Order, to_sku: str = LIP_2, quantity: int = 1) -> str:
    return returns.open_return(
        world.svc,
        OpenReturn(
            B3,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", quantity, Reason.NO_REASON),),
            replacements={"L1": to_sku},
        ),
    ).return_id


def test_the_line_taxes_a_dearer_difference_at_the_bought_lines_rate() -> None:
    line = ExchangeLine("L1", LIP_1, LIP_2, 3, UNIT, UNIT + DIFF, 3 * TAX, 3 * UNIT)
    assert line.difference_tax_fen == 3 * DIFF * TAX // UNIT
    assert line.difference_fen == 3 * DIFF + line.difference_tax_fen
    cheaper = ExchangeLine("L1", LIP_2, LIP_1, 1, UNIT + DIFF, UNIT, TAX, UNIT + DIFF)
    assert (cheaper.difference_tax_fen, cheaper.difference_fen) == (0, -DIFF)
    before = ExchangeLine("L1", LIP_1, LIP_2, 1, UNIT, UNIT + DIFF)  # stored before the tax
    assert (before.difference_tax_fen, before.difference_fen) == (0, DIFF)


def test_a_dearer_bonded_variant_is_quoted_and_collected_with_its_tax(world: World) -> None:
    rid = _exchange(world, _order(world, Channel.BONDED))

    exchange = exchanges.get_exchange(world.svc, rid)
    assert (exchange.difference_fen, exchange.difference_tax_fen) == (DIFF + DIFF_TAX, DIFF_TAX)
    quoted = exchange_out(exchange)
    assert (quoted.difference_fen, quoted.difference_tax_fen) == (DIFF + DIFF_TAX, DIFF_TAX)
    assert world.payments.collected[f"exchange-diff:{rid}"][1] == DIFF + DIFF_TAX


def test_refund_instead_pays_the_tax_back_with_the_difference(world: World) -> None:
    rid = _exchange(world, _order(world, Channel.BONDED))
    exchanges.refund_instead(world.svc, B3, rid)
    back = {k: v for k, (_, v) in world.payments.paid.items() if k.startswith("exchange-diff")}
    assert back == {f"exchange-diff-back:{rid}": DIFF + DIFF_TAX}


def test_units_left_at_the_door_give_their_share_of_the_tax_back(world: World) -> None:
    rid = _exchange(world, _order(world, Channel.BONDED, quantity=3), quantity=3)
    two_of_three_taken(world, B3, rid, yto(13))

    collected = 3 * DIFF + 3 * DIFF * TAX // UNIT
    kept = 2 * DIFF + 2 * DIFF * TAX // UNIT
    assert exchanges.get_exchange(world.svc, rid).difference_fen == kept
    assert world.payments.collected[f"exchange-diff:{rid}"][1] == collected
    assert world.payments.paid[f"exchange-diff-part:{rid}"][1] == collected - kept


@pytest.mark.parametrize("channel", [Channel.DOMESTIC])
def test_domestic_goods_carry_no_import_tax(world: World, channel: Channel) -> None:
    rid = _exchange(world, _order(world, channel))
    exchange = exchanges.get_exchange(world.svc, rid)
    assert (exchange.difference_fen, exchange.difference_tax_fen) == (DIFF, 0)
    assert world.payments.collected[f"exchange-diff:{rid}"][1] == DIFF
