"""The courier day-route: inserting, removing, resizing stops and reading ETAs from it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from doorstep.domain.errors import Conflict
from doorstep.domain.route import CourierRoute, RouteStop, StopState

DAY = date(2026, 11, 26)
AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
HOUR = 3600


def stop(sid: str, start_h: int, leg: int = 600, service: int = 300) -> RouteStop:
    return RouteStop(sid, 31.0, 121.0, start_h * HOUR, (start_h + 2) * HOUR, service, 1, 1, leg)


def test_insert_relinks_the_leg_after_and_records_an_event() -> None:
    route = CourierRoute("c1", "yto", DAY, [stop("a", 9), stop("c", 13)], return_leg_s=900)
    route.insert(1, stop("b", 11, leg=120), 240, AT)
    assert [s.appointment_id for s in route.stops] == ["a", "b", "c"]
    assert route.stops[2].leg_s == 240
    route.insert(3, stop("d", 15, leg=60), 700, AT)
    assert route.return_leg_s == 700
    assert [e.name for e in route.take_events()] == ["route.stop_inserted"] * 2


def test_a_visit_cannot_be_on_a_route_twice() -> None:
    route = CourierRoute("c1", "yto", DAY, [stop("a", 9)])
    with pytest.raises(Conflict, match="already_on_route"):
        route.insert(0, stop("a", 9), 0, AT)


def test_remove_bridges_the_gap() -> None:
    route = CourierRoute("c1", "yto", DAY, [stop("a", 9), stop("b", 11), stop("c", 13)])
    removed = route.remove("b", 999, AT)
    assert removed is not None and removed.appointment_id == "b"
    assert [s.appointment_id for s in route.stops] == ["a", "c"] and route.stops[1].leg_s == 999
    assert route.remove("zz", 0, AT) is None


def test_eta_waits_for_the_window_and_follows_the_route() -> None:
    route = CourierRoute("c1", "yto", DAY, [stop("a", 9, leg=600), stop("b", 9, leg=1200)])
    eta_a = route.eta_of("a", 8 * HOUR)
    eta_b = route.eta_of("b", 8 * HOUR)
    assert eta_a is not None and eta_b is not None
    assert (eta_a.hour, eta_a.minute) == (9, 0)  # arrives 08:10, waits for the window
    assert (eta_b - eta_a).total_seconds() == 300 + 1200  # service at a, then the drive


def test_done_stops_are_left_behind_and_the_courier_starts_from_the_last_door() -> None:
    route = CourierRoute("c1", "yto", DAY, [stop("a", 9), stop("b", 11, leg=100)])
    route.set_state("a", StopState.DONE, AT, done_s=10 * HOUR)
    assert [s.appointment_id for s in route.open] == ["b"]
    assert route.legs == [100, 0]
    eta = route.eta_of("b", 8 * HOUR)
    assert eta is not None and (eta.hour, eta.minute) == (11, 0)


def test_resize_keeps_place_and_leg() -> None:
    route = CourierRoute("c1", "yto", DAY, [stop("a", 9, leg=77)])
    route.resize(stop("a", 9, service=900), AT)
    assert route.stops[0].service_s == 900 and route.stops[0].leg_s == 77
