"""An express refund owed at pickup is always started, on SQLite and PostgreSQL.

The refund starts after the pickup's commit; an own courier's request that dies in between
left a trusted buyer's return picked up without it (a company repeats its event; a courier's
app sending the pickup again is answered as the first and starts it too). The worker's
``express_refunds`` sweep (``refunds.start_owed_express_refunds``) decides what is left
marked. Raced here: sweeps on
several workers with the courier's repeat, sweeps with the pickup itself, and sweeps with an
exchange turned into a refund on its way (express at that moment for a trusted buyer); then
the invariants in SQL (``races.violations``: one refund per key, paid once, no express
decision left marked beside a started refund). Also: the sweep's statements do not grow
with the returns around it, and migration 7e1c4b9a2d58 marks the refunds already on their
way without one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, time
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_after_sales_races import (  # type: ignore[import-not-found]
    _orders as lipstick_orders,
)
from tests.integration.test_migration_transfers import (  # type: ignore[import-not-found]
    _alembic,
)
from tests.integration.test_races import (  # type: ignore[import-not-found]
    BUYER,
    _approved,
    _at_the_door,
    _jpeg,
    refunds_of,
)
from tests.statements import counting_statements  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.exchange import ExchangeStatus, StockLevel
from doorstep.domain.pickup import Appointment
from doorstep.domain.refund import RefundKind, RefundStatus
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.entrypoints import jobs
from doorstep.entrypoints.api import views
from doorstep.services import courier, exchanges, photos, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

TOMORROW = date(2026, 11, 26)
DAY_AFTER = date(2026, 11, 27)
PRICE = 19_900
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"  # V02 is 2,000 fen dearer


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _sweep(app: App) -> Callable[[], Any]:
    return lambda: jobs.SWEEPS["express_refunds"](app)


def _dies_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next refund start after a pickup's commit dies (the process is killed there)."""
    real = courier.start_express_refund
    crashes = iter([True])

    def dies_once(svc: Any, return_id: str) -> Any:
        if next(crashes, False):
            raise RuntimeError("the process died after the pickup's commit")
        return real(svc, return_id)

    monkeypatch.setattr(courier, "start_express_refund", dies_once)


def _receipt(appt: Appointment) -> str:
    """What the courier's app is answered for a pickup."""
    return views.appointment_out(appt, show_code=False).model_dump_json()


def _paid_once(app: App, payments: RecordingPayments, return_id: str, amount: int) -> None:
    [refund] = refunds_of(app, return_id)
    assert refund.kind is RefundKind.EXPRESS and refund.status is RefundStatus.SUCCEEDED
    assert payments.paid[f"refund:{return_id}"][1] == amount
    assert {a for _k, a in payments.log_for(return_id)} == {amount}
    assert returns.get_return(app.services, return_id).express_owed_since is None


def _crashed_pickup(
    app: App, monkeypatch: pytest.MonkeyPatch, return_id: str, hour: int, day: date = TOMORROW
) -> Callable[[], Any]:
    """The courier picks the return up and the request dies before the refund's start; the
    courier's app sending the same pickup again is returned."""
    pick_up = _at_the_door(app, return_id, pickup.SlotChoice("sf", day, time(hour)))
    _dies_once(monkeypatch)
    with pytest.raises(RuntimeError):
        pick_up()
    monkeypatch.undo()
    left = returns.get_return(app.services, return_id)
    assert left.status is ReturnStatus.PICKED_UP and left.refund_id is None
    return pick_up


