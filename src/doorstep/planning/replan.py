"""Re-planning during the day without shaking what is already under way.

Done stops stay done (they leave the problem, but their parcels stay on the vehicle), a stop
in progress stays first, and each courier keeps the stop they are driving to whenever it can
still be kept. The previous plan seeds the search.
"""

from __future__ import annotations

from dataclasses import replace

from doorstep.planning.params import SolveParams
from doorstep.planning.plan import Plan, Route
from doorstep.planning.problem import Courier, Network, PlanningProblem, Stop, StopStatus
from doorstep.planning.solve import solve


def replan(problem: PlanningProblem, previous: Plan, now_s: int, params: SolveParams) -> Plan:
    """A new plan from `now_s` on; `problem` carries today's stops with their current status.

    Check the result with `check_plan(freeze_progress(problem, previous, now_s), plan)`.
    """
    return solve(freeze_progress(problem, previous, now_s), params, warm_start=previous)


def freeze_progress(problem: PlanningProblem, previous: Plan, now_s: int) -> PlanningProblem:
    """The problem as it stands at `now_s`: where each courier is, when free, what stays first."""
    if now_s < 0:
        raise ValueError(f"now_s must be >= 0, got {now_s}")
    at_now = replace(problem, depart_second=max(now_s, problem.depart_second or 0))
    network = Network.of(at_now)
    stops = {s.id: s for s in problem.stops}
    couriers = [
        _courier_now(at_now, network, c, previous.route_of(c.id), stops, now_s)
        for c in problem.couriers
    ]
    return replace(at_now, couriers=couriers)


def _courier_now(
    problem: PlanningProblem,
    network: Network,
    courier: Courier,
    route: Route | None,
    stops: dict[str, Stop],
    now_s: int,
) -> Courier:
    depot = problem.depot(courier.depot_id).location
    here = courier.start_location or depot
    free_at = max(now_s, courier.free_from_s)
    # When the courier was done with what they last did, whatever the hour now.
    ready = courier.free_from_s
    rest = courier.rest
    resting = False
    weight = volume = 0
    in_progress = next(
        (
            s
            for s in problem.stops
            if s.status is StopStatus.IN_PROGRESS and s.courier_id == courier.id
        ),
        None,
    )
    next_stop: Stop | None = None
    if route is not None:
        for visit in route.visits:
            stop = stops.get(visit.stop_id)
            if stop is None:
                continue
            if stop.status is StopStatus.DONE:
                weight += stop.weight_g
                volume += stop.volume_cm3
                here = stop.location
                free_at = max(free_at, visit.departure_s)
                ready = max(ready, visit.departure_s)
            elif next_stop is None and stop.status is StopStatus.PENDING:
                next_stop = stop
        if rest is not None and route.rest_start_s is not None and route.rest_start_s <= now_s:
            # The break has begun (or is over): it is not planned again.
            free_at = max(free_at, route.rest_start_s + rest.duration_s)
            rest = None
            resting = True
    if rest is not None and rest.latest_start_s < free_at:
        rest = None
    free_at = min(free_at, courier.shift_end_s)
    capacity_w = max(courier.capacity_weight_g - weight, 0)
    capacity_v = max(courier.capacity_volume_cm3 - volume, 0)
    moved = replace(
        courier,
        rest=rest,
        start_location=here,
        available_from_s=free_at,
        capacity_weight_g=capacity_w,
        capacity_volume_cm3=capacity_v,
        first_stop_id=None,
    )
    if in_progress is not None:
        started = _planned_start(route, in_progress.id)
        begun = now_s if started is None else min(started, now_s)
        return replace(
            moved,
            start_location=in_progress.location,
            available_from_s=min(max(begun, courier.shift_start_s), courier.shift_end_s),
        )
    if next_stop is not None and next_stop.courier_id in (None, courier.id):
        leg = network.seconds(here, next_stop.location)
        depart = free_at if resting else left_for(ready, leg, next_stop.earliest_s, free_at)
        start = max(depart + leg, next_stop.earliest_s)
        back = start + next_stop.service_s + network.seconds(next_stop.location, depot)
        fits = next_stop.weight_g <= capacity_w and next_stop.volume_cm3 <= capacity_v
        if start <= next_stop.latest_s and back <= courier.shift_end_s and fits:
            return replace(moved, first_stop_id=next_stop.id, available_from_s=depart)
    return moved


def left_for(ready_s: int, leg_s: int, earliest_s: int, seen_s: int) -> int:
    """When a courier free from ``ready_s`` where they last were, and seen at ``seen_s``
    (now, or ``ready_s`` if later) with nothing marked since, leaves or left for their next
    stop, ``leg_s`` away, whose window opens at ``earliest_s``. The one view of a courier
    between doors: the re-plan, the ETAs, the booking check and the chain check all use it
    (``services.route.moving``).

    A courier leaves early enough to ring at the window's start
    (``services.route.expected_etas``): past that moment they are on the way, and ring when
    that leg ends or at ``seen_s`` at the earliest (the door is marked on arrival), not a
    whole leg after ``seen_s`` from where they were last seen: that put every promise behind
    the courier later by the time since they left, and the re-plan moved or dropped visits
    the courier was about to keep. A result before ``seen_s`` means on the way: the stop
    stays first (nothing can go before a leg already driven)."""
    left = max(ready_s, earliest_s - leg_s)
    if left >= seen_s:
        return seen_s
    return max(left, seen_s - leg_s)


def _planned_start(route: Route | None, stop_id: str) -> int | None:
    if route is None:
        return None
    return next((v.start_s for v in route.visits if v.stop_id == stop_id), None)
