"""A courier's step sent again (the phone lost the answer) is answered as the first, on SQLite
and PostgreSQL.

Before session 10 a pickup whose request died after its commit and was sent again got 409
``not_arrived``, as did an inspection sent again after the pickup that followed it; the same
inspection sent twice before the pickup was recorded twice. Raced here: the same inspection
24 times at once; then, after a pickup that died before its express refund, repeats of the
inspection and of the pickup, two different pickups (a wrong code) and the worker's sweeps,
all at once. Checked: the same answer for every repeat, ``visit_already_picked_up`` for the
different pickups, one inspection, one pickup and one paid refund in the events and the
provider's ledger, and the invariants in SQL (``races.violations``: one completion per visit,
one pickup per return, one refund per return, slot and route counters).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

import pytest
from sqlalchemy import text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_races import (  # type: ignore[import-not-found]
    ALL_PASS,
    BUYER,
    _approved,
    _jpeg,
    refunds_of,
)

from doorstep.bootstrap import App
from doorstep.domain.pickup import Appointment
from doorstep.domain.refund import RefundKind, RefundStatus
from doorstep.domain.returns import Inspection, ReturnStatus
from doorstep.entrypoints import jobs
from doorstep.entrypoints.api import views
from doorstep.services import courier, photos, pickup, returns

TOMORROW = date(2026, 11, 26)
PRICE = 19_900


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _arrived(app: App, return_id: str, hour: int) -> tuple[Appointment, courier.InspectionInput]:
    """Booked and the courier at the door: the visit and the inspection he will send."""
    svc = app.services
    appt = pickup.book_pickup(svc, BUYER, return_id, pickup.SlotChoice("sf", TOMORROW, time(hour)))
    assert appt.courier_id is not None
    courier.arrive(svc, appt.courier_id, appt.appointment_id)
    shot = photos.upload_photo(svc, appt.courier_id, _jpeg()).photo_id
    return appt, courier.InspectionInput(return_id, dict(ALL_PASS), (shot,), 1_500)


def _count(app: App, name: str, aggregate_id: str) -> int:
    with app.engine.connect() as conn:
        n = conn.execute(
            text("SELECT COUNT(*) FROM events WHERE name = :n AND aggregate_id = :a"),
            {"n": name, "a": aggregate_id},
        ).scalar_one()
    return int(n)


def _receipt(appt: Appointment) -> str:
    return views.appointment_out(appt, show_code=False).model_dump_json()


def test_the_same_inspection_sent_at_once_is_recorded_once(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    [rid] = _approved(wired, 1, price=PRICE)
    appt, data = _arrived(wired, rid, 10)
    cid = appt.courier_id
    assert cid is not None
    out = race([lambda: courier.inspect(svc, cid, appt.appointment_id, data)] * RACERS)
    assert out.lost == [], out.codes
    # One inspection, the same answer to every repeat.
    assert isinstance(out.won[0], Inspection) and out.won == [out.won[0]] * RACERS
    assert _count(wired, "return.inspected_at_door", rid) == 1
    courier.pick_up(svc, cid, appt.appointment_id, appt.pickup_code)
    assert returns.get_return(svc, rid).status is ReturnStatus.PICKED_UP
    assert violations(wired, payments) == []


def test_repeats_after_a_pickup_that_died_race_the_sweeps_and_are_answered_as_the_first(
    wired: App, payments: RecordingPayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    for hour, rid in zip((12, 14), _approved(wired, 2, price=PRICE), strict=True):
        _repeats_race_the_sweeps(wired, payments, monkeypatch, rid, hour)
    assert violations(wired, payments) == []


def _repeats_race_the_sweeps(
    wired: App,
    payments: RecordingPayments,
    monkeypatch: pytest.MonkeyPatch,
    rid: str,
    hour: int,
) -> None:
    svc = wired.services
    appt, data = _arrived(wired, rid, hour)
    cid, aid, code = appt.courier_id, appt.appointment_id, appt.pickup_code
    assert cid is not None
    inspected = courier.inspect(svc, cid, aid, data)
    real = courier.start_express_refund

    def dies(*_: object) -> None:
        raise RuntimeError("the process died after the pickup's commit")

    monkeypatch.setattr(courier, "start_express_refund", dies)
    with pytest.raises(RuntimeError):
        courier.pick_up(svc, cid, aid, code)
    monkeypatch.setattr(courier, "start_express_refund", real)
    first = pickup.get_appointment(svc, aid)
    assert refunds_of(wired, rid) == []
    wrong = "000000" if code != "000000" else "111111"
    calls: list[Callable[[], Any]] = [
        *[lambda: courier.pick_up(svc, cid, aid, code)] * 8,
        *[lambda: courier.inspect(svc, cid, aid, data)] * 6,
        *[lambda: courier.pick_up(svc, cid, aid, wrong)] * 2,
        *[lambda: jobs.SWEEPS["express_refunds"](wired)] * 8,
    ]
    assert len(calls) == RACERS
    out = race(calls)
    # Only the different pickups are refused, with their own code.
    assert out.codes == {"visit_already_picked_up": 2}, out.codes
    picked = [_receipt(w) for w in out.won if isinstance(w, Appointment)]
    assert picked == [_receipt(first)] * 8
    assert [w for w in out.won if isinstance(w, Inspection)] == [inspected] * 6
    assert _count(wired, "appointment.completed", aid) == 1
    assert _count(wired, "return.picked_up", rid) == 1
    assert _count(wired, "return.inspected_at_door", rid) == 1
    [refund] = refunds_of(wired, rid)
    assert refund.kind is RefundKind.EXPRESS and refund.status is RefundStatus.SUCCEEDED
    # Asked under one key (a repeat and a sweep may both ask), paid once.
    assert set(payments.log_for(rid)) == {(f"refund:{rid}", PRICE)}
    assert payments.paid[f"refund:{rid}"][1] == PRICE
