"""Re-planning a carrier's day: appointments become planner stops, plans become routes.

The planner (``doorstep.planning``) knows nothing of appointments; this module translates
both ways and owns the transaction. Bookings put one stop on one route at once
(``services.route``); this background re-plan (``replan_all``) re-optimises a whole
carrier-day with PyVRP, rewrites the routes and tells buyers whose ETA moved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from doorstep.domain.clock import local
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.errors import NotFound, StaleWrite
from doorstep.domain.fleet import Courier as FleetCourier
from doorstep.domain.pickup import ACTIVE, Appointment, AppointmentStatus
from doorstep.domain.route import CourierRoute, RouteStop, StopState
from doorstep.planning import (
    Depot,
    Network,
    Plan,
    PlanningProblem,
    Route,
    SolveParams,
    Stop,
    StopStatus,
    Unserved,
    UnservedReason,
    Violation,
    Visit,
    check_plan,
    left_for,
    replan,
    solve,
)
from doorstep.planning.plan import schedule_route
from doorstep.planning.timed import HourRows, TimedTravel
from doorstep.planning.travel import TravelTimes
from doorstep.services.context import Services
from doorstep.services.ports import UnitOfWork
from doorstep.services.route import (
    PRICE_AT_S,
    Contention,
    at_second,
    depot_of,
    expected_etas,
    legs_along,
    planner_courier,
    planner_stop,
    route_stop,
    span_of,
    start_second,
)

_DONE = {AppointmentStatus.COMPLETED, AppointmentStatus.FAILED}
# A re-plan that lost its routes to bookings made during the solve starts over this often;
# then it gives way (the next sweep tries again) rather than hold bookings back.
REPLAN_ATTEMPTS = 3


@dataclass(frozen=True)
class DayProblem:
    """One carrier's day, ready for the planner, with the way back to appointments."""

    problem: PlanningProblem
    appointments: dict[str, Appointment]
    fleet: dict[str, FleetCourier]
    routes: dict[str, CourierRoute]
    stops: dict[str, RouteStop]
    previous: Plan


@dataclass(frozen=True)
class RoutingReport:
    carrier_id: str
    day: date
    routes: tuple[tuple[str, tuple[tuple[str, datetime], ...]], ...]
    unserved: tuple[tuple[str, str], ...]
    distance_m: int
    duration_s: int


def build_day_problem(uow: UnitOfWork, svc: Services, carrier_id: str, day: date) -> DayProblem:
    """The carrier's couriers and every visit of theirs on ``day``, from the stored routes
    (stops not on a route yet are built from their appointment)."""
    fleet = {c.courier_id: c for c in uow.couriers.list() if c.carrier_id == carrier_id}
    routes = {r.courier_id: r for r in uow.routes.for_carrier_day(carrier_id, day)}
    on_route = {s.appointment_id: s for r in routes.values() for s in r.stops}
    appts = {
        a.appointment_id: a
        for a in uow.appointments.for_carrier_day(carrier_id, day)
        if a.status is not AppointmentStatus.CANCELLED
        and not a.served_by_company  # the company plans its own couriers' day
        # Done by a courier who has left the fleet since (erasure): nothing to plan, and
        # the planner knows no such courier.
        and not (a.status in _DONE and a.courier_id not in fleet)
    }
    stops: dict[str, RouteStop] = {}
    areas: dict[str, ServiceArea] = {}
    for appt in appts.values():
        known = on_route.get(appt.appointment_id)
        if known is None:
            area = areas.get(appt.slot.adcode) or uow.areas.get(appt.slot.adcode)
            if area is None:
                raise NotFound("service_area", appt.slot.adcode)
            areas[area.adcode] = area
            known = route_stop(uow, area, appt)
        stops[appt.appointment_id] = known
    couriers = [planner_courier(c, day, routes.get(c.courier_id)) for c in fleet.values()]
    depots = [Depot(f"depot:{c.courier_id}", depot_of(c)) for c in fleet.values()]
    planner_stops = [_status(stops[i], a) for i, a in appts.items()]
    timed = isinstance(svc.travel, TimedTravel)
    problem = PlanningProblem(depots, couriers, planner_stops, svc.travel, PRICE_AT_S, timed=timed)
    return DayProblem(problem, appts, fleet, routes, stops, _previous_plan(routes, appts))


