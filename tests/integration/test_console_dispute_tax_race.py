"""The console's disputes queue suggests, for each open dispute, the clawback the decision would
take now (the express refund's advance less the import tax the buyer keeps); raced against
customs rejecting the declarations, on SQLite and PostgreSQL.

Bonded pillows of buyer-001 (trust 850: refunded at pickup, the tax advanced with the
refund), each received by day 45 and failed at QC while its declaration is still open: a
lost dispute would leave the tax with the buyer. At once: 22 reads of the queue
(``disputes.queue_with_defaults``, what ``GET /console/disputes`` shows) and 2 customs sweeps,
the broker rejecting every declaration, so each sweep's transaction rejects a declaration
and takes its tax back (``tax-clawback``) together.

A suggestion must be an amount the decision takes: before the rejection, the advance less
the tax kept; after it, what the buyer still holds (the advance less the tax taken), with
nothing kept. Either way the price, never the whole advance (which the decision refuses
once the tax is taken back: ``clawback_out_of_range``).

The queue reads without locks, in several statements. On PostgreSQL (read committed) each
of the first six readers is held, once its first read of the declarations or of the transfers
is done, until both sweeps have committed (and the sweeps wait for those six to get there;
more would hold every pooled connection), so those reads straddle the rejection: reading the transfers before the declarations saw no tax
clawback yet and then a rejected declaration, and suggested the whole advance. On SQLite
every unit of work holds the write lock from BEGIN, so a read cannot straddle a write: there
the readers are not held (holding one would hold the sweeps) and race plainly.

Afterwards each dispute is decided with the amount suggested, and ``races.violations`` and
``transfer_violations`` hold.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    BONDED_WH,
    PILLOW,
    bonded_orders,
    declaration_docs,
    declaration_of,
    self_shipped,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    transfer_violations,
    violations,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.returns import Grade, ReturnStatus
from doorstep.services import customs, disputes, refunds, transfers, warehouse
from doorstep.services.context import Services

BUYER = "buyer-001"
PRICE, TAX = 10_913, 1_137  # advance ¥120.50, of which ¥11.37 tax
DISPUTES = 4
SWEEPS = 2
READERS = RACERS - SWEEPS
HELD_AT = ("FROM customs_returns", "FROM transfers")  # the reads a suggestion straddles
# Readers held open on PostgreSQL: each keeps a pooled connection (10) while the sweeps run.
HOLD = 6


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _disputed(svc: Services) -> list[tuple[str, str]]:
    """Failed-QC disputes over express refunds that advanced the tax, declarations open:
    (declaration id, return id) each."""
    made = []
    for order in bonded_orders(
        svc, DISPUTES, tag="Q", buyer=BUYER, sku=PILLOW, price=PRICE, tax=TAX
    ):
        rid, _ = self_shipped(svc, order)
        paid = refunds.start_express_refund(svc, rid)
        assert paid is not None and paid.tax_fen == TAX
        warehouse.receive(svc, BONDED_WH, rid)
        assert warehouse.grade(svc, BONDED_WH, rid, Grade.C, "scratched").status is (
            ReturnStatus.DISPUTED
        )
        made.append((declaration_of(svc, rid), rid))
    return made


class Straddle:
    """Holds the first ``HOLD`` readers after their first read of the declarations or the
    transfers until the sweeps have committed; the sweeps start once they all got there."""

    def __init__(self, app: App) -> None:
        self.on = app.engine.dialect.name == "postgresql"
        self.local = threading.local()
        self.lock = threading.Lock()
        self.arrived = 0
        self.readers_in = threading.Event()
        self.swept_count = 0
        self.swept = threading.Event()
        self.held = 0
        if self.on:
            event.listen(app.engine, "after_cursor_execute", self._after)

    def _after(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if not getattr(self.local, "reader", False) or getattr(self.local, "done", False):
            return
        if not any(table in statement for table in HELD_AT):
            return
        self.local.done = True
        with self.lock:
            if self.arrived == HOLD:
                return  # enough held: this one races plainly
            self.arrived += 1
            if self.arrived == HOLD:
                self.readers_in.set()
        # A safety net for a broken test, not a measure: the sweeps come in well under it.
        assert self.swept.wait(120), "the sweeps never committed"
        with self.lock:
            self.held += 1

    def read(self, svc: Services) -> list[disputes.QueuedDispute]:
        self.local.reader = True
        return disputes.queue_with_defaults(svc)

    def sweep(self, svc: Services) -> int:
        if self.on:
            assert self.readers_in.wait(120), "the readers never read"
        try:
            return customs.sweep_customs(svc)
        finally:
            with self.lock:
                self.swept_count += 1
                if self.swept_count == SWEEPS:
                    self.swept.set()


def test_the_queue_never_suggests_a_clawback_the_decision_refuses(
    wired: App, payments: RecordingPayments
) -> None:
    broker = LocalCustomsBroker()
    broker.mode = "reject"
    svc = replace(wired.services, customs_broker=broker)
    made = _disputed(svc)
    ours = {rid for _, rid in made}
    before = [q for q in disputes.queue_with_defaults(svc) if q.dispute.return_id in ours]
    assert {(q.clawback_fen, q.tax_kept_fen) for q in before} == {(PRICE, TAX)}

    straddle = Straddle(wired)
    calls: list[Any] = [lambda: straddle.read(svc)] * READERS
    calls += [lambda: straddle.sweep(svc)] * SWEEPS
    outcome = race(calls)
    assert outcome.codes == Counter(), outcome.codes
    if straddle.on:
        assert straddle.held == HOLD, straddle.held  # these reads straddled the rejection

    docs = declaration_docs(wired, [c for c, _ in made])
    assert {d["status"] for d in docs.values()} == {CustomsStatus.REJECTED.value}
    reads = [r for r in outcome.won if isinstance(r, list)]
    assert len(reads) == READERS
    suggested = Counter(
        (q.clawback_fen, q.tax_kept_fen) for r in reads for q in r if q.dispute.return_id in ours
    )
    assert sum(suggested.values()) == READERS * DISPUTES
    wrong = {k: n for k, n in suggested.items() if k[0] != PRICE}
    assert not wrong, f"suggested {dict(suggested)}: {sum(wrong.values())} not the price"
    # Before the rejection the tax was the buyer's; after it, taken back: none kept.
    assert set(suggested) <= {(PRICE, TAX), (PRICE, 0)}, suggested

    now = [q for q in disputes.queue_with_defaults(svc) if q.dispute.return_id in ours]
    assert {(q.clawback_fen, q.tax_kept_fen) for q in now} == {(PRICE, 0)}
    for _, rid in made:
        out = disputes.decide_dispute(
            svc, "ops-001", rid, buyer_upheld=False, note="scratched", clawback_fen=PRICE
        )
        assert out.clawback is not None and out.clawback.amount_fen == PRICE
    transfers.retry_pending(svc)
    for _, rid in made:
        assert payments.clawed[f"tax-clawback:{rid}"][1] == TAX
        assert payments.clawed[f"clawback:{rid}"][1] == PRICE
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
