"""A disruption's moves in the one lock order (docs/next.md, "Known design debts"), on SQLite
and PostgreSQL, 24 at once: a typhoon declared over Jinshan's booked days while the buyers
withdraw, cancel and move those same visits and book new ones into them.

The declaration cut the windows (areas, then windows) and only then read and wrote the
returns of the visits it moved or stranded; a withdrawal, cancel or move holds the return and
waits for the window, a booking holds the return and waits for the area: on PostgreSQL one of
the two was aborted after ``deadlock_timeout`` (``deadlock_detected``, a 409 ``stale_write``).
The declaration now locks the covered visits' returns first (key order, one statement), then
the areas. Losers answer only with what the winner did (``illegal_transition`` once a visit was
stranded or withdrawn, ``slot_full`` / ``slot_not_offered`` once the windows were cut), never
``stale_write``; the invariants are checked in SQL (``races.violations``), and the cut windows
hold no more than their capacity.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.disruption import DisruptionKind
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, disruptions, pickup, returns
from doorstep.services.disruptions import DisruptionReport
from doorstep.services.returns import LineRequest, OpenReturn

JINSHAN = "310116"
STARTS = (time(9), time(11), time(13), time(15), time(17))
ROUNDS = 3
# Each round books visits on the day the typhoon cuts, then races the declaration with what
# a round kind gives each visit: withdraw (0), cancel (1), move (2), plus new bookings. A move
# or a booking shares the area, which the old declaration locked first: with them, it mostly
# waited for them and for the rest, which were over before it began (no overlap); the first
# kind races only withdrawals and cancels, which never wait for the area.
KINDS = (((0, 1), 23, 0), ((0, 1, 0, 1, 0, 1, 2), 21, 2))
# A winner's answer a loser may give: the visit was stranded, withdrawn or cancelled first
# (illegal_transition), the cut window is full or no route keeps it (slot_full,
# slot_not_offered).
# Visits booked on the cut day that nobody races: the typhoon has them to move and strand
# whenever it comes (each window keeps one visit, the horizon's other windows take one each).
STAYING = 12
LOSSES = {"illegal_transition", "slot_full", "slot_not_offered"}


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _returns_at(app: App, points: list[tuple[float, float]]) -> list[str]:
    """Approved returns of buyer-001 at these doors in Jinshan, signed for yesterday (as
    ``test_routing.returns_at``, whose fixed signing date the rounds' clock outruns)."""
    signed = app.services.clock.now() - timedelta(days=1)
    batch = uuid.uuid4().hex[:6]
    orders = [
        Order(
            f"DR-{batch}-{i}",
            "buyer-001",
            "shop-cn-home",
            Channel.DOMESTIC,
            signed,
            Address(
                JINSHAN,
                "上海市",
                "上海市",
                "金山区",
                f"卫零路{i}号",
                "测试",
                "13800002222",
                lat,
                lon,
            ),
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),),
            signed_at=signed,
        )
        for i, (lat, lon) in enumerate(points)
    ]
    catalog.import_orders(app.services, orders, None)
    return [
        returns.open_return(
            app.services,
            OpenReturn(
                "buyer-001",
                o.order_id,
                ReturnKind.REFUND,
                (LineRequest("L1", 1, Reason.NO_REASON),),
            ),
        ).return_id
        for o in orders
    ]


def _choice(day: date, i: int) -> pickup.SlotChoice:
    return pickup.SlotChoice("yto", day, STARTS[i % len(STARTS)])


def _declare(app: App, day: date) -> DisruptionReport:
    """A typhoon over Jinshan from now to the end of the day after ``day`` (every window the
    horizon offers), each window cut to 10 %: one visit a window; the rest move or strand."""
    now = app.services.clock.now()
    return disruptions.declare_disruption(
        app.services,
        "ops-001",
        DisruptionKind.TYPHOON,
        [JINSHAN],
        now,
        datetime.combine(day + timedelta(days=1), time(23, 59), SHANGHAI),
        10,
        "Typhoon warning",
        "台风预警",
    )


