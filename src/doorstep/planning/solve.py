"""The front door: `solve(problem, params) -> Plan`, on PyVRP's iterated local search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyvrp
from pyvrp.search import NeighbourhoodParams, PerturbationParams

from doorstep.planning.feasibility import first_offender
from doorstep.planning.insertion import Insertion, RouteSlack, best_insertion
from doorstep.planning.model import Translation, Vehicle, initial_routes, translate
from doorstep.planning.params import SolveParams
from doorstep.planning.plan import Plan, Route, Unserved, UnservedReason, schedule_route
from doorstep.planning.problem import Courier, Network, PlanningProblem, Stop, StopStatus
from doorstep.planning.stopping import stopping


@dataclass(frozen=True)
class _Pin:
    """A courier's fixed first stop, already timed."""

    stop: Stop
    route: Route


def solve(problem: PlanningProblem, params: SolveParams, warm_start: Plan | None = None) -> Plan:
    """Plan routes for every open stop of `problem`.

    Done stops are ignored. A stop in progress, or a courier's `first_stop_id`, stays first on
    that courier's route. Stops no courier can serve are returned in `Plan.unserved` with a
    reason; the returned plan always passes `check_plan`.
    `warm_start` seeds the search with earlier routes (re-planning).
    """
    network = Network.of(problem)
    pins = _pins(problem, network)
    pinned_ids = {p.stop.id for p in pins.values()}
    couriers = {c.id: c for c in problem.couriers}
    vehicles = [_vehicle(problem, network, c, pins.get(c.id)) for c in problem.couriers]
    open_stops = [
        s for s in problem.stops if s.status is not StopStatus.DONE and s.id not in pinned_ids
    ]
    unserved: list[Unserved] = []
    solver_stops: list[Stop] = []
    by_courier = {v.courier_id: v for v in vehicles}
    for stop in open_stops:
        reason = _hopeless(network, stop, vehicles, by_courier)
        if reason is None:
            solver_stops.append(stop)
        else:
            unserved.append(Unserved(stop.id, reason))

    sequences: dict[str, tuple[list[Stop], int | None, int | None]] = {}
    if solver_stops or any(v.rest is not None for v in vehicles):
        translation = translate(network, vehicles, solver_stops, params)
        init = None
        if warm_start is not None:
            init = initial_routes(
                translation,
                {r.courier_id: list(r.stop_ids) for r in warm_start.routes},
                {r.courier_id: r.rest_after for r in warm_start.routes},
            )
        result = pyvrp.solve(
            translation.data,
            stop=stopping(params),
            seed=params.seed,
            collect_stats=False,
            display=False,
            initial_solution=init,
            params=search_params(params),
        )
        sequences = _sequences(translation, result.best, {s.id: s for s in solver_stops})
        routed = {s.id for seq, _, _ in sequences.values() for s in seq}
        unserved += [
            Unserved(s.id, UnservedReason.SOLVER_DROPPED)
            for s in solver_stops
            if s.id not in routed
        ]

    routes: list[Route] = []
    for courier in problem.couriers:
        pin = pins.get(courier.id)
        seq, rest_after, start_s = sequences.get(courier.id, ([], None, None))
        if pin is not None:
            if pin.route.rest_after == -1:
                rest_after = -1
            elif rest_after is not None:
                rest_after += 1
            seq = [pin.stop, *seq]
            start_s = courier.free_from_s
        if not seq:
            continue
        if courier.rest is not None and rest_after is None:
            rest_after = len(seq) - 1
        route, dropped = _repair(problem, network, couriers[courier.id], seq, start_s, rest_after)
        routes.append(route)
        unserved += [Unserved(s.id, UnservedReason.SOLVER_DROPPED) for s in dropped]
    routes, unserved = _place_drops(problem, network, routes, unserved)
    order = {s.id: i for i, s in enumerate(problem.stops)}
    unserved.sort(key=lambda u: order[u.stop_id])
    return Plan(routes=tuple(routes), unserved=tuple(unserved))


def search_params(params: SolveParams) -> pyvrp.SolveParams:
    """PyVRP's own settings for `params` (its defaults unless `params` says otherwise)."""
    return pyvrp.SolveParams(
        ils=pyvrp.IteratedLocalSearchParams(
            exhaustive_on_best=params.exhaustive_on_best, history_length=params.history_length
        ),
        neighbourhood=NeighbourhoodParams(num_neighbours=params.num_neighbours),
        perturbation=PerturbationParams(
            min_perturbations=1, max_perturbations=params.max_perturbations
        ),
    )


