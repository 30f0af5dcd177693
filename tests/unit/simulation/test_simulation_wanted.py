"""Simulated buyers asked "when suits you?" (``choice.Stating``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from doorstep.domain.clock import local
from doorstep.domain.pickup import BookingRules, check_wanted
from doorstep.simulation.choice import Stating
from doorstep.simulation.demand import generate
from doorstep.simulation.params import SimParams

CENTRES = {"310104": (31.1884, 121.4365)}
RULES = BookingRules()


def _requests() -> list:  # type: ignore[type-arg]
    return generate(SimParams(days=2), CENTRES, {"310104": 1.0}, 80.0)


def test_by_default_every_buyer_states_their_ideal_moment_exactly() -> None:
    stating = Stating()
    exact = 0
    for request in _requests():
        wanted = stating.wanted(request, request.at, RULES)
        assert wanted is not None
        check_wanted(wanted, request.at, RULES)  # a portal offers nothing else
        ideal_day = local(request.at).date() + timedelta(days=request.preferred_day_offset)
        hour = wanted.hour + wanted.minute / 60
        if wanted.date() == ideal_day and hour == request.preferred_hour:
            exact += 1
        else:
            # Only an ideal moment already past is moved: to now's quarter hour.
            assert wanted - request.at < timedelta(minutes=15)
    assert exact > len(_requests()) * 0.6  # the rest filed after their ideal moment


def test_a_share_states_nothing_and_noise_moves_what_is_stated() -> None:
    requests = _requests()
    half = [Stating(share=0.5, seed=1).wanted(r, r.at, RULES) for r in requests]
    silent = sum(w is None for w in half)
    assert 0.3 * len(requests) < silent < 0.7 * len(requests)
    assert all(Stating(share=0.0).wanted(r, r.at, RULES) is None for r in requests)
    exact = [Stating(seed=1).wanted(r, r.at, RULES) for r in requests]
    noisy = [Stating(noise_h=2.0, seed=1).wanted(r, r.at, RULES) for r in requests]
    assert sum(a != b for a, b in zip(exact, noisy, strict=True)) > len(requests) // 2
    for r, wanted in zip(requests, noisy, strict=True):
        assert wanted is not None
        check_wanted(wanted, r.at, RULES)
    # The same seed states the same moments: a run repeats.
    assert noisy == [Stating(noise_h=2.0, seed=1).wanted(r, r.at, RULES) for r in requests]


def test_the_knobs_are_bounded_and_default_to_exact() -> None:
    params = SimParams()
    assert (params.wanted_share, params.wanted_noise_h) == (1.0, 0.0)
    with pytest.raises(ValueError):
        replace(params, wanted_share=1.5)
    with pytest.raises(ValueError):
        replace(params, wanted_noise_h=-1.0)
