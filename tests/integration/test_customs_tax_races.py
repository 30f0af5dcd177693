"""The import tax goes back only on customs' answer (RULES.md §2), raced on SQLite and
PostgreSQL: express refunds at pickup (which advance the tax) started while customs' rejection
is taken, and one lapsed declaration declared from many consoles at once. Afterwards, in SQL:
every paid refund's tax on a rejected or lapsed declaration is taken back exactly once, never
above the refund, nothing paid back above what was paid (``races.violations``), and each
declaration changed state once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import bindparam, text
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    PILLOW_PRICE,
    PILLOW_TAX,
    in_transit,
    kept_tax,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.adapters.ids import FixedClock
from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.services import customs, refunds, transfers

PRICE, TAX = PILLOW_PRICE, PILLOW_TAX  # buyer-001's pillows (trust 850: paid at pickup)


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call: ``violations`` checks the money in SQL
    (what was paid back per order, every transfer counted) against what it moved."""
    return RecordingPayments()


def _statuses(app: App, ids: list[str]) -> dict[str, str]:
    with app.engine.connect() as conn:
        return dict(
            conn.execute(
                text(
                    "SELECT customs_return_id, status FROM customs_returns"
                    " WHERE customs_return_id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": ids},
            ).all()
        )


def _events(app: App, name: str, ids: list[str]) -> list[int]:
    with app.engine.connect() as conn:
        return [
            n
            for (n,) in conn.execute(
                text(
                    "SELECT COUNT(*) FROM events WHERE name = :n AND aggregate_id IN :ids"
                    " GROUP BY aggregate_id"
                ).bindparams(bindparam("ids", expanding=True)),
                {"n": name, "ids": ids},
            )
        ]


def test_express_refunds_raced_with_customs_rejection_keep_no_tax(
    wired: App, payments: LocalPayments
) -> None:
    broker = LocalCustomsBroker("pending")
    svc = replace(wired.services, customs_broker=broker)
    pairs = in_transit(svc, RACERS // 2, released_days_ago=5)
    for cr_id, _ in pairs:
        assert customs.declare(svc, cr_id).status is CustomsStatus.SUBMITTED
    broker.mode = "reject"
    # Customs' answer taken while the buyers are paid at pickup: each refund either sees the
    # rejection (no tax in it) or is counted by it (its tax taken back).
    calls = [lambda c=c: customs.poll(svc, c) for c, _ in pairs]
    calls += [lambda r=r: refunds.start_express_refund(svc, r) for _, r in pairs]
    outcome = race(calls)
    assert len(outcome.won) == RACERS
    refunds.retry_pending_refunds(svc)
    transfers.retry_pending(svc)  # clawbacks that waited for their refund

    ids = [c for c, _ in pairs]
    assert set(_statuses(wired, ids).values()) == {CustomsStatus.REJECTED.value}
    assert _events(wired, "customs.rejected", ids) == [1] * len(ids)
    assert kept_tax(payments, [r for _, r in pairs]) == {r: PRICE for _, r in pairs}
    assert violations(wired, payments) == []


def test_lapsed_declarations_declared_from_many_consoles_take_the_tax_back_once(
    wired: App, clock: FixedClock, payments: LocalPayments
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    pairs = in_transit(svc, RACERS // 2, released_days_ago=27)
    for _, return_id in pairs:
        paid = refunds.start_express_refund(svc, return_id)
        assert paid is not None and paid.tax_fen == TAX  # advanced at pickup
    clock.advance(days=4)  # day 31: nobody declared them in time

    outcome = race([lambda c=c: customs.declare(svc, c) for c, _ in pairs] * 2)
    assert len(outcome.won) == RACERS
    transfers.retry_pending(svc)

    ids = [c for c, _ in pairs]
    assert set(_statuses(wired, ids).values()) == {CustomsStatus.LAPSED.value}
    assert _events(wired, "customs.lapsed", ids) == [1] * len(ids)
    assert kept_tax(payments, [r for _, r in pairs]) == {r: PRICE for _, r in pairs}
    with wired.engine.connect() as conn:
        moves = conn.execute(
            text("SELECT COUNT(*), SUM(amount_fen) FROM transfers WHERE purpose = 'tax_clawback'")
        ).one()
    assert tuple(moves) == (len(pairs), len(pairs) * TAX)
    assert violations(wired, payments) == []
