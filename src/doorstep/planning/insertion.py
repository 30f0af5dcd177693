"""Can one more pickup join a courier's route, and at what extra travel?

`RouteSlack` precomputes, once per route, each position's departure time and latest feasible
start (the latest moment service there may begin without making any later stop, the break or
the return to the depot late). Each candidate window is then checked in O(route length):
one constant-time test per gap. This is what slot offering asks: offer only windows that
can still be kept, ranked by insertion cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from doorstep.planning.problem import Courier, Network, PlanningProblem, Stop, StopStatus

_NO_LIMIT = 1 << 62


@dataclass(frozen=True)
class Insertion:
    """Where the candidate goes: stop index in the new route, where the break then sits
    (None: no break), and the extra travel seconds it costs."""

    position: int
    rest_after: int | None
    extra_travel_s: int


@dataclass(frozen=True, eq=False)
class RouteSlack:
    """A timed route flattened into nodes: start, stops (and the break), return to depot.

    The break node stands where the courier is, so it takes its predecessor's location.
    """

    network: Network
    courier: Courier
    stop_count: int
    locs: list[int]
    depart: list[int]
    latest_start: list[int]
    is_rest: list[bool]
    stops_upto: list[int]
    """Number of stops among nodes 1..k, per node k."""
    fixed_head: bool
    weight_g: int
    volume_cm3: int
    rest_after: int | None
    feasible: bool

    @classmethod
    def of(
        cls,
        problem: PlanningProblem,
        network: Network,
        courier: Courier,
        stops: Sequence[Stop],
        start_s: int | None = None,
        rest_after: int | None = None,
    ) -> RouteSlack:
        """Precompute a courier's route (`stops` in order, leaving at `start_s`)."""
        rest = courier.rest
        if rest is not None and rest_after is None:
            rest_after = len(stops) - 1
        if rest is None:
            rest_after = None
        index = network.index
        rows = network.duration_rows()
        depot = index[problem.depot(courier.depot_id).location]
        here = index[courier.start_location or problem.depot(courier.depot_id).location]
        clock = courier.free_from_s if start_s is None else max(start_s, courier.free_from_s)
        locs, depart, early, late, service, is_rest = (
            [here],
            [clock],
            [0],
            [_NO_LIMIT],
            [0],
            [False],
        )

        def add_rest() -> None:
            nonlocal clock
            assert rest is not None
            start = max(clock, rest.earliest_s)
            clock = start + rest.duration_s
            locs.append(locs[-1])
            depart.append(clock)
            early.append(rest.earliest_s)
            late.append(rest.latest_start_s)
            service.append(rest.duration_s)
            is_rest.append(True)

        if rest_after == -1:
            add_rest()
        fixed_head = bool(stops) and (
            stops[0].status is StopStatus.IN_PROGRESS or courier.first_stop_id == stops[0].id
        )
        for i, stop in enumerate(stops):
            loc = index[stop.location]
            in_progress = i == 0 and stop.status is StopStatus.IN_PROGRESS
            arrival = clock if in_progress else clock + rows[locs[-1]][loc]
            start = arrival if in_progress else max(arrival, stop.earliest_s)
            clock = start + stop.service_s
            locs.append(loc)
            depart.append(clock)
            early.append(0 if in_progress else stop.earliest_s)
            late.append(_NO_LIMIT if in_progress else stop.latest_s)
            service.append(stop.service_s)
            is_rest.append(False)
            if rest_after == i:
                add_rest()
        locs.append(depot)
        depart.append(clock + rows[locs[-1]][depot])
        early.append(0)
        late.append(courier.shift_end_s)
        service.append(0)
        is_rest.append(False)

        latest = [0] * len(locs)
        latest[-1] = courier.shift_end_s
        for k in range(len(locs) - 2, -1, -1):
            travel = rows[locs[k]][locs[k + 1]]
            latest[k] = min(late[k], latest[k + 1] - travel - service[k])
        starts = [d - s for d, s in zip(depart, service, strict=True)]
        starts[-1] = depart[-1]
        feasible = all(s <= lim for s, lim in zip(starts[1:], latest[1:], strict=True))
        stops_upto = [0] * len(locs)
        for k in range(1, len(locs)):
            stops_upto[k] = stops_upto[k - 1] + (0 if is_rest[k] else 1)
        return cls(
            network=network,
            courier=courier,
            stop_count=len(stops),
            locs=locs,
            depart=depart,
            latest_start=latest,
            is_rest=is_rest,
            stops_upto=stops_upto,
            fixed_head=fixed_head,
            weight_g=sum(s.weight_g for s in stops),
            volume_cm3=sum(s.volume_cm3 for s in stops),
            rest_after=rest_after,
            feasible=feasible,
        )


def best_insertion(slack: RouteSlack, candidate: Stop) -> Insertion | None:
    """The cheapest feasible place for `candidate` in the route, or None if there is none.

    Every booked stop stays inside its window, the break inside its window, the return
    before shift end, and the load within capacity. `candidate.location` must be in the
    slack's network (build it with `Network.of(problem, extra=[location])`).
    """
    courier = slack.courier
    if not slack.feasible:
        return None
    if slack.weight_g + candidate.weight_g > courier.capacity_weight_g:
        return None
    if slack.volume_cm3 + candidate.volume_cm3 > courier.capacity_volume_cm3:
        return None
    rows = slack.network.duration_rows()
    u = slack.network.index[candidate.location]
    from_u = rows[u]
    locs, depart, latest, is_rest = slack.locs, slack.depart, slack.latest_start, slack.is_rest
    earliest_u, latest_u, service_u = candidate.earliest_s, candidate.latest_s, candidate.service_s
    rest = courier.rest
    best: Insertion | None = None
    stops_upto = slack.stops_upto
    first = is_rest.index(False, 1) if slack.fixed_head else 0
    for k in range(first, len(locs) - 1):
        stops_before = stops_upto[k]
        a, b = locs[k], locs[k + 1]
        to_u = rows[a][u]
        start_u = max(depart[k] + to_u, earliest_u)
        if start_u > latest_u:
            continue
        leave_u = start_u + service_u
        rest_after: int | None
        if is_rest[k + 1]:
            # The break follows the new stop and happens there; then the trip onwards.
            assert rest is not None
            rest_start = max(leave_u, rest.earliest_s)
            if rest_start > rest.latest_start_s:
                continue
            after = locs[k + 2]
            if rest_start + rest.duration_s + from_u[after] > latest[k + 2]:
                continue
            extra = to_u + from_u[after] - rows[a][after]
            rest_after = stops_before
        else:
            if leave_u + from_u[b] > latest[k + 1]:
                continue
            extra = to_u + from_u[b] - rows[a][b]
            rest_after = _shifted_rest(slack.rest_after, stops_before)
        if best is None or extra < best.extra_travel_s:
            best = Insertion(stops_before, rest_after, extra)
    return best


def _shifted_rest(rest_after: int | None, position: int) -> int | None:
    """Break index once a stop is inserted at `position` after the break's own node."""
    if rest_after is None:
        return None
    return rest_after + 1 if position <= rest_after else rest_after
