"""Buyer: the pickup window picker; booking, joining, moving and cancelling a visit."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from doorstep.adapters.observability.metrics import counting_booking
from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.identity import Role
from doorstep.entrypoints.web import queries
from doorstep.entrypoints.web.forms import PathId, parse_slot, slot_value
from doorstep.entrypoints.web.portal import detail
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import pickup, returns
from doorstep.services.offering import OfferedSlot

router = APIRouter(route_class=WebRoute, include_in_schema=False)
BuyerPage = Annotated[Web, Depends(page(Role.BUYER))]
BuyerPost = Annotated[Web, Depends(action(Role.BUYER))]


def picker(web: Web, return_id: str, *, error: str | None = None, status: int = 200) -> Response:
    """Windows grouped by day with what is left, and pending visits this return can join."""
    svc = web.app.services
    request = returns.get_return(svc, return_id, buyer_id=web.actor_id)
    options = pickup.pickup_options(svc, web.app.offering, web.actor_id, return_id)
    # The offering ranks windows (cheapest route first); people scan a day by the clock, so
    # show each day in time order, per courier company, and mark the top-ranked window.
    by_day: dict[date, dict[str, list[OfferedSlot]]] = defaultdict(lambda: defaultdict(list))
    for offered in sorted(options.slots, key=lambda o: (o.slot.starts_at, o.slot.carrier_id)):
        by_day[offered.slot.day][offered.slot.carrier_id].append(offered)
    best = min(options.slots, key=lambda o: o.rank, default=None)
    carriers = {c.carrier_id: c for c in queries.carriers(svc)}
    current = (
        pickup.get_appointment(svc, request.appointment_id, buyer_id=web.actor_id)
        if request.appointment_id
        else None
    )
    return render(
        web,
        "portal_slots.html",
        status=status,
        here=f"/portal/returns/{return_id}/slots",
        r=request,
        days=[(day, sorted(groups.items())) for day, groups in sorted(by_day.items())],
        best=best.slot if best else None,
        joinable=options.joinable,
        unavailable=options.unavailable_reason,
        carriers=carriers,
        current=current,
        slot_value=slot_value,
        error=error,
    )


@router.get("/portal/returns/{return_id}/slots")
def slots(web: BuyerPage, return_id: PathId) -> Response:
    return picker(web, return_id)


@router.post("/portal/returns/{return_id}/book")
def book(
    web: BuyerPost, return_id: PathId, slot: Annotated[str, Form(max_length=80)] = ""
) -> Response:
    """Book the chosen window, or move the current visit there if one is booked already."""
    svc = web.app.services
    try:
        choice = parse_slot(slot)
        current = returns.get_return(svc, return_id, buyer_id=web.actor_id).appointment_id
        if current:
            pickup.reschedule_pickup(svc, web.actor_id, current, choice)
        else:
            with counting_booking():
                pickup.book_pickup(svc, web.actor_id, return_id, choice)
    except DomainError as exc:
        status = 422 if isinstance(exc, InvalidInput) else 409
        return picker(web, return_id, error=web.error_text(exc), status=status)
    return see_other(web, f"/portal/returns/{return_id}")


@router.post("/portal/returns/{return_id}/join")
def join(
    web: BuyerPost, return_id: PathId, appointment_id: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Ride along on a visit already booked at the same address: no new window needed."""
    try:
        pickup.join_pickup(web.app.services, web.actor_id, return_id, appointment_id)
    except DomainError as exc:
        return picker(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/portal/returns/{return_id}")


@router.post("/portal/returns/{return_id}/cancel-pickup")
def cancel_pickup(web: BuyerPost, return_id: PathId) -> Response:
    """Cancel the booked visit; the return goes back to choosing a method."""
    svc = web.app.services
    try:
        current = returns.get_return(svc, return_id, buyer_id=web.actor_id).appointment_id
        if current:
            pickup.cancel_pickup(svc, web.actor_id, current)
    except DomainError as exc:
        return detail(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/portal/returns/{return_id}")
