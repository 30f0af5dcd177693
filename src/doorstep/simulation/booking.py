"""A simulated buyer files a return and books a window through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain.errors import Conflict
from doorstep.domain.pickup import open_slots
from doorstep.domain.returns import ReturnKind, ReturnStatus
from doorstep.services import pickup, returns
from doorstep.services.context import Services
from doorstep.services.returns import LineRequest, OpenReturn
from doorstep.simulation.choice import CouponResponse, Stating, choose, first_choice
from doorstep.simulation.demand import Request
from doorstep.simulation.kpis import Tally
from doorstep.simulation.world import City

# A buyer who loses a race for a window tries again this many times before giving up.
BOOKING_TRIES = 3


@dataclass(frozen=True)
class Booked:
    request: Request
    appointment_id: str


def file_and_book(
    svc: Services,
    city: City,
    request: Request,
    tally: Tally,
    tolerance_h: float,
    response: CouponResponse | None = None,
    stating: Stating | None = None,
) -> Booked | None:
    """Open the return at the request time, say when suits them (``stating``), look at the
    windows, book one or walk away."""
    tally.requests += 1
    opened = returns.open_return(
        svc,
        OpenReturn(
            request.buyer_id,
            request.order_id,
            ReturnKind.REFUND,
            (LineRequest("L1", 1, request.reason),),
        ),
    )
    if opened.status is not ReturnStatus.APPROVED:
        return None
    now = svc.clock.now()
    wanted = stating.wanted(request, now, svc.booking) if stating is not None else None
    options = pickup.pickup_options(svc, svc.offering, request.buyer_id, opened.return_id, wanted)
    if options.unavailable_reason is not None:
        return None
    tally.approved += 1
    if options.slots:
        tally.offered += 1
    district = city.districts[request.adcode]
    template = city.templates[district.carrier_id]
    windows = open_slots(
        request.adcode, district.carrier_id, template, svc.clock.now(), svc.booking
    )
    ideal = first_choice(windows, request)
    shown = list(options.slots)
    for _ in range(BOOKING_TRIES):
        picked = choose(shown, ideal, request, tolerance_h, response)
        if picked is None:
            return None
        slot = picked.slot.slot
        choice = pickup.SlotChoice(slot.carrier_id, slot.day, slot.window.start)
        try:
            appt = pickup.book_pickup(svc, request.buyer_id, opened.return_id, choice)
        except Conflict:
            shown = [o for o in shown if o.slot != slot]
            continue
        tally.accepted += 1
        tally.first_choice += picked.first_choice
        tally.incentive_taken += picked.incentive
        tally.coupon_fen += picked.slot.incentive_fen
        tally.eta.show(appt.appointment_id, "booking", appt.eta)
        return Booked(request, appt.appointment_id)
    return None
