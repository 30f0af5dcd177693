"""Ops sending a failed transfer again from many consoles at once, on SQLite and PostgreSQL:
the transfer is reopened once, the provider is asked once more under the SAME key, the money
moves once; checked in SQL afterwards (tests/integration/races.py)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import text
from tests.integration.races import race  # type: ignore[import-not-found]
from tests.integration.test_money_races import (  # type: ignore[import-not-found]
    PRICE,
    FaultyPayments,
    _clean,
    _decide,
    _disputed_after_express,
)
from tests.integration.test_races import _each  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.transfer import Transfer, TransferStatus
from doorstep.services import transfers
from doorstep.services.ports import PaymentResult


class AskedPayments(FaultyPayments):
    """The faulty local provider, also counting every clawback asked, answered or not."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: Counter[str] = Counter()
        self._asked_lock = threading.Lock()

    def clawback(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        with self._asked_lock:
            self.asked[idempotency_key] += 1
        return super().clawback(idempotency_key, buyer_id, amount_fen, reference)


@pytest.fixture
def payments() -> AskedPayments:
    return AskedPayments()


def _events(app: App, transfer_id: str) -> dict[str, int]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT name, COUNT(*) FROM events WHERE aggregate_type = 'transfer' "
                "AND aggregate_id = :t GROUP BY name"
            ),
            {"t": transfer_id},
        ).all()
    return {name: count for name, count in rows}


def _failed_clawback(app: App, payments: AskedPayments) -> tuple[str, Transfer]:
    """An express refund clawed back after a lost dispute, declined for good by the
    provider: its key and the failed transfer."""
    [rid] = _disputed_after_express(app, 1)
    key = f"clawback:{rid}"
    payments.faults = ["fail"]
    _decide(app, rid)()
    with app.services.uow() as uow:
        failed = uow.transfers.by_key(key)
    assert failed is not None and failed.status is TransferStatus.FAILED
    assert payments.clawed == {} and payments.asked[key] == 1
    return key, failed


def test_many_consoles_retrying_a_failed_clawback_move_it_once_under_its_key(
    wired: App, payments: AskedPayments
) -> None:
    svc = wired.services
    key, failed = _failed_clawback(wired, payments)

    out = race(_each(lambda: transfers.retry_failed(svc, "ops-001", failed.transfer_id)))
    assert out.lost == [], out.codes
    assert {x.status for x in out.won} <= {TransferStatus.PENDING, TransferStatus.SUCCEEDED}

    with wired.engine.connect() as conn:
        status, amount = conn.execute(
            text("SELECT status, amount_fen FROM transfers WHERE idempotency_key = :k"),
            {"k": key},
        ).one()
        keys = conn.execute(
            text("SELECT COUNT(*) FROM transfers WHERE subject_id = :s AND purpose = 'clawback'"),
            {"s": failed.subject_id},
        ).scalar_one()
    assert (status, amount, keys) == ("succeeded", PRICE, 1)
    # One more call to the provider, under the same key, and one movement of money.
    assert payments.asked[key] == 2
    assert payments.clawed[key][1] == PRICE and len(payments.clawed) == 1
    assert _events(wired, failed.transfer_id) == {
        "clawback.requested": 1,
        "clawback.failed": 1,
        "clawback.retried": 1,
        "clawback.succeeded": 1,
    }
    _clean(wired, payments)


def test_a_retry_racing_the_sweep_and_itself_after_a_timeout_moves_once(
    wired: App, payments: AskedPayments
) -> None:
    svc = wired.services
    key, failed = _failed_clawback(wired, payments)
    # The re-try's own call times out: the transfer stays pending and the sweep, racing
    # more re-tries, finishes it under the same key.
    payments.faults = ["lost"]
    race(
        _each(
            lambda: transfers.retry_failed(svc, "ops-001", failed.transfer_id),
            lambda: transfers.retry_pending(svc),
        )
    )
    transfers.retry_pending(svc)
    with svc.uow() as uow:
        settled = uow.transfers.by_key(key)
    assert settled is not None and settled.status is TransferStatus.SUCCEEDED
    assert payments.clawed[key][1] == PRICE and len(payments.clawed) == 1
    named = _events(wired, failed.transfer_id)
    assert named["clawback.retried"] == 1 and named["clawback.succeeded"] == 1, named
    _clean(wired, payments)
