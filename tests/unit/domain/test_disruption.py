"""Disruptions: which windows they cover and how much capacity they leave."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import Window
from doorstep.domain.disruption import Disruption, DisruptionKind, disrupted_pct
from doorstep.domain.errors import InvalidInput
from doorstep.domain.pickup import SlotRef

AT = datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)


def typhoon(pct: int = 0, start: int = 12, end: int = 15) -> Disruption:
    return Disruption.declare(
        "D1",
        DisruptionKind.TYPHOON,
        ["310104"],
        datetime(2026, 11, 26, start, tzinfo=SHANGHAI),
        datetime(2026, 11, 26, end, tzinfo=SHANGHAI),
        pct,
        "t",
        "台风",
        AT,
        "ops",
    )


def slot(h: int, adcode: str = "310104") -> SlotRef:
    return SlotRef(adcode, "yto", date(2026, 11, 26), Window(time(h), time(h + 2)))


def test_overlap_is_half_open() -> None:
    d = typhoon()
    assert [h for h in (9, 11, 13, 15) if d.affects(slot(h))] == [11, 13]
    assert not d.affects(slot(13, "310105"))


def test_harshest_disruption_wins_and_lifting_restores() -> None:
    strong, mild = typhoon(0), typhoon(60, 9, 19)
    assert disrupted_pct(slot(13), [mild, strong]) == 0
    assert disrupted_pct(slot(9), [mild, strong]) == 60
    strong.lift(AT, "ops")
    assert disrupted_pct(slot(13), [mild, strong]) == 60
    assert strong.covers(slot(13)) and not strong.affects(slot(13))
    assert [e.name for e in strong.take_events()] == ["disruption.declared", "disruption.lifted"]


@pytest.mark.parametrize("kwargs", [{"pct": 101}, {"start": 15, "end": 12}])
def test_invalid_disruptions_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(InvalidInput):
        typhoon(**kwargs)
