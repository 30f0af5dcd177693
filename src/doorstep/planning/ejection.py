"""Making room for an unserved pickup: eject a neighbour or two, insert it, re-insert them.

A stop the search leaves unserved for its window ("time_window_unreachable") usually fails
plain insertion because every courier passing near it in its window is already full at that
hour: each gap it could go into would make a later stop (or the return) late. Moving one or
two of the stops served near it at that hour to another courier can open the gap. This is a
depth-one ejection chain: for each of the routes passing nearest the stop, each of its stops
served near it in space and time (alone, or two of them), take them out, insert the stop
where it costs the least, and re-insert each ejected stop in the cheapest place among the same
routes (the changed one included). A move is kept only if every ejected stop found a place,
so each kept move serves one more pickup and loses none; of the moves found for a stop the
one adding the least travel is kept. Every route a move changes is re-timed and checked with
`check_plan` against its own region's problem before it is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import combinations, pairwise

from doorstep.planning.exchange import RESCUABLE, Region, routes_nearest
from doorstep.planning.feasibility import check_plan
from doorstep.planning.insertion import Insertion, RouteSlack, best_insertion
from doorstep.planning.partition import km_between
from doorstep.planning.plan import Plan, Route, schedule_route
from doorstep.planning.problem import Courier, Network, PlanningProblem, Stop, StopStatus

NEAR_IN_TIME_S = 3600
"""Stops served up to this long before the unserved stop's window opens or after it closes
are candidates for ejection: removing a stop elsewhere in the day frees no time there."""


@dataclass
class _Line:
    """One courier's route as the repair sees it: its region, courier and stops in order."""

    region: int
    courier: Courier
    stops: list[Stop]
    start_s: int
    rest_after: int | None


@dataclass(frozen=True)
class _Move:
    """New stop sequences (with break positions) per courier, and the travel they add."""

    lines: dict[str, tuple[list[Stop], int | None]]
    extra_s: int


def make_room(
    regions: Sequence[Region],
    out_of_time: Callable[[], bool] = lambda: False,
    nearest: int = 12,
    victims: int = 4,
    pairs_of: int = 3,
    segment: int = 10,
) -> tuple[list[Region], int]:
    """Regions after each unserved stop (of a reason another courier may remedy) was given a
    place by moving one or two stops of the `nearest` routes passing closest to it, and how
    many stops were served that way.

    Per route, the `victims` stops served nearest the unserved one within an hour of its
    window are tried alone, and every two of the `pairs_of` nearest together. `out_of_time`
    is asked before each stop and each route; when it says so the regions found so far are
    returned (every kept move is complete and checked)."""
    out = list(regions)
    served = 0
    todo = [
        (k, item.stop_id)
        for k, region in enumerate(out)
        for item in region.plan.unserved
        if item.reason in RESCUABLE
    ]
    # A move changes the routes near the stops still waiting, so a stop that found no room
    # is tried again after another found some.
    while todo and not out_of_time():
        waiting = []
        for k, stop_id in todo:
            if out_of_time():
                return out, served
            stop = next(s for s in out[k].problem.stops if s.id == stop_id)
            lines = _lines_near(out, stop, nearest)
            move = _best_move(out, k, stop, lines, victims, pairs_of, segment, out_of_time)
            applied = None if move is None else _apply(out, k, stop, lines, move)
            if applied is None:
                waiting.append((k, stop_id))
            else:
                out = applied
                served += 1
        if len(waiting) == len(todo):
            break
        todo = waiting
    return out, served


def _lines_near(regions: Sequence[Region], stop: Stop, count: int) -> list[_Line]:
    """The `count` routes of the whole city passing nearest `stop` that may take it."""
    lines = []
    for j, route in routes_nearest(regions, stop.location):
        region = regions[j]
        courier = next(c for c in region.problem.couriers if c.id == route.courier_id)
        if stop.courier_id not in (None, courier.id):
            continue
        by_id = {s.id: s for s in region.problem.stops}
        stops = [by_id[i] for i in route.stop_ids]
        lines.append(_Line(j, courier, stops, route.start_s, route.rest_after))
        if len(lines) == count:
            break
    return lines


def _local_problem(
    regions: Sequence[Region], home: int, lines: Sequence[_Line], stop: Stop
) -> PlanningProblem:
    """One problem over the lines' couriers and stops and `stop`, priced like `home`."""
    base = regions[home].problem
    depots = {d.id: d for line in lines for d in regions[line.region].problem.depots}
    return replace(
        base,
        depots=list(depots.values()),
        couriers=[line.courier for line in lines],
        stops=[s for line in lines for s in line.stops] + [stop],
        depart_second=base.price_second(),
    )


def _movable(stop: Stop, index: int, courier: Courier) -> bool:
    """Whether a served stop may leave its route: not pinned to its courier, not in progress
    and not the courier's required first stop."""
    if stop.courier_id is not None or stop.status is not StopStatus.PENDING:
        return False
    return not (index == 0 and courier.first_stop_id == stop.id)


