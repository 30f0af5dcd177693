"""The day plan holds the chain reserve: visits that miss it are tightened and re-solved
(``services.routing.hold_chains``), never dropped for it."""

from __future__ import annotations

from dataclasses import replace

from doorstep.planning import (
    Courier,
    Depot,
    HaversineTravel,
    Plan,
    PlanningProblem,
    SolveParams,
    Stop,
    solve,
)
from doorstep.planning.plan import Unserved, UnservedReason
from doorstep.planning.timed import TimedTravel
from doorstep.services.routing import chain_shortfalls, hold_chains

H = 3600
DEPOT = (31.2304, 121.4737)
# Five doors 1-2 km apart north of the depot, all wanting 10:00-10:40.
PLACES = [(31.2304 + 0.012 * i, 121.4737 + 0.01 * (i % 2)) for i in range(1, 6)]
CHAINED = TimedTravel(HaversineTravel(), leg_sd=0.25, door_sd=0.2, chain_z=2.33)
PARAMS = SolveParams(seed=0, time_limit_s=60, max_iterations=300)


def _problem(travel: TimedTravel) -> PlanningProblem:
    stops = [Stop(f"s{i}", p, 10 * H, 10 * H + 2400, 300) for i, p in enumerate(PLACES)]
    couriers = [Courier(f"c{i}", "D", 9 * H, 19 * H, 10**7, 10**8) for i in range(2)]
    return PlanningProblem([Depot("D", DEPOT)], couriers, stops, travel, timed=True)


def _solve(problem: PlanningProblem, warm: Plan | None) -> Plan:
    return solve(problem, PARAMS, warm_start=warm)


def test_a_visit_missing_its_chain_is_tightened_and_re_solved_until_it_holds() -> None:
    problem = _problem(CHAINED)
    plan = _solve(problem, None)
    # The per-leg prices let one courier chain four of the doors; the last of them misses
    # the chain's quantile.
    assert chain_shortfalls(CHAINED, problem, plan, 0)
    held = hold_chains(CHAINED, problem, plan, 0, _solve)
    assert chain_shortfalls(CHAINED, problem, held, 0) == {}
    assert held.unserved == plan.unserved == ()
    assert sorted(v.stop_id for r in held.routes for v in r.visits) == [f"s{i}" for i in range(5)]


def test_without_the_chain_reserve_the_plan_is_left_as_solved() -> None:
    plain = TimedTravel(HaversineTravel())
    problem = _problem(plain)
    plan = _solve(problem, None)
    assert hold_chains(plain, problem, plan, 0, _solve) is plan


def _drops_one(problem: PlanningProblem, warm: Plan | None) -> Plan:
    """A re-solve that finds no room for the tightened windows without dropping a visit."""
    found = _solve(problem, warm)
    first = found.routes[0].visits[0].stop_id
    routes = tuple(
        replace(r, visits=tuple(v for v in r.visits if v.stop_id != first)) for r in found.routes
    )
    return Plan(routes, (Unserved(first, UnservedReason.TIME_WINDOW_UNREACHABLE),))


def test_the_stored_routes_are_kept_when_no_re_solve_holds_the_chain_without_a_drop() -> None:
    problem = _problem(CHAINED)
    plan = _solve(problem, None)
    short = chain_shortfalls(CHAINED, problem, plan, 0)
    assert short
    # What the bookings left (each checked the chain going in): a plan that holds.
    stored = hold_chains(CHAINED, problem, plan, 0, _solve)
    assert chain_shortfalls(CHAINED, problem, stored, 0) == {}
    # Without them the re-plan's own plan stays, at risk: a dropped visit is worse.
    assert hold_chains(CHAINED, problem, plan, 0, _drops_one) is plan
    assert hold_chains(CHAINED, problem, plan, 0, _drops_one, kept=stored) == stored
    # Routes missing a visit the plan serves are not kept: that would drop it unseen.
    partial = Plan((replace(stored.routes[0], visits=stored.routes[0].visits[1:]),), ())
    assert hold_chains(CHAINED, problem, plan, 0, _drops_one, kept=partial) is plan
