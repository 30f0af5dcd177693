"""What a planning run returns: ordered routes with ETAs, and the stops it could not serve."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from doorstep.planning.problem import Courier, Network, PlanningProblem, Stop, StopStatus


class UnservedReason(enum.StrEnum):
    """Why a pickup is not in any route; stable codes the service layer can map to text.

    `capacity`: no courier who may take it has (or has left) room for it. `outside_shift`: its
    window misses every shift. `time_window_unreachable`: no courier can be there in time, alone
    or given the other stops. `solver_dropped`: a place existed but the search did not use it.
    """

    OUTSIDE_SHIFT = "outside_shift"
    CAPACITY = "capacity"
    TIME_WINDOW_UNREACHABLE = "time_window_unreachable"
    SOLVER_DROPPED = "solver_dropped"


@dataclass(frozen=True)
class Visit:
    """One stop on a route: arrival (ETA), start of service and departure, in seconds."""

    stop_id: str
    arrival_s: int
    start_s: int
    departure_s: int


@dataclass(frozen=True)
class Route:
    """One courier's day: stops in order, leaving `start_s`, back at the depot at `end_s`.

    `rest_after` is the index of the visit after which the break is taken (-1: before the first
    stop, at the start location); None when the courier has no break.
    """

    courier_id: str
    visits: tuple[Visit, ...]
    start_s: int
    end_s: int
    distance: int
    rest_after: int | None = None
    rest_start_s: int | None = None

    @property
    def stop_ids(self) -> tuple[str, ...]:
        """Stop ids in visiting order."""
        return tuple(v.stop_id for v in self.visits)

    @property
    def duration_s(self) -> int:
        """Seconds from leaving the start location to arriving back at the depot."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Unserved:
    """A pickup left out of the plan, with the reason code."""

    stop_id: str
    reason: UnservedReason


@dataclass(frozen=True)
class Plan:
    """Routes per courier (only couriers with stops), the unserved stops and the totals."""

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]

    @property
    def distance(self) -> int:
        """Total travel distance over all routes."""
        return sum(r.distance for r in self.routes)

    @property
    def duration_s(self) -> int:
        """Total route time (travel, waiting, service, breaks) over all routes."""
        return sum(r.duration_s for r in self.routes)

    def route_of(self, courier_id: str) -> Route | None:
        """The route of this courier, if any."""
        return next((r for r in self.routes if r.courier_id == courier_id), None)


def schedule_route(
    problem: PlanningProblem,
    network: Network,
    courier: Courier,
    stops: Sequence[Stop],
    start_s: int,
    rest_after: int | None,
) -> Route:
    """Times a route: wait at early stops, take the break as soon as allowed after `rest_after`.

    An in-progress first stop starts the moment the courier is free (they are at the door).
    """
    depot = problem.depot(courier.depot_id).location
    here = courier.start_location or depot
    clock = max(start_s, courier.free_from_s)
    leave = clock
    distance = 0
    rest_start: int | None = None
    visits: list[Visit] = []
    if courier.rest is not None and rest_after == -1:
        rest_start = max(clock, courier.rest.earliest_s)
        clock = rest_start + courier.rest.duration_s
    for i, stop in enumerate(stops):
        if i == 0 and stop.status is StopStatus.IN_PROGRESS:
            arrival = start = clock
        else:
            arrival = clock + network.seconds(here, stop.location)
            start = max(arrival, stop.earliest_s)
        distance += network.distance(here, stop.location)
        here = stop.location
        clock = start + stop.service_s
        visits.append(Visit(stop.id, arrival, start, clock))
        if courier.rest is not None and rest_after == i:
            rest_start = max(clock, courier.rest.earliest_s)
            clock = rest_start + courier.rest.duration_s
    end = clock + network.seconds(here, depot)
    distance += network.distance(here, depot)
    return Route(
        courier_id=courier.id,
        visits=tuple(visits),
        start_s=leave,
        end_s=end,
        distance=distance,
        rest_after=rest_after if courier.rest is not None else None,
        rest_start_s=rest_start,
    )
