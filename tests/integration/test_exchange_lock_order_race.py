"""One lock order for a return and its exchange (the return's row, then the exchange's), on
SQLite and PostgreSQL: the buyer withdraws, review refuses and the buyer takes a refund
instead, all at once, on exchanges held for review. Each return has exactly one winner, and
the others lose with the domain's own answer to what the winner did (``illegal_transition``,
``not_in_review``), never with ``stale_write``: two paths that lock the rows in opposite
orders deadlock (PostgreSQL aborts one) or overwrite a version they read before the wait.
(A refund instead leaves a refund in review, which a withdrawal or a refusal after it may
still end: then two win, one after the other; the exchange is released once either way,
``races.violations``: "settled twice".)"""

from __future__ import annotations

import uuid
from collections import Counter
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
from doorstep.domain.exchange import ExchangeStatus, StockLevel
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.services import catalog, exchanges, returns
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-003"
HOME = Address("310112", "上海市", "上海市", "闵行区", "莘松路958弄12号", "王浩然", "13800001003")
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
# What a loser may answer: the return is no longer in review, or no longer open to withdraw
# or to convert, or its exchange was released.
DOMAIN_LOST = {"illegal_transition", "not_in_review"}
ROUNDS = 3


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _held(app: App, n: int) -> list[str]:
    """``n`` exchanges for the dearer lipstick held for review (a quality reason without a
    photo), their 2,000 fen difference collected."""
    placed = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:8]
    orders = [
        Order(
            f"XO-{batch}-{i:03d}",
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
    filed = [
        returns.open_return(
            app.services,
            OpenReturn(
                BUYER,
                o.order_id,
                ReturnKind.EXCHANGE,
                (LineRequest("L1", 1, Reason.QUALITY),),
                replacements={"L1": LIP_2},
            ),
        ).return_id
        for o in orders
    ]
    assert all(returns.get_return(app.services, r).status is ReturnStatus.IN_REVIEW for r in filed)
    return filed


def test_withdraw_reject_and_refund_instead_at_once_have_one_winner_and_no_stale_write(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", 34_000, 100)])
    codes: Counter[str] = Counter()
    for _ in range(ROUNDS):
        filed = _held(wired, RACERS // 3)
        calls = []
        for rid in filed:
            calls += [
                lambda r=rid: ("cancelled", returns.cancel_return(svc, BUYER, r, "changed")),
                lambda r=rid: (
                    "rejected",
                    returns.review_return(svc, r, approve=False, reviewer="ops", note=""),
                ),
                lambda r=rid: ("refund", exchanges.refund_instead(svc, BUYER, r)),
            ]
        out = race(calls)
        codes += out.codes
        assert len(out.won) + len(out.lost) == len(calls)
        won: dict[str, list[str]] = {r: [] for r in filed}
        for what, request in out.won:
            won[request.return_id].append(what)
        for rid, what in won.items():
            # One decision on the exchange: the first to lock the return wins. Refund instead
            # leaves a refund still in review, which the buyer may then withdraw or review
            # refuse (the one of the two that comes first); nothing else wins twice.
            assert sorted(what) in (["cancelled"], ["rejected"], ["refund"]) or (
                sorted(what) in (["cancelled", "refund"], ["refund", "rejected"])
            ), (rid, what)
            done = returns.get_return(svc, rid)
            kind = ReturnKind.REFUND if "refund" in what else ReturnKind.EXCHANGE
            status = (
                ReturnStatus.CANCELLED
                if "cancelled" in what
                else ReturnStatus.REJECTED
                if "rejected" in what
                else ReturnStatus.IN_REVIEW
            )
            assert (done.kind, done.status) == (kind, status), (rid, what, done.status)
            assert exchanges.get_exchange(svc, rid).status is ExchangeStatus.RELEASED
    assert set(codes) <= DOMAIN_LOST, codes
    assert violations(wired, payments) == []
