"""Route planning for an area's day: appointments become planner stops, routes become ETAs.

The planner (``doorstep.planning``) knows nothing of appointments; this module translates both
ways and owns the transaction. Full re-plans run in the background (``replan_all``); a new
booking is slotted in at once by cheapest insertion (``insert_appointment``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.errors import NotFound
from doorstep.domain.fleet import Courier as FleetCourier
from doorstep.domain.pickup import ACTIVE, Appointment, AppointmentStatus
from doorstep.planning import (
    Courier,
    Depot,
    Network,
    Plan,
    PlanningProblem,
    Route,
    RouteSlack,
    SolveParams,
    Stop,
    StopStatus,
    TravelTimes,
    Visit,
    best_insertion,
    replan,
    solve,
)
from doorstep.planning.plan import schedule_route
from doorstep.services.context import Services
from doorstep.services.ports import UnitOfWork

# Door time: ringing, the inspection checklist and photos, labelling. Settings-grade guesses
# until scorecards measure it per carrier.
SERVICE_BASE_S = 180
SERVICE_PER_ITEM_S = 45
SERVICE_PER_RETURN_S = 120
_DONE = {AppointmentStatus.COMPLETED, AppointmentStatus.FAILED}
# The planner prices a whole day at one departure time. Pricing it at the evening peak makes
# every leg as slow as the slowest hour, so a window promised at noon is not broken by the
# 17:00 traffic: promises kept first, courier productivity second (measured in the simulator).
PRICE_AT_S = 17 * 3600 + 1800


@dataclass(frozen=True)
class DayProblem:
    """One area, carrier and day, ready for the planner, with the way back to appointments."""

    problem: PlanningProblem
    appointments: dict[str, Appointment]
    day_start: datetime
    previous: Plan


@dataclass(frozen=True)
class RoutingReport:
    adcode: str
    carrier_id: str
    day: date
    routes: tuple[tuple[str, tuple[tuple[str, datetime], ...]], ...]
    unserved: tuple[tuple[str, str], ...]
    distance_m: int
    duration_s: int


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def seconds_into(day: date, moment: datetime) -> int:
    return max(0, int((moment - day_start(day)).total_seconds()))


def area_location(area: ServiceArea) -> tuple[float, float]:
    if area.lat is None or area.lon is None:
        raise NotFound("area_coordinates", area.adcode)
    return (area.lat, area.lon)


def build_day_problem(
    uow: UnitOfWork,
    travel: TravelTimes,
    area: ServiceArea,
    carrier_id: str,
    day: date,
    extra_appointments: Sequence[Appointment] = (),
) -> DayProblem:
    """The couriers of ``carrier_id`` serving the area and its appointments of ``day``."""
    fleet = [c for c in uow.couriers.list() if c.carrier_id == carrier_id]
    fleet = [c for c in fleet if c.depot_adcode == area.adcode] or fleet
    couriers = [_courier(c, day) for c in fleet]
    depots = [Depot(f"depot:{c.courier_id}", (c.depot_lat, c.depot_lon)) for c in fleet]
    found = {a.appointment_id: a for a in uow.appointments.for_area_day(area.adcode, day)}
    # A visit being booked or moved is passed in as it is now, not as last stored.
    found.update({a.appointment_id: a for a in extra_appointments})
    appts = [
        a
        for a in found.values()
        if a.slot.day == day
        and a.slot.adcode == area.adcode
        and a.slot.carrier_id == carrier_id
        and a.status is not AppointmentStatus.CANCELLED
    ]
    stops = [_stop(uow, area, a, day) for a in appts]
    couriers = [_where_now(c, appts, stops, day) for c in couriers]
    problem = PlanningProblem(depots, couriers, stops, travel, depart_second=PRICE_AT_S)
    return DayProblem(
        problem,
        {a.appointment_id: a for a in appts},
        day_start(day),
        _previous_plan(appts, couriers, day),
    )


def _courier(c: FleetCourier, day: date) -> Courier:
    start = datetime.combine(day, c.shift_start, tzinfo=SHANGHAI)
    end = datetime.combine(day, c.shift_end, tzinfo=SHANGHAI)
    return Courier(
        c.courier_id,
        f"depot:{c.courier_id}",
        seconds_into(day, start),
        seconds_into(day, end),
        c.capacity_weight_g,
        c.capacity_volume_cm3,
    )


def _where_now(
    courier: Courier, appts: Sequence[Appointment], stops: Sequence[Stop], day: date
) -> Courier:
    """A courier who has finished visits today is at the last door, free from then on."""
    located = {s.id: s.location for s in stops}
    finished = [
        (a.attempts[-1].at, a.appointment_id)
        for a in appts
        if a.courier_id == courier.id and a.status in _DONE and a.attempts
    ]
    if not finished:
        return courier
    at, appointment_id = max(finished)
    free = min(seconds_into(day, at), courier.shift_end_s)
    return replace(courier, start_location=located[appointment_id], available_from_s=free)


def _stop(uow: UnitOfWork, area: ServiceArea, appt: Appointment, day: date) -> Stop:
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
    location = (lat, lon) if lat is not None and lon is not None else area_location(area)
    status, courier = StopStatus.PENDING, None
    if appt.status is AppointmentStatus.ARRIVED:
        status, courier = StopStatus.IN_PROGRESS, appt.courier_id
    elif appt.status in _DONE:
        status, courier = StopStatus.DONE, appt.courier_id
    return Stop(
        appt.appointment_id,
        location,
        seconds_into(day, appt.slot.starts_at),
        seconds_into(day, appt.slot.ends_at),
        SERVICE_BASE_S + SERVICE_PER_ITEM_S * items + SERVICE_PER_RETURN_S * len(appt.return_ids),
        weight,
        volume,
        courier,
        status,
    )


def _previous_plan(appts: Sequence[Appointment], couriers: Sequence[Courier], day: date) -> Plan:
    """The routes as last planned (courier, position, ETA), to keep the day stable."""
    routes = []
    for courier in couriers:
        mine = sorted(
            (
                a
                for a in appts
                if a.courier_id == courier.id
                and a.status in ACTIVE
                and a.route_position is not None
            ),
            key=lambda a: a.route_position or 0,
        )
        visits = tuple(
            Visit(a.appointment_id, *([seconds_into(day, a.eta or a.slot.starts_at)] * 3))
            for a in mine
        )
        if visits:
            routes.append(Route(courier.id, visits, courier.shift_start_s, courier.shift_end_s, 0))
    return Plan(tuple(routes), ())


def plan_day(
    svc: Services,
    adcode: str,
    carrier_id: str,
    day: date,
    params: SolveParams | None = None,
) -> RoutingReport:
    """Assign and order the day's visits; every planned visit gets an ETA, the rest a reason."""
    now = svc.clock.now()
    with svc.uow() as uow:
        area = uow.areas.get(adcode)
        if area is None:
            raise NotFound("service_area", adcode)
        built = build_day_problem(uow, svc.travel, area, carrier_id, day)
        params = params or SolveParams(seed=0, time_limit_s=1.0)
        now_s = seconds_into(day, now)
        if built.previous.routes and local(now).date() == day:
            plan = replan(built.problem, built.previous, now_s, params)
        else:
            plan = solve(built.problem, params, warm_start=built.previous or None)
        report = _apply(uow, built, plan, now, adcode, carrier_id, day)
        uow.commit()
        return report


