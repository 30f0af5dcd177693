"""Visits on courier day-routes: where a booking goes, and what a route can still take.

The booking path reads a carrier-day's routes with one version query (documents only for
routes this process has not seen at that version), keeps each route's slack per version,
and changes exactly one route under its row lock. It never re-saves other appointments:
ETAs and positions are read from the route (``CourierRoute.eta_of``) or refreshed by the
background re-plan (``routing.plan_day``).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Protocol

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.errors import Conflict
from doorstep.domain.fleet import Courier as FleetCourier
from doorstep.domain.pickup import Appointment
from doorstep.domain.route import (
    CourierRoute,
    RouteStop,
    StopState,
    route_id,
    second_of_day,
)
from doorstep.planning import (
    Courier,
    Insertion,
    RouteSlack,
    Stop,
    StopStatus,
    best_insertion,
    left_for,
)
from doorstep.planning.insertion import Reach
from doorstep.planning.timed import (
    ChainStep,
    HourRows,
    Span,
    TimedTravel,
    chain_keeps,
    slack_of,
)
from doorstep.planning.travel import Location, TravelTimes
from doorstep.services.ports import UnitOfWork

# Door time: ringing, the inspection checklist and photos, labelling. Settings-grade guesses
# until scorecards measure it per carrier.
SERVICE_BASE_S = 180
SERVICE_PER_ITEM_S = 45
SERVICE_PER_RETURN_S = 120
# Without a time-bucketed port (``planning.timed.TimedTravel``) every leg is priced at one
# departure time. Pricing it at the evening peak makes every leg as slow as the slowest hour,
# so a window promised at noon is not broken by the 17:00 traffic: promises kept first,
# courier productivity second. With ``TimedTravel`` each leg costs the slowest hour it can be
# driven in instead (measured side by side in the simulator, docs/benchmarks.md).
PRICE_AT_S = 17 * 3600 + 1800
# Areas without a courier depot are served by the carrier's nearest depots; more than this
# many routes per window only costs time (a far courier's insertion is never the cheapest).
NEAREST_DEPOTS = 6
# A lost race for a route is retried inside the service this many times before the buyer
# hears about it (PostgreSQL only: SQLite serialises writers up front).
BOOKING_ATTEMPTS = 8


class Contention(Conflict):
    """A route changed between reading and locking it; the use case retries."""

    def __init__(self) -> None:
        super().__init__(
            "busy",
            "Many people are booking this window right now; please try again.",
            "该时段预约人数较多，请稍后重试。",
        )


def area_location(area: ServiceArea) -> tuple[float, float]:
    """Where an address without coordinates in this area is taken to be."""
    if area.lat is None or area.lon is None:
        raise ValueError(f"area {area.adcode} has no coordinates")
    return (area.lat, area.lon)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def at_second(day: date, second: int) -> datetime:
    return day_start(day) + timedelta(seconds=second)


def candidate_couriers(
    fleet: Sequence[FleetCourier], area: ServiceArea, carrier_id: str
) -> list[FleetCourier]:
    """The carrier's couriers who may take a visit here: those with a depot in the area
    first, then the nearest depots', at most ``NEAREST_DEPOTS`` (a far courier's insertion
    is never the cheapest, and each one costs a route check per window)."""
    own = [c for c in fleet if c.carrier_id == carrier_id]
    if area.lat is None or area.lon is None:
        return own
    lat, lon = area.lat, area.lon
    # Squared degrees with the longitude shrunk by latitude: ranking only, not travel time.
    shrink = math.cos(math.radians(lat))

    def rank(c: FleetCourier) -> tuple[bool, float, str]:
        far = (c.depot_lat - lat) ** 2 + ((c.depot_lon - lon) * shrink) ** 2
        return (c.depot_adcode != area.adcode, far, c.courier_id)

    return sorted(own, key=rank)[:NEAREST_DEPOTS]


def planner_courier(c: FleetCourier, day: date, route: CourierRoute | None) -> Courier:
    """The planner's view of a courier: shift, vehicle, and where they are free from."""
    start = second_of_day(day, datetime.combine(day, c.shift_start, tzinfo=SHANGHAI))
    end = second_of_day(day, datetime.combine(day, c.shift_end, tzinfo=SHANGHAI))
    courier = Courier(
        c.courier_id,
        f"depot:{c.courier_id}",
        start,
        end,
        c.capacity_weight_g,
        c.capacity_volume_cm3,
    )
    done = route.done if route is not None else []
    if done and done[-1].done_s is not None:
        free = min(done[-1].done_s, end)
        return Courier(
            courier.id,
            courier.depot_id,
            start,
            end,
            courier.capacity_weight_g,
            courier.capacity_volume_cm3,
            start_location=done[-1].location,
            available_from_s=free,
        )
    return courier


