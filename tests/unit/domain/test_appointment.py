"""The Appointment aggregate: one courier visit carrying one or more returns."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest

from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import Window
from doorstep.domain.errors import Conflict, IllegalTransition
from doorstep.domain.pickup import (
    Appointment,
    AppointmentStatus,
    FailureReason,
    SlotRef,
    new_pickup_code,
)

A = AppointmentStatus
T0 = datetime(2025, 3, 20, 8, 0, tzinfo=SHANGHAI)
LATER = T0 + timedelta(hours=2)
ADDRESS = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路 1 号", "张三", "13800138000")
SLOT = SlotRef("310104", "sf", date(2025, 3, 20), Window(time(9), time(11)))
OTHER = SlotRef("310104", "sf", date(2025, 3, 21), Window(time(13), time(15)))


def appointment(status: A = A.BOOKED, courier: str | None = None, returns=("R1",)) -> Appointment:  # type: ignore[no-untyped-def]
    appt = Appointment.book("AP1", "B1", ADDRESS, SLOT, list(returns), T0)
    appt.status = status
    appt.courier_id = courier if courier is not None else (None if status is A.BOOKED else "C1")
    appt.pickup_code = "123456"
    appt.take_events()
    return appt


def snapshot(appt: Appointment) -> dict[str, object]:
    return copy.deepcopy(dict(vars(appt)))


ACTIONS: dict[str, tuple[Callable[[Appointment], object], frozenset[A], A]] = {
    "join": (lambda a: a.join("R2", LATER), frozenset({A.BOOKED, A.ASSIGNED}), None),  # type: ignore[dict-item]
    "reschedule": (
        lambda a: a.reschedule(OTHER, LATER),
        frozenset({A.BOOKED, A.ASSIGNED, A.FAILED}),
        A.BOOKED,
    ),
    "assign": (lambda a: a.assign("C2", LATER), frozenset({A.BOOKED, A.ASSIGNED}), A.ASSIGNED),
    "arrive": (lambda a: a.arrive("C1", LATER), frozenset({A.ASSIGNED}), A.ARRIVED),
    "complete": (lambda a: a.complete("C1", LATER), frozenset({A.ARRIVED}), A.COMPLETED),
    "fail": (
        lambda a: a.fail("C1", FailureReason.NO_ACCESS, LATER),
        frozenset({A.ASSIGNED, A.ARRIVED}),
        A.FAILED,
    ),
    "cancel": (
        lambda a: a.cancel(LATER, "buyer"),
        frozenset({A.BOOKED, A.ASSIGNED, A.FAILED}),
        A.CANCELLED,
    ),
}


@pytest.mark.parametrize("status", list(A))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_status_times_every_action(status: A, action: str) -> None:
    call, legal_from, target = ACTIONS[action]
    appt = appointment(status)
    if status in legal_from:
        call(appt)
        assert appt.status is (target or status)
        assert len(appt.take_events()) == 1
    else:
        before = snapshot(appt)
        with pytest.raises(IllegalTransition) as raised:
            call(appt)
        assert raised.value.code == "illegal_transition"
        assert raised.value.details["aggregate"] == "appointment"
        assert snapshot(appt) == before and appt.take_events() == []


def test_book_records_the_slot() -> None:
    appt = Appointment.book("AP1", "B1", ADDRESS, SLOT, ["R1"], T0)
    (event,) = appt.take_events()
    assert event.name == "appointment.booked"
    assert event.data["slot"] == SLOT.key and event.data["returns"] == ["R1"]
    assert appt.active and appt.status is A.BOOKED
    assert len(appt.pickup_code) == 6 and appt.pickup_code.isdigit()


def test_pickup_codes_are_six_digits() -> None:
    codes = {new_pickup_code() for _ in range(50)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)


def test_join_is_idempotent() -> None:
    appt = appointment()
    appt.join("R2", LATER)
    appt.join("R2", LATER)
    assert appt.return_ids == ["R1", "R2"]
    assert [e.name for e in appt.take_events()] == ["appointment.return_joined"]


def test_leave_keeps_the_visit_while_returns_remain() -> None:
    appt = appointment(returns=("R1", "R2"))
    appt.leave("R1", LATER)
    appt.leave("R9", LATER)  # not on this visit: nothing happens
    assert (appt.status, appt.return_ids) == (A.BOOKED, ["R2"])
    assert [e.name for e in appt.take_events()] == ["appointment.return_left"]


@pytest.mark.parametrize("status", [A.BOOKED, A.ASSIGNED])
def test_empty_visit_is_cancelled(status: A) -> None:
    appt = appointment(status)
    appt.leave("R1", LATER)
    assert appt.status is A.CANCELLED and not appt.active
    assert [e.name for e in appt.take_events()] == [
        "appointment.return_left",
        "appointment.cancelled",
    ]


def test_leaving_an_arrived_visit_is_all_or_nothing() -> None:
    appt = appointment(A.ARRIVED)
    before = snapshot(appt)
    try:
        appt.leave("R1", LATER)
    except IllegalTransition:
        assert snapshot(appt) == before
        assert appt.take_events() == []
    else:
        assert appt.status is A.CANCELLED


def test_empty_failed_visit_is_cancelled() -> None:
    appt = appointment(A.FAILED)
    appt.leave("R1", LATER)
    assert appt.status is A.CANCELLED


def test_reschedule_resets_courier_and_returns_old_slot() -> None:
    appt = appointment(A.ASSIGNED)
    old = appt.reschedule(OTHER, LATER, "buyer_request")
    assert old == SLOT and appt.slot == OTHER
    assert (appt.status, appt.courier_id, appt.arrived_at) == (A.BOOKED, None, None)
    (event,) = appt.take_events()
    assert (event.data["old"], event.data["new"]) == (SLOT.key, OTHER.key)


def test_reschedule_to_the_same_slot_is_refused() -> None:
    appt = appointment()
    with pytest.raises(Conflict) as raised:
        appt.reschedule(SLOT, LATER)
    assert raised.value.code == "same_slot"
    assert appt.take_events() == []


def test_happy_path_with_code_check() -> None:
    appt = appointment()
    appt.assign("C1", T0)
    appt.assign("C2", T0)  # reassigned before arrival
    appt.arrive("C2", at_ := datetime(2025, 3, 20, 11, 30, tzinfo=SHANGHAI))
    assert appt.arrived_at == at_
    arrived = [e for e in appt.take_events() if e.name == "appointment.courier_arrived"]
    assert arrived[0].data["late"] is True
    appt.check_code("123456")
    appt.complete("C2", at_)
    assert (appt.status, appt.completed_at, appt.active) == (A.COMPLETED, at_, False)
    assert [a.outcome for a in appt.attempts] == ["picked_up"]


def test_arrival_within_the_window_is_not_late() -> None:
    appt = appointment(A.ASSIGNED)
    appt.arrive("C1", SLOT.ends_at)
    (event,) = appt.take_events()
    assert event.data["late"] is False


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (A.ASSIGNED, lambda a: a.arrive("C2", LATER)),
        (A.ARRIVED, lambda a: a.complete("C2", LATER)),
        (A.ASSIGNED, lambda a: a.fail("C2", FailureReason.WEATHER, LATER)),
        (A.ARRIVED, lambda a: a.fail("C2", FailureReason.WEATHER, LATER)),
    ],
)
def test_only_the_assigned_courier_acts(status: A, call) -> None:  # type: ignore[no-untyped-def]
    appt = appointment(status, courier="C1")
    before = snapshot(appt)
    with pytest.raises(Conflict) as raised:
        call(appt)
    assert raised.value.code == "not_your_task"
    assert snapshot(appt) == before and appt.take_events() == []


@pytest.mark.parametrize("code", ["654321", "12345", "1234567", "", "12345６"])
def test_wrong_pickup_code(code: str) -> None:
    appt = appointment(A.ARRIVED)
    with pytest.raises(Conflict) as raised:
        appt.check_code(code)
    assert raised.value.code == "pickup_code_mismatch"


def test_failed_attempt_then_reschedule_keeps_attempts() -> None:
    appt = appointment(A.ARRIVED)
    appt.fail("C1", FailureReason.BUYER_UNREACHABLE, LATER, "no answer")
    (event,) = appt.take_events()
    assert event.data == {"courier_id": "C1", "reason": "buyer_unreachable", "attempt": 1}
    appt.reschedule(OTHER, LATER, "after_failure")
    assert appt.status is A.BOOKED and len(appt.attempts) == 1
    assert appt.attempts[0].reason is FailureReason.BUYER_UNREACHABLE


def test_failure_reasons_sides() -> None:
    assert FailureReason.BUYER_UNREACHABLE.buyer_side
    assert FailureReason.INSPECTION_REFUSED.buyer_side
    assert not FailureReason.WEATHER.buyer_side
    assert not FailureReason.NO_ACCESS.buyer_side


def test_assigning_the_same_courier_again_records_nothing() -> None:
    appt = appointment(A.ASSIGNED)
    appt.assign("C1", LATER)
    assert appt.take_events() == []


def test_plan_sets_eta_and_records_only_noticeable_moves() -> None:
    appt = appointment(A.BOOKED)
    eta = SLOT.starts_at
    appt.plan("C1", 0, eta, LATER)
    names = [e.name for e in appt.take_events()]
    assert names == ["appointment.courier_assigned", "appointment.eta_updated"]
    appt.plan("C1", 1, eta + timedelta(minutes=5), LATER)
    assert appt.take_events() == [] and appt.route_position == 1
    appt.plan("C1", 1, eta + timedelta(minutes=30), LATER)
    assert [e.name for e in appt.take_events()] == ["appointment.eta_updated"]
    appt.mark_unserved("capacity", LATER)
    appt.mark_unserved("capacity", LATER)
    assert [e.name for e in appt.take_events()] == ["appointment.unserved"]


def test_a_company_pickup_overtaking_our_cancel_completes_the_visit() -> None:
    appt = appointment(A.ASSIGNED, courier="ext:sf")
    appt.served_by_company = True
    appt.promise_coupon(300, T0)
    appt.cancel(LATER, "buyer_cancelled")
    appt.take_events()
    appt.picked_up_after_cancel("ext:sf", LATER, "EV-9")
    assert appt.status is A.COMPLETED and appt.courier_id == "ext:sf"
    assert appt.completed_at == LATER and appt.attempts[-1].outcome == "picked_up"
    assert appt.coupon_issued_at is None  # the coupon went with the cancel
    [event] = appt.take_events()
    assert event.name == "appointment.cancel_overtaken"
    assert event.data == {"courier_id": "ext:sf", "event_id": "EV-9"}


@pytest.mark.parametrize("status", [s for s in A if s is not A.CANCELLED])
def test_only_a_cancelled_company_visit_is_completed_by_an_overtaking_pickup(status: A) -> None:
    for appt in (appointment(status), appointment(A.CANCELLED)):
        appt.served_by_company = appt.status is not A.CANCELLED
        before = snapshot(appt)
        with pytest.raises(IllegalTransition):
            appt.picked_up_after_cancel("ext:sf", LATER, "EV-9")
        assert snapshot(appt) == before and appt.take_events() == []