def _apply(
    uow: UnitOfWork,
    built: DayProblem,
    plan: Plan,
    now: datetime,
    adcode: str,
    carrier_id: str,
    day: date,
) -> RoutingReport:
    routes = []
    for route in plan.routes:
        stops = []
        for position, visit in enumerate(route.visits):
            appt = built.appointments[visit.stop_id]
            # The buyer cares when the doorbell rings: the start of service, not the arrival.
            eta = built.day_start + timedelta(seconds=visit.start_s)
            if appt.status in ACTIVE:
                appt.plan(route.courier_id, position, eta, now)
                uow.appointments.save(appt)
            stops.append((appt.appointment_id, eta))
        routes.append((route.courier_id, tuple(stops)))
    for unserved in plan.unserved:
        appt = built.appointments[unserved.stop_id]
        if appt.status in ACTIVE:
            appt.mark_unserved(unserved.reason.value, now)
            uow.appointments.save(appt)
    return RoutingReport(
        adcode,
        carrier_id,
        day,
        tuple(routes),
        tuple((u.stop_id, u.reason.value) for u in plan.unserved),
        plan.distance,
        plan.duration_s,
    )


def insert_appointment(uow: UnitOfWork, svc: Services, appt: Appointment, now: datetime) -> bool:
    """Put a new or moved visit on the courier route where it costs least; False if none fits."""
    area = uow.areas.get(appt.slot.adcode)
    if area is None or area.lat is None:
        return False
    built = build_day_problem(
        uow, svc.travel, area, appt.slot.carrier_id, appt.slot.day, extra_appointments=[appt]
    )
    candidate = next(s for s in built.problem.stops if s.id == appt.appointment_id)
    others = [s for s in built.problem.stops if s.id != appt.appointment_id]
    problem = replace(built.problem, stops=others)
    network = Network.of(problem, extra=[candidate.location])
    now_s = seconds_into(appt.slot.day, now)
    best: tuple[int, str, int] | None = None
    for courier in problem.couriers:
        route = route_stops(built, courier.id, exclude=appt.appointment_id)
        slack = RouteSlack.of(problem, network, courier, route, start_s=now_s)
        found = best_insertion(slack, candidate)
        if found is not None and (best is None or found.extra_travel_s < best[0]):
            best = (found.extra_travel_s, courier.id, found.position)
    if best is None:
        return False
    _, courier_id, position = best
    route = route_stops(built, courier_id, exclude=appt.appointment_id)
    route.insert(position, candidate)
    courier = next(c for c in problem.couriers if c.id == courier_id)
    timed = schedule_route(problem, network, courier, route, now_s, None)
    # Every visit on that route gets its new position and ETA, so the route as stored is the
    # route that the next offer checks against.
    for index, visit in enumerate(timed.visits):
        eta = built.day_start + timedelta(seconds=visit.start_s)
        target = appt if visit.stop_id == appt.appointment_id else built.appointments[visit.stop_id]
        target.plan(courier_id, index, eta, now)
        if target is not appt:
            uow.appointments.save(target)
    return True