def _without(line: _Line, drop: Sequence[int]) -> tuple[list[Stop], int | None]:
    """The line's stops without the indices `drop`, and where its break then sits."""
    gone = set(drop)
    stops = [s for i, s in enumerate(line.stops) if i not in gone]
    rest = line.rest_after
    if rest is not None and rest >= 0:
        rest -= sum(1 for i in gone if i <= rest)
        rest = max(rest, -1) if stops else None
    return stops, rest


def _best_move(
    regions: Sequence[Region],
    home: int,
    stop: Stop,
    lines: list[_Line],
    victims: int,
    pairs_of: int,
    segment: int,
    out_of_time: Callable[[], bool],
) -> _Move | None:
    """The cheapest complete ejection move that serves `stop`, if any."""
    if not lines:
        return None
    problem = _local_problem(regions, home, lines, stop)
    network = Network.of(problem)

    def slack(line: _Line, stops: list[Stop], rest: int | None) -> RouteSlack:
        return RouteSlack.of(problem, network, line.courier, stops, line.start_s, rest)

    def travel(line: _Line, stops: list[Stop]) -> int:
        depot = problem.depot(line.courier.depot_id).location
        chain = [line.courier.start_location or depot, *(s.location for s in stops), depot]
        return sum(network.seconds(a, b) for a, b in pairwise(chain))

    base = [slack(line, line.stops, line.rest_after) for line in lines]
    # Whether an ejected stop fits any other line as it stands: most tries fail on a stop
    # that fits nowhere, and this is asked again for the same stop by many tries.
    fits: dict[tuple[int, str], bool] = {}

    def fits_elsewhere(n: int, ejected: Stop) -> bool:
        key = (n, ejected.id)
        if key not in fits:
            fits[key] = _cheapest(base, ejected, n) is not None
        return fits[key]

    best: _Move | None = None
    for n, line in enumerate(lines):
        if out_of_time():
            break
        near = _near_in_time(line, base[n], stop)
        tries = _openings(line, base[n], near, stop, network, slack, victims, pairs_of, segment)
        for drop, stops, rest in tries:
            own: RouteSlack | None = None
            if not all(fits_elsewhere(n, line.stops[i]) for i in drop):
                # Back into its own line, later in the day, is the one place left.
                own = slack(line, stops, rest)
                if not all(
                    fits_elsewhere(n, line.stops[i]) or best_insertion(own, line.stops[i])
                    for i in drop
                ):
                    continue
            state = {m: (other.stops, other.rest_after) for m, other in enumerate(lines)}
            slacks = list(base)
            state[n] = (stops, rest)
            placed = True
            # The ejected stops go to other lines first: back into their own line they
            # would mostly take the room just made.
            for i in drop:
                ejected = line.stops[i]
                where = _cheapest(slacks, ejected, n)
                if where is None:
                    own = own or slack(line, *state[n])
                    spot = best_insertion(own, ejected)
                    where = None if spot is None else (n, spot)
                if where is None:
                    placed = False
                    break
                m, spot = where
                seq = list(state[m][0])
                seq.insert(spot.position, ejected)
                state[m] = (seq, _rest_after(lines[m].courier, spot.rest_after, len(seq)))
                slacks[m] = slack(lines[m], *state[m])
                if m == n:
                    own = slacks[m]
            if not placed:
                continue
            extra = sum(
                travel(lines[m], state[m][0]) - sum(base[m].legs)
                for m in range(len(lines))
                if state[m][0] is not lines[m].stops
            )
            if best is None or extra < best.extra_s:
                changed = {
                    lines[m].courier.id: state[m]
                    for m in range(len(lines))
                    if state[m][0] is not lines[m].stops
                }
                best = _Move(changed, extra)
    return best


def _near_in_time(line: _Line, base: RouteSlack, stop: Stop) -> list[int]:
    """Indices of the line's movable stops served within `NEAR_IN_TIME_S` of `stop`'s
    window, nearest to it first."""
    starts = [d - s.service_s for d, s in zip(_stop_departures(base), line.stops, strict=True)]
    return sorted(
        (
            i
            for i, s in enumerate(line.stops)
            if _movable(s, i, line.courier)
            and stop.earliest_s - NEAR_IN_TIME_S <= starts[i] <= stop.latest_s + NEAR_IN_TIME_S
        ),
        key=lambda i: km_between(line.stops[i].location, stop.location),
    )


def _stop_departures(slack: RouteSlack) -> list[int]:
    """When the courier leaves each stop (the break's node left out)."""
    return [slack.depart[k] for k in range(1, len(slack.depart) - 1) if not slack.is_rest[k]]


