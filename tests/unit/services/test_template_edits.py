"""A template's capacity edit moves the counters of windows already booked (not started)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    MINHANG,
    TOMORROW,
    at,
    booked,
    sf,
    slot_of,
    yto,
)

from doorstep.domain.coverage import GENERIC_TWO_HOUR, SF_ONE_HOUR, ServiceArea, SlotTemplate
from doorstep.domain.disruption import DisruptionKind
from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.fleet import Carrier
from doorstep.services import catalog, disruptions, pickup
from doorstep.services.ports import SlotLoad


def _generic(world: World) -> SlotTemplate:
    template = world.store.item("templates", GENERIC_TWO_HOUR.template_id)
    assert isinstance(template, SlotTemplate)
    return template


def _edit(world: World, capacity: int) -> catalog.TemplateSaved:
    return catalog.upsert_template(world.svc, replace(_generic(world), capacity=capacity))


def _halve_tomorrow_afternoon(world: World) -> disruptions.DisruptionReport:
    return disruptions.declare_disruption(
        world.svc,
        "ops-001",
        DisruptionKind.ROAD_CLOSURE,
        [MINHANG],
        at(TOMORROW, 12),
        at(TOMORROW, 16),
        50,
        "Road works",
        "道路施工",
    )


def test_raising_capacity_opens_places_in_a_booked_window_at_once(world: World) -> None:
    _, appt = booked(world, yto(13))
    before = world.store.slot(slot_of(yto(13)))
    assert before == SlotLoad(_generic(world).capacity, 1)
    saved = _edit(world, 25)
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(25, 1)
    assert [m.as_data()["slot"] for m in saved.moved] == [slot_of(yto(13)).key]
    assert saved.over == ()
    [event] = world.store.events_named("slot_template.saved")[-1:]
    assert event.data["counters_moved"] == [saved.moved[0].as_data()]
    assert event.data["counters_moved"][0]["was"] == before.capacity
    assert world.store.item("appointments", appt.appointment_id).status.value != "cancelled"


def test_lowering_below_the_bookings_cancels_none_and_reports_the_window(world: World) -> None:
    visits = [booked(world, yto(13))[1] for _ in range(3)]
    saved = _edit(world, 1)
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(1, 3)
    [over] = saved.over
    assert (over.slot, over.capacity, over.booked, over.over, over.remaining) == (
        slot_of(yto(13)),
        1,
        3,
        2,
        0,
    )
    for appt in visits:
        assert world.store.item("appointments", appt.appointment_id).status.value in (
            "booked",
            "assigned",
        )
    # The window takes no more bookings until it is back under its capacity.
    with pytest.raises(Conflict, match="slot_full"):
        booked(world, yto(13))
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(1, 3)
    [event] = world.store.events_named("slot_template.saved")[-1:]
    assert [o["over"] for o in event.data["over_capacity"]] == [2]


def test_a_window_under_way_keeps_its_figure(world: World) -> None:
    booked(world, yto(13))
    booked(world, yto(15))
    old = _generic(world).capacity
    world.clock.at = at(TOMORROW, 14)  # 13-15 has started
    saved = _edit(world, old + 5)
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(old, 1)
    assert world.store.slot(slot_of(yto(15))) == SlotLoad(old + 5, 1)
    assert [m.slot for m in saved.moved] == [slot_of(yto(15))]


def test_an_edit_keeps_a_live_cut_and_a_lift_restores_the_edited_figure(world: World) -> None:
    booked(world, yto(13))
    report = _halve_tomorrow_afternoon(world)
    assert world.store.slot(slot_of(yto(13))).capacity == _generic(world).capacity // 2
    _edit(world, 30)
    assert world.store.slot(slot_of(yto(13))).capacity == 15  # the cut stays on the new figure
    disruptions.lift_disruption(world.svc, "ops-002", report.disruption.disruption_id)
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(30, 1)  # not the figure replaced


def test_a_window_the_template_dropped_is_left_alone(world: World) -> None:
    booked(world, yto(13))
    kept = tuple(w for w in _generic(world).windows if w.start.hour != 13)
    saved = catalog.upsert_template(world.svc, replace(_generic(world), windows=kept, capacity=40))
    assert world.store.slot(slot_of(yto(13))).capacity != 40
    assert saved.moved == ()


def test_other_carriers_and_templates_are_not_moved(world: World) -> None:
    sf = pickup.SlotChoice("sf", TOMORROW, yto(13).start)
    booked(world, sf)
    sf_before = world.store.slot(slot_of(sf))
    _edit(world, 40)
    assert world.store.slot(slot_of(sf)) == sf_before


# --- an area's capacity_override: the same rule ---------------------------------------------


def _override(world: World, capacity: int | None) -> catalog.CapacitySaved[ServiceArea]:
    area = world.store.item("areas", MINHANG)
    assert isinstance(area, ServiceArea)
    return catalog.upsert_area(world.svc, replace(area, capacity_override=capacity))


def test_an_area_override_moves_every_carrier_counted_there_and_reports_over(
    world: World,
) -> None:
    for _ in range(3):
        booked(world, yto(13))
    sf = pickup.SlotChoice("sf", TOMORROW, yto(13).start)
    booked(world, sf)
    saved = _override(world, 2)
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(2, 3)
    assert world.store.slot(slot_of(sf)) == SlotLoad(2, 1)
    assert {m.slot for m in saved.moved} == {slot_of(yto(13)), slot_of(sf)}
    [over] = saved.over
    assert (over.slot, over.over, over.remaining) == (slot_of(yto(13)), 1, 0)
    with pytest.raises(Conflict, match="slot_full"):
        booked(world, yto(13))
    [event] = world.store.events_named("service_area.saved")[-1:]
    assert event.data["capacity_override"] == 2
    assert event.data["over_capacity"] == [over.as_data()]
    assert len(event.data["counters_moved"]) == 2
    # Dropping the override gives the windows their template's figure again, at once.
    raised = _override(world, None)
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(_generic(world).capacity, 3)
    assert raised.over == ()
    booked(world, yto(13))


def test_an_area_override_keeps_a_live_cut_and_a_lift_restores_it(world: World) -> None:
    booked(world, yto(13))
    report = _halve_tomorrow_afternoon(world)
    _override(world, 30)
    assert world.store.slot(slot_of(yto(13))).capacity == 15
    disruptions.lift_disruption(world.svc, "ops-002", report.disruption.disruption_id)
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(30, 1)


def test_an_area_override_leaves_windows_under_way(world: World) -> None:
    booked(world, yto(13))
    booked(world, yto(15))
    old = _generic(world).capacity
    world.clock.at = at(TOMORROW, 14)
    saved = _override(world, old + 3)
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(old, 1)
    assert world.store.slot(slot_of(yto(15))) == SlotLoad(old + 3, 1)
    assert [m.slot for m in saved.moved] == [slot_of(yto(15))]


# --- a carrier switching to another template: the same rule -----------------------------------


def _switch(world: World, template_id: str) -> catalog.FleetSaved:
    carrier = world.store.item("carriers", "yto")
    assert isinstance(carrier, Carrier)
    return catalog.upsert_fleet(world.svc, [replace(carrier, template_id=template_id)], [])


def test_a_carrier_switching_template_moves_its_counted_windows_and_reports_over(
    world: World,
) -> None:
    for _ in range(5):
        booked(world, yto(13))
    sf_before = world.store.slot(slot_of(sf(13)))
    saved = _switch(world, SF_ONE_HOUR.template_id)  # capacity 4 against 10
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(SF_ONE_HOUR.capacity, 5)
    [over] = saved.over
    # The counter is the window starting at 13:00, now 13:00-14:00 on the one-hour template.
    assert (over.slot.window.start, over.was, over.capacity, over.over) == (
        yto(13).start,
        _generic(world).capacity,
        SF_ONE_HOUR.capacity,
        1,
    )
    with pytest.raises(Conflict, match="slot_full"):
        booked(world, yto(13))
    assert world.store.slot(slot_of(sf(13))) == sf_before  # another carrier is not moved
    [event] = world.store.events_named("carrier.saved")[-1:]
    assert event.data["template_id"] == SF_ONE_HOUR.template_id
    assert event.data["over_capacity"] == [over.as_data()]
    assert len(event.data["counters_moved"]) == 1
    # Back on the two-hour template: the places open again at once.
    back = _switch(world, GENERIC_TWO_HOUR.template_id)
    assert back.over == () and world.store.slot(slot_of(yto(13))).capacity == 10
    booked(world, yto(13))


def test_a_carrier_switch_keeps_a_live_cut(world: World) -> None:
    booked(world, yto(13))
    _halve_tomorrow_afternoon(world)
    _switch(world, SF_ONE_HOUR.template_id)
    assert world.store.slot(slot_of(yto(13))).capacity == SF_ONE_HOUR.capacity // 2


def test_courier_edits_move_no_counter_and_an_unknown_template_is_refused(world: World) -> None:
    booked(world, yto(13))
    before = world.store.slot(slot_of(yto(13)))
    saved = catalog.upsert_fleet(world.svc, [], [])
    assert (saved.moved, saved.over) == ((), ())
    with pytest.raises(NotFound):
        _switch(world, "no-such-template")
    assert world.store.slot(slot_of(yto(13))) == before
    carrier = world.store.item("carriers", "yto")
    assert isinstance(carrier, Carrier) and carrier.template_id == GENERIC_TWO_HOUR.template_id
