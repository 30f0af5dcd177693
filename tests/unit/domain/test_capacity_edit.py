"""The template capacity edit rule: windows not started take the new figure, none is cut."""

from __future__ import annotations

from datetime import date, datetime, time

from doorstep.domain.capacity_edit import retarget
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef

DAY = date(2026, 11, 26)


def _slot(hour: int, carrier: str = "yto") -> SlotRef:
    return SlotRef("310112", carrier, DAY, Window(time(hour), time(hour + 2)))


def test_windows_not_started_take_the_new_figure_and_started_ones_keep_theirs() -> None:
    now = datetime.combine(DAY, time(11, 30), tzinfo=SHANGHAI)
    counted = [(_slot(13), 10, 4), (_slot(9), 10, 10), (_slot(11), 10, 7), (_slot(15), 10, 0)]
    moves = retarget(counted, lambda slot: 12, now)
    # 09-11 is over and 11-13 under way (its visits are being made): only 13 and 15 move.
    assert [(m.slot.window.start.hour, m.was, m.capacity, m.booked) for m in moves] == [
        (13, 10, 12, 4),
        (15, 10, 12, 0),
    ]
    assert [m.remaining for m in moves] == [8, 12]
    assert all(m.changed and m.over == 0 for m in moves)


def test_a_lowering_below_the_bookings_keeps_them_and_leaves_no_place() -> None:
    now = datetime.combine(DAY, time(8), tzinfo=SHANGHAI)
    [move] = retarget([(_slot(13), 10, 6)], lambda slot: 4, now)
    assert (move.capacity, move.booked, move.remaining, move.over) == (4, 6, 0, 2)
    assert move.as_data() == {
        "slot": _slot(13).key,
        "adcode": "310112",
        "carrier_id": "yto",
        "day": "2026-11-26",
        "start": "13:00",
        "was": 10,
        "capacity": 4,
        "booked": 6,
        "over": 2,
    }


def test_the_figure_is_asked_per_window_and_an_unchanged_one_is_not_a_move() -> None:
    now = datetime.combine(DAY, time(8), tzinfo=SHANGHAI)
    cut = {_slot(13): 5}  # e.g. a disruption halves 13-15: the caller's figure keeps the cut
    moves = retarget([(_slot(13), 5, 1), (_slot(15), 10, 1)], lambda slot: cut.get(slot, 10), now)
    assert [(m.capacity, m.changed) for m in moves] == [(5, False), (10, False)]