def _openings(
    line: _Line,
    base: RouteSlack,
    near: list[int],
    stop: Stop,
    network: Network,
    slack: Callable[[_Line, list[Stop], int | None], RouteSlack],
    victims: int,
    pairs_of: int,
    segment: int,
) -> Iterator[tuple[tuple[int, ...], list[Stop], int | None]]:
    """Ways to take stops out of the line so that `stop` fits: the indices taken out, and
    the line's new stops (with `stop`) and break position.

    One stop (of the `victims` nearest) or two (of the `pairs_of` nearest) taken out anywhere
    near its hour, the route re-timed and `stop` put where it costs least; then runs of 1 to
    `segment` consecutive stops replaced by `stop` where they were: a stop far from every
    route at its hour needs a courier to give up a run of stops to make the detour."""
    for drop in [(i,) for i in near[:victims]] + list(combinations(near[:pairs_of], 2)):
        stops, rest = _without(line, drop)
        place = best_insertion(slack(line, stops, rest), stop)
        if place is not None:
            stops.insert(place.position, stop)
            yield drop, stops, _rest_after(line.courier, place.rest_after, len(stops))
    if line.courier.rest is not None:
        return  # the break's node sits among the stops; the runs below assume it does not
    movable = set(near)
    load_g = base.weight_g + stop.weight_g
    load_cm3 = base.volume_cm3 + stop.volume_cm3
    for length in range(1, segment + 1):
        for i in sorted(movable):
            run = range(i, i + length)
            if not movable.issuperset(run):
                continue
            # Nodes: 0 the start, stop k at k + 1, the depot last. Before the run and after
            # it the route is as it was, so the slack's times hold there exactly.
            before, after = i, i + length + 1
            begin = max(
                base.depart[before] + network.seconds(base.points[before], stop.location),
                stop.earliest_s,
            )
            if begin > stop.latest_s:
                continue
            reach = network.seconds(stop.location, base.points[after])
            if begin + stop.service_s + reach > base.latest_start[after]:
                continue
            out = line.stops[i : i + length]
            if load_g - sum(s.weight_g for s in out) > line.courier.capacity_weight_g:
                continue
            if load_cm3 - sum(s.volume_cm3 for s in out) > line.courier.capacity_volume_cm3:
                continue
            yield tuple(run), [*line.stops[:i], stop, *line.stops[i + length :]], None


def _rest_after(courier: Courier, rest_after: int | None, length: int) -> int | None:
    """Where the break sits after an insertion (at the end when the insertion did not say)."""
    if courier.rest is None:
        return None
    return length - 1 if rest_after is None else rest_after


def _cheapest(slacks: Sequence[RouteSlack], stop: Stop, skip: int) -> tuple[int, Insertion] | None:
    """The line (other than `skip`) and insertion that take `stop` at the least extra
    travel, if any."""
    best: tuple[int, Insertion] | None = None
    for m, s in enumerate(slacks):
        if m == skip:
            continue
        place = best_insertion(s, stop)
        if place is not None and (best is None or place.extra_travel_s < best[1].extra_travel_s):
            best = (m, place)
    return best


def _apply(
    regions: Sequence[Region], home: int, stop: Stop, lines: Sequence[_Line], move: _Move
) -> list[Region] | None:
    """Regions with the move's routes re-timed in place of the old ones and the stops moved
    to the regions of the couriers now serving them; None if a re-timed route fails
    `check_plan` against its own region's problem (then nothing changes)."""
    out = list(regions)
    line_of = {line.courier.id: line for line in lines}
    stop_home: dict[str, int] = {stop.id: home}
    for line in lines:
        for s in line.stops:
            stop_home[s.id] = line.region
    routes: dict[str, Route] = {}
    for courier_id, (stops, rest) in move.lines.items():
        line = line_of[courier_id]
        own = regions[line.region].problem
        alone = replace(own, couriers=[line.courier], stops=stops, depart_second=own.price_second())
        route = schedule_route(alone, Network.of(alone), line.courier, stops, line.start_s, rest)
        if check_plan(alone, Plan((route,), ())):
            return None
        routes[courier_id] = route
    arriving: dict[int, list[Stop]] = {}
    leaving: dict[int, set[str]] = {}
    for courier_id, (stops, _) in move.lines.items():
        to = line_of[courier_id].region
        for s in stops:
            if stop_home[s.id] != to:
                arriving.setdefault(to, []).append(s)
                leaving.setdefault(stop_home[s.id], set()).add(s.id)
    for k, region in enumerate(out):
        plan = region.plan
        if k == home:
            plan = replace(plan, unserved=tuple(u for u in plan.unserved if u.stop_id != stop.id))
        plan = replace(plan, routes=tuple(routes.get(r.courier_id, r) for r in plan.routes))
        gone = leaving.get(k, set())
        stops = [s for s in region.problem.stops if s.id not in gone] + arriving.get(k, [])
        out[k] = Region(replace(region.problem, stops=stops), plan)
    return out
