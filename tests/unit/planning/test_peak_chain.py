"""Peak pricing with the chain check: timed pricing with no lead prices every leg as peak
pricing does, and keeps its chain walk (``DOORSTEP_TRAVEL_LEG_LEAD_S=0``)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from pydantic import ValidationError

from doorstep.bootstrap import timed_travel
from doorstep.config import Settings
from doorstep.planning.timed import TimedTravel
from doorstep.planning.travel import HaversineTravel
from doorstep.services.route import PRICE_AT_S, legs_along

POINTS = [(31.20, 121.40), (31.25, 121.45), (31.22, 121.52), (31.18, 121.47)]


def _settings(**kw: object) -> Settings:
    return Settings(env="development", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("opens_h", [8, 10, 12, 14, 19])
def test_no_lead_prices_every_leg_at_the_evening_peak(opens_h: int) -> None:
    base = HaversineTravel()
    flat = timed_travel(_settings(travel_leg_lead_s=0, travel_leg_reserve_s=0), base)
    spans = [(opens_h * 3600, opens_h * 3600 + 7200)] * (len(POINTS) - 1)
    peak = [int(base.matrix([a, b], PRICE_AT_S).durations[0, 1]) for a, b in pairwise(POINTS)]
    assert legs_along(flat, POINTS, spans) == peak
    # The default lead prices a midday leg below the peak: the two settings differ.
    if opens_h == 12:
        assert legs_along(timed_travel(_settings(), base), POINTS, spans) != peak


def test_no_lead_keeps_the_chain_walk() -> None:
    flat = timed_travel(_settings(travel_leg_lead_s=0, travel_leg_reserve_s=0), HaversineTravel())
    assert isinstance(flat, TimedTravel) and flat.chained and flat.lead_s == 0


def test_a_reserve_longer_than_the_lead_is_refused() -> None:
    with pytest.raises(ValidationError, match="RESERVE_S must not exceed"):
        _settings(travel_leg_lead_s=60, travel_leg_reserve_s=120)
    with pytest.raises(ValidationError):
        _settings(travel_leg_lead_s=-1)
