"""How a simulated buyer picks a pickup window from what they are shown.

A buyer has an ideal moment (a day and a time of day). Their first choice is the window,
among all that could still be booked at that moment, closest to it; a policy that does not
show it forces them onto the next best window they still accept, or loses them. A share of
buyers follow a coupon to an acceptable window a little further from their ideal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from doorstep.domain.clock import local
from doorstep.domain.pickup import SlotRef
from doorstep.services.offering import OfferedSlot
from doorstep.simulation.demand import Request

# A day later than wanted weighs as much as six hours off the wanted time of day.
HOURS_PER_DAY_OFF = 6.0


@dataclass(frozen=True)
class Choice:
    slot: OfferedSlot
    first_choice: bool
    incentive: bool


def distance_h(slot: SlotRef, request: Request) -> float:
    """How far a window is from what the buyer wants, in hours-equivalent."""
    wanted_day: date = local(request.at).date() + timedelta(days=request.preferred_day_offset)
    middle = (slot.window.start.hour * 60 + slot.window.start.minute) / 60
    end = (slot.window.end.hour * 60 + slot.window.end.minute) / 60
    middle = (middle + end) / 2
    days_off = abs((slot.day - wanted_day).days)
    return abs(middle - request.preferred_hour) + HOURS_PER_DAY_OFF * days_off


def _key(slot: SlotRef, request: Request) -> tuple[float, date, str, str]:
    return (distance_h(slot, request), slot.day, slot.window.start.isoformat(), slot.carrier_id)


def first_choice(open_windows: Sequence[SlotRef], request: Request) -> SlotRef | None:
    """The bookable window nearest the buyer's ideal, whatever the policy offers."""
    return min(open_windows, key=lambda s: _key(s, request), default=None)


def choose(
    offered: Sequence[OfferedSlot],
    ideal: SlotRef | None,
    request: Request,
    tolerance_h: float,
) -> Choice | None:
    """The window the buyer books, or None when nothing shown is acceptable to them."""
    if ideal is None or not offered:
        return None
    limit = distance_h(ideal, request) + tolerance_h
    acceptable = sorted(
        (o for o in offered if distance_h(o.slot, request) <= limit),
        key=lambda o: _key(o.slot, request),
    )
    if not acceptable:
        return None
    if request.takes_incentive:
        green = [o for o in acceptable if o.incentive_fen > 0]
        if green:
            return Choice(green[0], green[0].slot == ideal, True)
    best = acceptable[0]
    return Choice(best, best.slot == ideal, False)