def moving(
    courier: Courier, route: CourierRoute, seen_s: int, leg_s: int | None = None
) -> tuple[Courier, int]:
    """``courier`` (``planner_courier``) as seen at ``seen_s``, and when the route is driven
    from (where they last were). With nothing marked since their last door and the leg to
    their next visit begun (``planning.left_for``, as the re-plan takes it), they are on the
    way there since they left: that moment, with the visit pinned first (nothing goes before
    a leg already driven). Otherwise free from ``seen_s`` or when done, whichever is later.
    ``leg_s``: that leg as the caller drives it (default: as stored on the route)."""
    free = max(courier.free_from_s, seen_s)
    stops = route.open
    if not stops or stops[0].state is not StopState.PENDING:
        return courier, free
    first = stops[0]
    depart = left_for(
        courier.free_from_s, first.leg_s if leg_s is None else leg_s, first.earliest_s, free
    )
    if depart >= free or depart > courier.shift_end_s:
        return courier, free
    return replace(courier, available_from_s=depart, first_stop_id=first.appointment_id), depart


def planner_stop(stop: RouteStop, courier_id: str | None = None) -> Stop:
    """A route stop as the planner sees it."""
    status = {
        StopState.PENDING: StopStatus.PENDING,
        StopState.IN_PROGRESS: StopStatus.IN_PROGRESS,
        StopState.DONE: StopStatus.DONE,
    }[stop.state]
    return Stop(
        stop.appointment_id,
        stop.location,
        stop.earliest_s,
        max(stop.latest_s, stop.earliest_s),
        stop.service_s,
        stop.weight_g,
        stop.volume_cm3,
        courier_id if status is not StopStatus.PENDING else None,
        status,
    )


def route_stop(uow: UnitOfWork, area: ServiceArea, appt: Appointment) -> RouteStop:
    """A visit as a route stop: where, when, how long at the door and how much it carries."""
    weight = volume = items = 0
    for return_id in appt.return_ids:
        request = uow.returns.get(return_id)
        if request is None:
            continue
        for line in request.lines:
            product = uow.products.get(line.sku)
            items += line.quantity
            if product is not None:
                weight += product.weight_g * line.quantity
                volume += product.dimensions.volume_cm3 * line.quantity
    lat, lon = appt.address.lat, appt.address.lon
    where = (lat, lon) if lat is not None and lon is not None else area_location(area)
    day = appt.slot.day
    return RouteStop(
        appt.appointment_id,
        where[0],
        where[1],
        second_of_day(day, appt.slot.starts_at),
        second_of_day(day, appt.slot.ends_at),
        SERVICE_BASE_S + SERVICE_PER_ITEM_S * items + SERVICE_PER_RETURN_S * len(appt.return_ids),
        weight,
        volume,
        0,
    )


def node_spans(slack: RouteSlack, stops: Sequence[RouteStop]) -> list[Span]:
    """The window of each node of a slack built from ``stops`` (start, depot and breaks:
    None), which is what a leg into that node is priced by."""
    spans: list[Span] = [None] * len(slack.points)
    windows = iter(stops)
    for k in range(1, len(slack.points) - 1):
        if not slack.is_rest[k]:
            spans[k] = span_of(next(windows))
    return spans


def reach_along(
    travel: TravelTimes, slack: RouteSlack, stops: Sequence[RouteStop] = ()
) -> Callable[[Span], Reach]:
    """Candidate travel to and from a route's nodes, priced like the stored legs: one
    vector per candidate location (and, for a timed port, per hour bucket it needs) for the
    whole route, sliced for each window. ``stops`` are the slack's open stops (their windows
    price the legs into them); give the result the candidate's window to get its ``Reach``."""
    if isinstance(travel, TimedTravel):
        spans = node_spans(slack, stops) if stops else [None] * len(slack.points)
        return travel.reach(slack.points, spans)
    memo: dict[Location, tuple[list[int], list[int]]] = {}

    def reach(u: Location, lo: int, hi: int) -> tuple[list[int], list[int]]:
        found = memo.get(u)
        if found is None:
            found = memo[u] = travel.between(u, slack.points, PRICE_AT_S)
        return found[0][lo : hi + 1], found[1][lo : hi + 1]

    return lambda _candidate: reach