def _status(stop: RouteStop, appt: Appointment) -> Stop:
    """The appointment is the truth about progress; the route stop about place and load."""
    state = StopState.PENDING
    if appt.status is AppointmentStatus.ARRIVED:
        state = StopState.IN_PROGRESS
    elif appt.status in _DONE:
        state = StopState.DONE
    courier = appt.courier_id if state is not StopState.PENDING else None
    return planner_stop(RouteStop(**{**stop.__dict__, "state": state}), courier)


def _previous_plan(routes: dict[str, CourierRoute], appts: dict[str, Appointment]) -> Plan:
    """The routes as stored, to keep the day stable."""
    planned = []
    for courier_id, route in sorted(routes.items()):
        visits = tuple(
            Visit(s.appointment_id, s.earliest_s, s.earliest_s, s.earliest_s)
            for s in route.open
            if (a := appts.get(s.appointment_id)) is not None and a.status in ACTIVE
        )
        if visits:
            planned.append(Route(courier_id, visits, 0, 0, 0))
    return Plan(tuple(planned), ())


def plan_day(
    svc: Services,
    carrier_id: str,
    day: date,
    params: SolveParams | None = None,
    ahead_weight: int | None = None,
) -> RoutingReport:
    """Assign and order the carrier's visits of ``day``; every planned visit gets an ETA,
    the rest a reason. Routes are rewritten under their locks, in courier order.
    ``ahead_weight``: the plan's duration weight for a day after today (None: ``params``'
    own), see ``for_day``."""
    params = for_day(svc, day, params or SolveParams(seed=0, time_limit_s=1.0), ahead_weight)
    # A visit saved meanwhile (another re-plan of the day re-timed it without moving its
    # route, found by racing re-plans) is as stale as a changed route: start over.
    for _ in range(REPLAN_ATTEMPTS - 1):
        try:
            return _plan_once(svc, carrier_id, day, params)
        except (Contention, StaleWrite):
            continue
    try:
        return _plan_once(svc, carrier_id, day, params)
    except StaleWrite as exc:
        raise Contention() from exc  # the job gives way; the next fan-out plans the day


def _plan_once(svc: Services, carrier_id: str, day: date, params: SolveParams) -> RoutingReport:
    now = svc.clock.now()
    with svc.uow() as uow:
        built = build_day_problem(uow, svc, carrier_id, day)
        if not built.appointments and not built.routes:
            return RoutingReport(carrier_id, day, (), (), 0, 0)  # only company-served visits
        params = on_duty(svc, params)
        now_s = start_second(day, now)
        started = time.perf_counter()
        same_day = bool(built.previous.routes) and local(now).date() == day
        solve_params = params

        def solve_from(problem: PlanningProblem, warm: Plan | None) -> Plan:
            if same_day:
                return replan(problem, warm or built.previous, now_s, solve_params)
            return solve(problem, solve_params, warm_start=warm)

        plan = solve_from(built.problem, built.previous or None)
        driven = built.previous if same_day else None
        plan = hold_chains(
            svc.travel, built.problem, plan, now_s, solve_from, driven, built.previous
        )
        svc.telemetry.planner_run(time.perf_counter() - started)
        report = _apply(uow, svc, built, plan, now, carrier_id, day)
        uow.commit()
        return report


def for_day(svc: Services, day: date, params: SolveParams, ahead_weight: int | None) -> SolveParams:
    """``params`` for planning ``day``: a day after today takes ``ahead_weight`` as its
    duration weight when one is given. Its routes are tentative while buyers still book
    onto them, and a plan that packs each courier's paid day leaves no room for the next
    booking there (``DOORSTEP_PLAN_DURATION_WEIGHT_AHEAD``); today's plan, the one driven,
    pays the courier's day."""
    if ahead_weight is None or day <= local(svc.clock.now()).date():
        return params
    return replace(params, duration_weight=ahead_weight)


def on_duty(svc: Services, params: SolveParams) -> SolveParams:
    """``params`` with the end of a courier's paid day set when courier time is priced: a
    courier who has driven waits for same-day bookings until they close."""
    if not params.duration_weight or params.on_duty_until_s is not None:
        return params
    until = svc.booking.same_day_until
    return replace(params, on_duty_until_s=until.hour * 3600 + until.minute * 60)


