"""Carrier edits (PUT /ops/carriers/{id}, ``catalog.upsert_fleet``) raced with bookings and
with template and area edits, on SQLite and PostgreSQL, replayed from SQL in commit order.

A carrier switching to another slot template moves every counted window of it that has not
started to the figure the new template gives, in the edit's transaction, as template and area
edits do (architecture.md, "Template and area capacity edits"); until session 7 it reached
only windows not counted yet, so a window counted under the old template kept taking bookings
up to the old figure.
"""

from __future__ import annotations

import json
from collections import Counter
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
from doorstep.domain.coverage import GENERIC_TWO_HOUR, SF_ONE_HOUR
from doorstep.services import catalog, pickup

__all__ = ["payments"]  # the fixture, used by name

_EDITS = ("appointment.booked", "slot_template.saved", "service_area.saved", "carrier.saved")


def _replayed(app: App, after: int) -> list[tuple[str, str, dict[str, object]]]:
    """Bookings and template, area and carrier saves committed after event ``after``, in
    commit order (bookings share their area until commit and every edit locks it, and the
    bookings of one window hold its counter's row lock while they write their event)."""
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT name, aggregate_id, data FROM events WHERE seq > :s AND name IN "
                f"({', '.join(repr(n) for n in _EDITS)}) ORDER BY seq"
            ),
            {"s": after},
        ).all()
    return [
        (str(name), str(entity), data if isinstance(data, dict) else json.loads(data))
        for name, entity, data in rows
    ]


def test_carrier_template_switches_raced_with_bookings_and_edits_move_live_counters(
    wired: App, payments: object
) -> None:
    """YTO switches between the two-hour and the one-hour template (capacity 10 and 4 to
    start with) while ops edit both templates' capacity and Xuhui's override and buyers book
    three YTO windows there, two already counted. Replayed in commit order: no booking beyond
    the figure in force when it was taken, every edit that governs YTO in Xuhui moved every
    counted window to the figure it yields (and no other edit touched them), one event per
    edit, each counter ending at the last figure with booked equal to its live visits."""
    svc = wired.services
    with svc.uow() as uow:
        area = uow.areas.get("310104")
        yto = uow.carriers.get("yto")
        two, one = uow.templates.get("generic-2h"), uow.templates.get("sf-1h")
    assert area is not None and yto is not None and two is not None and one is not None
    assert yto.template_id == GENERIC_TWO_HOUR.template_id and area.capacity_override is None
    windows = {"09:00": time(9), "11:00": time(11), "13:00": time(13)}
    assert all(t.window(h) is not None for t in (two, one) for h in windows.values())
    for start in (9, 9, 9, 11):  # 09:00 and 11:00 have counters before the race, 13:00 not
        [rid] = _approved(wired, 1)
        pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("yto", DAY_AFTER, time(start)))
    capacity = {two.template_id: two.capacity, one.template_id: one.capacity}
    running, override = yto.template_id, area.capacity_override
    count = {"09:00": 3, "11:00": 1, "13:00": 0}
    figure = dict.fromkeys(windows, capacity[running])
    counted = {"09:00", "11:00"}
    seq = _last_seq(wired)
    switches = (SF_ONE_HOUR, GENERIC_TWO_HOUR, SF_ONE_HOUR, GENERIC_TWO_HOUR, SF_ONE_HOUR)
    # Every other switch and template edit is the console's (the stored record changed
    # under the edit's lock), the rest the API's (the whole record put).
    edits: list[Callable[[], object]] = [
        lambda t=t: catalog.upsert_fleet(svc, [replace(yto, template_id=t.template_id)], [])
        for t in switches[::2]
    ]
    edits += [
        lambda t=t: catalog.change_carrier_template(svc, "yto", t.template_id)
        for t in switches[1::2]
    ]
    edits += [
        lambda: catalog.upsert_template(svc, replace(two, capacity=2)),
        lambda: catalog.change_template_capacity(
            svc, two.template_id, 14, two.holiday_capacity_pct
        ),
        lambda: catalog.upsert_template(svc, replace(one, capacity=1)),
        lambda: catalog.change_template_capacity(svc, one.template_id, 7, one.holiday_capacity_pct),
    ]
    edits += [
        lambda n=n: catalog.upsert_area(svc, replace(area, capacity_override=n)) for n in (3,)
    ]
    waiting = _approved(wired, RACERS - len(edits))
    calls: list[Callable[[], object]] = [
        lambda r=r, h=h: pickup.book_pickup(svc, BUYER, r, pickup.SlotChoice("yto", DAY_AFTER, h))
        for r, h in zip(waiting, cycle(windows.values()), strict=False)
    ]
    out = race([*calls, *edits])
    assert len(calls) + len(edits) >= 24
    assert set(out.codes) <= BOOKING, out.codes
    replayed = _replayed(wired, seq)
    names = Counter(name for name, _, _ in replayed)
    assert (names["carrier.saved"], names["slot_template.saved"], names["service_area.saved"]) == (
        len(switches),
        4,
        1,
    )
    mine = f"310104/yto/{DAY_AFTER.isoformat()}/"
    booked = 0
    for name, entity, data in replayed:
        if name == "appointment.booked":
            start = str(data["window"])[:5]
            counted.add(start)  # the first booking creates the counter with the figure in force
            count[start] += 1
            booked += 1
            assert count[start] <= figure[start], (start, count[start], figure[start])
            continue
        governs = True
        if name == "slot_template.saved":
            capacity[entity] = int(data["capacity"])  # type: ignore[call-overload]
            governs = entity == running
        elif name == "service_area.saved":
            override = data["capacity_override"]  # type: ignore[assignment]
        else:
            running = str(data["template_id"])
        in_force = capacity[running] if override is None else override
        # Read with a default: a carrier edit that moved nothing is caught by the figures.
        moved = {
            str(m["start"]): m
            for m in data.get("counters_moved", [])  # type: ignore[attr-defined]
            if str(m["slot"]).startswith(mine)
        }
        if not governs:
            assert moved == {}, (name, entity, moved)
            continue
        for start in windows:
            if start not in counted:
                figure[start] = in_force
            elif start in moved:
                assert (moved[start]["was"], moved[start]["booked"]) == (
                    figure[start],
                    count[start],
                ), (name, entity, start)
                figure[start] = int(moved[start]["capacity"])
            # No holiday and no disruption on that day: every window took the edit's figure.
            assert figure[start] == in_force, (name, entity, start, figure[start], in_force)
        over = {
            str(m["start"]): m["over"]
            for m in data.get("over_capacity", [])  # type: ignore[attr-defined]
            if str(m["slot"]).startswith(mine)
        }
        assert over == {s: count[s] - figure[s] for s in windows if count[s] > figure[s]}
    assert booked == len(out.won) - len(edits)
    for start in windows:
        assert _counter(wired, start) == (figure[start], count[start])
    _clean(wired, payments)  # type: ignore[arg-type]
