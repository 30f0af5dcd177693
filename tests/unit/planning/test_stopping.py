"""The stopping criteria: a CPU-time limit on a fake clock, and which criterion params pick."""

from __future__ import annotations

import pytest
from pyvrp.stop import MaxRuntime, MultipleCriteria

from doorstep.planning import SolveParams, check_plan, solve
from doorstep.planning.stopping import MaxCpuTime, stopping


class FakeClock:
    """CPU seconds that move only when the test says so."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_cpu_limit_counts_from_the_first_call_and_stops_once_exceeded() -> None:
    clock = FakeClock(100.0)
    stop = MaxCpuTime(2.0, clock=clock)
    clock.now = 150.0  # CPU spent before the search began (building the model) is not charged
    assert stop(0) is False
    clock.now = 151.9
    assert stop(0) is False
    clock.now = 152.0
    assert stop(0) is False  # exactly at the limit still searches, as PyVRP's MaxRuntime does
    clock.now = 152.01
    assert stop(0) is True


def test_cpu_limit_ignores_wall_time_that_passes_without_cpu() -> None:
    clock = FakeClock()
    stop = MaxCpuTime(1.0, clock=clock)
    assert not any(stop(0) for _ in range(1000))  # a busy machine: calls go by, CPU does not


def test_negative_cpu_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_seconds"):
        MaxCpuTime(-1.0)


def test_params_choose_the_clock() -> None:
    assert isinstance(stopping(SolveParams(time_limit_s=3.0)), MaxRuntime)
    assert isinstance(stopping(SolveParams(time_limit_s=3.0, clock="cpu")), MaxCpuTime)
    both = stopping(SolveParams(time_limit_s=3.0, clock="cpu", max_iterations=5))
    assert isinstance(both, MultipleCriteria)


def test_unknown_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="clock"):
        SolveParams(clock="sundial")  # type: ignore[arg-type]


def test_solve_on_the_cpu_clock_plans_every_stop(build) -> None:  # type: ignore[no-untyped-def]
    stops = [build.stop(f"s{i}", x, y) for i, (x, y) in enumerate([(5, 0), (0, 5), (-5, 0)])]
    problem = build.problem(stops)
    plan = solve(problem, SolveParams(seed=1, time_limit_s=0.2, clock="cpu"))
    assert not plan.unserved
    assert sorted(i for r in plan.routes for i in r.stop_ids) == ["s0", "s1", "s2"]
    assert check_plan(problem, plan) == []
