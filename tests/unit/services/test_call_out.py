"""Which route a booking takes: the cheapest drive, or a courier already out (call-out cost)."""

from __future__ import annotations

from datetime import date

import pytest

from doorstep.domain.fleet import Courier
from doorstep.domain.pickup import BookingRules
from doorstep.domain.route import CourierRoute, RouteStop
from doorstep.planning.insertion import Insertion
from doorstep.services.route import Option, cheapest, seat_cost

DAY = date(2026, 11, 26)


def option(courier_id: str, extra_s: int, stops: int) -> Option:
    courier = Courier(courier_id, courier_id, "13800000000", "yto", "310104", 31.2, 121.4)
    route = CourierRoute(
        courier_id,
        "yto",
        DAY,
        [
            RouteStop(f"a{i}", 31.2, 121.4, 9 * 3600, 11 * 3600, 300, 1, 1, 600)
            for i in range(stops)
        ],
    )
    return Option(courier, route, Insertion(0, None, extra_s))


def test_distance_alone_calls_out_the_idle_courier_who_is_nearer() -> None:
    idle, busy = option("c-idle", 300, 0), option("c-busy", 1200, 4)
    assert cheapest([busy, idle]).courier.courier_id == "c-idle"


def test_a_call_out_cost_keeps_the_visit_with_a_courier_already_out() -> None:
    idle, busy = option("c-idle", 300, 0), option("c-busy", 1200, 4)
    assert cheapest([idle, busy], call_out_s=3600).courier.courier_id == "c-busy"
    # Not at any price: a busy courier's detour dearer than the call-out loses to it.
    far = option("c-far", 5000, 2)
    assert cheapest([idle, far], call_out_s=3600).courier.courier_id == "c-idle"
    # Between couriers already out it is the drive again, ties to the courier id.
    assert cheapest([busy, option("c-a", 1200, 1)], 3600).courier.courier_id == "c-a"


def test_call_out_cost_is_bounded() -> None:
    with pytest.raises(ValueError):
        BookingRules(call_out_s=-1)
    with pytest.raises(ValueError):
        BookingRules(call_out_s=36_001)


def test_seat_cost_is_what_the_offer_and_the_booking_both_price() -> None:
    idle, busy = option("c-idle", 300, 0), option("c-busy", 1200, 4)
    assert seat_cost(idle) == 300 and seat_cost(idle, 3600) == 3900
    assert seat_cost(busy, 3600) == 1200
