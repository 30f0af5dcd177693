"""The simulator's demand forecast: expected bookings per district and window, from the
arrival process's declared rates, never from the requests it has drawn.

A day's requests in a district are the daily count (``demand.daily_counts``) times the
district's weight share; each wants a day ``DAY_OFFSETS`` after filing and a time of day from
``DAY_PARTS``, and its first choice is the window nearest that time (``choice.distance_h``).
The expectation leaves out buyers who walk away or are steered elsewhere: it is what the
windows would hold if everyone got their first choice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, time, timedelta

from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.services.ports import UnitOfWork
from doorstep.simulation.demand import DAY_OFFSETS, DAY_PARTS, daily_counts
from doorstep.simulation.params import SimParams
from doorstep.simulation.world import City, district_weights, requests_per_day


def nearest_window(windows: tuple[Window, ...], hour: float) -> Window:
    """The window whose middle is nearest ``hour`` (the earlier one on a tie)."""

    def key(w: Window) -> tuple[float, time]:
        middle = (w.start.hour * 60 + w.start.minute + w.end.hour * 60 + w.end.minute) / 120
        return (abs(middle - hour), w.start)

    return min(windows, key=key)


class ArrivalForecast:
    """``services.forecast.DemandForecast`` from the simulated arrival process's rates."""

    def __init__(self, params: SimParams, city: City) -> None:
        weights = district_weights(city)
        total_weight = sum(weights.values()) or 1.0
        expected: dict[tuple[str, date, time], float] = defaultdict(float)
        counts = daily_counts(params, requests_per_day(params, city))
        for index, count in enumerate(counts):
            filed = params.start + timedelta(days=index)
            for adcode, district in city.districts.items():
                share = count * weights[adcode] / total_weight
                windows = city.templates[district.carrier_id].windows
                for offset, p_day in DAY_OFFSETS:
                    day = filed + timedelta(days=offset)
                    for hour, p_part in DAY_PARTS:
                        start = nearest_window(windows, hour).start
                        expected[(adcode, day, start)] += share * p_day * p_part
        self.expected = dict(expected)

    def expected_bookings(self, uow: UnitOfWork, slot: SlotRef) -> float:
        """Expected first-choice bookings of the window (0 outside the simulated days)."""
        return self.expected.get((slot.adcode, slot.day, slot.window.start), 0.0)