def span_of(stop: RouteStop | None) -> Span:
    """The window a leg into ``stop`` is priced by (None: the depot, any hour)."""
    return None if stop is None else (stop.earliest_s, max(stop.latest_s, stop.earliest_s))


def leg(
    travel: TravelTimes, a: Location, b: Location, into: Span = None, leaving: Span = None
) -> int:
    """Seconds from ``a`` to ``b`` at the planning price (``into``: ``b``'s window,
    ``leaving``: ``a``'s)."""
    return legs_along(travel, [a, b], [into], leaving)[0]


def legs_along(
    travel: TravelTimes, points: Sequence[Location], into: Sequence[Span] = (), first: Span = None
) -> list[int]:
    """Consecutive drive times along ``points``; ``into[i]`` is the window of
    ``points[i + 1]`` and ``first`` that of ``points[0]`` (a timed port prices each leg by
    them; default: any hour, from a depot or wherever the courier is)."""
    if len(points) < 2:
        return []
    if isinstance(travel, TimedTravel):
        spans = list(into) or [None] * (len(points) - 1)
        return travel.legs(points, spans, first)
    durations = travel.matrix(list(points), PRICE_AT_S).durations
    return [int(durations[i, i + 1]) for i in range(len(points) - 1)]


def depot_of(c: FleetCourier) -> Location:
    return (c.depot_lat, c.depot_lon)


class RouteCache:
    """Decoded routes and their slack per version, shared by the requests of one process.

    Entries are immutable once cached (writers change a ``copy``), and a committed version
    identifies the content, so a stale entry is never used: the version query decides. A
    route the reading transaction has written itself (``RouteRepository.written``) is
    neither taken from nor kept in the cache: its version is nobody's until commit, and a
    rollback gives it to other content."""

    def __init__(self, max_routes: int = 4096) -> None:
        self.max_routes = max_routes
        self._routes: OrderedDict[str, CourierRoute] = OrderedDict()
        # By route version, start time and the planner's courier and depot: a fleet edit
        # (shift, vehicle) changes the slack without writing the route.
        self._slacks: OrderedDict[tuple[str, int, int, Courier, Location], RouteSlack] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def routes(
        self, uow: UnitOfWork, carrier_id: str, keys: Sequence[tuple[str, date]]
    ) -> dict[str, CourierRoute]:
        """The current route of each (courier, day): one query for versions, one for the
        documents this process has not seen at that version, none when all are known."""
        days = sorted({day for _, day in keys})
        versions = uow.routes.versions(carrier_id, days)
        written = uow.routes.written
        with self._lock:
            stale = [
                rid
                for rid, version in versions.items()
                if rid in written
                or (known := self._routes.get(rid)) is None
                or known.version != version
            ]
        fresh = uow.routes.get_many(stale) if stale else []
        own = {r.route_id: r for r in fresh if r.route_id in written}
        with self._lock:
            for route in fresh:
                if route.route_id not in own:
                    self._put(route)
            out = {}
            for courier_id, day in keys:
                rid = route_id(courier_id, day)
                known = own.get(rid) or self._routes.get(rid)
                if rid in versions and known is not None and known.version == versions[rid]:
                    out[rid] = known
                else:
                    out[rid] = CourierRoute(courier_id, carrier_id, day)
            return out

    def remember(self, route: CourierRoute) -> None:
        """Keep a route as just written (its new version) for the next request."""
        with self._lock:
            self._put(route.copy())

    def slack(
        self,
        route: CourierRoute,
        courier: Courier,
        depot: Location,
        start_s: int,
        *,
        keep: bool = True,
    ) -> RouteSlack:
        """The route's slack, computed once per version, start time (``start_s``: now,
        ``start_second``), courier and depot; a courier on the way to their next visit keeps
        it first (``moving``). ``keep=False`` for a route its reader has written (not
        committed): computed, never taken from nor put in the cache."""
        key = (route.route_id, route.version, start_s, courier, depot)
        if keep:
            with self._lock:
                found = self._slacks.get(key)
                if found is not None:
                    self._slacks.move_to_end(key)
                    return found
        start = courier.start_location or depot
        stops = [planner_stop(s, courier.id) for s in route.open]
        seen, free = moving(courier, route, start_s)
        slack = RouteSlack.along(seen, start, depot, stops, route.legs, free)
        if not keep:
            return slack
        with self._lock:
            self._slacks[key] = slack
            while len(self._slacks) > self.max_routes:
                self._slacks.popitem(last=False)
        return slack

    def snapshot(self) -> tuple[list[CourierRoute], list[tuple[str, int, RouteSlack]]]:
        """What is cached now: the routes, and each slack with its route id and version
        (for checks that every entry holds its version's stored content)."""
        with self._lock:
            routes = list(self._routes.values())
            slacks = [(rid, version, s) for (rid, version, *_), s in self._slacks.items()]
        return routes, slacks

    def _put(self, route: CourierRoute) -> None:
        self._routes[route.route_id] = route
        self._routes.move_to_end(route.route_id)
        while len(self._routes) > self.max_routes:
            self._routes.popitem(last=False)