# Tighten-and-re-solve rounds for visits whose chain reserve does not hold (each is one
# more solve of the carrier-day; the first usually settles it).
CHAIN_ROUNDS = 3


def hold_chains(
    travel: TravelTimes,
    problem: PlanningProblem,
    plan: Plan,
    now_s: int,
    solve_from: Callable[[PlanningProblem, Plan | None], Plan],
    driven: Plan | None = None,
    kept: Plan | None = None,
) -> Plan:
    """The plan, re-solved with the windows of visits that miss their chain reserve
    (``planning.timed.TimedTravel.chain_slack``) closed earlier by what they miss, until
    every visit holds or ``CHAIN_ROUNDS`` are spent. The solver prices each leg alone; the
    delay a chain of back-to-back legs gathers is checked here, on the same walk a booking
    checks (``route.ChainCheck``). A re-solve that leaves more visits unserved is not taken:
    a visit at risk of being late is better than a visit dropped. ``driven``: the routes
    being driven today (see ``chain_shortfalls``). ``kept``: the routes as stored; when no
    re-solve holds every chain, they are kept instead if they serve every visit the plan
    serves and miss less (each booking checked the chain as it went in: a re-plan that
    regroups a packed day can break what the bookings kept, and tightening it again may
    find no room without dropping a visit)."""
    if not (isinstance(travel, TimedTravel) and travel.chained):
        return plan
    latest = {s.id: s.latest_s for s in problem.stops}
    earliest = {s.id: s.earliest_s for s in problem.stops}
    best, short = plan, chain_shortfalls(travel, problem, plan, now_s, driven)
    tried = plan
    tried_short = short
    for _ in range(CHAIN_ROUNDS):
        if not tried_short:
            break
        for stop_id, by in tried_short.items():
            latest[stop_id] = max(earliest[stop_id], latest[stop_id] - by)
        tightened = replace(
            problem, stops=[replace(s, latest_s=latest[s.id]) for s in problem.stops]
        )
        tried = solve_from(tightened, best)
        tried_short = chain_shortfalls(travel, problem, tried, now_s, driven)
        if len(tried.unserved) > len(plan.unserved):
            break
        if (len(tried_short), sum(tried_short.values())) < (len(short), sum(short.values())):
            best, short = tried, tried_short
    on_kept = {v.stop_id for r in kept.routes for v in r.visits} if kept else set()
    if short and kept is not None and all(v.stop_id in on_kept for v in _visits(best)):
        missed = chain_shortfalls(travel, problem, kept, now_s, driven)
        if (len(missed), sum(missed.values())) < (len(short), sum(short.values())):
            return replace(
                kept, unserved=tuple(u for u in best.unserved if u.stop_id not in on_kept)
            )
    return best


def _visits(plan: Plan) -> list[Visit]:
    return [v for r in plan.routes for v in r.visits]


