"""Exchanges released while racing, on SQLite and PostgreSQL: the buyer withdraws, review
refuses and the buyer takes a refund instead, all at once, on exchanges whose dearer
variant's difference was collected at filing. Whichever releases the exchange, the units go
back once and the collected difference is paid back once, for what was collected
(``races.transfer_violations``: collected == paid back for every released exchange)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    race,
    transfer_violations,
)

from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.exchange import StockLevel
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.services import catalog, exchanges, returns
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-003"
HOME = Address("310112", "上海市", "上海市", "闵行区", "莘松路958弄12号", "王浩然", "13800001003")
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"


def _held_exchanges(app: App, n: int) -> list[str]:
    """``n`` exchanges for the dearer lipstick held for review (a quality reason without a
    photo), each with its 2,000 fen difference collected."""
    placed = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:8]
    orders = [
        Order(
            f"XL-{batch}-{i:03d}",
            BUYER,
            "shop-test",
            Channel.DOMESTIC,
            placed,
            HOME,
            (OrderLine("L1", LIP_1, 1, 32_000),),
            signed_at=placed + timedelta(days=3),
        )
        for i in range(n)
    ]
    catalog.import_orders(app.services, orders, None)
    filed = []
    for order in orders:
        request = returns.open_return(
            app.services,
            OpenReturn(
                BUYER,
                order.order_id,
                ReturnKind.EXCHANGE,
                (LineRequest("L1", 1, Reason.QUALITY),),
                replacements={"L1": LIP_2},
            ),
        )
        assert request.status is ReturnStatus.IN_REVIEW
        filed.append(request.return_id)
    return filed


def test_withdraw_reject_and_refund_instead_at_once_pay_back_once(
    wired: App, payments: LocalPayments
) -> None:
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", 34_000, 50)])
    filed = _held_exchanges(wired, RACERS // 3)
    assert {f"exchange-diff:{r}" for r in filed} <= payments.collected.keys()
    calls = []
    for rid in filed:
        calls += [
            lambda r=rid: returns.cancel_return(svc, BUYER, r, "changed my mind"),
            lambda r=rid: returns.review_return(svc, r, approve=False, reviewer="ops", note=""),
            lambda r=rid: exchanges.refund_instead(svc, BUYER, r),
        ]
    outcome = race(calls)
    assert len(outcome.won) >= len(filed)  # at least the first of each three
    with wired.engine.connect() as conn:
        reserved = conn.execute(
            text("SELECT reserved FROM stock WHERE sku = :s"), {"s": LIP_2}
        ).scalar()
        released = conn.execute(
            text(
                "SELECT aggregate_id, COUNT(*) FROM events WHERE name = 'exchange.released'"
                " AND aggregate_id IN :ids GROUP BY aggregate_id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": filed},
        ).all()
        paybacks = conn.execute(
            text(
                "SELECT subject_id, COUNT(*), SUM(amount_fen) FROM transfers"
                " WHERE purpose = 'exchange_payback' AND status = 'succeeded'"
                " AND subject_id IN :ids GROUP BY subject_id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": filed},
        ).all()
    assert reserved == 0
    assert {r: n for r, n in released} == dict.fromkeys(filed, 1)
    assert {r: (n, total) for r, n, total in paybacks} == {r: (1, 2_000) for r in filed}
    back = {f"exchange-diff-back:{r}": 2_000 for r in filed}
    assert {k: v[1] for k, v in payments.paid.items() if k in back} == back
    assert transfer_violations(wired.engine, payments) == []
