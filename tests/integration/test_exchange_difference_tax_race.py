"""A dearer exchange variant's import tax is collected with its difference and paid back with
it (RULES.md §2; docs/next.md, customs bullet), raced on SQLite and PostgreSQL.

Bonded orders of one lipstick, each exchanged for the dearer shade (its difference and the
tax on it collected at filing), self-shipped. Then, at once: each parcel's receipt (which
ships the replacement), the buyer's refund instead (twice) and withdrawal, and two exchange
sweeps. Whichever wins, the buyer paid the difference and its tax once: a shipped exchange
nets exactly that (``races.violations``, whose difference includes the tax), a released one
paid all of it back (``transfer_violations``). Losers: ``illegal_transition`` only.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from tests.conftest import T0  # type: ignore[import-not-found]
from tests.integration.races import (  # type: ignore[import-not-found]
    RecordingPayments,
    race,
    transfer_violations,
    violations,
)

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.exchange import ExchangeStatus, StockLevel
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, exchanges, returns, transfers, warehouse
from doorstep.services.context import Services
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-003"  # trust 600: the replacement ships at the warehouse's receipt
HOME = Address("310112", "上海市", "上海市", "闵行区", "莘松路958弄12号", "王浩然", "13800001003")
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
PRICE, TAX, DEARER = 32_000, 2_910, 34_000
OWED = DEARER - PRICE + (DEARER - PRICE) * TAX // PRICE  # 2,000 and 181 of tax
WH = "wh-sh-bonded"
EXCHANGES = 6  # 4 racers each and 2 sweeps: 26 at once


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _dearer_exchanges(svc: Services, n: int) -> list[str]:
    """``n`` bonded orders, each exchanged for the dearer shade and self-shipped."""
    batch = uuid.uuid4().hex[:8]
    released = T0 - timedelta(days=5)
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", DEARER, 100)])
    orders = [
        Order(
            f"XT-{batch}-{i:03d}",
            BUYER,
            "shop-test",
            Channel.BONDED,
            released - timedelta(days=1),
            HOME,
            (OrderLine("L1", LIP_1, 1, PRICE, TAX),),
            signed_at=T0 - timedelta(days=2),
            customs_released_at=released,
            declaration_no=f"DT-{batch}-{i:03d}",
        )
        for i in range(n)
    ]
    catalog.import_orders(svc, orders, None)
    made = []
    for i, order in enumerate(orders):
        rid = returns.open_return(
            svc,
            OpenReturn(
                BUYER,
                order.order_id,
                ReturnKind.EXCHANGE,
                (LineRequest("L1", 1, Reason.NO_REASON),),
                replacements={"L1": LIP_2},
            ),
        ).return_id
        returns.choose_self_send(svc, BUYER, rid, ReturnMethod.SELF_SHIP)
        returns.register_shipment(svc, BUYER, rid, f"SF{int(batch, 16) % 10**9:09d}{i:04d}", "sf")
        made.append(rid)
    return made


def test_a_dearer_variants_tax_is_collected_and_paid_back_with_its_difference(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    rids = _dearer_exchanges(svc, EXCHANGES)
    calls: list[Any] = []
    for rid in rids:
        calls += [lambda r=rid: warehouse.receive(svc, WH, r)]
        calls += [lambda r=rid: exchanges.refund_instead(svc, BUYER, r)] * 2
        calls += [lambda r=rid: returns.cancel_return(svc, BUYER, r, "changed_mind")]
    calls += [lambda: exchanges.advance_exchanges(svc)] * 2
    outcome = race(calls)
    assert set(outcome.codes) <= {"illegal_transition"}, outcome.codes
    transfers.retry_pending(svc)

    statuses = Counter(exchanges.get_exchange(svc, rid).status for rid in rids)
    assert set(statuses) <= {ExchangeStatus.SHIPPED, ExchangeStatus.RELEASED}, statuses
    for rid in rids:
        # The difference and its tax, collected once; all of it back if released.
        assert payments.collected[f"exchange-diff:{rid}"][1] == OWED
        back = payments.paid.get(f"exchange-diff-back:{rid}", ("", 0))[1]
        released = exchanges.get_exchange(svc, rid).status is ExchangeStatus.RELEASED
        assert back == (OWED if released else 0), (rid, back)
    assert violations(wired.engine, payments) == []
    assert transfer_violations(wired.engine, payments) == []
