"""The routing problem: depots, couriers, pickup stops and how travel is priced.

Times are integer seconds since the start of the planning day; the service layer converts
aware datetimes. Weights are grams and volumes cubic centimetres, so capacities stay exact.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from doorstep.planning.timed import bucketed_matrix
from doorstep.planning.travel import Location, TravelMatrix, TravelTimes


def _check_non_negative(owner: str, **values: int) -> None:
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{owner}: {name} must be >= 0, got {value}")


@dataclass(frozen=True)
class Depot:
    """A courier station (网点): where routes start and where picked-up parcels go."""

    id: str
    location: Location


@dataclass(frozen=True)
class Break:
    """A rest of `duration_s` taken wholly inside [earliest_s, latest_s], wherever the courier is."""

    earliest_s: int
    latest_s: int
    duration_s: int

    def __post_init__(self) -> None:
        _check_non_negative("Break", earliest_s=self.earliest_s, duration_s=self.duration_s)
        if self.earliest_s + self.duration_s > self.latest_s:
            raise ValueError(
                f"Break: duration {self.duration_s}s does not fit in "
                f"[{self.earliest_s}, {self.latest_s}]"
            )

    @property
    def latest_start_s(self) -> int:
        """Last second at which the break may begin."""
        return self.latest_s - self.duration_s


@dataclass(frozen=True)
class Courier:
    """A courier (快递员) with a shift, a home depot and vehicle capacity.

    For re-planning, `start_location`/`available_from_s` say where and when the courier is next
    free (default: the depot at shift start) and `first_stop_id` pins the stop they must do first.
    """

    id: str
    depot_id: str
    shift_start_s: int
    shift_end_s: int
    capacity_weight_g: int
    capacity_volume_cm3: int
    rest: Break | None = None
    start_location: Location | None = None
    available_from_s: int | None = None
    first_stop_id: str | None = None

    def __post_init__(self) -> None:
        _check_non_negative(
            f"Courier {self.id}",
            shift_start_s=self.shift_start_s,
            capacity_weight_g=self.capacity_weight_g,
            capacity_volume_cm3=self.capacity_volume_cm3,
        )
        if self.shift_end_s < self.shift_start_s:
            raise ValueError(f"Courier {self.id}: shift ends before it starts")
        if self.rest is not None and not (
            self.shift_start_s <= self.rest.earliest_s and self.rest.latest_s <= self.shift_end_s
        ):
            raise ValueError(f"Courier {self.id}: break window must lie inside the shift")
        if self.available_from_s is not None and self.available_from_s > self.shift_end_s:
            raise ValueError(f"Courier {self.id}: available_from_s is after the shift ends")

    @property
    def free_from_s(self) -> int:
        """When the courier can leave their start location."""
        if self.available_from_s is None:
            return self.shift_start_s
        return max(self.shift_start_s, self.available_from_s)


class StopStatus(enum.StrEnum):
    """Where a stop stands in the day; only `pending` stops are open to the optimiser."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"


@dataclass(frozen=True)
class Stop:
    """A pickup at a door: service must start inside [earliest_s, latest_s]."""

    id: str
    location: Location
    earliest_s: int
    latest_s: int
    service_s: int = 0
    weight_g: int = 0
    volume_cm3: int = 0
    courier_id: str | None = None
    status: StopStatus = StopStatus.PENDING

    def __post_init__(self) -> None:
        _check_non_negative(
            f"Stop {self.id}",
            earliest_s=self.earliest_s,
            service_s=self.service_s,
            weight_g=self.weight_g,
            volume_cm3=self.volume_cm3,
        )
        if self.latest_s < self.earliest_s:
            raise ValueError(f"Stop {self.id}: time window ends before it starts")
        if self.status is StopStatus.IN_PROGRESS and self.courier_id is None:
            raise ValueError(f"Stop {self.id}: an in-progress stop needs its courier_id")


