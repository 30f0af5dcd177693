"""A courier on the way to their next visit, with nothing marked since their last door, is
seen where the re-plan sees them (``planning.left_for``): the ETAs, the booking check and
the chain check drive the route from when they left, not a leg after now from that door.

One courier done at a door at 10:00; their next visit, 21 min away at its window's start
(35 min at the stored planning price), opens at 11:00. At 10:55 they left long ago."""

from __future__ import annotations

from datetime import date, datetime, time

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.fleet import Courier as FleetCourier
from doorstep.domain.route import CourierRoute, RouteStop, StopState
from doorstep.planning import (
    Depot,
    HaversineTravel,
    Insertion,
    Plan,
    PlanningProblem,
    Route,
    Stop,
    TravelTimes,
    Visit,
    best_insertion,
    left_for,
)
from doorstep.planning.timed import TimedTravel
from doorstep.services.route import (
    ChainCheck,
    RouteCache,
    depot_of,
    expected_etas,
    legs_along,
    planner_courier,
    planner_stop,
    reach_along,
    span_of,
    start_second,
)
from doorstep.services.routing import chain_shortfalls

H = 3600
DAY = date(2026, 11, 26)
DEPOT = (31.2304, 121.4737)
DOOR = (31.2604, 121.4737)  # done at 10:00
NEXT = (31.3204, 121.4737)  # the visit the courier is driving to
BESIDE = (31.3222, 121.4737)  # 200 m on
PLAIN = HaversineTravel()
CHAINED = TimedTravel(PLAIN, leg_sd=0.25, door_sd=0.2, chain_z=2.33)
FLEET = FleetCourier("c1", "Li", "13800000000", "yto", "310104", *DEPOT)


def at(hour: int, minute: int) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=SHANGHAI)


def _route(travel: TravelTimes, next_latest_s: int) -> CourierRoute:
    """The door done at 10:00, then the next visit (11:00 to ``next_latest_s``), legs as a
    booking stores them."""
    done = RouteStop("done", *DOOR, 9 * H, 11 * H, 300, 0, 0, 0, StopState.DONE, 10 * H)
    upcoming = RouteStop("next", *NEXT, 11 * H, next_latest_s, 300, 0, 0, 0)
    stops = [done, upcoming]
    legs = legs_along(travel, [DEPOT, DOOR, NEXT, DEPOT], [*map(span_of, stops), None])
    stored = [RouteStop(**{**s.__dict__, "leg_s": lg}) for s, lg in zip(stops, legs, strict=False)]
    return CourierRoute("c1", "yto", DAY, stored, legs[-1], 3)


def test_the_shared_view_rings_at_the_window_start_or_when_the_leg_ends() -> None:
    leg = 1249
    # Not yet time to leave: free at now, as before.
    assert left_for(10 * H, leg, 11 * H, 10 * H + 600) == 10 * H + 600
    # Left when they had to, to ring at 11:00.
    assert left_for(10 * H, leg, 11 * H, 10 * H + 55 * 60) == 11 * H - leg
    # Long past the window's start with nothing marked: ringing now at the earliest.
    assert left_for(10 * H, leg, 11 * H, 12 * H) == 12 * H - leg


def test_the_eta_written_at_10_55_is_the_window_start_not_a_leg_late() -> None:
    """Before: 11:15:49, the 21-min leg driven again from the last door at 10:55."""
    route = _route(CHAINED, 13 * H)
    etas = expected_etas(CHAINED, route, FLEET, at(10, 55))
    assert etas == {"next": at(11, 0)}


def test_an_eta_long_past_the_window_start_is_now_at_the_earliest_not_a_leg_after() -> None:
    route = _route(CHAINED, 13 * H)
    etas = expected_etas(CHAINED, route, FLEET, at(12, 0))
    assert etas == {"next": at(12, 0)}


def test_before_the_courier_has_to_leave_the_eta_is_unchanged() -> None:
    route = _route(CHAINED, 13 * H)
    assert expected_etas(CHAINED, route, FLEET, at(10, 5)) == {"next": at(11, 0)}


def _slack_insertion(
    travel: TravelTimes, route: CourierRoute, stop: Stop, now: datetime
) -> Insertion | None:
    """What ``route.options`` asks of one route: its slack at now, then the insertion."""
    courier = planner_courier(FLEET, DAY, route)
    slack = RouteCache().slack(route, courier, depot_of(FLEET), start_second(DAY, now))
    reach = reach_along(travel, slack, route.open)((stop.earliest_s, stop.latest_s))
    return best_insertion(slack, stop, reach)


def test_the_booking_check_offers_a_visit_after_the_one_the_courier_drives_to() -> None:
    """Before: the next visit (to 11:10) looked 20 min late from the last door at 10:55,
    the route infeasible, and every booking on it refused."""
    route = _route(PLAIN, 11 * H + 600)
    wanted = Stop("new", BESIDE, 11 * H, 13 * H, 300)
    found = _slack_insertion(PLAIN, route, wanted, at(10, 55))
    assert found is not None and found.position == 1


def test_the_booking_check_puts_nothing_before_a_leg_already_driven() -> None:
    """At the last door, a visit there would cost nothing before the next one; but the
    courier left it half an hour ago."""
    route = _route(PLAIN, 13 * H)
    wanted = Stop("new", DOOR, 10 * H + 55 * 60, 13 * H, 300)
    found = _slack_insertion(PLAIN, route, wanted, at(10, 55))
    assert found is not None and found.position == 1
    # Before they had to leave, the door they are at still comes first.
    early = _slack_insertion(PLAIN, route, wanted, at(10, 5))
    assert early is not None and early.position == 0


class _Beside:
    """A visit 200 m past the next one, 11:00-11:30."""

    location = BESIDE
    earliest_s = 11 * H
    latest_s = 11 * H + 1800
    service_s = 300


def test_the_chain_check_keeps_a_visit_after_the_one_the_courier_drives_to() -> None:
    """Before: from the last door at 10:55 the next visit rang at 11:16, and the chain's
    delay quantile put the one after it past 11:30."""
    route = _route(CHAINED, 13 * H)
    check = ChainCheck(CHAINED, at(10, 55))
    assert check.keeps(route, FLEET, 1, _Beside())
    assert not check.keeps(route, FLEET, 0, _Beside())
    assert ChainCheck(CHAINED, at(10, 5)).keeps(route, FLEET, 0, _Beside())


def test_the_day_plans_chain_check_walks_a_courier_on_the_way_from_when_they_left() -> None:
    """Before: ``hold_chains`` walked them from the last door at 10:55 and tightened the
    next visit's window by what a leg it had already driven made it miss."""
    route = _route(CHAINED, 11 * H + 1500)
    courier = planner_courier(FLEET, DAY, route)
    problem = PlanningProblem(
        [Depot(courier.depot_id, DEPOT)],
        [courier],
        [planner_stop(s, "c1") for s in route.stops],
        CHAINED,
        timed=True,
    )
    plan = Plan((Route("c1", (Visit("next", 11 * H, 11 * H, 11 * H + 300),), 0, 0, 0),), ())
    now_s = 10 * H + 55 * 60
    assert chain_shortfalls(CHAINED, problem, plan, now_s, plan) == {}
    # The same plan for a courier not known to be driving it (a day not yet begun).
    assert chain_shortfalls(CHAINED, problem, plan, now_s) == {"next": 180}
