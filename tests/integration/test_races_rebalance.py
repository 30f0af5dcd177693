"""Moving a window's extra visits (POST /ops/windows/.../rebalance, its console button) from
many consoles at once while buyers book the windows it moves them into, on SQLite and
PostgreSQL, with the invariants read back in SQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import time
from itertools import cycle

from sqlalchemy import text
from tests.integration.races import RACERS, race  # type: ignore[import-not-found]
from tests.integration.test_races import BOOKING, _approved  # type: ignore[import-not-found]
from tests.integration.test_races_gaps import (  # type: ignore[import-not-found]
    BUYER,
    DAY_AFTER,
    _clean,
    _counter,
    _last_seq,
    payments,
)

from doorstep.bootstrap import App
from doorstep.services import catalog, pickup, rebalance

__all__ = ["payments"]  # the fixture, used by name


def test_rebalances_of_one_window_raced_with_bookings_move_the_extra_visits_once(
    wired: App, payments: object
) -> None:
    """Xuhui's YTO 09:00 holds 5 visits when its capacity is lowered to 2; 8 consoles press
    "move the extra visits" at once while 16 buyers book 11:00 and 13:00, the nearest later
    windows. Exactly the 3 latest booked visits leave 09:00, each once, with its event and
    reason; no window ends past its capacity; every counter equals its live visits."""
    svc = wired.services
    with svc.uow() as uow:
        area = uow.areas.get("310104")
    assert area is not None and area.capacity_override is None
    first = []
    for _ in range(5):
        [rid] = _approved(wired, 1)
        first.append(
            pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("yto", DAY_AFTER, time(9)))
        )
        svc.clock.advance(minutes=1)  # type: ignore[attr-defined]
    [rid] = _approved(wired, 1)
    pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("yto", DAY_AFTER, time(11)))
    catalog.upsert_area(svc, replace(area, capacity_override=2))
    assert _counter(wired, "09:00") == (2, 5)
    seq = _last_seq(wired)
    rebalances: list[Callable[[], object]] = [
        lambda: rebalance.rebalance_window(svc, "310104", "yto", DAY_AFTER, time(9))
        for _ in range(8)
    ]
    waiting = _approved(wired, RACERS - len(rebalances))
    hours = cycle((time(11), time(13)))
    bookings: list[Callable[[], object]] = [
        lambda r=r, h=next(hours): pickup.book_pickup(
            svc, BUYER, r, pickup.SlotChoice("yto", DAY_AFTER, h)
        )
        for r in waiting
    ]
    assert len(rebalances) + len(bookings) >= 20
    out = race([*rebalances, *bookings])
    assert set(out.codes) <= BOOKING, out.codes
    done = [w for w in out.won if isinstance(w, rebalance.Rebalanced)]
    assert len(done) == len(rebalances)  # a rebalance never fails: it moves what it can
    assert sum(len(d.moved) for d in done) == 3
    with wired.engine.connect() as conn:
        moves = [
            (aid, data if isinstance(data, dict) else json.loads(data))
            for aid, data in conn.execute(
                text(
                    "SELECT aggregate_id, data FROM events WHERE seq > :s "
                    "AND name = 'appointment.rescheduled' ORDER BY seq"
                ),
                {"s": seq},
            )
        ]
        over = conn.execute(
            text("SELECT adcode, carrier_id, day, start FROM slot_capacity WHERE booked > capacity")
        ).all()
        still = set(
            conn.execute(
                text(
                    "SELECT appointment_id FROM appointments WHERE status IN "
                    "('booked', 'assigned', 'arrived')"
                )
            ).scalars()
        )
    latest = [a.appointment_id for a in first[2:]]
    assert sorted(aid for aid, _ in moves) == sorted(latest)  # the latest booked, each once
    assert all(d["reason"] == "over_capacity" for _, d in moves)
    assert all(str(d["old"]).startswith(f"310104/yto/{DAY_AFTER}/09:00") for _, d in moves)
    assert set(latest) <= still  # moved, not cancelled
    assert over == []
    assert _counter(wired, "09:00") == (2, 2)
    _clean(wired, payments)  # type: ignore[arg-type]
