"""A courier's route for one day: the aggregate that bookings contend on.

One record per courier and day holds what planning and slot offering need about each stop
(where, the window, time at the door, load, and the travel from the stop before), in the
order the courier drives it. Booking inserts one stop under this record's lock and touches no
other appointment; ETAs and positions are read from here. Times are seconds into the day
(Asia/Shanghai), so the record is the planner's view, not the buyer's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.errors import Conflict
from doorstep.domain.events import Event, EventRecorder


class StopState(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"  # the courier is at the door
    DONE = "done"  # picked up or failed: nothing left to do there today


@dataclass(frozen=True)
class RouteStop:
    """One visit on a route; ``leg_s`` is the drive from the node before it."""

    appointment_id: str
    lat: float
    lon: float
    earliest_s: int
    latest_s: int
    service_s: int
    weight_g: int
    volume_cm3: int
    leg_s: int
    state: StopState = StopState.PENDING
    done_s: int | None = None

    @property
    def location(self) -> tuple[float, float]:
        return (self.lat, self.lon)


def route_id(courier_id: str, day: date) -> str:
    """The key of a courier's route on a day."""
    return f"{courier_id}:{day.isoformat()}"


def second_of_day(day: date, moment: datetime) -> int:
    """Seconds since local midnight of ``day`` (never negative)."""
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return max(0, int((moment - start).total_seconds()))


@dataclass
class CourierRoute(EventRecorder):
    """The stops of one courier on one day, done ones first, then the rest in driving order."""

    courier_id: str
    carrier_id: str
    day: date
    stops: list[RouteStop] = field(default_factory=list)
    return_leg_s: int = 0  # from the last stop (or the start) back to the depot
    version: int = 0

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)

    @property
    def route_id(self) -> str:
        return route_id(self.courier_id, self.day)

    @property
    def done(self) -> list[RouteStop]:
        return [s for s in self.stops if s.state is StopState.DONE]

    @property
    def open(self) -> list[RouteStop]:
        """Stops still to serve, in driving order (one at the door comes first)."""
        return [s for s in self.stops if s.state is not StopState.DONE]

    @property
    def legs(self) -> list[int]:
        """Travel to each open stop from the node before it, then back to the depot."""
        return [s.leg_s for s in self.open] + [self.return_leg_s]

    def index_of(self, appointment_id: str) -> int | None:
        return next(
            (i for i, s in enumerate(self.stops) if s.appointment_id == appointment_id), None
        )

    def copy(self) -> CourierRoute:
        """An independent copy to change (cached routes are shared between requests)."""
        return CourierRoute(
            self.courier_id,
            self.carrier_id,
            self.day,
            list(self.stops),
            self.return_leg_s,
            self.version,
        )

    def _event(self, name: str, at: datetime, **data: object) -> None:
        self.record(Event(f"route.{name}", "route", self.route_id, at, dict(data)))

    def insert(self, position: int, stop: RouteStop, next_leg_s: int, at: datetime) -> None:
        """Put a stop ``position``-th among the open stops; ``next_leg_s`` is the drive from
        it to what follows (the next stop or the depot)."""
        if self.index_of(stop.appointment_id) is not None:
            raise Conflict(
                "already_on_route", "That visit is already on a route.", "该上门任务已在路线上。"
            )
        at_index = len(self.done) + position
        if not 0 <= position <= len(self.open):
            raise ValueError("insert position outside the route")
        self.stops.insert(at_index, stop)
        self._relink(at_index + 1, next_leg_s)
        self._event("stop_inserted", at, appointment_id=stop.appointment_id, position=position)

    def remove(self, appointment_id: str, bridge_leg_s: int, at: datetime) -> RouteStop | None:
        """Take a stop off; ``bridge_leg_s`` is the drive that now replaces the two legs
        around it. Returns the stop, or None when it was not on this route."""
        index = self.index_of(appointment_id)
        if index is None:
            return None
        stop = self.stops.pop(index)
        self._relink(index, bridge_leg_s)
        self._event("stop_removed", at, appointment_id=appointment_id)
        return stop

    def neighbours(self, appointment_id: str) -> tuple[int | None, int | None]:
        """Indexes of the stops before and after one (None: the start or the depot)."""
        index = self.index_of(appointment_id)
        if index is None:
            raise ValueError("not on this route")
        before = index - 1 if index > 0 else None
        after = index + 1 if index + 1 < len(self.stops) else None
        return before, after

    def set_state(
        self, appointment_id: str, state: StopState, at: datetime, done_s: int | None = None
    ) -> None:
        """The courier reached or finished a door. Order changes only through ``reorder``."""
        index = self.index_of(appointment_id)
        if index is None:
            return
        self.stops[index] = replace(self.stops[index], state=state, done_s=done_s)
        self._event("stop_updated", at, appointment_id=appointment_id, state=state.value)

    def resize(self, stop: RouteStop, at: datetime) -> None:
        """Another return joined a visit: more time at the door and more to carry."""
        index = self.index_of(stop.appointment_id)
        if index is None:
            return
        old = self.stops[index]
        self.stops[index] = replace(
            old, service_s=stop.service_s, weight_g=stop.weight_g, volume_cm3=stop.volume_cm3
        )
        self._event("stop_resized", at, appointment_id=stop.appointment_id)

    def reorder(self, stops: list[RouteStop], return_leg_s: int, at: datetime, why: str) -> None:
        """Replace the order and legs wholesale (re-plan, or a door served out of order)."""
        self.stops = list(stops)
        self.return_leg_s = return_leg_s
        self._event(
            "replanned", at, why=why, appointment_ids=[s.appointment_id for s in self.stops]
        )

    def eta_of(self, appointment_id: str, free_from_s: int) -> datetime | None:
        """When service should begin at a stop if the courier drives the route as stored."""
        clock = free_from_s
        done = self.done
        if done and done[-1].done_s is not None:
            clock = max(clock, done[-1].done_s)
        for i, stop in enumerate(self.open):
            if i == 0 and stop.state is StopState.IN_PROGRESS:
                begin = clock
            else:
                begin = max(clock + stop.leg_s, stop.earliest_s)
            if stop.appointment_id == appointment_id:
                start = datetime.combine(self.day, time.min, tzinfo=SHANGHAI)
                return start + timedelta(seconds=begin)
            clock = begin + stop.service_s
        return None

    def _relink(self, index: int, leg_s: int) -> None:
        if index < len(self.stops):
            self.stops[index] = replace(self.stops[index], leg_s=leg_s)
        else:
            self.return_leg_s = leg_s
