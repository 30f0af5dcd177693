"""A tiny simulated day per policy through the real services: sane KPIs, same seed same report."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from doorstep.entrypoints.cli import app
from doorstep.simulation.compare import simulate
from doorstep.simulation.eta import HORIZONS
from doorstep.simulation.params import POLICIES, SimParams

TINY = SimParams(days=1, seed=5, districts=("310104", "310110"), requests_per_day=8)
SHARES = (
    "accepted_share",
    "first_choice_share",
    "inside_window_share",
    "first_attempt_success",
    "incentive_share",
)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return simulate(TINY, POLICIES)


def test_every_policy_reports_sane_kpis(report: dict[str, Any]) -> None:
    assert set(report["policies"]) == set(POLICIES)
    for name, kpi in report["policies"].items():
        for key in SHARES:
            assert 0.0 <= kpi[key] <= 1.0, (name, key)
        c = kpi["counts"]
        assert c["requests"] == report["params"]["requests_total"] > 0
        assert c["approved"] <= c["requests"]
        assert c["accepted"] <= c["offered"] <= c["approved"]
        assert c["first_choice"] <= c["accepted"]
        assert c["visits"] + c["missed"] == c["accepted"]
        assert c["completed"] + c["not_home"] == c["visits"]
        assert c["inside_window"] <= c["visits"]
        assert len(kpi["late_visits"]) == c["visits"] - c["inside_window"]
        assert kpi["km_per_pickup"] >= 0 and kpi["pickups_per_courier_hour"] >= 0
        if c["completed"]:
            assert kpi["km_per_pickup"] > 0 and kpi["request_to_pickup_minutes_median"] > 0
        assert set(kpi["eta_error"]) == set(HORIZONS)
        for horizon, error in kpi["eta_error"].items():
            assert 0 <= error["p50_min"] <= error["p90_min"], (name, horizon)
            assert error["n"] <= c["visits"]
        assert kpi["eta_error"]["one_stop_before"]["n"] == c["visits"] > 0
    assert report["policies"]["fixed"]["capacity_per_window"] >= 1
    assert report["policies"]["planned"]["incentive_share"] == 0.0
    assert report["policies"]["planned"]["counts"]["coupon_fen"] == 0
    # Coupon spend: a whole number of ¥0.50 steps per coupon, at most the rules' cap each.
    incentive = report["policies"]["planned_incentive"]["counts"]
    assert incentive["coupon_fen"] % 50 == 0
    assert incentive["coupon_fen"] <= 300 * incentive["accepted"]
    assert incentive["coupon_fen"] >= 300 * incentive["incentive_taken"]  # flat ¥3 coupons


def test_same_seed_gives_the_same_report(report: dict[str, Any]) -> None:
    assert simulate(TINY, ("planned_incentive", "fixed_full")) == {
        "policies": {
            "planned_incentive": report["policies"]["planned_incentive"],
            "fixed_full": report["policies"]["fixed_full"],
        },
        "params": report["params"],
    }


def test_json_goes_to_stdout_alone_and_progress_to_stderr(tmp_path: Path) -> None:
    args = ["simulate", "--days", "1", "--seed", "5", "--policy", "fixed_full", "--json",
            "--districts", "310104", "--requests-per-day", "4", "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # nothing but the one JSON object
    assert set(report["policies"]) == {"fixed_full"}
    assert result.stderr.splitlines()[0].endswith("loading the planner: 0/1")
    assert "fixed_full" in result.stderr
    assert (tmp_path / "eta_error_p90.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--districts", "110101", "no demo area"),
        ("--districts", "٣١٠١٠٤", "six-digit adcodes"),
        ("--seed", str(2**32), "seed must be"),
        ("--seed", "-1", "seed must be"),
        ("--days", "0", "days must be"),
        ("--wanted-share", "1.5", "wanted_share must be"),
        ("--wanted-noise-h", "-1", "wanted_noise_h must be"),
        ("--replan-every-min", "1441", "replan_every_min must be"),
        ("--route-capacity", "-1", "route_capacity must be"),
        ("--replan-today", "sometimes", "replan_today must be one of"),
        ("--courier-leaves-at", "24:00", "courier_leaves_at must be HH:MM"),
        ("--courier-leaves-at", "9:30", "courier_leaves_at must be HH:MM"),
    ],
)
def test_bad_options_are_usage_errors_not_tracebacks(
    tmp_path: Path, option: str, value: str, said: str
) -> None:
    args = [
        "simulate",
        "--days",
        "1",
        "--json",
        "--no-plots",
        "--out",
        str(tmp_path),
        option,
        value,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    # Typer draws the message in a box, wrapped: compare the words.
    shown = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())
    assert said in shown and "Traceback" not in result.output
    assert result.stdout == "" or not result.stdout.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("every_min", "today"),
    [(0, "needed"), (120, "never"), (120, "always"), (120, "needed")],
)
def test_replan_ticks_plan_later_days_and_today_as_asked(
    every_min: int, today: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``replan_every_min`` plans the days after today again, as the worker would, and
    today's routes as ``replan_today`` says: "needed" (the worker's rule) before the first
    shift starts, then only with a visit off every route; the day still keeps every window."""
    from doorstep.domain.clock import local
    from doorstep.services import routing
    from doorstep.simulation.compare import Scenario
    from doorstep.simulation.run import PLAN_AT
    from doorstep.simulation.world import plan_city

    calls: list[tuple[Any, Any, bool]] = []
    real = routing.plan_day

    def spy(svc: Any, carrier_id: str, day: Any, *args: Any) -> Any:
        with svc.uow() as uow:
            astray = uow.appointments.astray_carrier_days([day]).get((carrier_id, day), False)
        calls.append((local(svc.clock.now()), day, astray))
        return real(svc, carrier_id, day, *args)

    monkeypatch.setattr(routing, "plan_day", spy)
    params = replace(
        TINY,
        districts=("310104",),
        requests_per_day=12,
        replan_every_min=every_min,
        replan_today=today,
    )
    first_shift = min(c.shift_start for c in plan_city(params).couriers.values())
    kpi = Scenario(params, tmp_path).run("planned", None)
    ahead = [(at, day) for at, day, _ in calls if day > at.date()]
    driven = [(at, astray) for at, day, astray in calls if day == at.date()]
    assert driven and PLAN_AT in {at.time() for at, _ in driven}
    if every_min:
        assert ahead and {(at.hour * 60 + at.minute) % every_min for at, _ in ahead} == {0}
        assert min(at.time() for at, _ in ahead) > PLAN_AT
    else:
        assert not ahead
    later = [(at, astray) for at, astray in driven if at.time() != PLAN_AT]
    if today == "never" or not every_min:
        assert not later
    else:
        assert later and {(at.hour * 60 + at.minute) % every_min for at, _ in later} == {0}
    if today == "needed" and every_min:
        assert any(at.time() < first_shift for at, _ in later)  # the morning plan, live
        assert all(at.time() < first_shift or astray for at, astray in later)
    if today == "always":
        assert any(at.time() >= first_shift and not astray for at, astray in later)
    assert kpi["inside_window_share"] == 1.0
    assert kpi["counts"]["missed"] == 0  # type: ignore[index]


