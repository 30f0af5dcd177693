"""Courier time priced in the day plan ends at the same-day booking cutoff, read from the
booking rules the offers use (couriers who have driven wait for same-day bookings)."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from typing import Any

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import TOMORROW, booked  # type: ignore[import-not-found]

from doorstep.domain.clock import SHANGHAI
from doorstep.planning import SolveParams
from doorstep.services import routing


def test_priced_courier_time_runs_until_same_day_bookings_close(world: World) -> None:
    svc = replace(world.svc, booking=replace(world.svc.booking, same_day_until=time(16, 30)))
    params = SolveParams(seed=0, max_iterations=50)
    assert routing.on_duty(svc, params) == params  # distance only: nothing to end
    priced = routing.on_duty(svc, replace(params, duration_weight=2))
    assert priced.on_duty_until_s == 16 * 3600 + 30 * 60 and priced.duration_weight == 2
    chosen = replace(params, duration_weight=2, on_duty_until_s=3600)
    assert routing.on_duty(svc, chosen) == chosen  # a caller's own end of duty stands


def test_a_day_planned_with_priced_courier_time_serves_every_visit(world: World) -> None:
    booked(world)
    params = SolveParams(seed=0, max_iterations=50, duration_weight=1)
    report = routing.plan_day(world.svc, "yto", TOMORROW, params)
    assert not report.unserved


def test_a_later_day_is_planned_with_the_ahead_weight_and_today_with_its_own(world: World) -> None:
    params = SolveParams(seed=0, max_iterations=50, duration_weight=10)
    today = world.svc.clock.now().astimezone(SHANGHAI).date()
    assert routing.for_day(world.svc, TOMORROW, params, 0).duration_weight == 0
    assert routing.for_day(world.svc, today, params, 0) == params  # the day being driven
    assert routing.for_day(world.svc, TOMORROW, params, None) == params  # no ahead weight


def test_the_ahead_weight_reaches_the_solver_for_a_later_day_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked(world)
    weights: list[int] = []
    real = routing.solve

    def solve(problem: Any, params: SolveParams, **kw: Any) -> Any:
        weights.append(params.duration_weight)
        return real(problem, params, **kw)

    monkeypatch.setattr(routing, "solve", solve)
    params = SolveParams(seed=0, max_iterations=50, duration_weight=10)
    report = routing.plan_day(world.svc, "yto", TOMORROW, params, ahead_weight=0)
    assert not report.unserved and weights and set(weights) == {0}
    weights.clear()
    routing.plan_day(world.svc, "yto", TOMORROW, params)
    assert weights and set(weights) == {10}
