"""Couriers drive their routes: travel with noise, ring, inspect, pick up or fail.

Each courier follows the order the planner last gave its visits (re-read before every leg,
so visits inserted during the day are picked up), waits at the door when early, and goes
home when nothing is left and no more same-day bookings can come in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from PIL import Image

from doorstep.domain.fleet import Courier
from doorstep.domain.pickup import Appointment, AppointmentStatus, FailureReason
from doorstep.domain.route import second_of_day
from doorstep.planning import TravelTimes
from doorstep.services import courier as courier_service
from doorstep.services import photos
from doorstep.services.context import Services
from doorstep.services.courier import InspectionInput
from doorstep.services.route import SERVICE_BASE_S, SERVICE_PER_ITEM_S, SERVICE_PER_RETURN_S

FAILED_VISIT_S = 120  # ringing, calling, leaving a note
Location = tuple[float, float]


def tiny_jpeg() -> bytes:
    """A small real JPEG for inspection photos (the image sanitiser decodes what it stores)."""
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 140, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def noise(rng: random.Random, sigma: float) -> float:
    """A lognormal factor with mean 1: most legs near plan, a few much slower."""
    return math.exp(rng.gauss(-sigma * sigma / 2, sigma)) if sigma else 1.0


@dataclass
class CourierRun:
    """Where a courier is and what their day has used so far."""

    courier: Courier
    at: Location
    first_departure: datetime | None = None
    finished_at: datetime | None = None
    photo_id: str | None = None

    @property
    def depot(self) -> Location:
        return (self.courier.depot_lat, self.courier.depot_lon)


def next_visit(svc: Services, courier_id: str, day: date) -> Appointment | None:
    """The courier's next open visit in route order; visits the planner could not fit last."""
    with svc.uow() as uow:
        todo = [
            a
            for a in uow.appointments.for_courier(courier_id, day)
            if a.status is AppointmentStatus.ASSIGNED
        ]
        route = uow.routes.get(courier_id, day)
    order = {s.appointment_id: i for i, s in enumerate(route.open)} if route else {}
    todo.sort(
        key=lambda a: (
            a.appointment_id not in order,
            order.get(a.appointment_id, 0),
            a.slot.starts_at,
            a.appointment_id,
        )
    )
    return todo[0] if todo else None


def leg(
    travel: TravelTimes, a: Location, b: Location, at: datetime, rng: random.Random, sigma: float
) -> tuple[int, int]:
    """Seconds (with noise) and metres from ``a`` to ``b`` leaving at ``at``."""
    matrix = travel.matrix([a, b], second_of_day(at.date(), at) % 86_400)
    seconds = int(matrix.durations[0, 1]) * noise(rng, sigma)
    return round(seconds), int(matrix.distances[0, 1])


def service_seconds(appt: Appointment, rng: random.Random, sigma: float) -> int:
    """Time at the door for a completed visit, as the planner assumes it, with noise."""
    planned = SERVICE_BASE_S + SERVICE_PER_ITEM_S + SERVICE_PER_RETURN_S * len(appt.return_ids)
    return round(planned * noise(rng, sigma))


def do_visit(
    svc: Services, run: CourierRun, appt: Appointment, at_home: bool, photo: bytes
) -> bool:
    """Arrive and either fail (nobody home) or inspect and pick up; True when picked up."""
    courier_id = run.courier.courier_id
    courier_service.arrive(svc, courier_id, appt.appointment_id)
    if not at_home:
        courier_service.fail_attempt(
            svc, courier_id, appt.appointment_id, FailureReason.BUYER_UNREACHABLE, "simulated"
        )
        return False
    if run.photo_id is None:
        run.photo_id = photos.upload_photo(svc, courier_id, photo).photo_id
    # Every check of the item's own list passes (a simulated buyer returns what they bought).
    checks: dict[str, dict[str, bool]] = {}
    for line in courier_service.visit_checklists(svc, courier_id, appt.appointment_id):
        checks.setdefault(line.return_id, {}).update({c.key: True for c in line.checks})
    for return_id in appt.return_ids:
        courier_service.inspect(
            svc, courier_id, appt.appointment_id,
            InspectionInput(return_id, checks.get(return_id, {}), (run.photo_id,)),
        )  # fmt: skip
    courier_service.pick_up(svc, courier_id, appt.appointment_id, appt.pickup_code)
    return True


def idle_until(day: date, svc: Services) -> datetime:
    """After this, no visit can be added to today's routes: stop waiting and go home."""
    from doorstep.domain.clock import SHANGHAI

    return datetime.combine(day, svc.booking.same_day_until, tzinfo=SHANGHAI) + timedelta(minutes=1)
