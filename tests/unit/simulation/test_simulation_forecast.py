"""The simulator's forecast: expected bookings from the arrival rates, not the draws."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

import pytest

from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.simulation.demand import daily_counts
from doorstep.simulation.forecast import ArrivalForecast, nearest_window
from doorstep.simulation.params import SimParams
from doorstep.simulation.world import plan_city, requests_per_day


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
