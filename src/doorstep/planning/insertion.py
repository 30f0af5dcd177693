"""Can one more pickup join a courier's route, and at what extra travel?

`RouteSlack` precomputes, once per route, each position's departure time and latest feasible
start (the latest moment service there may begin without making any later stop, the break or
the return to the depot late). Each candidate window is then checked in O(route length):
one constant-time test per gap. This is what slot offering asks: offer only windows that
can still be kept, ranked by insertion cost.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from doorstep.planning.problem import Courier, Network, PlanningProblem, Stop, StopStatus
from doorstep.planning.travel import Location

_NO_LIMIT = 1 << 62


@dataclass(frozen=True)
class Insertion:
    """Where the candidate goes: stop index in the new route, where the break then sits
    (None: no break), and the extra travel seconds it costs."""

    position: int
    rest_after: int | None
    extra_travel_s: int


Reach = Callable[[Location, int, int], tuple[Sequence[int], Sequence[int]]]
"""Travel seconds from route nodes ``lo..hi`` (inclusive) to ``u``, and from ``u`` to them."""


@dataclass(frozen=True, eq=False)
class RouteSlack:
    """A timed route flattened into nodes: start, stops (and the break), return to depot.

    The break node stands where the courier is, so it takes its predecessor's location.
    ``legs[k]`` is the travel from node k to node k+1. ``depart`` and ``latest_start`` never
    decrease along the route, so a window's candidate gaps are found by bisection.
    """

    network: Network | None
    courier: Courier
    stop_count: int
    points: list[Location]
    legs: list[int]
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
        depot = problem.depot(courier.depot_id).location
        start = courier.start_location or depot
        chain = [start, *(s.location for s in stops), depot]
        legs = [network.seconds(a, b) for a, b in pairwise(chain)]
        return cls.along(courier, start, depot, stops, legs, start_s, rest_after, network)

    @classmethod
    def along(
        cls,
        courier: Courier,
        start: Location,
        depot: Location,
        stops: Sequence[Stop],
        legs: Sequence[int],
        start_s: int | None = None,
        rest_after: int | None = None,
        network: Network | None = None,
    ) -> RouteSlack:
        """Precompute a route from its stored legs: ``legs[i]`` reaches stop i from the node
        before it, ``legs[-1]`` returns to the depot. No travel is priced here: O(stops)."""
        if len(legs) != len(stops) + 1:
            raise ValueError("a route needs one leg per stop plus the way back to the depot")
        rest = courier.rest
        if rest is not None and rest_after is None:
            rest_after = len(stops) - 1
        if rest is None:
            rest_after = None
        clock = courier.free_from_s if start_s is None else max(start_s, courier.free_from_s)
        points, node_legs = [start], []
        depart, early, late, service, is_rest = [clock], [0], [_NO_LIMIT], [0], [False]

        def add_rest() -> None:
            nonlocal clock
            assert rest is not None
            begin = max(clock, rest.earliest_s)
            clock = begin + rest.duration_s
            points.append(points[-1])
            node_legs.append(0)
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
        # The courier is already at a stop in progress: its leg is behind them, so a break
        # planned before it must not be charged that leg on the backward pass either.
        behind = -1
        for i, stop in enumerate(stops):
            in_progress = i == 0 and stop.status is StopStatus.IN_PROGRESS
            if in_progress:
                behind = len(node_legs)
            arrival = clock if in_progress else clock + legs[i]
            begin = arrival if in_progress else max(arrival, stop.earliest_s)
            clock = begin + stop.service_s
            points.append(stop.location)
            node_legs.append(legs[i])
            depart.append(clock)
            early.append(0 if in_progress else stop.earliest_s)
            late.append(_NO_LIMIT if in_progress else stop.latest_s)
            service.append(stop.service_s)
            is_rest.append(False)
            if rest_after == i:
                add_rest()
        points.append(depot)
        node_legs.append(legs[-1])
        depart.append(clock + legs[-1])
        late.append(courier.shift_end_s)
        service.append(0)
        is_rest.append(False)

        latest = [0] * len(points)
        latest[-1] = courier.shift_end_s
        for k in range(len(points) - 2, -1, -1):
            leg = 0 if k == behind else node_legs[k]
            latest[k] = min(late[k], latest[k + 1] - leg - service[k])
        starts = [d - s for d, s in zip(depart, service, strict=True)]
        starts[-1] = depart[-1]
        feasible = all(s <= lim for s, lim in zip(starts[1:], latest[1:], strict=True))
        stops_upto = [0] * len(points)
        for k in range(1, len(points)):
            stops_upto[k] = stops_upto[k - 1] + (0 if is_rest[k] else 1)
        return cls(
            network=network,
            courier=courier,
            stop_count=len(stops),
            points=points,
            legs=node_legs,
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

    def reach_by_network(self, u: Location, lo: int, hi: int) -> tuple[list[int], list[int]]:
        """Candidate travel read from the slack's own network (it must contain ``u``)."""
        if self.network is None:
            raise ValueError("this slack has no network; pass reach= to best_insertion")
        rows, index = self.network.duration_rows(), self.network.index
        ui = index[u]
        points = self.points[lo : hi + 1]
        return [rows[index[p]][ui] for p in points], [rows[ui][index[p]] for p in points]