def _place_drops(
    problem: PlanningProblem, network: Network, routes: list[Route], unserved: list[Unserved]
) -> tuple[list[Route], list[Unserved]]:
    """Put back the stops the search left out where a feasible place exists; name the binding
    constraint for the rest.

    The search charges a dropped stop more than any detour, so a `solver_dropped` stop is one
    a short run had no time to place (or lost in `_repair`): each goes, in problem order, to
    the courier whose route takes it at the least extra travel. What is still left is
    `capacity` when no courier who may take it has room left, `time_window_unreachable` when
    those with room cannot fit it in time, and `solver_dropped` only if a place exists on
    paper but timing the route with it failed.
    """
    if not any(u.reason is UnservedReason.SOLVER_DROPPED for u in unserved):
        return routes, unserved
    stops = {s.id: s for s in problem.stops}
    by_courier = {r.courier_id: r for r in routes}

    def slack_of(courier: Courier) -> RouteSlack:
        route = by_courier.get(courier.id)
        if route is None:
            return RouteSlack.of(problem, network, courier, [])
        seq = [stops[i] for i in route.stop_ids]
        return RouteSlack.of(problem, network, courier, seq, route.start_s, route.rest_after)

    slacks = {c.id: slack_of(c) for c in problem.couriers}
    left: list[Unserved] = []
    for item in unserved:
        if item.reason is not UnservedReason.SOLVER_DROPPED:
            left.append(item)
            continue
        stop = stops[item.stop_id]
        eligible = [
            slack
            for cid, slack in slacks.items()
            if stop.courier_id in (None, cid)
            and slack.weight_g + stop.weight_g <= slack.courier.capacity_weight_g
            and slack.volume_cm3 + stop.volume_cm3 <= slack.courier.capacity_volume_cm3
        ]
        places = [
            (place, slack.courier)
            for slack in eligible
            if (place := best_insertion(slack, stop)) is not None
        ]
        if not eligible:
            left.append(Unserved(item.stop_id, UnservedReason.CAPACITY))
        elif not places:
            left.append(Unserved(item.stop_id, UnservedReason.TIME_WINDOW_UNREACHABLE))
        elif (taker := _insert(problem, network, by_courier, stops, stop, places)) is None:
            left.append(item)
        else:
            slacks[taker.id] = slack_of(taker)
    order = {c.id: i for i, c in enumerate(problem.couriers)}
    return sorted(by_courier.values(), key=lambda r: order[r.courier_id]), left


def _insert(
    problem: PlanningProblem,
    network: Network,
    by_courier: dict[str, Route],
    stops: dict[str, Stop],
    stop: Stop,
    places: list[tuple[Insertion, Courier]],
) -> Courier | None:
    """Time `stop` into the cheapest of `places` whose route stays feasible (updating
    `by_courier`); the courier who took it, or None."""
    for place, courier in sorted(places, key=lambda p: p[0].extra_travel_s):
        route = by_courier.get(courier.id)
        seq = [stops[i] for i in route.stop_ids] if route else []
        seq.insert(place.position, stop)
        start = route.start_s if route else courier.free_from_s
        rest_after = place.rest_after
        if courier.rest is not None and rest_after is None:
            rest_after = len(seq) - 1
        timed = schedule_route(problem, network, courier, seq, start, rest_after)
        if first_offender(courier, timed, seq) is None:
            by_courier[courier.id] = timed
            return courier
    return None


def _pins(problem: PlanningProblem, network: Network) -> dict[str, _Pin]:
    stops = {s.id: s for s in problem.stops}
    in_progress = {s.courier_id: s for s in problem.stops if s.status is StopStatus.IN_PROGRESS}
    pins: dict[str, _Pin] = {}
    for courier in problem.couriers:
        stop = in_progress.get(courier.id)
        if courier.first_stop_id is not None:
            if stop is not None and stop.id != courier.first_stop_id:
                raise ValueError(f"Courier {courier.id}: another stop is in progress")
            stop = stops[courier.first_stop_id]
        if stop is None:
            continue
        route = schedule_route(problem, network, courier, [stop], courier.free_from_s, None)
        rest = courier.rest
        if rest is not None:
            rest_after = -1 if route.visits[0].departure_s > rest.latest_start_s else 0
            route = schedule_route(
                problem, network, courier, [stop], courier.free_from_s, rest_after
            )
        if stop.status is StopStatus.PENDING and route.visits[0].start_s > stop.latest_s:
            raise ValueError(f"Courier {courier.id}: first stop {stop.id} is out of reach")
        pins[courier.id] = _Pin(stop, route)
    return pins


