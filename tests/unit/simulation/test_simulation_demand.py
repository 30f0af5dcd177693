"""Demand shapes, buyer choice and parameter validation of the city simulator."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, time

import pytest

from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.domain.returns import Reason
from doorstep.services.offering import OfferedSlot
from doorstep.simulation.choice import CouponResponse, choose, distance_h, first_choice
from doorstep.simulation.demand import DAY_WEIGHTS, daily_counts, generate
from doorstep.simulation.params import SimParams

CENTRES = {"310104": (31.1884, 121.4365), "310110": (31.2595, 121.5260)}
WEIGHTS = {"310104": 2.0, "310110": 1.0}


def _demand(**kw: object) -> list:  # type: ignore[type-arg]
    params = SimParams(days=7, **kw)  # type: ignore[arg-type]
    return generate(params, CENTRES, WEIGHTS, 100.0)


def test_weekday_shape_peaks_on_monday_and_weekend() -> None:
    counts = daily_counts(SimParams(days=7), 100.0)  # 2026-11-23 is a Monday
    assert counts[0] == max(counts)
    assert counts[6] > counts[3] and counts[5] > counts[3]
    assert abs(sum(DAY_WEIGHTS) / 7 - 1.0) < 0.01


def test_hourly_shape_has_evening_peak_and_quiet_night() -> None:
    hours = Counter(r.at.hour for r in _demand())
    assert hours[20] + hours[21] > 4 * (hours[3] + hours[4])
    assert hours[10] > hours[7]


def test_addresses_near_district_centres() -> None:
    for r in _demand():
        lat, lon = CENTRES[r.adcode]
        assert abs(r.lat - lat) < 0.12 and abs(r.lon - lon) < 0.14  # within ~6 sd of 2 km


def test_district_and_reason_mix() -> None:
    reqs = _demand()
    by_district = Counter(r.adcode for r in reqs)
    assert by_district["310104"] > by_district["310110"]
    reasons = Counter(r.reason for r in reqs)
    assert reasons[Reason.NO_REASON] / len(reqs) > 0.6


def test_same_seed_same_demand_other_seed_differs() -> None:
    assert _demand(seed=3) == _demand(seed=3)
    assert _demand(seed=3) != _demand(seed=4)


def test_requests_are_in_time_order_with_unique_ids() -> None:
    reqs = _demand()
    assert [r.at for r in reqs] == sorted(r.at for r in reqs)
    assert len({r.order_id for r in reqs}) == len(reqs)


@pytest.mark.parametrize(
    "bad",
    [
        {"days": 0},
        {"seed": -1},
        {"districts": ()},
        {"districts": ("310104", "310104")},
        {"districts": ("31010",)},
        {"requests_per_day": -1},
        {"not_home_share": 1.5},
        {"incentive_take_share": float("nan")},
        {"spread_km": -1.0},
        {"solver_iterations": 0},
        {"replan_every_min": -1},
        {"replan_every_min": 1441},
        {"route_capacity": -1},
        {"route_capacity": 10_001},
    ],
)
def test_params_refuse_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SimParams(**bad)  # type: ignore[arg-type]


def test_params_are_frozen_and_serialise() -> None:
    params = SimParams()
    with pytest.raises(AttributeError):
        params.days = 3  # type: ignore[misc]
    assert params.as_dict()["start"] == "2026-11-23"


def _slot(day: int, start: int, end: int) -> SlotRef:
    return SlotRef("310104", "sf", date(2026, 11, day), Window(time(start), time(end)))


def _offered(slot: SlotRef, coupon: int = 0) -> OfferedSlot:
    return OfferedSlot(slot, 4, 4, slot.ends_at, 0, coupon)


def test_buyer_takes_first_choice_or_next_acceptable() -> None:
    request = replace(_demand()[0], preferred_day_offset=1, preferred_hour=10.0)
    day = request.at.day + 1
    windows = [_slot(day, h, h + 1) for h in range(9, 19)]
    ideal = first_choice(windows, request)
    assert ideal is not None and ideal.window.start in (time(9), time(10))
    got = choose([_offered(w) for w in windows], ideal, request, 3.0)
    assert got is not None and got.first_choice
    later = [_offered(w) for w in windows if w.window.start >= time(12)]
    got = choose(later, ideal, request, 3.0)
    assert got is not None and not got.first_choice and got.slot.slot.window.start == time(12)
    assert choose([_offered(windows[-1])], ideal, request, 3.0) is None
    assert distance_h(windows[-1], request) > distance_h(ideal, request) + 3.0


def test_incentive_takers_follow_an_acceptable_coupon() -> None:
    request = replace(_demand()[0], preferred_day_offset=1, preferred_hour=10.0)
    day = request.at.day + 1
    windows = [_slot(day, h, h + 1) for h in range(9, 19)]
    ideal = first_choice(windows, request)
    offered = [_offered(w, 300 if w.window.start == time(12) else 0) for w in windows]
    taker = choose(offered, ideal, replace(request, coupon_draw=0.0), 3.0)
    assert taker is not None and taker.incentive and taker.slot.slot.window.start == time(12)
    other = choose(offered, ideal, replace(request, coupon_draw=0.99), 3.0)
    assert other is not None and not other.incentive and other.first_choice


def test_coupon_take_up_grows_with_size_and_is_calibrated_at_the_reference() -> None:
    response = CouponResponse(share=0.4, ref_fen=300, scale_fen=300)
    assert response.take_up(300) == pytest.approx(0.4)
    assert response.take_up(0) == 0.0
    sizes = [50, 150, 300, 600, 1000, 5000]
    shares = [response.take_up(c) for c in sizes]
    assert shares == sorted(shares) and len(set(shares)) == len(shares)
    assert 0.24 < response.take_up(150) < 0.26 and 0.54 < response.take_up(600) < 0.56
    assert response.take_up(100_000) <= 1.0
    flat = CouponResponse(share=0.4, ref_fen=300, scale_fen=0)
    assert flat.take_up(50) == flat.take_up(5000) == 0.4


def test_a_larger_coupon_moves_a_buyer_a_smaller_one_does_not() -> None:
    request = replace(_demand()[0], preferred_day_offset=1, preferred_hour=10.0, coupon_draw=0.5)
    day = request.at.day + 1
    windows = [_slot(day, h, h + 1) for h in range(9, 19)]
    ideal = first_choice(windows, request)

    def offered(coupon: int) -> list[OfferedSlot]:
        return [_offered(w, coupon if w.window.start == time(12) else 0) for w in windows]

    sized = CouponResponse(share=0.4, ref_fen=300, scale_fen=300)
    small = choose(offered(300), ideal, request, 3.0, sized)
    assert small is not None and not small.incentive and small.first_choice
    large = choose(offered(600), ideal, request, 3.0, sized)
    assert large is not None and large.incentive and large.slot.slot.window.start == time(12)
    flat = choose(offered(600), ideal, request, 3.0, CouponResponse(0.4, 300, 0))
    assert flat is not None and not flat.incentive
