"""The console's time series: what the last weeks looked like, day by day.

Each figure reads what it needs in one unit of work, with a number of statements fixed by the
days shown and the courier companies (never by how many returns, visits or refunds there are):
returns per day by reason, the share of pickups inside their window per courier company, how
long refunds took, and courier-kilometres per pickup.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from doorstep.domain import figures
from doorstep.domain.clock import local
from doorstep.domain.fleet import Courier
from doorstep.domain.refund_lead_time import REQUEST
from doorstep.domain.route import CourierRoute
from doorstep.planning.travel import HaversineTravel
from doorstep.services.context import Services

DAYS = 14


@dataclass(frozen=True)
class Series:
    """Values per day (None where there was nothing to measure) for each named line."""

    days: list[date]
    lines: dict[str, list[float | None]]


def _days(svc: Services, count: int) -> list[date]:
    today = local(svc.clock.now()).date()
    return [today - timedelta(days=count - 1 - i) for i in range(count)]


def returns_by_reason(svc: Services, count: int = DAYS) -> Series:
    """Returns filed per day, split by the reason of their first line."""
    days = _days(svc, count)
    index = {d: i for i, d in enumerate(days)}
    lines: dict[str, list[float | None]] = defaultdict(lambda: [0.0] * len(days))
    with svc.uow() as uow:
        for (day, reason), n in uow.events.daily(figures.FILED, days[0], days[-1]).items():
            lines[reason][index[day]] = float(n)
    return Series(days, dict(sorted(lines.items())))


def _inside(arrived: datetime | None, ends_at: datetime) -> bool:
    return arrived is not None and arrived <= ends_at


def on_time_share(svc: Services, count: int = DAYS) -> Series:
    """Per courier company and day: the share of visits reached inside the booked window
    (visits a disruption moved are left out, as the scorecard does)."""
    days = _days(svc, count)
    with svc.uow() as uow:
        carriers = sorted(c.carrier_id for c in uow.carriers.list())
        lines: dict[str, list[float | None]] = {}
        for carrier_id in carriers:
            row: list[float | None] = []
            for day in days:
                reached = [
                    a
                    for a in uow.appointments.for_carrier_day(carrier_id, day)
                    if not a.sla_exempt and (a.arrived_at or a.completed_at) is not None
                ]
                kept = sum(_inside(a.arrived_at or a.completed_at, a.slot.ends_at) for a in reached)
                row.append(100.0 * kept / len(reached) if reached else None)
            lines[carrier_id] = row
    return Series(days, lines)


def refund_lead_hours(svc: Services, count: int = DAYS) -> dict[str, dict[float, int]]:
    """Hours from filing a return to its refund being paid, by refund kind, for the refunds
    paid in the last ``count`` days: refunds per wait, to 0.1 h, from the tally of waits
    (every refund counted, however many)."""
    days = _days(svc, count)
    with svc.uow() as uow:
        counts = uow.refunds.waits(days[0], days[-1])
    out: dict[str, Counter[float]] = defaultdict(Counter)
    for c in counts:
        if c.measure == REQUEST:
            out[c.kind][c.bucket / 10] += c.n
    return {kind: dict(sorted(hist.items())) for kind, hist in sorted(out.items())}


def _route_km(route: CourierRoute, courier: Courier, travel: HaversineTravel) -> float:
    points = [(courier.depot_lat, courier.depot_lon)]
    points += [s.location for s in route.stops] + [(courier.depot_lat, courier.depot_lon)]
    metres = travel.matrix(points, 0).distances
    return sum(int(metres[i, i + 1]) for i in range(len(points) - 1)) / 1000


def km_per_pickup(svc: Services, count: int = DAYS) -> Series:
    """Per courier company and day: route kilometres (depot, stops, depot; straight lines
    times the planner's detour factor) over the visits on those routes."""
    days = _days(svc, count)
    travel = HaversineTravel()
    with svc.uow() as uow:
        couriers = {c.courier_id: c for c in uow.couriers.list()}
        carriers = sorted(c.carrier_id for c in uow.carriers.list())
        lines: dict[str, list[float | None]] = {}
        for carrier_id in carriers:
            row: list[float | None] = []
            for day in days:
                km, stops = 0.0, 0
                for route in uow.routes.for_carrier_day(carrier_id, day):
                    courier = couriers.get(route.courier_id)
                    if courier is None or not route.stops:
                        continue
                    km += _route_km(route, courier, travel)
                    stops += len(route.stops)
                row.append(km / stops if stops else None)
            lines[carrier_id] = row
    return Series(days, lines)