def start_second(day: date, now: datetime) -> int:
    """When a route of ``day`` can start moving: now for today (in 5-minute steps, rounded
    up so the slack is never optimistic), else the start of the day."""
    second = second_of_day(day, now)
    return -(-second // 300) * 300 if second else 0


@dataclass(frozen=True)
class Option:
    """One way to take a visit: which courier's route, where, at what extra drive."""

    courier: FleetCourier
    route: CourierRoute
    insertion: Insertion

    @property
    def extra_s(self) -> int:
        return self.insertion.extra_travel_s


def seat_cost(option: Option, call_out_s: int = 0) -> int:
    """What taking ``option`` costs a booking: its extra driving, plus ``call_out_s`` when
    the courier's route has nothing on it that day (calling one out pays them a day)."""
    return option.extra_s + (0 if option.route.stops else call_out_s)


def cheapest(found: Sequence[Option], call_out_s: int = 0) -> Option:
    """The option a booking takes: the lowest ``seat_cost`` (ties to the courier id)."""
    return min(found, key=lambda o: (seat_cost(o, call_out_s), o.courier.courier_id))


# A courier who may take the visit, their route, its slack and its candidate pricing.
_Seat = tuple[FleetCourier, CourierRoute, RouteSlack, Callable[[Span], Reach]]


def options(
    cache: RouteCache,
    uow: UnitOfWork,
    travel: TravelTimes,
    couriers: Sequence[FleetCourier],
    carrier_id: str,
    days: Sequence[date],
    now: datetime,
) -> Callable[[date, Stop], list[Option]]:
    """Load the carrier's routes for ``days`` once; the returned function lists, cheapest
    first, the routes that can take a stop on a day with every promise still kept."""
    routes = cache.routes(uow, carrier_id, [(c.courier_id, d) for c in couriers for d in days])
    # Each courier-day's slack and pricing, once per call: every window of the day asks them.
    seated: dict[date, list[_Seat]] = {}
    chain = ChainCheck(travel, now)

    def day_of(day: date) -> list[_Seat]:
        found = seated.get(day)
        if found is None:
            start = start_second(day, now)
            found = seated[day] = []
            for c in couriers:
                route = routes[route_id(c.courier_id, day)]
                courier = planner_courier(c, day, route)
                keep = route.route_id not in uow.routes.written
                slack = cache.slack(route, courier, depot_of(c), start, keep=keep)
                found.append((c, route, slack, reach_along(travel, slack, route.open)))
        return found

    def on(day: date, stop: Stop) -> list[Option]:
        found = []
        window = (stop.earliest_s, stop.latest_s)
        for c, route, slack, pricing in day_of(day):
            insertion = best_insertion(slack, stop, pricing(window))
            if insertion is not None and chain.keeps(route, c, insertion.position, stop):
                found.append(Option(c, route, insertion))
        found.sort(key=lambda o: (o.extra_s, o.courier.courier_id))
        return found

    return on


class Visit(Protocol):
    """What the chain check needs of a stop (a route's or the planner's)."""

    @property
    def location(self) -> Location: ...
    @property
    def earliest_s(self) -> int: ...
    @property
    def latest_s(self) -> int: ...
    @property
    def service_s(self) -> int: ...


class ChainCheck:
    """Whether a route still keeps its promises with a visit inserted, once the delay a
    chain of legs gathers is priced (``planning.timed.TimedTravel.chain_slack``): the new
    visit must hold, and no visit may hold less than before unless it held with room to
    spare (``planning.timed.chain_keeps``). Always true without a chained timed port. One
    per request: each route's walk before the insertion is kept (the legs' hourly drive
    times in the port's ``shared_rows``, for every request), and a candidate's walk starts
    at its position and stops where the route settles back into its old times."""

    def __init__(self, travel: TravelTimes, now: datetime) -> None:
        self.timed = travel if isinstance(travel, TimedTravel) and travel.chained else None
        self.now = now
        self.rows: HourRows = self.timed.shared_rows() if self.timed is not None else {}
        self.before: dict[tuple[str, int], list[ChainStep]] = {}

    def keeps(self, route: CourierRoute, courier: FleetCourier, position: int, stop: Visit) -> bool:
        """True when ``stop`` at ``position`` among the open stops keeps the chain."""
        if self.timed is None:
            return True
        stops: list[Visit] = list(route.open)
        in_progress = bool(route.open) and route.open[0].state is StopState.IN_PROGRESS
        free, on_the_way = self._free_from(route, courier)
        if position == 0 and (in_progress or on_the_way):
            return False  # the door the courier is at, or driving to, stays first
        key = (route.route_id, route.version)
        steps = self.before.get(key)
        start = _start_of(route, courier)
        if steps is None:
            steps = self.before[key] = self._steps(start, stops, free, in_progress)
        if position:
            start, free = stops[position - 1].location, steps[position - 1].clock
        carried = steps[position - 1].carried if position else 0.0
        tail = [stop, *stops[position:]]
        walked = self.timed.chain_steps(
            [start, *(s.location for s in tail)],
            _windows(tail),
            [s.service_s for s in tail],
            free,
            False,
            self.rows,
            carried,
            steps[position:],
        )
        old = slack_of(steps, _windows(stops))
        new = [*old[:position], *slack_of(walked, _windows(tail))]
        return chain_keeps(old, new, position)

    def slack(
        self, route: CourierRoute, courier: FleetCourier, stops: Sequence[Visit]
    ) -> list[int]:
        """Each stop's chain slack when ``route``'s courier drives ``stops`` from now."""
        in_progress = bool(route.open) and route.open[0].state is StopState.IN_PROGRESS
        free, _ = self._free_from(route, courier)
        steps = self._steps(_start_of(route, courier), stops, free, in_progress)
        return slack_of(steps, _windows(stops))

    def _free_from(self, route: CourierRoute, courier: FleetCourier) -> tuple[int, bool]:
        """When the walk starts, and whether the courier is on the way to the first stop."""
        assert self.timed is not None
        planner, free = walk_start(self.timed, route, courier, self.now, self.rows)
        return free, planner.first_stop_id is not None

    def _steps(
        self, start: Location, stops: Sequence[Visit], free: int, in_progress: bool
    ) -> list[ChainStep]:
        assert self.timed is not None
        return self.timed.chain_steps(
            [start, *(s.location for s in stops)],
            _windows(stops),
            [s.service_s for s in stops],
            free,
            in_progress,
            self.rows,
        )


def _windows(stops: Sequence[Visit]) -> list[tuple[int, int]]:
    return [(s.earliest_s, max(s.latest_s, s.earliest_s)) for s in stops]


def put_on_route(
    uow: UnitOfWork,
    travel: TravelTimes,
    cache: RouteCache,
    option: Option,
    stop: RouteStop,
    now: datetime,
) -> CourierRoute:
    """Insert the stop where ``option`` says, under the route's row lock. When the route
    changed since it was read, the stop goes where the locked route can still take it, or
    ``Contention`` is raised (the caller retries with fresh routes)."""
    route, c = option.route, option.courier
    version = uow.routes.lock(c.courier_id, route.carrier_id, route.day)
    position = option.insertion.position
    if version != max(route.version, 1):
        fresh = uow.routes.get_in_fleet(c.courier_id, route.day)
        if fresh is None:
            raise Contention()  # left the fleet meanwhile (erasure): read the fleet again
        if fresh.index_of(stop.appointment_id) is not None:
            raise Contention()  # another move of this visit committed first: read it again
        # Read under the lock: committed content, unless this transaction wrote it (a move
        # within one courier's day took the visit off first), which the cache must not keep.
        committed = fresh.route_id not in uow.routes.written
        if committed:
            cache.remember(fresh)
        courier = planner_courier(c, route.day, fresh)
        start = start_second(route.day, now)
        slack = cache.slack(fresh, courier, depot_of(c), start, keep=committed)
        window = (stop.earliest_s, max(stop.latest_s, stop.earliest_s))
        reach = reach_along(travel, slack, fresh.open)(window)
        found = best_insertion(slack, planner_stop(stop), reach)
        if found is None or not ChainCheck(travel, now).keeps(fresh, c, found.position, stop):
            raise Contention()
        route, position = fresh, found.position
    else:
        route = route.copy()
        route.version = version
    uow.routes.track(route)
    _insert(travel, route, c, position, stop, now)
    uow.routes.save(route)
    # Not remembered here: the transaction may still roll back (a visit's save losing its
    # race), and the version it gave this content would then be given to other content,
    # which the cache, trusting versions, would never read.
    return route


def append_to_route(
    uow: UnitOfWork,
    travel: TravelTimes,
    courier: FleetCourier,
    carrier_id: str,
    day: date,
    stop: RouteStop,
    now: datetime,
) -> CourierRoute:
    """Put a stop last on a courier's route even if a promise breaks (fixed-capacity
    offering, disruptions): the re-plan then reports what cannot be kept."""
    uow.routes.lock(courier.courier_id, carrier_id, day)
    route = uow.routes.get_in_fleet(courier.courier_id, day)
    if route is None:
        raise Contention()  # left the fleet after it was read (erasure): read it again
    if route.index_of(stop.appointment_id) is not None:
        raise Contention()  # another move of this visit committed first: read it again
    _insert(travel, route, courier, len(route.open), stop, now)
    uow.routes.save(route)
    return route


def _route_of(
    uow: UnitOfWork, fleet: Sequence[FleetCourier], appt: Appointment
) -> tuple[FleetCourier, CourierRoute] | None:
    """The visit's courier and route, locked, if the visit is on it."""
    courier = next((c for c in fleet if c.courier_id == appt.courier_id), None)
    if courier is None:
        return None
    uow.routes.lock(courier.courier_id, appt.slot.carrier_id, appt.slot.day)
    route = uow.routes.get(courier.courier_id, appt.slot.day)
    if route is None or route.index_of(appt.appointment_id) is None:
        return None
    return courier, route


def take_off_route(
    uow: UnitOfWork,
    travel: TravelTimes,
    fleet: Sequence[FleetCourier],
    appt: Appointment,
    now: datetime,
) -> None:
    """Remove a cancelled or moved visit from its courier's route (if it is on one)."""
    found = _route_of(uow, fleet, appt)
    if found is None:
        return
    courier, route = found
    before, after = route.neighbours(appt.appointment_id)
    origin = route.stops[before].location if before is not None else depot_of(courier)
    following = route.stops[after] if after is not None else None
    target = following.location if following is not None else depot_of(courier)
    leaving = span_of(route.stops[before]) if before is not None else None
    bridge = leg(travel, origin, target, span_of(following), leaving)
    route.remove(appt.appointment_id, bridge, now)
    uow.routes.save(route)


def resize_on_route(uow: UnitOfWork, area: ServiceArea, appt: Appointment, now: datetime) -> None:
    """A visit now carries more returns: its route stop takes longer and weighs more. The
    next offer sees it; the re-plan reports it if the day no longer fits."""
    if appt.courier_id is None or area.lat is None:
        return
    uow.routes.lock(appt.courier_id, appt.slot.carrier_id, appt.slot.day)
    route = uow.routes.get(appt.courier_id, appt.slot.day)
    if route is None or route.index_of(appt.appointment_id) is None:
        return
    route.resize(route_stop(uow, area, appt), now)
    uow.routes.save(route)


def record_progress(
    uow: UnitOfWork,
    travel: TravelTimes,
    fleet: Sequence[FleetCourier],
    appt: Appointment,
    state: StopState,
    now: datetime,
) -> None:
    """The courier is at a door or done with it: the route's slack must know, so today's
    offers start from where the courier really is. A door served out of the planned order
    moves to the head of the open stops and the legs around it are re-priced."""
    found = _route_of(uow, fleet, appt)
    if found is None:
        return
    courier, route = found
    day = appt.slot.day
    index = route.index_of(appt.appointment_id)
    assert index is not None  # _route_of found it there
    done_s = second_of_day(day, now) if state is StopState.DONE else None
    head = len(route.done)
    if index != head:
        stops = list(route.stops)
        moving = stops.pop(index)
        stops.insert(head, moving)
        start = depot_of(courier)
        points = [start, *(s.location for s in stops), start]
        spans = [*(span_of(s) for s in stops), None]
        legs = legs_along(travel, points, spans)
        relinked = [
            RouteStop(**{**s.__dict__, "leg_s": lg}) for s, lg in zip(stops, legs, strict=False)
        ]
        route.reorder(relinked, legs[-1], now, "served_out_of_order")
    route.set_state(appt.appointment_id, state, now, done_s)
    uow.routes.save(route)


def _insert(
    travel: TravelTimes,
    route: CourierRoute,
    courier: FleetCourier,
    position: int,
    stop: RouteStop,
    now: datetime,
) -> None:
    open_stops = route.open
    before = open_stops[position - 1].location if position > 0 else _start_of(route, courier)
    following = open_stops[position] if position < len(open_stops) else None
    after = following.location if following is not None else depot_of(courier)
    leaving = span_of(open_stops[position - 1]) if position > 0 else None
    arrive, onwards = legs_along(
        travel, [before, stop.location, after], [span_of(stop), span_of(following)], leaving
    )
    placed = RouteStop(**{**stop.__dict__, "leg_s": arrive})
    route.insert(position, placed, onwards, now)


# Half-width of the arrival range a buyer is shown, by how long before the ETA it is shown:
# the 90th-percentile ETA error the simulator measures at each moment (docs/benchmarks.md,
# "Issue 11 §3-4": at booking and the evening before 19-30 min, after the morning plan
# 5-6 min, worst seed 8; one stop before about 4), rounded up to 5 minutes. A false point
# would be wrong more often than not.
ETA_RANGE_MIN = ((timedelta(hours=12), 30), (timedelta(hours=2), 10), (timedelta(0), 5))


def eta_range(
    eta: datetime, starts_at: datetime, ends_at: datetime, now: datetime
) -> tuple[datetime, datetime]:
    """The arrival range to show around ``eta``: wider the earlier it is shown, never
    outside the booked window (the courier does not ring early, and the window is kept)."""
    lead = eta - now
    minutes = next((m for ahead, m in ETA_RANGE_MIN if lead >= ahead), ETA_RANGE_MIN[-1][1])
    half = timedelta(minutes=minutes)
    low = min(max(eta - half, starts_at), ends_at)
    high = max(min(eta + half, ends_at), low)
    return low, high


def expected_etas(
    travel: TravelTimes, route: CourierRoute, courier: FleetCourier, now: datetime
) -> dict[str, datetime]:
    """When the courier should ring at each open stop of ``route``: the route driven from
    where the courier was last seen (not before ``now``, unless already on the way to the
    next visit: ``walk_start``), each leg at its real departure hour, leaving early enough
    to ring at a window's start (``planning.timed.TimedTravel.retime``). Promises are
    priced at the slowest hour a leg may meet; a buyer is told the likeliest time, never
    later than the promise."""
    stops = route.open
    if not stops:
        return {}
    timed = travel if isinstance(travel, TimedTravel) else TimedTravel(travel)
    rows: HourRows = {}
    begins = timed.retime(
        [_start_of(route, courier), *(s.location for s in stops)],
        [(s.earliest_s, s.latest_s) for s in stops],
        [s.service_s for s in stops],
        walk_start(timed, route, courier, now, rows)[1],
        stops[0].state is StopState.IN_PROGRESS,
        rows,
    )
    return {s.appointment_id: at_second(route.day, b) for s, b in zip(stops, begins, strict=True)}


def walk_start(
    timed: TimedTravel, route: CourierRoute, courier: FleetCourier, now: datetime, rows: HourRows
) -> tuple[Courier, int]:
    """The courier as ``moving`` sees them, and when a walk of ``route``'s open stops at
    each leg's real hour (``TimedTravel.chain_steps``: ETAs, the chain check) starts from
    where the courier was last seen; the leg to the next visit is taken as the walk drives
    it."""
    planner = planner_courier(courier, route.day, route)
    stops = route.open
    lead = None
    if stops and stops[0].state is StopState.PENDING:
        lead = timed.lead(_start_of(route, courier), stops[0].location, stops[0].earliest_s, rows)
    return moving(planner, route, start_second(route.day, now), lead)


def _start_of(route: CourierRoute, courier: FleetCourier) -> Location:
    done = route.done
    return done[-1].location if done else depot_of(courier)