@dataclass(frozen=True)
class PlanningProblem:
    """Everything one planning run needs. `depart_second` is when travel is priced.

    Travel times do not vary inside one run (the solver is not time-dependent); by default they
    are priced at the earliest shift start. With `timed`, each leg is priced at the slowest
    hour it can be driven in, from the window of the stop it leads to (`planning.timed`).
    """

    depots: Sequence[Depot]
    couriers: Sequence[Courier]
    stops: Sequence[Stop]
    travel: TravelTimes
    depart_second: int | None = None
    timed: bool = False

    def __post_init__(self) -> None:
        for kind, items in (
            ("depot", self.depots),
            ("courier", self.couriers),
            ("stop", self.stops),
        ):
            ids = [item.id for item in items]
            if len(set(ids)) != len(ids):
                raise ValueError(f"duplicate {kind} ids")
        depot_ids = {d.id for d in self.depots}
        stops = {s.id: s for s in self.stops}
        couriers = {c.id for c in self.couriers}
        for courier in self.couriers:
            if courier.depot_id not in depot_ids:
                raise ValueError(f"Courier {courier.id}: unknown depot {courier.depot_id}")
            pinned = stops.get(courier.first_stop_id) if courier.first_stop_id else None
            if courier.first_stop_id is not None and (
                pinned is None or pinned.status is StopStatus.DONE
            ):
                raise ValueError(f"Courier {courier.id}: first_stop_id is not an open stop")
            if pinned is not None and pinned.courier_id not in (None, courier.id):
                raise ValueError(f"Courier {courier.id}: first stop is fixed to another courier")
        in_progress: set[str] = set()
        for stop in self.stops:
            if stop.courier_id is not None and stop.courier_id not in couriers:
                raise ValueError(f"Stop {stop.id}: unknown courier {stop.courier_id}")
            if stop.status is StopStatus.IN_PROGRESS:
                assert stop.courier_id is not None
                if stop.courier_id in in_progress:
                    raise ValueError(f"Courier {stop.courier_id}: two stops in progress")
                in_progress.add(stop.courier_id)
        if self.depart_second is not None and self.depart_second < 0:
            raise ValueError("depart_second must be >= 0")

    def depot(self, depot_id: str) -> Depot:
        """The depot with this id."""
        return next(d for d in self.depots if d.id == depot_id)

    def price_second(self) -> int:
        """The departure second travel is priced at."""
        if self.depart_second is not None:
            return self.depart_second
        return min((c.shift_start_s for c in self.couriers), default=0)


@dataclass(frozen=True, eq=False)
class Network:
    """Travel matrix over every location of a problem, indexed once per run."""

    locations: list[Location]
    index: dict[Location, int]
    matrix: TravelMatrix
    _durations: list[list[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Python lists make the per-arc lookups of simulation several times faster than numpy.
        object.__setattr__(self, "_durations", self.matrix.durations.tolist())

    @classmethod
    def of(cls, problem: PlanningProblem, extra: Sequence[Location] = ()) -> Network:
        """Price every location of `problem` (plus `extra`) at its departure second; a timed
        problem prices each leg by the hours it may be driven in."""
        index: dict[Location, int] = {}
        wanted = [d.location for d in problem.depots]
        wanted += [c.start_location for c in problem.couriers if c.start_location is not None]
        wanted += [s.location for s in problem.stops]
        wanted += list(extra)
        for loc in wanted:
            index.setdefault(loc, len(index))
        locations = list(index)
        if problem.timed:
            return cls(locations, index, _timed_matrix(problem, locations))
        return cls(locations, index, problem.travel.matrix(locations, problem.price_second()))

    def seconds(self, a: Location, b: Location) -> int:
        """Travel seconds from `a` to `b`."""
        return self._durations[self.index[a]][self.index[b]]

    def distance(self, a: Location, b: Location) -> int:
        """Travel distance from `a` to `b`."""
        return int(self.matrix.distances[self.index[a], self.index[b]])

    def duration_rows(self) -> list[list[int]]:
        """The duration matrix as nested lists (fast scalar access)."""
        return self._durations

    def max_duration(self) -> int:
        """Longest single arc; an upper bound used to keep conservative models feasible."""
        return int(np.max(self.matrix.durations)) if self.locations else 0


def _timed_matrix(problem: PlanningProblem, locations: list[Location]) -> TravelMatrix:
    spans: dict[Location, tuple[int, int] | None] = dict.fromkeys(locations)
    stop_at: dict[Location, list[Stop]] = {}
    for stop in problem.stops:
        stop_at.setdefault(stop.location, []).append(stop)
    others = {d.location for d in problem.depots} | {
        c.start_location for c in problem.couriers if c.start_location is not None
    }
    for loc, stops in stop_at.items():
        if loc not in others:  # a depot shared with a stop keeps the whole day's price
            spans[loc] = (min(s.earliest_s for s in stops), max(s.latest_s for s in stops))
    return bucketed_matrix(problem.travel, locations, [spans[loc] for loc in locations])
