"""Holiday-share edits of a template raced with bookings, replayed from SQL in commit order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, time
from itertools import cycle

import pytest
from sqlalchemy import text
from tests.conftest import SECRET, T0  # type: ignore[import-not-found]
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_races import BOOKING, _approved  # type: ignore[import-not-found]
from tests.integration.test_races_gaps import (  # type: ignore[import-not-found]
    _bookings_and_edits,
    _last_seq,
)

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.domain.calendar import DayInfo, DayKind, estimate_day
from doorstep.domain.coverage import GENERIC_TWO_HOUR
from doorstep.services import catalog, pickup

BUYER = "buyer-001"
HOLIDAY = date(2026, 11, 26)
ORDINARY = date(2026, 11, 27)
WINDOWS = {"09:00": time(9), "11:00": time(11), "13:00": time(13)}
# (capacity per window, holiday share %) of each edit raced: shares up and down, and one
# capacity change whose share rounds down (7 * 30 % = 2.1 places: 2).
EDITS = ((10, 20), (10, 80), (10, 30), (12, 50), (10, 100), (7, 30))


class _Holiday:
    def day(self, day: date) -> DayInfo:
        if day == HOLIDAY:
            return DayInfo(day, DayKind.HOLIDAY, "test holiday")
        return estimate_day(day)


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


@pytest.fixture
def holiday_app(database_url: str, payments: RecordingPayments) -> Iterator[App]:
    """The seeded app on a calendar where tomorrow is a statutory holiday."""
    app = build(
        Settings(env="test", database_url=database_url, secret_key=SECRET),
        clock=FixedClock(T0),
        calendar=_Holiday(),
        payments=payments,
        run_migrations=False,
    )
    yield app
    app.engine.dispose()


def _counter(app: App, day: date, start: str) -> tuple[int, int]:
    with app.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT capacity, booked FROM slot_capacity WHERE adcode = '310104' "
                "AND carrier_id = 'yto' AND day = :d AND start = :s"
            ),
            {"d": day, "s": start},
        ).one()
    return int(row.capacity), int(row.booked)


# On the holiday a window's figure is the template's capacity times its share, the day after
# the capacity alone; every edit moves every counted window of both days and names those it
# leaves over capacity (a lowering cancels no booking).
def test_holiday_share_edits_raced_with_bookings_never_overbook_the_share(
    holiday_app: App, payments: RecordingPayments
) -> None:
    app = holiday_app
    svc = app.services
    with svc.uow() as uow:
        template = uow.templates.get(GENERIC_TWO_HOUR.template_id)
        area = uow.areas.get("310104")
        yto = uow.carriers.get("yto")
    assert template is not None and area is not None and yto is not None
    assert yto.template_id == template.template_id and area.capacity_override is None
    days = (HOLIDAY, ORDINARY)
    before = {(HOLIDAY, "09:00"): 3, (HOLIDAY, "11:00"): 1, (ORDINARY, "09:00"): 1}
    for (day, start), n in before.items():  # counted before the race; 13:00 is not
        for rid in _approved(app, n):
            pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("yto", day, WINDOWS[start]))
    nominal, share = template.capacity, template.holiday_capacity_pct

    def in_force(day: date) -> int:
        return nominal * share // 100 if day == HOLIDAY else nominal

    count = Counter(before)
    figure = {(d, s): in_force(d) for d in days for s in WINDOWS}
    counted = set(before)
    assert {k: _counter(app, *k) for k in counted} == {k: (figure[k], count[k]) for k in counted}
    seq = _last_seq(app)

    waiting = _approved(app, RACERS - len(EDITS))
    targets = cycle([(HOLIDAY, s) for s in WINDOWS] * 2 + [(ORDINARY, "09:00")])
    calls: list[Callable[[], object]] = [
        lambda r=r, k=next(targets): pickup.book_pickup(
            svc, BUYER, r, pickup.SlotChoice("yto", k[0], WINDOWS[k[1]])
        )
        for r in waiting
    ]
    # Half the edits are the console's (the stored record changed under the edit's lock),
    # half the API's (the whole record put).
    calls += [
        lambda c=c, p=p: catalog.change_template_capacity(svc, template.template_id, c, p)
        for c, p in EDITS[::2]
    ]
    calls += [
        lambda c=c, p=p: catalog.upsert_template(
            svc, replace(template, capacity=c, holiday_capacity_pct=p)
        )
        for c, p in EDITS[1::2]
    ]
    out = race(calls)
    assert set(out.codes) <= BOOKING, out.codes

    replayed = _bookings_and_edits(app, seq)
    assert Counter(name for name, _ in replayed)["slot_template.saved"] == len(EDITS)
    mine = "310104/yto/"
    for name, data in replayed:
        if name == "appointment.booked":
            slot = str(data["slot"])
            if not slot.startswith(mine):
                continue
            key = (date.fromisoformat(str(data["day"])), str(data["window"])[:5])
            counted.add(key)  # the first booking creates the counter with the figure in force
            count[key] += 1
            assert count[key] <= figure[key], (key, count[key], figure[key])
            continue
        nominal = int(data["capacity"])  # type: ignore[call-overload]
        share = int(data["holiday_capacity_pct"])  # type: ignore[call-overload]
        moved = {
            (date.fromisoformat(str(m["day"])), str(m["start"])): m
            for m in data["counters_moved"]  # type: ignore[attr-defined]
            if str(m["slot"]).startswith(mine)
        }
        for key in figure:
            if key not in counted:
                figure[key] = in_force(key[0])
            elif key in moved:
                assert (moved[key]["was"], moved[key]["booked"]) == (figure[key], count[key])
                figure[key] = int(moved[key]["capacity"])
            # No disruption on either day: every window took the figure its day gives.
            assert figure[key] == in_force(key[0]), (key, figure[key], nominal, share)
        over = {
            (date.fromisoformat(str(m["day"])), str(m["start"])): m["over"]
            for m in data["over_capacity"]  # type: ignore[attr-defined]
            if str(m["slot"]).startswith(mine)
        }
        assert over == {k: count[k] - figure[k] for k in counted if count[k] > figure[k]}
    for key in counted:
        assert _counter(app, *key) == (figure[key], count[key]), key
    assert sum(count.values()) == sum(before.values()) + len(out.won) - len(EDITS)
    assert violations(app, payments) == []
