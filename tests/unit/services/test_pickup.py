"""Booking, joining, moving and cancelling door pickups against slot capacity."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    B3_HOME,
    DAY_AFTER,
    MINHANG,
    TODAY,
    TOMORROW,
    approved,
    booked,
    new_order,
    open_return,
    slot_of,
    with_area,
    yto,
)

from doorstep.domain.address import Address
from doorstep.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from doorstep.domain.pickup import FailureReason
from doorstep.domain.policy import RuleConfig
from doorstep.domain.returns import Reason, ReturnStatus
from doorstep.services import courier, pickup, policies
from doorstep.services.offering import FixedCapacityOffering

OTHER_DOOR = Address(
    MINHANG, "上海市", "上海市", "闵行区", "闵行区莘庄镇1号", "王浩然", "13800001003", 31.11, 121.38
)


def _book(world: World, return_id: str, choice: pickup.SlotChoice, buyer: str = B3):  # type: ignore[no-untyped-def]
    return pickup.book_pickup(world.svc, buyer, return_id, choice)


def _refused(
    world: World, return_id: str, choice: pickup.SlotChoice, buyer: str = B3
) -> DomainError:
    """Booking fails, and leaves no appointment, no event and no capacity behind."""
    events = len(world.store.events)
    appts = world.store.items("appointments")
    slots = dict(world.store.slots)
    version = world.store.version("returns", return_id)
    with pytest.raises(DomainError) as err:
        _book(world, return_id, choice, buyer)
    assert world.store.items("appointments") == appts
    assert len(world.store.events) == events
    assert world.store.slots == slots
    assert world.store.version("returns", return_id) == version
    return err.value


# --- book -------------------------------------------------------------------------------------


def test_book_takes_one_unit_and_creates_the_visit(world: World) -> None:
    r = approved(world)
    appt = _book(world, r.return_id, yto(13))
    slot = slot_of(yto(13))
    assert appt.slot == slot and appt.return_ids == [r.return_id]
    assert world.store.slot(slot).booked == 1
    stored = world.store.item("appointments", appt.appointment_id)
    assert stored.status.value == "assigned" and stored.courier_id == "courier-yto-02"
    assert world.store.version("appointments", appt.appointment_id) == 1
    request = world.store.item("returns", r.return_id)
    assert request.status is ReturnStatus.AWAITING_PICKUP
    assert request.appointment_id == appt.appointment_id
    assert request.appointment_history == [appt.appointment_id]
    names = world.store.event_names(appt.appointment_id)
    assert names[0] == "appointment.booked" and "appointment.courier_assigned" in names
    assert world.store.event_names(r.return_id)[-1] == "return.pickup_scheduled"
    assert len(appt.pickup_code) == 6 and appt.pickup_code.isdigit()


def test_book_the_last_unit_then_full(world: World) -> None:
    world.store.set_slot(slot_of(yto(13)), capacity=2, booked=1)
    first, second = approved(world), approved(world)
    _book(world, first.return_id, yto(13))
    assert world.store.slot(slot_of(yto(13))).booked == 2
    err = _refused(world, second.return_id, yto(13))
    assert err.code == "slot_full" and err.details["slot"] == slot_of(yto(13)).key
    # The refusal carries the next windows to choose from, never the one just lost.
    alternatives = err.details["alternatives"]
    assert 1 <= len(alternatives) <= 3
    assert all(
        (a["carrier_id"], a["day"], a["start"]) != ("yto", TOMORROW.isoformat(), "13:00")
        for a in alternatives
    )
    retry = pickup.SlotChoice(
        alternatives[0]["carrier_id"],
        date.fromisoformat(alternatives[0]["day"]),
        time.fromisoformat(alternatives[0]["start"]),
    )
    assert _book(world, second.return_id, retry).status.value in ("booked", "assigned")


def test_book_respects_holiday_capacity(world: World) -> None:
    world.calendar.holidays[TOMORROW] = "test holiday"
    with_area(world, MINHANG, capacity_override=2)  # 50 % of 2 on a holiday: 1
    first, second = approved(world), approved(world)
    _book(world, first.return_id, yto(9))
    assert world.store.slot(slot_of(yto(9))).capacity == 1
    assert _refused(world, second.return_id, yto(9)).code == "slot_full"


def test_book_closed_window(world: World) -> None:
    r = approved(world)
    world.clock.advance(minutes=1)  # today 09–11 closed at 09:00 (two hours before its end)
    assert _refused(world, r.return_id, yto(9, TODAY)).code == "slot_closed"
    assert _refused(world, r.return_id, yto(9, TODAY + timedelta(days=3))).code == "slot_closed"


def test_book_after_the_same_day_cut_off(world: World) -> None:
    r = approved(world)
    world.clock.advance(hours=8)  # 17:00: only tomorrow's windows
    assert _refused(world, r.return_id, yto(17, TODAY)).code == "slot_closed"
    assert _book(world, r.return_id, yto(9)).slot.day == TOMORROW


def test_book_a_time_that_is_no_window(world: World) -> None:
    r = approved(world)
    assert _refused(world, r.return_id, yto(10)).code == "slot_not_in_template"


def test_book_after_the_pickup_deadline(world: World) -> None:
    policies.revise_policy(
        world.svc, (RuleConfig("ship_within", True, {"days": 1}),), "ops-001", "tight"
    )
    r = approved(world)  # pickup until the end of tomorrow
    err = _refused(world, r.return_id, yto(9, DAY_AFTER))
    assert err.code == "slot_after_deadline" and err.details["until"].startswith("2026-11-26")
    assert _book(world, r.return_id, yto(17)).slot.day == TOMORROW


def test_book_needs_an_approved_return(world: World) -> None:
    held = open_return(world, new_order(world), reason=Reason.QUALITY)
    err = _refused(world, held.return_id, yto(13))
    assert err.code == "not_bookable" and err.details == {"status": "in_review"}
    r, _ = booked(world)
    assert _refused(world, r.return_id, yto(15)).code == "not_bookable"


def test_book_with_a_carrier_not_serving_the_area(world: World) -> None:
    r = approved(world)
    err = _refused(world, r.return_id, pickup.SlotChoice("jd", TOMORROW, yto(13).start))
    assert err.code == "carrier_not_in_area" and isinstance(err, InvalidInput)


def test_book_where_pickup_does_not_serve(world: World) -> None:
    r = approved(world)
    with_area(world, MINHANG, pickup_supported=False)
    assert _refused(world, r.return_id, yto(13)).code == "area_not_covered"


def test_book_someone_elses_return_is_not_found(world: World) -> None:
    r = approved(world)
    assert _refused(world, r.return_id, yto(13), buyer="buyer-001").code == (
        "return_request_not_found"
    )


def test_book_outside_the_local_shift_falls_back_to_a_courier_elsewhere(world: World) -> None:
    r = approved(world)
    appt = _book(world, r.return_id, yto(17))  # yto-02 (Minhang) works 08–17
    assert appt.courier_id not in (None, "courier-yto-02")  # from a depot nearby
    assert appt.eta is not None and appt.slot.starts_at <= appt.eta <= appt.slot.ends_at


def test_book_with_no_courier_on_shift_leaves_it_unassigned(world: World) -> None:
    for c in world.store.items("couriers"):
        if c.carrier_id == "yto":
            world.store.tables["couriers"].pop(c.courier_id)
    r = approved(world)
    appt = _book(world, r.return_id, yto(13))
    assert appt.status.value == "booked" and appt.courier_id is None


# --- options ----------------------------------------------------------------------------------


def test_options_list_open_windows_and_hide_full_ones(world: World) -> None:
    r = approved(world)
    world.store.set_slot(slot_of(yto(13)), capacity=1, booked=1)
    opts = pickup.pickup_options(world.svc, FixedCapacityOffering(), B3, r.return_id)
    keys = {o.slot.key for o in opts.slots}
    assert slot_of(yto(11)).key in keys and slot_of(yto(13)).key not in keys
    assert {o.slot.carrier_id for o in opts.slots} == {"yto", "sf"}
    assert [o.rank for o in opts.slots] == list(range(len(opts.slots)))
    assert opts.unavailable_reason is None and opts.joinable == ()


def test_options_offer_pending_visits_at_the_same_door(world: World) -> None:
    _, appt = booked(world)
    other = approved(world)
    elsewhere = approved(world, address=OTHER_DOOR)
    opts = pickup.pickup_options(world.svc, FixedCapacityOffering(), B3, other.return_id)
    assert [a.appointment_id for a in opts.joinable] == [appt.appointment_id]
    far = pickup.pickup_options(world.svc, FixedCapacityOffering(), B3, elsewhere.return_id)
    assert far.joinable == ()


def test_options_explain_why_there_are_none(world: World) -> None:
    held = open_return(world, new_order(world), reason=Reason.QUALITY)
    opts = pickup.pickup_options(world.svc, FixedCapacityOffering(), B3, held.return_id)
    assert opts.slots == () and opts.unavailable_reason == "status_in_review"
    gar = open_return(world, world.data.order("TM2026000107"))
    opts = pickup.pickup_options(world.svc, FixedCapacityOffering(), B3, gar.return_id)
    assert opts.unavailable_reason == "area_not_covered"


# --- join -------------------------------------------------------------------------------------


def test_join_adds_a_return_without_new_capacity(world: World) -> None:
    first, appt = booked(world)
    second = approved(world)
    joined = pickup.join_pickup(world.svc, B3, second.return_id, appt.appointment_id)
    assert joined.return_ids == [first.return_id, second.return_id]
    assert world.store.slot(slot_of(yto(13))).booked == 1
    assert world.store.item("returns", second.return_id).appointment_id == appt.appointment_id
    assert world.store.event_names(appt.appointment_id)[-1] == "appointment.return_joined"
    assert world.store.version("appointments", appt.appointment_id) == 2


def test_join_makes_the_route_stop_longer_and_heavier(world: World) -> None:
    _, appt = booked(world)
    assert appt.courier_id is not None
    key = f"{appt.courier_id}:{appt.slot.day.isoformat()}"
    before = world.store.item("routes", key).stops[0]
    second = approved(world)
    pickup.join_pickup(world.svc, B3, second.return_id, appt.appointment_id)
    after = world.store.item("routes", key).stops[0]
    assert after.appointment_id == appt.appointment_id
    assert after.service_s > before.service_s and after.weight_g > before.weight_g
    assert "route.stop_resized" in world.store.event_names(key)


def test_join_at_a_different_address_is_refused(world: World) -> None:
    _, appt = booked(world)
    elsewhere = approved(world, address=OTHER_DOOR)
    before = len(world.store.events)
    with pytest.raises(Conflict) as err:
        pickup.join_pickup(world.svc, B3, elsewhere.return_id, appt.appointment_id)
    assert err.value.code == "different_address"
    assert world.store.item("appointments", appt.appointment_id).return_ids != []
    assert len(world.store.events) == before


def test_join_needs_an_approved_return_and_ones_own_visit(world: World) -> None:
    first, appt = booked(world)
    with pytest.raises(Conflict, match="not_bookable"):
        pickup.join_pickup(world.svc, B3, first.return_id, appt.appointment_id)
    mine = approved(world, buyer_id="buyer-001")
    with pytest.raises(NotFound, match="appointment_not_found"):
        pickup.join_pickup(world.svc, "buyer-001", mine.return_id, appt.appointment_id)


def test_join_a_visit_same_door_different_spacing(world: World) -> None:
    _, appt = booked(world)
    spaced = Address(
        MINHANG,
        "上海市",
        "上海市",
        "闵行区",
        "闵行区 莘松路958弄 12号402室",
        "王浩然",
        "13800001003",
    )
    second = approved(world, address=spaced)
    pickup.join_pickup(world.svc, B3, second.return_id, appt.appointment_id)
    assert B3_HOME.same_place(spaced)


def test_join_a_visit_whose_window_has_passed_is_refused(world: World) -> None:
    _, appt = booked(world, yto(9, TODAY))
    world.clock.advance(hours=3)  # 12:00: the 09–11 visit is over (no arrival recorded)
    late = approved(world)
    opts = pickup.pickup_options(world.svc, FixedCapacityOffering(), B3, late.return_id)
    assert opts.joinable == ()
    with pytest.raises(Conflict):
        pickup.join_pickup(world.svc, B3, late.return_id, appt.appointment_id)


# --- reschedule -------------------------------------------------------------------------------


def test_reschedule_moves_the_capacity(world: World) -> None:
    r, appt = booked(world)
    moved = pickup.reschedule_pickup(world.svc, B3, appt.appointment_id, yto(15))
    assert moved.slot == slot_of(yto(15))
    assert world.store.slot(slot_of(yto(13))).booked == 0
    assert world.store.slot(slot_of(yto(15))).booked == 1
    event = world.store.events_named("appointment.rescheduled")[-1]
    assert (event.data["old"], event.data["new"]) == (slot_of(yto(13)).key, slot_of(yto(15)).key)
    assert event.data["reason"] == "buyer_request"
    assert world.store.event_names(r.return_id)[-1] == "return.pickup_moved"


def test_reschedule_after_a_failed_attempt_keeps_the_used_window(world: World) -> None:
    r, appt = booked(world)
    courier.fail_attempt(
        world.svc, appt.courier_id, appt.appointment_id, FailureReason.BUYER_UNREACHABLE, ""
    )
    moved = pickup.reschedule_pickup(world.svc, B3, appt.appointment_id, yto(15))
    assert moved.status.value in ("booked", "assigned")
    assert world.store.slot(slot_of(yto(13))).booked == 1  # the attempt used it
    assert world.store.slot(slot_of(yto(15))).booked == 1
    assert world.store.item("returns", r.return_id).status is ReturnStatus.AWAITING_PICKUP


def test_reschedule_to_a_full_window_changes_nothing(world: World) -> None:
    _, appt = booked(world)
    world.store.set_slot(slot_of(yto(15)), capacity=1, booked=1)
    before = len(world.store.events)
    with pytest.raises(Conflict, match="slot_full"):
        pickup.reschedule_pickup(world.svc, B3, appt.appointment_id, yto(15))
    assert world.store.slot(slot_of(yto(13))).booked == 1
    assert world.store.slot(slot_of(yto(15))).booked == 1
    assert world.store.item("appointments", appt.appointment_id).slot == slot_of(yto(13))
    assert len(world.store.events) == before


def test_reschedule_to_the_same_window_gives_back_what_it_took(world: World) -> None:
    _, appt = booked(world)
    with pytest.raises(Conflict, match="same_slot"):
        pickup.reschedule_pickup(world.svc, B3, appt.appointment_id, yto(13))
    assert world.store.slot(slot_of(yto(13))).booked == 1  # the take before the refusal rolled back


def test_reschedule_checks_every_returns_deadline(world: World) -> None:
    policies.revise_policy(world.svc, (RuleConfig("ship_within", True, {"days": 1}),), "ops", "")
    _, appt = booked(world)
    with pytest.raises(Conflict, match="slot_after_deadline"):
        pickup.reschedule_pickup(world.svc, B3, appt.appointment_id, yto(13, DAY_AFTER))


def test_reschedule_someone_elses_visit_is_not_found(world: World) -> None:
    _, appt = booked(world)
    with pytest.raises(NotFound):
        pickup.reschedule_pickup(world.svc, "buyer-001", appt.appointment_id, yto(15))
    ops = pickup.reschedule_pickup(world.svc, None, appt.appointment_id, yto(15), "ops_move")
    assert world.store.events_named("appointment.rescheduled")[-1].data["reason"] == "ops_move"
    assert ops.slot == slot_of(yto(15))


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_pickup_frees_the_window_and_the_returns(world: World) -> None:
    r, appt = booked(world)
    second = approved(world)
    pickup.join_pickup(world.svc, B3, second.return_id, appt.appointment_id)
    cancelled = pickup.cancel_pickup(world.svc, B3, appt.appointment_id)
    assert cancelled.status.value == "cancelled"
    assert world.store.slot(slot_of(yto(13))).booked == 0
    for rid in (r.return_id, second.return_id):
        request = world.store.item("returns", rid)
        assert request.status is ReturnStatus.APPROVED and request.appointment_id is None
        assert world.store.event_names(rid)[-1] == "return.pickup_released"
    again = _book(world, r.return_id, yto(13))
    assert again.appointment_id != appt.appointment_id
    assert world.store.item("returns", r.return_id).appointment_history == [
        appt.appointment_id,
        again.appointment_id,
    ]


def test_cancel_pickup_after_a_failed_attempt_keeps_the_window(world: World) -> None:
    _, appt = booked(world)
    courier.fail_attempt(world.svc, appt.courier_id, appt.appointment_id, FailureReason.WEATHER, "")
    pickup.cancel_pickup(world.svc, B3, appt.appointment_id)
    assert world.store.slot(slot_of(yto(13))).booked == 1


def test_cancel_pickup_twice_or_by_someone_else(world: World) -> None:
    _, appt = booked(world)
    with pytest.raises(NotFound):
        pickup.cancel_pickup(world.svc, "buyer-001", appt.appointment_id)
    pickup.cancel_pickup(world.svc, B3, appt.appointment_id)
    with pytest.raises(Conflict, match="illegal_transition"):
        pickup.cancel_pickup(world.svc, B3, appt.appointment_id)
    assert world.store.slot(slot_of(yto(13))).booked == 0  # released once, not twice


def test_get_appointment_is_scoped(world: World) -> None:
    _, appt = booked(world)
    aid = appt.appointment_id
    assert pickup.get_appointment(world.svc, aid, buyer_id=B3).appointment_id == aid
    assert pickup.get_appointment(world.svc, aid, courier_id="courier-yto-02").appointment_id == aid
    for kw in ({"buyer_id": "buyer-001"}, {"courier_id": "courier-sf-01"}):
        with pytest.raises(NotFound):
            pickup.get_appointment(world.svc, aid, **kw)
