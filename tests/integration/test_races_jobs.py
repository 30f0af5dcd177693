"""The worker's jobs that move money, capacity or stock, raced on SQLite and PostgreSQL with the
invariants read back in SQL (entrypoints/jobs.py runs them on a timer in-process, or on several
queue workers at once when scaled out, so two passes of one job do overlap):

- ``after_sales``: many passes at once over exchanges (ship the replacement: stock) and customs
  returns (declare, settle: tax refund, quota) move each once;
- ``plan_carrier_day``: re-plans of one courier-day raced with buyers booking into it keep every
  visit on exactly one route, every promise on the stored routes, counters equal to the visits;
- ``carrier_poll``: polls for lost callbacks raced with the company's own late callbacks apply
  each stage of each order once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, time

import pytest
from sqlalchemy import text
from tests.integration.carrier_world import World, carrier_world  # type: ignore[import-not-found]
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    transfer_violations,
    violations,
)
from tests.integration.test_after_sales_races import (  # type: ignore[import-not-found]
    _arrived,
    _file,
    _orders,
    _stock_violations,
)
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]
from tests.integration.test_carrier_races import _event, invariants  # type: ignore[import-not-found]
from tests.integration.test_routing import returns_at  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.exchange import StockLevel
from doorstep.domain.returns import ReturnKind
from doorstep.entrypoints import jobs
from doorstep.services import exchanges, pickup, routing, transfers
from doorstep.services.after_sales_jobs import sweep_after_sales
from doorstep.services.carrier_polling import poll_quiet_orders

TOMORROW = date(2026, 11, 26)


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _count(app: App, sql: str, **params: object) -> list[tuple[object, ...]]:
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


# --- after_sales: exchanges shipped and customs returns settled once ------------------------------


def test_after_sales_sweeps_at_once_settle_each_once(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    target = "KR-LIPSTICK-V02"  # 20 yuan dearer: the difference is collected before shipping
    exchanges.upsert_stock(svc, [StockLevel(target, "lipstick-velvet", 81_900, 10)])
    payments.fail_next = 10_000  # the provider is down while the exchanges are filed
    swaps = [
        _file(wired, o, ReturnKind.EXCHANGE, target)
        for o in _orders(wired, 4, "KR-LIPSTICK-V01", price=79_900)
    ]
    declared = [
        _file(wired, o, ReturnKind.REFUND)
        for o in _orders(wired, 4, "JP-DOWN-JACKET-M", bonded=True)
    ]
    for return_id in swaps + declared:
        _arrived(wired, return_id)  # received at the warehouse: replacements due once paid
    payments.fail_next = 0
    [(on_hand_before,)] = _count(wired, "SELECT on_hand FROM stock WHERE sku = :s", s=target)

    # The after-sales passes race each other and the transfer retries that collect the
    # differences (two jobs of the same worker, on several workers at once).
    sweeps = [lambda: sweep_after_sales(svc)] * (RACERS // 2)
    race(sweeps + [lambda: transfers.retry_pending(svc)] * (RACERS // 2))
    transfers.retry_pending(svc)
    sweep_after_sales(svc)  # what the next pass finds left (answers asked after declaring)
    sweep_after_sales(svc)

    shipped = _count(
        wired,
        "SELECT aggregate_id, COUNT(*) FROM events WHERE name = 'exchange.replacement_shipped' "
        "GROUP BY aggregate_id",
    )
    assert sorted(n for _, n in shipped) == [1] * len(swaps), shipped
    [(on_hand,)] = _count(wired, "SELECT on_hand FROM stock WHERE sku = :s", s=target)
    assert on_hand == on_hand_before - len(swaps)
    assert _stock_violations(wired) == []
    settled = _count(
        wired,
        "SELECT aggregate_id, name, COUNT(*) FROM events WHERE name IN "
        "('customs.declared', 'customs.settled') GROUP BY aggregate_id, name",
    )
    assert all(n == 1 for *_, n in settled), settled
    statuses = _count(wired, "SELECT status FROM customs_returns")
    assert {s for (s,) in statuses} == {CustomsStatus.SETTLED.value}
    tax = _count(wired, "SELECT COUNT(*) FROM transfers WHERE purpose = 'customs_tax'")
    assert tax == [(len(declared),)]
    assert _count(wired, "SELECT COUNT(*) FROM customs_quota WHERE restored_fen < 0") == [(0,)]
    assert transfer_violations(wired.engine, payments) == []
    assert violations(wired, payments) == []


# --- plan_carrier_day: re-plans raced with bookings ---------------------------------------------


def test_day_plans_raced_with_bookings_keep_every_visit(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    ids = returns_at(wired, _spread(RACERS + 8))
    for i, return_id in enumerate(ids[:8]):  # a day with visits to plan
        pickup.book_pickup(
            svc, "buyer-001", return_id, pickup.SlotChoice("yto", TOMORROW, time(9 + 2 * (i % 4)))
        )
    starts = [time(9), time(11), time(13), time(15)]
    books = [
        lambda r=r, i=i: pickup.book_pickup(
            svc, "buyer-001", r, pickup.SlotChoice("yto", TOMORROW, starts[i % 4])
        )
        for i, r in enumerate(ids[8 : 8 + RACERS - 4])
    ]
    plans = [lambda: jobs.plan_carrier_day(wired, "yto", TOMORROW.isoformat())] * 4
    out = race(books + plans)
    assert set(out.codes) <= {"slot_full", "slot_not_offered", "route_busy"}, out.codes
    jobs.plan_carrier_day(wired, "yto", TOMORROW.isoformat())  # the next fan-out's plan
    assert routing.check_routes(svc, "yto", TOMORROW) == []
    routes = _count(
        wired, "SELECT doc FROM routes WHERE carrier_id = 'yto' AND day = :d", d=TOMORROW
    )
    on_routes = [
        i
        for (doc,) in routes
        for i in (doc if isinstance(doc, dict) else json.loads(str(doc))).get("id", [])
    ]
    live = _count(
        wired,
        "SELECT appointment_id FROM appointments WHERE carrier_id = 'yto' AND day = :d "
        "AND status IN ('booked', 'assigned', 'arrived')",
        d=TOMORROW,
    )
    assert sorted(on_routes) == sorted(a for (a,) in live)  # each visit on exactly one route
    assert violations(wired, payments) == []


# --- carrier_poll: polls raced with late callbacks -----------------------------------------------


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with carrier_world(database_url) as w:
        yield w


@pytest.mark.slow
def test_polls_raced_with_callbacks_move_each_order_once(world: World) -> None:
    w = world
    numbers = [w.book(w.approved_return(), hour) for hour in (9, 11)]
    w.deliveries()
    w.faults(drop=True)  # the company's callbacks are lost: only polling finds the stages
    for number in numbers:
        w.advance(number, "COURIER_ASSIGNED")
        w.advance(number, "PICKED_UP")
    w.deliveries()
    w.faults(drop=False)
    w.clock.advance(minutes=16)  # quiet long enough to be polled
    late = [
        _event(w, n, f"EV-late-{n}-{i}", "PICKED_UP", f"SBX2611260000{i:04d}")
        for n in numbers
        for i in range(4)
    ]
    polls = [lambda: poll_quiet_orders(w.app.services, w.clock.now())] * (RACERS - len(late))
    race([lambda b=b: w.post_callback(b) for b in late] + polls)
    assert invariants(w) == []
    for number in numbers:
        picked = _count(
            w.app,
            "SELECT COUNT(*) FROM events WHERE aggregate_id = :n AND name = 'carrier_order.picked_up'",
            n=number,
        )
        assert picked == [(1,)]