def _vehicle(
    problem: PlanningProblem, network: Network, courier: Courier, pin: _Pin | None
) -> Vehicle:
    depot = problem.depot(courier.depot_id).location
    start = courier.start_location or depot
    start_s = courier.free_from_s
    weight, volume, rest = 0, 0, courier.rest
    if pin is not None:
        start = pin.stop.location
        start_s = pin.route.visits[0].departure_s
        weight, volume = pin.stop.weight_g, pin.stop.volume_cm3
        if pin.route.rest_after == -1:
            rest = None
            assert pin.route.rest_start_s is not None and courier.rest is not None
            start_s = max(start_s, pin.route.rest_start_s + courier.rest.duration_s)
    return Vehicle(
        courier_id=courier.id,
        start=start,
        start_s=min(start_s, courier.shift_end_s),
        end=depot,
        end_s=courier.shift_end_s,
        capacity_weight_g=max(courier.capacity_weight_g - weight, 0),
        capacity_volume_cm3=max(courier.capacity_volume_cm3 - volume, 0),
        rest=rest,
    )


def _hopeless(
    network: Network, stop: Stop, vehicles: Sequence[Vehicle], by_courier: dict[str, Vehicle]
) -> UnservedReason | None:
    """A reason when no single courier could serve `stop` even on a route of its own."""
    if stop.courier_id is not None:
        vehicles = [by_courier[stop.courier_id]]
    fits = [
        v
        for v in vehicles
        if stop.weight_g <= v.capacity_weight_g and stop.volume_cm3 <= v.capacity_volume_cm3
    ]
    if not fits:
        return UnservedReason.CAPACITY
    overlaps = [v for v in fits if stop.latest_s >= v.start_s and stop.earliest_s <= v.end_s]
    if not overlaps:
        return UnservedReason.OUTSIDE_SHIFT
    for v in overlaps:
        start = max(v.start_s + network.seconds(v.start, stop.location), stop.earliest_s)
        back = start + stop.service_s + network.seconds(stop.location, v.end)
        if start <= stop.latest_s and back <= v.end_s:
            return None
    return UnservedReason.TIME_WINDOW_UNREACHABLE


def _sequences(
    translation: Translation, solution: pyvrp.Solution, stops: dict[str, Stop]
) -> dict[str, tuple[list[Stop], int | None, int | None]]:
    """Per courier: stops in order, index of the stop before the break, and start second."""
    out: dict[str, tuple[list[Stop], int | None, int | None]] = {}
    handed = [0] * len(translation.type_couriers)
    for route in solution.routes():
        vt = route.vehicle_type()
        courier_id = translation.type_couriers[vt][handed[vt]]
        handed[vt] += 1
        seq: list[Stop] = []
        rest_after: int | None = None
        for activity in route.schedule():
            if not activity.is_client():
                continue
            stop_id = translation.client_stop[activity.idx]
            if stop_id is None:
                rest_after = len(seq) - 1
            else:
                seq.append(stops[stop_id])
        out[courier_id] = (seq, rest_after, route.start_time())
    return out


def _repair(
    problem: PlanningProblem,
    network: Network,
    courier: Courier,
    seq: list[Stop],
    start_s: int | None,
    rest_after: int | None,
) -> tuple[Route, list[Stop]]:
    """Time the route; if the solver's best is infeasible, drop stops until it is not.

    The pinned first stop is never dropped. The break moves to the end if its stop goes.
    """
    dropped: list[Stop] = []
    start = courier.free_from_s if start_s is None else start_s
    while True:
        route = schedule_route(problem, network, courier, seq, start, rest_after)
        bad = first_offender(courier, route, seq)
        if bad is None:
            return route, dropped
        keep_first = courier.first_stop_id is not None or (
            bool(seq) and seq[0].status is StopStatus.IN_PROGRESS
        )
        victim = max(bad, 1 if keep_first else 0)
        if victim >= len(seq):
            victim = len(seq) - 1
        if keep_first and victim == 0:
            return route, dropped
        dropped.append(seq.pop(victim))
        if rest_after is not None and rest_after >= victim:
            rest_after = max(rest_after - 1, -1)
