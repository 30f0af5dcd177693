"""Bookings priced at the hour they are driven (planning.timed.TimedTravel), per backend.

A morning window in Jinshan takes more scattered visits than evening-peak pricing allows,
refuses the rest (``slot_not_offered``), and every visit it takes is still kept when the
route is driven leg by leg at each leg's real hour and refereed by the day planner.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from tests.integration.test_routing import TOMORROW, returns_at, ring

from doorstep.bootstrap import App
from doorstep.domain.coverage import Window
from doorstep.domain.errors import Conflict
from doorstep.domain.pickup import SlotRef
from doorstep.planning.timed import TimedTravel
from doorstep.services import pickup, routing
from doorstep.services.context import Services
from doorstep.services.planned_offering import PlannedOffering
from doorstep.services.route import ChainCheck, RouteCache, planner_courier

DAY_AFTER = date(2026, 11, 27)


# The chain reserve at the simulator's noise (docs/benchmarks.md, "Issue 11 §3-4").
CHAINED = {"leg_sd": 0.25, "door_sd": 0.2, "chain_z": 2.33}


def _with(svc: Services, timed: bool, chained: bool = False) -> Services:
    travel = svc.travel
    if timed:
        travel = TimedTravel(svc.travel, **CHAINED) if chained else TimedTravel(svc.travel)  # type: ignore[arg-type]
    cache = RouteCache()
    return replace(
        svc, travel=travel, route_cache=cache, offering=PlannedOffering(travel, None, cache)
    )


def _book_all(svc: Services, ids: list[str], day: date, start: time) -> int:
    with svc.uow() as uow:  # the routes decide, not the window's count
        window = Window(start, time(start.hour + 2))
        uow.slots.set_capacity(SlotRef("310116", "yto", day, window), 1000)
        uow.commit()
    booked = 0
    for rid in ids:
        try:
            pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", day, start))
            booked += 1
        except Conflict as exc:
            assert exc.code == "slot_not_offered"
    return booked


def test_a_morning_window_takes_more_when_legs_cost_morning_traffic(wired: App) -> None:
    peak, timed = _with(wired.services, False), _with(wired.services, True)
    # Scattered 12 km apart: one courier fits only a few of them into one 2-hour window.
    # 11-13: left for from 10:00 on, after the morning peak.
    peak_booked = _book_all(peak, returns_at(wired, ring(30, 20)), TOMORROW, time(11))
    timed_booked = _book_all(timed, returns_at(wired, ring(30, 20)), DAY_AFTER, time(11))
    assert 1 <= peak_booked < timed_booked < 30, (peak_booked, timed_booked)
    # What the timed booking took is kept: the planner's referee (same bucketed prices)
    # finds nothing late, and driving each leg at its real hour rings inside every window.
    assert routing.check_routes(timed, "yto", DAY_AFTER) == []
    with timed.uow() as uow:
        routes = uow.routes.for_carrier_day("yto", DAY_AFTER)
        fleet = {c.courier_id: c for c in uow.couriers.list()}
    assert sum(len(r.open) for r in routes) == timed_booked
    assert isinstance(timed.travel, TimedTravel)
    for route in routes:
        courier = fleet[route.courier_id]
        begins = timed.travel.retime(
            [(courier.depot_lat, courier.depot_lon), *(s.location for s in route.open)],
            [(s.earliest_s, s.latest_s) for s in route.open],
            [s.service_s for s in route.open],
            planner_courier(courier, DAY_AFTER, route).free_from_s,
        )
        for stop, begin in zip(route.open, begins, strict=True):
            assert stop.earliest_s <= begin <= stop.latest_s


def test_an_evening_window_is_priced_at_the_peak_either_way(wired: App) -> None:
    peak, timed = _with(wired.services, False), _with(wired.services, True)
    peak_booked = _book_all(peak, returns_at(wired, ring(10, 12)), TOMORROW, time(17))
    timed_booked = _book_all(timed, returns_at(wired, ring(10, 12)), DAY_AFTER, time(17))
    # The 17-19 window's legs may run in the evening peak: timed pricing charges the peak
    # there (and the reserve on top), so it takes no more than peak pricing does.
    assert 1 <= timed_booked <= peak_booked < 10, (timed_booked, peak_booked)


def _chain_slacks(svc: Services, day: date) -> list[int]:
    with svc.uow() as uow:
        routes = uow.routes.for_carrier_day("yto", day)
        fleet = {c.courier_id: c for c in uow.couriers.list()}
    check = ChainCheck(svc.travel, svc.clock.now())
    return [x for r in routes for x in check.slack(r, fleet[r.courier_id], r.open)]


def test_the_chain_reserve_books_only_what_holds_at_its_quantile(wired: App) -> None:
    """Back-to-back visits 12 km apart in one window: the chain check refuses what the
    per-leg prices would still take, and every visit it keeps holds at the quantile."""
    plain = _with(wired.services, True)
    chained = _with(wired.services, True, chained=True)
    plain_booked = _book_all(plain, returns_at(wired, ring(30, 20)), TOMORROW, time(11))
    chained_booked = _book_all(chained, returns_at(wired, ring(30, 20)), DAY_AFTER, time(11))
    assert 1 <= chained_booked < plain_booked, (chained_booked, plain_booked)
    assert min(_chain_slacks(chained, DAY_AFTER)) >= 0
    # Measured with the chain, the plain bookings include a visit that does not hold.
    plain_measured = replace(plain, travel=chained.travel)
    assert min(_chain_slacks(plain_measured, TOMORROW)) < 0
    assert routing.check_routes(chained, "yto", DAY_AFTER) == []


def test_the_day_plan_never_drops_a_visit_for_its_chain(wired: App) -> None:
    """Thirty doors 12 km apart booked into one window without the chain check, then
    planned with it: most chains cannot hold at the quantile whatever the order, and the
    plan keeps every visit rather than drop one, with no more visits missing their chain
    than a plan without the check (tightening that works: tests/unit/services/
    test_routing_chain.py)."""
    plain = _with(wired.services, True)
    booked = _book_all(plain, returns_at(wired, ring(30, 20)), TOMORROW, time(11))
    chained = _with(wired.services, True, chained=True)
    routing.plan_day(plain, "yto", TOMORROW)
    missed_plain = sum(x < 0 for x in _chain_slacks(chained, TOMORROW))
    assert missed_plain > 0
    report = routing.plan_day(chained, "yto", TOMORROW)
    assert report.unserved == ()
    assert sum(len(etas) for _, etas in report.routes) == booked
    missed = sum(x < 0 for x in _chain_slacks(chained, TOMORROW))
    assert missed <= missed_plain, (missed, missed_plain)