@pytest.mark.parametrize("today", ["needed", "never"])
def test_a_courier_who_leaves_leaves_a_pool_only_a_replan_of_today_serves(
    today: str, tmp_path: Path
) -> None:
    """At 11:30 the busiest courier's account is deleted: their open visits go back to the
    pool. The worker's rule re-plans today for them at the next sweep and every visit is
    made; without today's re-plans they are never made."""
    from doorstep.simulation.compare import Scenario

    params = replace(
        TINY,
        districts=("310104",),
        requests_per_day=12,
        replan_every_min=60,
        replan_today=today,
        courier_leaves_at="11:30",
    )
    kpi = Scenario(params, tmp_path).run("planned", None)
    missed = kpi["counts"]["missed"]  # type: ignore[index]
    if today == "needed":
        assert missed == 0 and kpi["inside_window_share"] == 1.0
    else:
        assert missed > 0


@pytest.mark.parametrize(
    ("policy", "capacity", "expected"),
    [("planned", None, 7), ("planned_incentive", None, 7), ("fixed", 2, 2), ("planned", 3, 3)],
)
def test_route_aware_policies_run_at_route_capacity(
    policy: str, capacity: int | None, expected: int, tmp_path: Path
) -> None:
    """``route_capacity`` is the window capacity of the policies that ask the routes; fixed
    capacity keeps the capacity its run names, and a named capacity wins for any policy."""
    from doorstep.services import catalog
    from doorstep.simulation.compare import Scenario
    from doorstep.simulation.run import Simulation

    params = replace(TINY, route_capacity=7)
    scenario = Scenario(params, tmp_path)
    sim = Simulation(
        params, scenario.city, scenario.requests, scenario.template, tmp_path, policy, capacity
    )
    areas = {a.adcode: a for a in catalog.list_areas(sim.app.services)}
    assert {areas[d].capacity_override for d in params.districts} == {expected}
    sim.app.engine.dispose()


@pytest.mark.parametrize("pricing", ["peak", "timed"])
@pytest.mark.parametrize(
    "policy", ["planned", "planned_incentive", "fixed", "planned_peak", "planned_timed"]
)
def test_the_pricing_pair_names_its_pricing_and_the_rest_follow_the_settings(
    policy: str, pricing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``planned_peak`` and ``planned_timed`` (the pair that compares pricings) price legs
    at the evening peak and at the hour they are driven whatever the settings say, never
    twice over; the other policies run the settings' pricing, as the product would."""
    from doorstep.planning.timed import TimedTravel
    from doorstep.simulation.compare import Scenario
    from doorstep.simulation.run import Simulation

    monkeypatch.setenv("DOORSTEP_TRAVEL_PRICING", pricing)
    scenario = Scenario(TINY, tmp_path)
    sim = Simulation(
        TINY, scenario.city, scenario.requests, scenario.template, tmp_path, policy, None
    )
    travel = sim.svc.travel
    timed = policy == "planned_timed" or (policy != "planned_peak" and pricing == "timed")
    assert isinstance(travel, TimedTravel) is timed
    if timed:
        assert not isinstance(travel.base, TimedTravel)
    sim.app.engine.dispose()
