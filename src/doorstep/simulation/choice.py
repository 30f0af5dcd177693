"""How a simulated buyer picks a pickup window from what they are shown.

A buyer has an ideal moment (a day and a time of day). Their first choice is the window,
among all that could still be booked at that moment, closest to it; a policy that does not
show it forces them onto the next best window they still accept, or loses them. A share of
buyers follow a coupon to an acceptable window a little further from their ideal; how large
a share depends on the coupon's size (``CouponResponse``). Asked "when suits you?" before
the windows are priced, a buyer states their ideal moment, exactly or not (``Stating``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.pickup import WANTED_STEP_MIN, BookingRules, SlotRef
from doorstep.services.offering import OfferedSlot
from doorstep.simulation.demand import Request

# A day later than wanted weighs as much as six hours off the wanted time of day.
HOURS_PER_DAY_OFF = 6.0
# The coupon size at which ``SimParams.incentive_take_share`` is stated: the live default.
COUPON_REF_FEN = 300


@dataclass(frozen=True)
class CouponResponse:
    """Which share of buyers follow a coupon of a given size (to a window they accept).

    ``share`` follow one of ``ref_fen``; the share grows with the size and saturates:
    take-up(c) = share * (1 - exp(-c / scale_fen)) / (1 - exp(-ref_fen / scale_fen)), at
    most 1. With ``scale_fen`` 300 and share 0.4 at ¥3: ¥1.50 moves 0.25, ¥6 moves 0.55,
    ¥10 moves 0.61. A buyer follows a coupon when their ``Request.coupon_draw`` is below its
    take-up, so a buyer who follows a small coupon also follows a larger one. ``scale_fen``
    0: any coupon moves ``share`` (the model before the fifth session, where size could not
    be measured)."""

    share: float = 0.4
    ref_fen: int = COUPON_REF_FEN
    scale_fen: int = 300

    def take_up(self, coupon_fen: int) -> float:
        """Share of buyers who follow a coupon of ``coupon_fen``."""
        if coupon_fen <= 0:
            return 0.0
        if self.scale_fen <= 0 or self.ref_fen <= 0:
            return self.share
        grow = 1 - math.exp(-coupon_fen / self.scale_fen)
        return min(1.0, self.share * grow / (1 - math.exp(-self.ref_fen / self.scale_fen)))


@dataclass(frozen=True)
class Stating:
    """How buyers answer "when suits you?": ``share`` of them state a moment (the rest say
    nothing), their ideal moment moved by a normal error of ``noise_h`` hours (0: exactly).
    Drawn from a stream of its own per buyer (``seed``), so the demand and every other draw
    stay those of the seed whatever the knobs."""

    share: float = 1.0
    noise_h: float = 0.0
    seed: int = 0

    def wanted(self, request: Request, now: datetime, rules: BookingRules) -> datetime | None:
        """The moment this buyer states, on the quarter hour and inside the booking horizon
        (a portal offers no other), or None when they state nothing."""
        if self.share <= 0:
            return None
        rng = random.Random(f"wanted:{self.seed}:{request.index}")
        says, error = rng.random(), rng.gauss(0.0, 1.0)
        if says >= self.share:
            return None
        day = local(request.at).date() + timedelta(days=request.preferred_day_offset)
        hours = request.preferred_hour + self.noise_h * error
        step = WANTED_STEP_MIN * 60
        at = datetime.combine(day, time.min, tzinfo=SHANGHAI)
        at += timedelta(seconds=round(hours * 3600 / step) * step)
        wall = local(now)
        first = wall.replace(second=0, microsecond=0) + timedelta(
            minutes=-wall.minute % WANTED_STEP_MIN
        )
        last_day = wall.date() + timedelta(days=rules.horizon_days - 1)
        last = datetime.combine(last_day, time(23, 60 - WANTED_STEP_MIN), tzinfo=SHANGHAI)
        return min(max(at, first), last)


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
    response: CouponResponse | None = None,
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
    response = response or CouponResponse()
    green = [o for o in acceptable if request.coupon_draw < response.take_up(o.incentive_fen)]
    if green:
        return Choice(green[0], green[0].slot == ideal, True)
    best = acceptable[0]
    return Choice(best, best.slot == ideal, False)