def chain_shortfalls(
    travel: TimedTravel,
    problem: PlanningProblem,
    plan: Plan,
    now_s: int,
    driven: Plan | None = None,
) -> dict[str, int]:
    """Seconds (rounded up to a minute) by which each planned visit misses its window's
    close at the chain quantile; visits that hold are left out. ``driven``: the routes being
    driven today; a courier whose plan keeps first the visit they were driving to, with
    nothing marked there, is walked from when they left for it (``planning.left_for``, as
    the re-plan sees them), not from their last door at ``now_s``."""
    couriers = {c.id: c for c in problem.couriers}
    by_id = {s.id: s for s in problem.stops}
    heading = _heading(problem, driven)
    rows: HourRows = {}
    short: dict[str, int] = {}
    for route in plan.routes:
        courier = couriers[route.courier_id]
        stops = [by_id[v.stop_id] for v in route.visits]
        if not stops:
            continue
        start = courier.start_location or problem.depot(courier.depot_id).location
        free = max(courier.free_from_s, now_s)
        first = stops[0]
        if heading.get(courier.id) == first.id and first.status is StopStatus.PENDING:
            lead = travel.lead(start, first.location, first.earliest_s, rows)
            free = left_for(courier.free_from_s, lead, first.earliest_s, free)
        slacks = travel.chain_slack(
            [start, *(s.location for s in stops)],
            [(s.earliest_s, s.latest_s) for s in stops],
            [s.service_s for s in stops],
            free,
            first.status is StopStatus.IN_PROGRESS,
            rows,
        )
        for stop, slack in zip(stops, slacks, strict=True):
            if slack < 0 and stop.status is StopStatus.PENDING:
                short[stop.id] = -(slack // 60) * 60
    return short


def _heading(problem: PlanningProblem, driven: Plan | None) -> dict[str, str]:
    """The visit each courier is driving to on ``driven``: their first not yet rung."""
    if driven is None:
        return {}
    pending = {s.id for s in problem.stops if s.status is StopStatus.PENDING}
    out = {}
    for route in driven.routes:
        first = next((v.stop_id for v in route.visits if v.stop_id in pending), None)
        if first is not None:
            out[route.courier_id] = first
    return out


def _apply(
    uow: UnitOfWork,
    svc: Services,
    built: DayProblem,
    plan: Plan,
    now: datetime,
    carrier_id: str,
    day: date,
) -> RoutingReport:
    planned = {r.courier_id: r for r in plan.routes}
    reported = []
    for courier_id in sorted(built.fleet):
        courier = built.fleet[courier_id]
        locked = uow.routes.lock(courier_id, carrier_id, day)
        # The solve ran without locks: a booking, cancel or door served meanwhile changed
        # this route, and writing the plan would drop or revive a visit. Start over.
        known = built.routes.get(courier_id)
        if locked != (known.version if known is not None else 1):
            raise Contention()
        route = uow.routes.get(courier_id, day)
        assert route is not None
        done = [s for s in route.done if s.appointment_id in built.appointments]
        timed = planned.get(courier_id)
        order = [built.stops[v.stop_id] for v in timed.visits] if timed else []
        sequence = [*done, *order]
        if [s.appointment_id for s in sequence] != [s.appointment_id for s in route.stops]:
            home = depot_of(courier)
            points = [home, *(s.location for s in sequence), home]
            spans = [*(span_of(s) for s in sequence), None]
            legs = legs_along(svc.travel, points, spans)
            stops = [
                RouteStop(**{**s.__dict__, "leg_s": lg})
                for s, lg in zip(sequence, legs, strict=False)
            ]
            route.reorder(stops, legs[-1], now, "replan")
            uow.routes.save(route)
        if timed is None:
            continue
        # The buyer cares when the doorbell rings: the start of service, not the arrival,
        # re-timed at each leg's real hour (the plan's own times are priced for promises).
        expected = expected_etas(svc.travel, route, courier, now)
        etas = []
        for position, visit in enumerate(timed.visits):
            appt = built.appointments[visit.stop_id]
            eta = expected.get(visit.stop_id) or at_second(day, visit.start_s)
            if appt.status in ACTIVE and _changed(appt, courier_id, position, eta):
                appt.plan(courier_id, position, eta, now)
                uow.appointments.save(appt)
            etas.append((appt.appointment_id, eta))
        reported.append((courier_id, tuple(etas)))
    for unserved in plan.unserved:
        appt = built.appointments[unserved.stop_id]
        if appt.status in ACTIVE and appt.unserved_reason != unserved.reason.value:
            appt.mark_unserved(unserved.reason.value, now)
            uow.appointments.save(appt)
    return RoutingReport(
        carrier_id,
        day,
        tuple(reported),
        tuple((u.stop_id, u.reason.value) for u in plan.unserved),
        plan.distance,
        plan.duration_s,
    )


def _changed(appt: Appointment, courier_id: str, position: int, eta: datetime) -> bool:
    """Worth a write: another courier, another place in the route, or an ETA a buyer would
    notice. Small drifts are read from the route instead of being saved."""
    return (
        appt.courier_id != courier_id
        or appt.route_position != position
        or appt.unserved_reason is not None
        or appt.eta is None
        or abs((eta - appt.eta).total_seconds()) >= 600
    )


def check_routes(svc: Services, carrier_id: str, day: date) -> list[Violation]:
    """Referee the stored routes of a carrier-day against its appointments: every open
    visit on exactly one route and every promise kept (``planning.check_plan``)."""
    with svc.uow() as uow:
        built = build_day_problem(uow, svc, carrier_id, day)
    problem = built.problem
    network = Network.of(problem)
    couriers = {c.id: c for c in problem.couriers}
    by_id = {s.id: s for s in problem.stops}
    routes = []
    for courier_id, route in sorted(built.routes.items()):
        stops = [by_id[s.appointment_id] for s in route.open if s.appointment_id in by_id]
        stops = [s for s in stops if s.status is not StopStatus.DONE]
        if stops and courier_id in couriers:
            courier = couriers[courier_id]
            routes.append(
                schedule_route(problem, network, courier, stops, courier.free_from_s, None)
            )
    on_routes = {i for r in routes for i in r.stop_ids}
    # Visits the re-plan could not keep are reported as such; any other open visit missing
    # from the routes is a violation (``missing_stop``).
    unserved = tuple(
        Unserved(a.appointment_id, UnservedReason.TIME_WINDOW_UNREACHABLE)
        for a in built.appointments.values()
        if a.unserved_reason is not None and a.appointment_id not in on_routes
    )
    plan = Plan(tuple(routes), unserved)
    return check_plan(problem, plan)


class TodayReplan(StrEnum):
    """Which of today's carrier-days a sweep re-plans; the later days it always re-plans."""

    # Before the couriers' day has begun (the morning plan), then only a day with a visit
    # off every route: the routes being driven are left to the booking path.
    NEEDED = "needed"
    ALWAYS = "always"  # every busy carrier-day of today, every sweep (the worker to session 15)
    NEVER = "never"  # none: today keeps its last plan and the booking path's insertions


def carrier_days_to_plan(
    svc: Services, today_mode: TodayReplan = TodayReplan.NEEDED
) -> list[tuple[str, date]]:
    """The carrier-days to re-plan from today to the booking horizon, in a fixed order: the
    units that re-planning fans out (one job each, independent of one another). Every later
    day with open visits is re-planned; today's as ``today_mode`` says (``today_needs_plan``
    for the default). Two statements at most, whatever the number of carrier-days."""
    now = local(svc.clock.now())
    today = now.date()
    days = [today + timedelta(days=offset) for offset in range(svc.booking.horizon_days)]
    with svc.uow() as uow:
        busy = uow.appointments.astray_carrier_days(days, now)
        settled = {c for (c, d), astray in busy.items() if d == today and not astray}
        # The fleet is read only when a day of today might be left alone.
        fleet = uow.couriers.list() if settled and today_mode is TodayReplan.NEEDED else []
    wanted = []
    for (carrier_id, day), astray in busy.items():
        if day != today or today_mode is TodayReplan.ALWAYS:
            wanted.append((carrier_id, day))
        elif today_mode is TodayReplan.NEEDED:
            mine = [c for c in fleet if c.carrier_id == carrier_id]
            if today_needs_plan(mine, now, astray=astray):
                wanted.append((carrier_id, day))
    return sorted(wanted)


def today_needs_plan(fleet: list[FleetCourier], now: datetime, *, astray: bool) -> bool:
    """Whether a carrier's day of today, with couriers ``fleet``, is re-planned at ``now``:
    before its couriers' day has begun, or when one of its open visits is off every route
    (``astray``: a courier left, a plan dropped it). A same-day re-plan packs routes being
    driven to their windows' edges and left visits late in the simulator (docs/benchmarks.md,
    Session 15); the booking path inserts into them without moving anyone.

    The day begins at the earliest shift start among the couriers whose shift is not over:
    a courier whose shift ended (a night shift, the simulator's off-duty entries) drives
    nothing more, and until the next one starts nothing is being driven. Once every shift
    is over, only a visit off every route gets a plan."""
    if astray:
        return True
    at = local(now).time()
    ahead = [c.shift_start for c in fleet if at < c.shift_end]
    return bool(ahead) and at < min(ahead)


def replan_all(
    svc: Services,
    params: SolveParams | None = None,
    today_mode: TodayReplan = TodayReplan.NEEDED,
    ahead_weight: int | None = None,
) -> list[RoutingReport]:
    """The background sweep: re-plan the carrier-days ``carrier_days_to_plan`` names."""
    reports = []
    for carrier_id, day in carrier_days_to_plan(svc, today_mode):
        try:
            reports.append(plan_day(svc, carrier_id, day, params, ahead_weight))
        except Contention:
            continue  # bookings kept changing this day's routes: the next sweep plans it
    return reports
