"""The simulator's forecast: expected bookings from the arrival rates, not the draws."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, time, timedelta

import pytest

from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.simulation.choice import first_choice
from doorstep.simulation.demand import daily_counts, generate
from doorstep.simulation.forecast import ArrivalForecast, nearest_window
from doorstep.simulation.params import SimParams
from doorstep.simulation.world import district_weights, plan_city, requests_per_day


def test_nearest_window_breaks_ties_towards_the_earlier() -> None:
    windows = tuple(Window(time(h), time(h + 1)) for h in range(9, 22))
    assert nearest_window(windows, 10.0).start == time(9)
    assert nearest_window(windows, 19.5).start == time(19)
    assert nearest_window(windows, 23.0).start == time(21)


def test_forecast_spreads_each_days_requests_over_the_days_and_windows_they_want() -> None:
    params = SimParams(days=2)
    city = plan_city(params)
    forecast = ArrivalForecast(params, city)
    filed = sum(daily_counts(params, requests_per_day(params, city)))
    # Every expected request lands in some window of some day: nothing is lost or made up.
    assert sum(forecast.expected.values()) == pytest.approx(filed)
    # The same for every seed: the rates, not the requests a seed draws.
    assert forecast.expected == ArrivalForecast(replace(params, seed=99), city).expected
    adcode = next(iter(city.districts))
    key = next(k for k in forecast.expected if k[0] == adcode)
    district = city.districts[adcode]
    window = next(w for w in city.templates[district.carrier_id].windows if w.start == key[2])
    slot = SlotRef(adcode, district.carrier_id, key[1], window)
    assert forecast.expected_bookings(None, slot) == forecast.expected[key]  # type: ignore[arg-type]
    after = replace(slot, day=params.start + timedelta(days=10))
    assert forecast.expected_bookings(None, after) == 0.0  # type: ignore[arg-type]


def test_forecast_is_where_the_simulated_buyers_first_choices_fall() -> None:
    # What coupons aimed at the likely first choice (``IncentiveRules.likely_saving_s``)
    # read: per district and window, not a flat rate. Over many drawn buyers, each district
    # window's share of first choices (every window open) matches the forecast's share.
    params = SimParams(days=1, requests_per_day=4000)
    city = plan_city(params)
    forecast = ArrivalForecast(params, city)
    centres = {a: d.centre for a, d in city.districts.items()}
    requests = generate(params, centres, district_weights(city), 4000.0)
    drawn: Counter[tuple[str, date, time]] = Counter()
    for request in requests:
        district = city.districts[request.adcode]
        open_windows = [
            SlotRef(request.adcode, district.carrier_id, params.start + timedelta(days=d), w)
            for d in range(3)
            for w in city.templates[district.carrier_id].windows
        ]
        ideal = first_choice(open_windows, request)
        assert ideal is not None
        drawn[(ideal.adcode, ideal.day, ideal.window.start)] += 1
    # Every first choice lands where the forecast expects bookings, and only there.
    assert set(drawn) == {k for k, v in forecast.expected.items() if v > 0}
    total = sum(forecast.expected.values())
    for key, expected in forecast.expected.items():
        assert drawn[key] / len(requests) == pytest.approx(expected / total, abs=0.01)
    # Not flat: within a district-day the windows differ (the day parts buyers want).
    sf = next(a for a, d in city.districts.items() if d.carrier_id == "sf")
    day = [v for (a, d, _), v in forecast.expected.items() if a == sf and d == params.start]
    assert max(day) > 1.4 * min(day)
