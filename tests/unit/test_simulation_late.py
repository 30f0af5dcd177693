"""A visit rung outside its window is recorded with what it takes to find why."""

from __future__ import annotations

from datetime import date, datetime, time

from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import Window
from doorstep.domain.pickup import Appointment, SlotRef
from doorstep.simulation.kpis import Tally, kpis
from doorstep.simulation.run import late_visit

ADDRESS = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路 1 号", "张三", "13800138000")
SLOT = SlotRef("310104", "sf", date(2026, 11, 24), Window(time(12), time(13)))
BOOKED = datetime(2026, 11, 23, 13, 40, tzinfo=SHANGHAI)


def _visit() -> Appointment:
    return Appointment.book("A-1", "B1", ADDRESS, SLOT, ["R1"], BOOKED)


def test_a_visit_after_the_close_counts_minutes_past_the_close() -> None:
    rung = datetime(2026, 11, 24, 13, 2, 18, tzinfo=SHANGHAI)
    late = late_visit(_visit(), "courier-sf-01", rung)
    assert late.as_dict() == {
        "appointment_id": "A-1",
        "courier_id": "courier-sf-01",
        "window": "2026-11-24 12:00-13:00",
        "booked_at": "2026-11-23 13:40",
        "rung_at": "2026-11-24 13:02",
        "minutes_out": 2.3,
    }


def test_a_visit_before_the_opening_counts_negative_minutes() -> None:
    rung = datetime(2026, 11, 24, 11, 45, tzinfo=SHANGHAI)
    assert late_visit(_visit(), "c", rung).minutes_out == -15.0


def test_the_report_lists_every_late_visit() -> None:
    tally = Tally()
    tally.late.append(late_visit(_visit(), "c", datetime(2026, 11, 24, 14, 0, tzinfo=SHANGHAI)))
    report = kpis(tally)
    assert [v["minutes_out"] for v in report["late_visits"]] == [60.0]  # type: ignore[attr-defined]
