"""An independent check of a plan against its problem.

It re-times every route from the stop order alone (it does not trust the solver's numbers)
and reports each broken rule, so tests, benchmarks and the service share one referee.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from doorstep.planning.plan import Plan, Route
from doorstep.planning.problem import Courier, Network, PlanningProblem, Stop, StopStatus


class ViolationKind(enum.StrEnum):
    """Stable codes for what a plan got wrong."""

    UNKNOWN_COURIER = "unknown_courier"
    DUPLICATE_ROUTE = "duplicate_route"
    UNKNOWN_STOP = "unknown_stop"
    DUPLICATE_STOP = "duplicate_stop"
    DONE_STOP_ROUTED = "done_stop_routed"
    MISSING_STOP = "missing_stop"
    WRONG_COURIER = "wrong_courier"
    FIRST_STOP = "first_stop"
    TIME_WINDOW = "time_window"
    CAPACITY_WEIGHT = "capacity_weight"
    CAPACITY_VOLUME = "capacity_volume"
    SHIFT_START = "shift_start"
    SHIFT_END = "shift_end"
    BREAK_MISSING = "break_missing"
    BREAK_WINDOW = "break_window"
    SCHEDULE_MISMATCH = "schedule_mismatch"


@dataclass(frozen=True)
class Violation:
    """One broken rule, located by courier and/or stop."""

    kind: ViolationKind
    courier_id: str | None = None
    stop_id: str | None = None
    detail: str = ""


def check_plan(problem: PlanningProblem, plan: Plan) -> list[Violation]:
    """Every violation of `plan` against `problem`; an empty list means the plan is feasible.

    Every open stop must be routed exactly once or listed as unserved; done stops must not
    appear in routes; a stop in progress (or a courier's `first_stop_id`) comes first. Reported times must match the re-timed schedule.
    """
    network = Network.of(problem)
    stops = {s.id: s for s in problem.stops}
    couriers = {c.id: c for c in problem.couriers}
    out: list[Violation] = []
    seen: dict[str, int] = {}
    routed_couriers: set[str] = set()
    for route in plan.routes:
        courier = couriers.get(route.courier_id)
        if courier is None:
            out.append(Violation(ViolationKind.UNKNOWN_COURIER, route.courier_id))
            continue
        if courier.id in routed_couriers:
            out.append(Violation(ViolationKind.DUPLICATE_ROUTE, courier.id))
        routed_couriers.add(courier.id)
        route_stops: list[Stop] = []
        for stop_id in route.stop_ids:
            seen[stop_id] = seen.get(stop_id, 0) + 1
            stop = stops.get(stop_id)
            if stop is None:
                out.append(Violation(ViolationKind.UNKNOWN_STOP, courier.id, stop_id))
                continue
            route_stops.append(stop)
        out.extend(_check_route(network, problem, courier, route, route_stops))
    for unserved in plan.unserved:
        seen[unserved.stop_id] = seen.get(unserved.stop_id, 0) + 1
        if unserved.stop_id not in stops:
            out.append(Violation(ViolationKind.UNKNOWN_STOP, None, unserved.stop_id))
    for stop in problem.stops:
        count = seen.get(stop.id, 0)
        if stop.status is StopStatus.DONE:
            if count:
                out.append(Violation(ViolationKind.DONE_STOP_ROUTED, None, stop.id))
        elif count == 0:
            out.append(Violation(ViolationKind.MISSING_STOP, None, stop.id))
        elif count > 1:
            out.append(Violation(ViolationKind.DUPLICATE_STOP, None, stop.id, f"{count} times"))
    in_progress = {s.courier_id: s.id for s in problem.stops if s.status is StopStatus.IN_PROGRESS}
    for courier in problem.couriers:
        pinned = courier.first_stop_id or in_progress.get(courier.id)
        own = plan.route_of(courier.id)
        if pinned is not None and (own is None or own.stop_ids[:1] != (pinned,)):
            out.append(Violation(ViolationKind.FIRST_STOP, courier.id, pinned))
    return out


def _check_route(
    network: Network,
    problem: PlanningProblem,
    courier: Courier,
    route: Route,
    stops: list[Stop],
) -> list[Violation]:
    out: list[Violation] = []
    cid = courier.id
    if route.start_s < courier.free_from_s:
        out.append(Violation(ViolationKind.SHIFT_START, cid, detail=f"leaves at {route.start_s}"))
    weight = sum(s.weight_g for s in stops)
    volume = sum(s.volume_cm3 for s in stops)
    if weight > courier.capacity_weight_g:
        out.append(Violation(ViolationKind.CAPACITY_WEIGHT, cid, detail=f"{weight} g"))
    if volume > courier.capacity_volume_cm3:
        out.append(Violation(ViolationKind.CAPACITY_VOLUME, cid, detail=f"{volume} cm3"))
    for stop in stops:
        if stop.courier_id is not None and stop.courier_id != cid:
            out.append(Violation(ViolationKind.WRONG_COURIER, cid, stop.id))
    rest = courier.rest
    if rest is not None and stops and route.rest_after is None:
        out.append(Violation(ViolationKind.BREAK_MISSING, cid))
    if route.rest_after is not None and not -1 <= route.rest_after < len(stops):
        out.append(Violation(ViolationKind.BREAK_MISSING, cid, detail="break position"))
    depot = problem.depot(courier.depot_id).location
    here = courier.start_location or depot
    clock = route.start_s
    times: list[tuple[int, int, int]] = []
    rest_start: int | None = None

    def take_rest() -> None:
        nonlocal clock, rest_start
        assert rest is not None
        rest_start = max(clock, rest.earliest_s)
        if rest_start > rest.latest_start_s:
            out.append(Violation(ViolationKind.BREAK_WINDOW, cid, detail=f"starts {rest_start}"))
        clock = rest_start + rest.duration_s

    if rest is not None and route.rest_after == -1:
        take_rest()
    for i, stop in enumerate(stops):
        if i == 0 and stop.status is StopStatus.IN_PROGRESS:
            arrival = start = clock
        else:
            arrival = clock + network.seconds(here, stop.location)
            start = max(arrival, stop.earliest_s)
            if start > stop.latest_s:
                late = start - stop.latest_s
                out.append(Violation(ViolationKind.TIME_WINDOW, cid, stop.id, f"{late}s late"))
        clock = start + stop.service_s
        here = stop.location
        times.append((arrival, start, clock))
        if rest is not None and route.rest_after == i:
            take_rest()
    end = clock + network.seconds(here, depot)
    if end > courier.shift_end_s:
        out.append(
            Violation(ViolationKind.SHIFT_END, cid, detail=f"{end - courier.shift_end_s}s over")
        )
    reported = [(v.arrival_s, v.start_s, v.departure_s) for v in route.visits]
    if len(stops) == len(route.visits) and (
        reported != times or route.end_s != end or route.rest_start_s != rest_start
    ):
        out.append(Violation(ViolationKind.SCHEDULE_MISMATCH, cid, detail="times differ"))
    return out


def first_offender(courier: Courier, route: Route, stops: list[Stop]) -> int | None:
    """Index of a stop whose removal most plausibly repairs a timed route; None if feasible.

    Late stops come first; an overfull vehicle, a late return or a late break blame the last
    stop (or the one just before the break).
    """
    for i, (visit, stop) in enumerate(zip(route.visits, stops, strict=True)):
        if visit.start_s > stop.latest_s and not (i == 0 and stop.status is StopStatus.IN_PROGRESS):
            return i
    rest = courier.rest
    if (
        rest is not None
        and route.rest_start_s is not None
        and route.rest_start_s > rest.latest_start_s
    ):
        return max(route.rest_after or 0, 0)
    weight = sum(s.weight_g for s in stops)
    volume = sum(s.volume_cm3 for s in stops)
    over_capacity = weight > courier.capacity_weight_g or volume > courier.capacity_volume_cm3
    if over_capacity or route.end_s > courier.shift_end_s:
        return len(stops) - 1
    return None
