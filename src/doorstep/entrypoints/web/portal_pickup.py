"""Buyer: the pickup window picker; booking, joining, moving and cancelling a visit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from doorstep.adapters.observability.metrics import counting_booking
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.identity import Role
from doorstep.entrypoints.web import queries
from doorstep.entrypoints.web.forms import (
    PathId,
    QueryText,
    parse_slot,
    slot_value,
    with_handover,
)
from doorstep.entrypoints.web.i18n import N_, day_formatter
from doorstep.entrypoints.web.portal import detail
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import pickup, returns
from doorstep.services.offering import OfferedSlot

router = APIRouter(route_class=WebRoute, include_in_schema=False)
BuyerPage = Annotated[Web, Depends(page(Role.BUYER))]
BuyerPost = Annotated[Web, Depends(action(Role.BUYER))]


DAY_NAMES = (N_("Today"), N_("Tomorrow"), N_("Day after tomorrow"))


@dataclass(frozen=True)
class Pick:
    """A window as the picker lists it."""

    offered: OfferedSlot
    value: str
    carrier: str
    why: str  # the reason it is recommended, or "" when it is not
    current: bool


def picker(
    web: Web,
    return_id: str,
    *,
    error: str | None = None,
    status: int = 200,
    day: str = "",
    wanted: str = "",
) -> Response:
    """Day tabs over a compact list of windows; at most two recommended, each with the
    reason; the window booked now is marked when moving a visit. ``wanted``: the time of
    day the buyer said suits them ("HH:MM", on the ``day`` shown, else today), which
    re-asks the offer with it; a bad one shows the offer without it and says why."""
    svc = web.app.services
    request = returns.get_return(svc, return_id, buyer_id=web.actor_id)
    moment = None
    if wanted:
        try:
            moment = _wanted_moment(day, wanted, local(svc.clock.now()).date())
            options = pickup.pickup_options(svc, web.app.offering, web.actor_id, return_id, moment)
        except InvalidInput as exc:
            error, status, wanted, moment = web.error_text(exc), 422, "", None
    if moment is None:
        options = pickup.pickup_options(svc, web.app.offering, web.actor_id, return_id)
    current = (
        pickup.get_appointment(svc, request.appointment_id, buyer_id=web.actor_id)
        if request.appointment_id
        else None
    )
    carriers = {c.carrier_id: web.text(c.name_zh, c.name_en) for c in queries.carriers(svc)}
    why = _recommendations(web, options.slots)
    by_day: dict[date, list[Pick]] = defaultdict(list)
    # People scan a day by the clock: time order inside a day, whatever the ranking.
    for o in sorted(options.slots, key=lambda o: (o.slot.starts_at, o.slot.carrier_id)):
        value = _value(o)
        by_day[o.slot.day].append(
            Pick(
                o,
                value,
                carriers.get(o.slot.carrier_id, o.slot.carrier_id.upper()),
                why.get(value, ""),
                current is not None and current.slot == o.slot,
            )
        )
    days = sorted(by_day)
    today = local(svc.clock.now()).date()
    chosen = next((d for d in days if d.isoformat() == day), None)
    if chosen is None and current is not None and current.slot.day in by_day:
        chosen = current.slot.day
    if chosen is None and days:
        chosen = days[0]
    fmt = day_formatter(web.lang)

    def tab_name(d: date) -> str:
        ahead = (d - today).days
        return web._(DAY_NAMES[ahead]) if 0 <= ahead < len(DAY_NAMES) else fmt(d)

    coupons = {o.incentive_fen for o in options.slots}
    return render(
        web,
        "portal_slots.html",
        status=status,
        here=f"/portal/returns/{return_id}/slots"
        + (f"?day={chosen.isoformat()}" if chosen else ""),
        r=request,
        tabs=[(d, tab_name(d), fmt(d), len(by_day[d])) for d in days],
        chosen=chosen,
        picks=by_day.get(chosen, []) if chosen else [],
        recommended=[p for d in days for p in by_day[d] if p.why],
        # A coupon on every window is no reason to pick one: said once, not on each window.
        coupon_everywhere=next(iter(coupons)) if len(coupons) == 1 and 0 not in coupons else 0,
        joinable=options.joinable,
        unavailable=options.unavailable_reason,
        current=current,
        error=error,
        wanted=wanted,
    )


def _wanted_moment(day: str, wanted: str, today: date) -> datetime:
    """The moment a buyer picked on the page: ``wanted`` ("HH:MM") on ``day`` (ISO, else
    today), Shanghai time; the service checks the quarter hour and the horizon."""
    try:
        at = time.fromisoformat(wanted)
        on = date.fromisoformat(day) if day else today
    except ValueError:
        raise InvalidInput(
            "wanted_not_a_time",
            "Choose the time that suits you as HH:MM.",
            "请按 时:分 选择希望上门的时间。",
        ) from None
    return datetime.combine(on, at, tzinfo=SHANGHAI)


def _recommendations(web: Web, offered: Sequence[OfferedSlot]) -> dict[str, str]:
    """At most two windows worth pointing at: the one the routes keep best (a courier is
    nearby), and the soonest one when that is another."""
    if len(offered) < 2:
        return {}
    out: dict[str, str] = {}
    best = min(offered, key=lambda o: o.rank)
    soonest = min(offered, key=lambda o: (o.slot.starts_at, o.rank))
    out[_value(best)] = web.text(best.note_zh, best.note_en) or web._(
        "A courier is nearby then, so this visit is the most likely to be on time."
    )
    if soonest is not best:
        out[_value(soonest)] = web._("The soonest window: the parcel leaves earliest.")
    return out


def _value(o: OfferedSlot) -> str:
    return slot_value(o.slot.carrier_id, o.slot.day, o.slot.window.start, o.incentive_fen)


@router.get("/portal/returns/{return_id}/slots")
def slots(
    web: BuyerPage, return_id: PathId, day: QueryText = "", wanted: QueryText = ""
) -> Response:
    return picker(web, return_id, day=day, wanted=wanted)


@router.post("/portal/returns/{return_id}/book")
def book(
    web: BuyerPost,
    return_id: PathId,
    slot: Annotated[str, Form(max_length=80)] = "",
    handover: Annotated[str, Form(max_length=16)] = "in_person",
    handover_note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Book the chosen window, or move the current visit there if one is booked already."""
    svc = web.app.services
    try:
        choice = with_handover(parse_slot(slot), handover, handover_note)
        current = returns.get_return(svc, return_id, buyer_id=web.actor_id).appointment_id
        if current:
            pickup.reschedule_pickup(svc, web.actor_id, current, choice)
        else:
            with counting_booking():
                pickup.book_pickup(svc, web.actor_id, return_id, choice)
    except DomainError as exc:
        status = 422 if isinstance(exc, InvalidInput) else 409
        return picker(web, return_id, error=web.error_text(exc), status=status)
    return see_other(web, f"/portal/returns/{return_id}?done={'moved' if current else 'booked'}")


@router.post("/portal/returns/{return_id}/join")
def join(
    web: BuyerPost, return_id: PathId, appointment_id: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Ride along on a visit already booked at the same address: no new window needed."""
    try:
        pickup.join_pickup(web.app.services, web.actor_id, return_id, appointment_id)
    except DomainError as exc:
        return picker(web, return_id, error=web.error_text(exc), status=409)
    return see_other(web, f"/portal/returns/{return_id}?done=joined")


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
    return see_other(web, f"/portal/returns/{return_id}?done=pickup_cancelled")