def test_a_pickup_that_died_before_its_express_refund_is_paid_once_by_sweeps_and_repeats(
    wired: App, payments: RecordingPayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    for hour, rid in zip((10, 12), _approved(wired, 2, price=PRICE), strict=True):
        repeat = _crashed_pickup(wired, monkeypatch, rid, hour)
        assert payments.log_for(rid) == []
        # Sweeps on several workers at once, and the courier's app sending the pickup again
        # (it got no answer): each repeat is answered as the first pickup (it was refused
        # with 409 not_arrived), and starts the refund the first left undone.
        calls = [_sweep(wired), repeat] * (RACERS // 2)
        out = race(calls)
        assert out.lost == [], out.codes
        receipts = [_receipt(w) for w in out.won if isinstance(w, Appointment)]
        assert len(receipts) == RACERS // 2 and len(set(receipts)) == 1
        _paid_once(wired, payments, rid, PRICE)
    assert len(payments.paid) == 2
    assert violations(wired, payments) == []


def test_pickups_raced_with_express_sweeps_pay_once(
    wired: App, payments: RecordingPayments
) -> None:
    for hour, rid in zip((14, 16), _approved(wired, 2, price=PRICE), strict=True):
        pick_up = _at_the_door(wired, rid, pickup.SlotChoice("sf", TOMORROW, time(hour)))
        out = race([pick_up, _sweep(wired)] * (RACERS // 2))
        # One pickup takes the parcel; the others queue on the route's row behind it and
        # are answered as its repeats, with its receipt.
        assert out.lost == [], out.codes
        receipts = [_receipt(w) for w in out.won if isinstance(w, Appointment)]
        assert len(receipts) == RACERS // 2 and len(set(receipts)) == 1
        _paid_once(wired, payments, rid, PRICE)
    assert violations(wired, payments) == []


# --- an exchange turned into a refund on its way -----------------------------------------------


def _picked_up_exchange(app: App, payments: RecordingPayments, hour: int) -> str:
    """A trusted buyer's exchange for the dearer lipstick, picked up while the provider does
    not answer: the difference is not collected, so the replacement waits (nothing shipped)."""
    svc = app.services
    [order] = lipstick_orders(app, 1, LIP_1)
    payments.fail_next = 10_000
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
    appt = pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("sf", DAY_AFTER, time(hour)))
    assert appt.courier_id is not None
    courier.arrive(svc, appt.courier_id, appt.appointment_id)
    (lines,) = courier.visit_checklists(svc, appt.courier_id, appt.appointment_id)
    shot = photos.upload_photo(svc, appt.courier_id, _jpeg()).photo_id
    courier.inspect(
        svc,
        appt.courier_id,
        appt.appointment_id,
        courier.InspectionInput(rid, {c.key: True for c in lines.checks}, (shot,)),
    )
    courier.pick_up(svc, appt.courier_id, appt.appointment_id, appt.pickup_code)
    payments.fail_next = 0
    assert returns.get_return(svc, rid).status is ReturnStatus.PICKED_UP
    assert exchanges.get_exchange(svc, rid).status is ExchangeStatus.RESERVED
    return rid


def test_refund_instead_on_the_way_raced_with_sweeps_is_an_express_refund_paid_once(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", 81_900, 10)])
    for hour in (10, 12):
        rid = _picked_up_exchange(wired, payments, hour)
        take_refund = lambda r=rid: exchanges.refund_instead(svc, BUYER, r)  # noqa: E731
        out = race([take_refund, _sweep(wired)] * (RACERS // 2))
        converted = [w for w in out.won if not isinstance(w, dict)]
        assert len(converted) == 1, out.codes
        assert set(out.codes) <= {"illegal_transition", "stale_write"}, out.codes
        _paid_once(wired, payments, rid, 79_900)
        # The difference collected for the replacement went back once, under its own key.
        assert payments.paid[f"exchange-diff-back:{rid}"][1] == 2_000
    assert violations(wired, payments) == []


# --- statements ----------------------------------------------------------------------------------


def test_the_sweep_sends_as_many_statements_however_many_returns_are_around(
    wired: App, payments: RecordingPayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    def measured(rid: str) -> int:
        with counting_statements(wired.engine) as statements:
            assert jobs.SWEEPS["express_refunds"](wired) == {"express_refunds_started": 1}
        _paid_once(wired, payments, rid, PRICE)
        return len(statements)

    def idle() -> list[str]:
        with counting_statements(wired.engine) as statements:
            assert jobs.SWEEPS["express_refunds"](wired) == {"express_refunds_started": 0}
        return statements

    nothing_owed = idle()
    # One indexed read when nothing is owed (SQLite adds its BEGIN IMMEDIATE).
    [read] = [s for s in nothing_owed if not s.startswith("BEGIN")]
    assert read.startswith("SELECT")
    first, *more = _approved(wired, 9, price=PRICE)
    _crashed_pickup(wired, monkeypatch, first, 9)
    small = measured(first)
    # Eight more returns picked up and paid at the door, one left owed by a crash.
    for hour, rid in zip(range(10, 17), more[:-1], strict=True):
        _at_the_door(wired, rid, pickup.SlotChoice("sf", TOMORROW, time(hour)))()
    _crashed_pickup(wired, monkeypatch, more[-1], 9, DAY_AFTER)
    assert measured(more[-1]) == small
    assert len(idle()) == len(nothing_owed)
    assert violations(wired, payments) == []


# --- migration 7e1c4b9a2d58: refunds already on their way without one ------------------------


def test_the_migration_marks_refunds_on_their_way_without_one_and_the_sweep_pays_them(
    wired: App, database_url: str, payments: RecordingPayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    unpaid, paid = _approved(wired, 2, price=PRICE)
    _crashed_pickup(wired, monkeypatch, unpaid, 10)
    _at_the_door(wired, paid, pickup.SlotChoice("sf", TOMORROW, time(11)))()
    # As the code before the mark stored a crashed pickup: no mark in the document.
    with wired.engine.begin() as conn:
        doc = conn.execute(
            text("SELECT doc FROM returns WHERE return_id = :r"), {"r": unpaid}
        ).scalar_one()
        body = dict(doc if isinstance(doc, dict) else json.loads(doc))
        body.pop("express_due_since")
        conn.execute(
            text("UPDATE returns SET doc = :d WHERE return_id = :r"),
            {"d": json.dumps(body), "r": unpaid},
        )
    wired.engine.dispose()
    cfg = _alembic(database_url)
    command.downgrade(cfg, "5f3b8d2a9c61")
    command.upgrade(cfg, "head")
    assert returns.get_return(wired.services, unpaid).express_owed_since is not None
    assert returns.get_return(wired.services, paid).express_owed_since is None
    assert jobs.SWEEPS["express_refunds"](wired) == {"express_refunds_started": 1}
    _paid_once(wired, payments, unpaid, PRICE)
    _paid_once(wired, payments, paid, PRICE)
    assert violations(wired, payments) == []
