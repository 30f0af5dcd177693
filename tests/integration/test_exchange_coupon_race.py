"""Exchanges for a cheaper variant of orders bought with a coupon, shipped at receipt, raced
on SQLite and PostgreSQL: each parcel received while the sweep ships the same exchanges. A
cheaper replacement pays back the difference at the old line's price only up to what the
buyer paid for the units less the replacement's worth (``Exchange.refund_fen``), once; in
SQL no order is paid back more than was paid (``races.violations``, every transfer counted;
before, the coupon went out as part of the difference)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.exchange import ExchangeStatus, StockLevel
from doorstep.domain.order import Channel, Order, OrderLine, Promotions
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, exchanges, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-002"
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
WH = "wh-sh-01"
# One V01 at 32,000 with a 20,000 coupon (12,000 paid) for a V02 at 4,000: 8,000 back, not
# the line-price difference of 28,000.
PRICE, COUPON, CHEAPER = 32_000, 20_000, 4_000


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _on_their_way(app: App, n: int) -> list[str]:
    svc = app.services
    exchanges.upsert_stock(
        svc,
        [
            StockLevel(LIP_1, "lipstick-velvet", PRICE, 10 * n),
            StockLevel(LIP_2, "lipstick-velvet", CHEAPER, 10 * n),
        ],
    )
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:6]
    orders = [
        Order(
            f"XC-{batch}-{i:02d}",
            BUYER,
            "shop-cn-home",
            Channel.DOMESTIC,
            placed,
            HOME,
            (OrderLine("L1", LIP_1, 1, PRICE),),
            signed_at=placed + timedelta(days=1),
            promotions=Promotions(coupon_fen=COUPON),
        )
        for i in range(n)
    ]
    catalog.import_orders(svc, orders, None)
    ids = []
    for order in orders:
        request = returns.open_return(
            svc,
            OpenReturn(
                BUYER,
                order.order_id,
                ReturnKind.EXCHANGE,
                (LineRequest("L1", 1, Reason.NO_REASON),),
                replacements={"L1": LIP_2},
            ),
        )
        returns.choose_self_send(svc, BUYER, request.return_id, ReturnMethod.SELF_SHIP)
        returns.register_shipment(svc, BUYER, request.return_id, "SF1234567890123", "sf")
        ids.append(request.return_id)
    return ids


def test_cheaper_exchanges_of_coupon_orders_raced_pay_back_at_most_what_was_paid(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    ids = _on_their_way(wired, RACERS // 2)
    for return_id in ids:  # shipped at receipt: nothing has moved yet
        assert exchanges.get_exchange(svc, return_id).status is ExchangeStatus.RESERVED

    calls = [lambda r=r: warehouse.receive(svc, WH, r) for r in ids]
    calls += [lambda: exchanges.advance_exchanges(svc) for _ in ids]
    outcome = race(calls)
    assert not outcome.codes, outcome.codes
    exchanges.advance_exchanges(svc)

    for return_id in ids:
        assert exchanges.get_exchange(svc, return_id).status is ExchangeStatus.SHIPPED
        assert payments.paid[f"exchange-diff-refund:{return_id}"][1] == PRICE - COUPON - CHEAPER
    assert violations(wired, payments) == []