def _over_capacity(app: App, days: list[date]) -> list[str]:
    """Windows of ``days`` holding more live visits than their capacity (visits with the
    courier at the door aside), or whose booked counter is not their live visits."""
    a, s = t.appointments.c, t.slot_capacity.c
    with app.engine.connect() as conn:
        live = conn.execute(
            select(a.doc, a.status).where(
                a.adcode == JINSHAN,
                a.day.in_(days),
                a.status.in_(["booked", "assigned", "arrived"]),
            )
        ).all()
        windows = conn.execute(
            select(s.carrier_id, s.day, s.start, s.capacity, s.booked).where(
                s.adcode == JINSHAN, s.day.in_(days)
            )
        ).all()
    holding: Counter[tuple[str, str, str]] = Counter()
    movable: Counter[tuple[str, str, str]] = Counter()
    for doc, status in live:
        slot = doc["slot"]
        key = (slot["carrier_id"], str(slot["day"]), slot["window"]["start"][:5])
        holding[key] += 1
        movable[key] += status != "arrived"
    out = []
    for carrier_id, day, start, capacity, booked in windows:
        key = (carrier_id, str(day), start)
        if movable[key] > capacity:
            out.append(f"over capacity: {key} {movable[key]} > {capacity}")
        if booked != holding[key]:
            out.append(f"booked {booked} for {holding[key]} visits: {key}")
    return out


def test_a_disruption_raced_with_withdrawals_moves_and_bookings_never_deadlocks(
    wired: App, payments: RecordingPayments, clock: FixedClock
) -> None:
    svc = wired.services
    codes: Counter[str] = Counter()
    moved = stranded = 0
    for round_ in range(ROUNDS):
        roles, booked, new = KINDS[round_ % len(KINDS)]
        clock.advance(days=3)  # a fresh horizon each round: no earlier typhoon over it
        day = local(clock.now()).date() + timedelta(days=1)
        ids = _returns_at(wired, _spread(booked + new + STAYING))
        # Booked first, so they keep the cut windows' places: the raced visits after them
        # are the ones the declaration moves or strands (and then the rest of these).
        staying = ids[booked + new :]
        for i, rid in enumerate(staying):
            pickup.book_pickup(svc, "buyer-001", rid, _choice(day, i))
        visits = [
            pickup.book_pickup(svc, "buyer-001", r, _choice(day, i))
            for i, r in enumerate(ids[:booked])
        ]
        calls: list[Callable[[], Any]] = [lambda d=day: ("declared", _declare(wired, d))]
        for i, (rid, visit) in enumerate(zip(ids, visits, strict=False)):
            aid = visit.appointment_id
            calls.append(
                [
                    lambda r=rid: (
                        "withdrawn",
                        returns.cancel_return(svc, "buyer-001", r, "changed"),
                    ),
                    lambda a=aid: ("cancelled", pickup.cancel_pickup(svc, "buyer-001", a)),
                    lambda a=aid, i=i, d=day: (
                        "moved",
                        pickup.reschedule_pickup(svc, "buyer-001", a, _choice(d, i + 2)),
                    ),
                ][roles[i % len(roles)]]
            )
        calls += [
            lambda r=rid, i=i, d=day: (
                "booked",
                pickup.book_pickup(svc, "buyer-001", r, _choice(d, i)),
            )
            for i, rid in enumerate(ids[booked : booked + new])
        ]
        assert len(calls) == RACERS
        out = race(calls)
        codes += out.codes
        print("disruption race losers:", dict(out.codes), "won:", Counter(w for w, _ in out.won))
        declared = [r for what, r in out.won if what == "declared"]
        assert len(declared) == 1, out.codes
        print("moved", len(declared[0].moved), "stranded", len(declared[0].stranded))
        moved += len(declared[0].moved)
        stranded += len(declared[0].stranded)
        assert set(out.codes) <= LOSSES, out.codes
        # A withdrawal never loses: the return is the buyer's to take back, moved or not.
        withdrawn = sum(1 for i in range(booked) if roles[i % len(roles)] == 0)
        assert sum(1 for what, _ in out.won if what == "withdrawn") == withdrawn, out.codes
        assert _over_capacity(wired, [day - timedelta(days=1), day, day + timedelta(days=1)]) == []
        assert violations(wired, payments) == []
    assert "stale_write" not in codes, codes
    # The cut forced both, whoever won the race.
    assert moved > 0 and stranded > 0, (moved, stranded)