def best_insertion(
    slack: RouteSlack, candidate: Stop, reach: Reach | None = None
) -> Insertion | None:
    """The cheapest feasible place for `candidate` in the route, or None if there is none.

    Every booked stop stays inside its window, the break inside its window, the return
    before shift end, and the load within capacity. Candidate travel comes from ``reach``,
    else from the slack's network (build it with `Network.of(problem, extra=[location])`).
    Only the gaps the window can reach are looked at: O(log n + gaps in reach).
    """
    courier = slack.courier
    if not slack.feasible:
        return None
    if slack.weight_g + candidate.weight_g > courier.capacity_weight_g:
        return None
    if slack.volume_cm3 + candidate.volume_cm3 > courier.capacity_volume_cm3:
        return None
    depart, latest, is_rest, legs = slack.depart, slack.latest_start, slack.is_rest, slack.legs
    earliest_u, latest_u, service_u = candidate.earliest_s, candidate.latest_s, candidate.service_s
    first = is_rest.index(False, 1) if slack.fixed_head else 0
    # A gap k works only if the courier can leave node k before the window closes and node
    # k+1 can still be reached after serving the candidate at its earliest.
    lo = max(first, bisect_left(latest, earliest_u + service_u, 1) - 1)
    hi = min(len(depart) - 2, bisect_right(depart, latest_u) - 1)
    if lo > hi:
        return None
    upto = min(hi + 2, len(depart) - 1)
    to_u, from_u = (reach or slack.reach_by_network)(candidate.location, lo, upto)
    rest = courier.rest
    best: Insertion | None = None
    stops_upto = slack.stops_upto
    for k in range(lo, hi + 1):
        j = k - lo
        start_u = max(depart[k] + to_u[j], earliest_u)
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
            if rest_start + rest.duration_s + from_u[j + 2] > latest[k + 2]:
                continue
            extra = to_u[j] + from_u[j + 2] - legs[k + 1]
            rest_after = stops_upto[k]
        else:
            if leave_u + from_u[j + 1] > latest[k + 1]:
                continue
            extra = to_u[j] + from_u[j + 1] - legs[k]
            rest_after = _shifted_rest(slack.rest_after, stops_upto[k])
        if best is None or extra < best.extra_travel_s:
            best = Insertion(stops_upto[k], rest_after, extra)
    return best


def _shifted_rest(rest_after: int | None, position: int) -> int | None:
    """Break index once a stop is inserted at `position` after the break's own node."""
    if rest_after is None:
        return None
    return rest_after + 1 if position <= rest_after else rest_after
