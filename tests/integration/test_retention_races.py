"""The retention sweep raced (services/retention.py), on SQLite and PostgreSQL, 24 at once:
8 sweeps over departed buyers whose period is over, while accounts are made again for two
of them (they came back), new orders are imported for two others (they bought again), and
ops read the retention view. A departed buyer with a return on its way back is there too.
Every buyer's account is named by their phone number, and each left photos of their door
(a contactless handover), of the goods, and words in a QC dispute (``leaver(evidence=True)``).

Each buyer comes out one way: erased (once, one ``buyer.erased`` event, nothing personal
left anywhere, the account and order refused with ``buyer_erased``) or not erased (the
account or the order landed first and the sweep saw it). Checked in SQL
(``races.violations`` with ``_erased_buyers``: no username on the accounts' events, no
image of the door, no words of theirs) and by value in every table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.retention_world import (  # type: ignore[import-not-found]
    Leaver,
    after_years,
    found,
    leaver,
)

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.domain.returns import ReturnStatus
from doorstep.entrypoints import jobs
from doorstep.services import catalog, identity, retention
from doorstep.services.ports import RetentionSummary

ROUNDS = 2
SWEEPS, READS = 8, 8


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


class _Plain:
    """Passwords kept as they are: a test's accounts, never signed in with."""

    def hash(self, plain: str) -> str:
        return plain

    def verify(self, plain: str, hashed: str) -> bool:
        return plain == hashed

    def needs_rehash(self, hashed: str) -> bool:
        return False


def _stored(app: App, buyer_id: str) -> Buyer:
    with app.services.uow() as uow:
        buyer = uow.buyers.get(buyer_id)
    assert buyer is not None
    return buyer


def _order(clock: FixedClock, buyer_id: str, n: int) -> Order:
    return Order(
        f"RR-{buyer_id}-{n}",
        buyer_id,
        "shop-cn-home",
        Channel.DOMESTIC,
        clock.now() - timedelta(hours=1),
        Address("310116", "上海市", "上海市", "金山区", "再来路 9 号", "再来者", "13711112222"),
        (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19_900),),
    )


def _round(wired: App, clock: FixedClock, payments: RecordingPayments, n: int) -> dict[str, int]:
    svc = wired.services
    back = [leaver(wired, book=False, evidence=True) for _ in range(2)]  # accounts made again
    bought = [leaver(wired, book=False, evidence=True) for _ in range(2)]  # new orders imported
    waiting = leaver(wired, book=False, evidence=True)  # a return on its way back: never erased
    with svc.uow() as uow:
        request = uow.returns.get(waiting.return_ids[0])
        assert request is not None
        request.status = ReturnStatus.IN_TRANSIT
        uow.returns.save(request)
        uow.commit()
    # The first round books a visit (the seeded day's windows) with a company's order.
    plain = [leaver(wired, book=n == 0 and i == 0, evidence=True) for i in range(3)]
    after_years(clock, 3)

    # Accounts made without argon2's quarter second, so they reach the buyer's row while
    # the sweeps do (the race is about that row, not the hash).
    quick = replace(svc, passwords=_Plain())

    def account(who: Leaver, k: int) -> Callable[[], Any]:
        tag = f"{who.buyer_id[-6:]}{k}{n}"
        return lambda: identity.add_user(
            quick, f"U-b{tag}", f"b{tag}", "back-pass-1", "buyer", who.buyer_id
        )

    def order(who: Leaver, k: int) -> Callable[[], Any]:
        return lambda: catalog.import_orders(svc, [_order(clock, who.buyer_id, k)], None)

    calls: list[Callable[[], Any]] = [lambda: jobs.SWEEPS["retention"](wired)] * SWEEPS
    calls += [account(who, k) for who in back for k in range(2)]
    calls += [order(who, k) for who in bought for k in range(2)]
    calls += [lambda: retention.summary(svc)] * READS
    assert len(calls) == RACERS
    outcome = race(calls)

    problems = [f"lost with {code}" for code in outcome.codes if code != "buyer_erased"]
    reads = [w for w in outcome.won if isinstance(w, RetentionSummary)]
    assert len(reads) == READS
    erased = {
        who.buyer_id
        for who in (*back, *bought, waiting, *plain)
        if _stored(wired, who.buyer_id).erased_at is not None
    }
    # Nobody came out half way: an account or an order that landed kept the buyer.
    for who in back:
        with svc.uow() as uow:
            accounts = uow.users.acting_as_for_update("buyer", who.buyer_id)
        if len(accounts) not in (0, 2) or (who.buyer_id in erased) == bool(accounts):
            problems.append(
                f"{who.buyer_id}: {len(accounts)} accounts, erased {who.buyer_id in erased}"
            )
    for who in bought:
        with svc.uow() as uow:
            orders = uow.orders.for_buyer(who.buyer_id)
        if len(orders) not in (2, 4) or (who.buyer_id in erased) == (len(orders) == 4):
            problems.append(
                f"{who.buyer_id}: {len(orders)} orders, erased {who.buyer_id in erased}"
            )
    if waiting.buyer_id in erased:
        problems.append(f"{waiting.buyer_id}: erased with a return on its way back")
    problems += [f"{w.buyer_id}: not erased" for w in plain if w.buyer_id not in erased]
    for who in (*back, *bought, waiting, *plain):
        left = found(wired.engine, who.personal)
        if (left == []) != (who.buyer_id in erased):
            problems.append(f"{who.buyer_id}: erased {who.buyer_id in erased}, left {left}")
    problems += violations(wired, payments)
    assert problems == [], problems
    return {
        "erased": len(erased),
        "came_back": sum(who.buyer_id not in erased for who in back),
        "bought_again": sum(who.buyer_id not in erased for who in bought),
        "refused": sum(outcome.codes.values()),
    }


def test_sweeps_raced_with_accounts_orders_and_ops_reads_erase_each_buyer_once(
    wired: App, clock: FixedClock, payments: RecordingPayments
) -> None:
    tallies = [_round(wired, clock, payments, n) for n in range(ROUNDS)]
    print("retention rounds:", tallies)
    # A second pass over what the race left changes nothing.
    assert jobs.SWEEPS["retention"](wired) == {"buyers_erased": 0}
    assert violations(wired, payments) == []