def route_stops(built: DayProblem, courier_id: str, exclude: str = "") -> list[Stop]:
    """A courier's open stops in planned order (unplanned ones by window start)."""
    stops = {s.id: s for s in built.problem.stops}
    mine = [
        a
        for a in built.appointments.values()
        if a.courier_id == courier_id and a.status in ACTIVE and a.appointment_id != exclude
    ]
    mine.sort(
        key=lambda a: (
            a.status is not AppointmentStatus.ARRIVED,
            a.route_position if a.route_position is not None else 10**6,
            a.slot.starts_at,
            a.appointment_id,
        )
    )
    return [stops[a.appointment_id] for a in mine]


def replan_all(svc: Services, params: SolveParams | None = None) -> list[RoutingReport]:
    """The background sweep: re-plan every area, carrier and day with open visits."""
    today = local(svc.clock.now()).date()
    reports = []
    with svc.uow() as uow:
        areas = [a for a in uow.areas.list() if a.serves_pickup and a.lat is not None]
    for area in areas:
        for offset in range(svc.booking.horizon_days):
            day = today + timedelta(days=offset)
            with svc.uow() as uow:
                carriers = {
                    a.slot.carrier_id
                    for a in uow.appointments.for_area_day(area.adcode, day)
                    if a.status in ACTIVE
                }
            for carrier_id in sorted(carriers):
                reports.append(plan_day(svc, area.adcode, carrier_id, day, params))
    return reports
