"""Slot offering from the plan: offer only windows a courier can still keep, cheapest first.

A window is offered when the pickup can be inserted into some courier's tentative route with
every booked visit still inside its window (``planning.best_insertion``) and the window's
capacity count still has room. Windows whose insertion cost is well below the rest may carry
a small incentive ("green" windows), which steers demand towards routes that are already near.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from statistics import median

from doorstep.domain.address import Address
from doorstep.domain.calendar import HolidayCalendar
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.money import yuan
from doorstep.domain.pickup import BookingRules, SlotRef
from doorstep.domain.route import second_of_day
from doorstep.planning import Stop, TravelTimes
from doorstep.services.forecast import DemandForecast
from doorstep.services.offering import FixedCapacityOffering, OfferedSlot
from doorstep.services.ports import UnitOfWork
from doorstep.services.route import (
    SERVICE_BASE_S,
    SERVICE_PER_ITEM_S,
    SERVICE_PER_RETURN_S,
    RouteCache,
    area_location,
    candidate_couriers,
    cheapest,
    options,
    seat_cost,
)


def candidate_stop(where: tuple[float, float], slot: SlotRef) -> Stop:
    """A one-item pickup in ``slot`` at ``where``: what an offer is priced for."""
    return Stop(
        "candidate",
        where,
        second_of_day(slot.day, slot.starts_at),
        second_of_day(slot.day, slot.ends_at),
        SERVICE_BASE_S + SERVICE_PER_ITEM_S + SERVICE_PER_RETURN_S,
    )


@dataclass(frozen=True)
class IncentiveRules:
    """When a window is "green": its insertion costs at most ``cheap_pct`` % of the median
    window's and saves at least ``min_saving_s`` of driving; it then carries a coupon.

    ``green_within_s`` (0: off) bundles coupons: a window is green only when the pickup adds
    at most that much driving, i.e. a planned visit is already close by then.

    ``near_pct`` (0: off) bundles the offer itself: a window whose insertion costs more
    than ``near_pct`` % of the median window's is not shown at all, so every buyer (not only the coupon takers) books
    where a route already runs; the cheapest ``keep_at_least`` windows are always shown, and
    so is every window whose insertion adds at most ``show_within_s`` of driving (0: off):
    hiding a window that cheap saves little and may take a buyer's first choice away.

    ``future_pct`` (0: off) prices each window against the expected rest of the booking
    horizon, not only what is booked now: with ``more`` bookings still expected in the
    area and window (the forecast's total minus those booked), the insertion's extra
    driving is divided by ``1 + future_pct/100 * more``, the share a pickup would pay if the
    detour to a still-empty area were shared with those to come (``expected_cost``). What is
    hidden (``near_pct``, ``show_within_s``) and the order read that expected cost, so a
    buyer's first choice in an area that is still empty no longer looks like a detour to
    hide. Coupons stay on today's cost: they pay for a courier who is nearby now (with
    coupons on the expected cost too, tuning seeds 1–2 gave first choice +1.5 points over
    fixed capacity, against +4.5 for the live rules).
    Feasibility is untouched: a window is offered only where the route can take it now.

    ``coupon_gap_s`` (0: off) pays a coupon only where the saving is real: a coupon moves a
    buyer off a shown window that has none, so the green windows are cut back until every
    shown window without a coupon costs at least that much more driving than every green
    one. A buyer who follows a coupon then saves the route at least ``coupon_gap_s``; where
    the costs form a dense ladder nobody is pulled off a first choice that is nearly as cheap.

    ``coupon_per_min_fen`` (0: off, every coupon is ``coupon_fen``) sizes each coupon by the
    driving it saves: that many fen per minute the window's insertion costs less than the
    median window's, in whole ¥0.50 steps, at most ``coupon_fen``; a green window whose
    saving buys less than ¥0.50 carries none. A large coupon moves more buyers (the
    simulator's ``CouponResponse``), so it is spent where a move saves much and kept small
    where a buyer's own first choice costs nearly as little.

    ``likely_saving_s`` (0: off) aims each coupon at the buyer's likely first choice: with
    P(w) proportional to the forecast's expected bookings of each shown window ``w`` (the
    live forecast: the same area, weekday and window of past weeks), a green window ``g``
    keeps its coupon only when the buyers it can pull over (those whose likely first choice
    is another window of the same day within ``MOVE_WITHIN_H`` of it) save on average at
    least ``likely_saving_s`` of driving each: Σ P(w)·(cost(w) − cost(g)) / Σ P(w). Every
    such move costs a first choice, so a coupon whose likely alternatives are about as cheap
    buys nothing for it (``aimed_coupons``). A window that is itself the likely first choice
    of most of those buyers keeps a coupon only when it adds at most ``likely_saving_s`` of
    driving: its coupon is mostly paid to buyers who would book it anyway. Needs a forecast;
    without one the rule does nothing.

    ``reserve_s`` (0: off) keeps room for the first choices the forecast still expects. A
    window ``w`` (for this area) is *protected* when its room, the fewer of its remaining
    capacity and the couriers' routes that can still take a pickup here in it, is at or
    below the bookings the forecast still expects for it (expected minus booked,
    ``protected``): every seat a buyer who wanted another window takes there is then a seat a
    later buyer who wants ``w`` will not find (session 12: 9-13 first choices per seed lost to
    windows unroutable or full, against 2-6 to coupons). A protected window carries no coupon
    (a coupon only moves buyers whose first choice is elsewhere: those who want ``w`` book it
    anyway), and its cost for the order and for judging the coupons elsewhere is raised by
    ``reserve_s`` per expected booking beyond the room this booking leaves (``more - room +
    1``), so the windows around it turn green and pull those other buyers away. Never hidden
    for it: what is hidden reads the plain cost, so a buyer who wants ``w`` still sees it.
    A route counts as one seat although it may take more: the first pickup it takes in
    ``w`` moves its later stops, and a lower bound errs towards keeping room. A buyer whose
    own first choice is ``w`` loses nothing: ``w`` is still shown and a coupon never moved
    them. The offer cannot tell that buyer from the others (it knows the address, not the
    wanted time), and leaving out windows that are the likely first choice of most buyers
    near their time left 73 % of the protected windows unprotected in the simulator, where
    first choices gather on four windows of the day: exactly those that run out (session
    13, measured). Unlike ``future_pct`` (the expected rest of the day sharing a
    detour, which made empty areas look cheap) this prices nothing as cheaper: it only
    charges taking room that others are expected to need. Needs a forecast; without one the
    rule does nothing.

    ``wanted_saving_s`` (0: off) uses what the buyer said suits them (``wanted``, a moment
    asked before the windows are priced, "when suits you?"): their *stated first choice* is
    the routable window whose middle is nearest that moment (``stated_first_choice``). It is
    never hidden. Coupons stay on the green windows the other rules give, but only on those
    whose insertion costs at least ``wanted_saving_s`` less than the stated first choice's:
    a coupon there pulls this buyer off the window they asked for, and now the saving it
    buys is known for this buyer, not guessed from the forecast (sessions 10 and 12 could
    only guess it). When the stated first choice is itself green (near a route already), no
    window carries a coupon: a move would save at most ``green_within_s`` and cost a first
    choice, and a coupon on the window the buyer asked for pays for nothing. What it costs:
    every buyer who follows a coupon still loses their first choice (by at least the saving
    of driving), and a buyer who states nothing, or a time far from what they would pick, is
    served as without the rule or steered by a wrong first choice. The coupons it leaves
    are a subset of those without ``wanted``, so a booking's coupon check (which asks the
    offer again without it) honours them. Without ``wanted`` it does nothing.
    ``wanted_shown`` (1, the default: on) is the "never hidden" half: 0 leaves the stated
    first choice to the hiding rules, so the coupon half can be measured alone (session 14:
    the windows the rules hide are the dear ones, and a buyer shown theirs books it).

    Defaults: coupons (green at or below the median, within 10 minutes of driving) as picked
    in the second session; ``near_pct`` 150 and ``show_within_s`` 2400 picked by
    ``bench/slot_offering.py``'s own rule search on tuning seeds 1–5 (docs/benchmarks.md):
    on reporting seeds 101–120 km per pickup is 0.913 of fixed capacity (at the capacity
    tuned on the same seeds, 3), first choice +2.6 points on the mean, every pickup inside."""

    coupon_fen: int = 300
    cheap_pct: int = 100
    min_saving_s: int = 0
    near_pct: int = 150
    keep_at_least: int = 5
    green_within_s: int = 600
    show_within_s: int = 2400
    coupon_gap_s: int = 0
    future_pct: int = 0
    coupon_per_min_fen: int = 0
    likely_saving_s: int = 0
    reserve_s: int = 0
    wanted_saving_s: int = 0
    wanted_shown: int = 1

    def __post_init__(self) -> None:
        if self.coupon_fen < 0 or not 0 <= self.cheap_pct <= 100 or self.min_saving_s < 0:
            raise ValueError("incentive: coupon >= 0, cheap_pct 0–100, min_saving_s >= 0")
        if (
            not 0 <= self.near_pct <= 10_000
            or self.keep_at_least < 1
            or self.green_within_s < 0
            or self.show_within_s < 0
            or self.coupon_gap_s < 0
            or not 0 <= self.future_pct <= 10_000
            or not 0 <= self.coupon_per_min_fen <= 10_000
            or not 0 <= self.likely_saving_s <= 7200
            or not 0 <= self.reserve_s <= 7200
            or not 0 <= self.wanted_saving_s <= 7200
            or self.wanted_shown not in (0, 1)
        ):
            raise ValueError(
                "incentive: near_pct 0–10000 (0: off), keep_at_least >= 1, green_within_s >= 0,"
                " show_within_s >= 0, coupon_gap_s >= 0, future_pct 0–10000,"
                " coupon_per_min_fen 0–10000, likely_saving_s 0–7200, reserve_s 0–7200,"
                " wanted_saving_s 0–7200, wanted_shown 0 or 1"
            )


class PlannedOffering:
    """Route-aware offering; ``incentives=None`` offers from the plan without coupons."""

    route_aware = True

    def __init__(
        self,
        travel: TravelTimes,
        incentives: IncentiveRules | None = None,
        cache: RouteCache | None = None,
        forecast: DemandForecast | None = None,
    ) -> None:
        self.travel = travel
        self.incentives = incentives
        self.forecast = forecast
        self.capacity = FixedCapacityOffering()
        self.cache = cache if cache is not None else RouteCache()

    def offer(
        self,
        uow: UnitOfWork,
        calendar: HolidayCalendar,
        area: ServiceArea,
        address: Address,
        now: datetime,
        rules: BookingRules,
        wanted: datetime | None = None,
    ) -> list[OfferedSlot]:
        """Capacity-feasible windows that the routes can also absorb, ranked by cost;
        ``wanted``: when the buyer said suits them (read by ``wanted_saving_s`` only).

        Cost: two queries for the carrier's routes (versions, then only documents this
        process has not seen), then O(windows x routes x stops near the window)."""
        base = self.capacity.offer(uow, calendar, area, address, now, rules)
        if not base or area.lat is None:
            return base
        lat, lon = address.lat, address.lon
        where = (lat, lon) if lat is not None and lon is not None else area_location(area)
        groups: dict[str, list[OfferedSlot]] = defaultdict(list)
        for offered in base:
            if not area.served_by_company(offered.slot.carrier_id):
                groups[offered.slot.carrier_id].append(offered)
        fleet = uow.couriers.list()
        costed: list[tuple[int, OfferedSlot]] = []
        today: dict[SlotRef, int] = {}
        room: dict[SlotRef, int] = {}
        for carrier_id, windows in groups.items():
            couriers = candidate_couriers(fleet, area, carrier_id)
            days = sorted({w.slot.day for w in windows})
            on = options(self.cache, uow, self.travel, couriers, carrier_id, days, now)
            for offered in windows:
                found = on(offered.slot.day, candidate_stop(where, offered.slot))
                if found:
                    # Priced as the booking will seat it (a call-out counted the same way).
                    cost = seat_cost(cheapest(found, rules.call_out_s), rules.call_out_s)
                    today[offered.slot] = cost
                    room[offered.slot] = min(offered.remaining, len(found))
                    costed.append((self._priced(uow, cost, offered), offered))
        costed.sort(key=lambda pair: (pair[0], pair[1].slot.starts_at, pair[1].slot.carrier_id))
        priced = self.incentives is not None and self.incentives.future_pct > 0
        expected = self._likely(uow, costed)
        ranked = rank(
            costed,
            self.incentives,
            today if priced and self.forecast else None,
            expected,
            self._reserved(costed, room, expected),
            wanted,
        )
        # A courier company plans its own couriers: its windows stand on capacity alone.
        company = [o for o in base if area.served_by_company(o.slot.carrier_id)]
        return ranked + [replace(o, rank=len(ranked) + i) for i, o in enumerate(company)]

    def _likely(
        self, uow: UnitOfWork, costed: list[tuple[int, OfferedSlot]]
    ) -> dict[SlotRef, float] | None:
        """Expected bookings of each costed window, when the rules aim coupons at the likely
        first choice or keep room for it (no read otherwise; the live forecast keeps past
        days' counts)."""
        rules = self.incentives
        if rules is None or self.forecast is None:
            return None
        if not rules.likely_saving_s and not rules.reserve_s:
            return None
        return {o.slot: self.forecast.expected_bookings(uow, o.slot) for _, o in costed}

    def _reserved(
        self,
        costed: list[tuple[int, OfferedSlot]],
        room: Mapping[SlotRef, int],
        expected: Mapping[SlotRef, float] | None,
    ) -> dict[SlotRef, int] | None:
        """The reservation price of each protected window (``IncentiveRules.reserve_s``), or
        None when the rule is off or there is no forecast."""
        rules = self.incentives
        if rules is None or not rules.reserve_s or expected is None:
            return None
        return reservations(costed, room, expected, rules.reserve_s)

    def _priced(self, uow: UnitOfWork, extra_s: int, offered: OfferedSlot) -> int:
        """The window's extra driving, against the expected rest of the horizon when the
        rules ask for it and a forecast is wired (no read otherwise)."""
        rules = self.incentives
        if rules is None or not rules.future_pct or self.forecast is None:
            return extra_s
        booked = offered.capacity - offered.remaining
        more = max(0.0, self.forecast.expected_bookings(uow, offered.slot) - booked)
        return expected_cost(extra_s, more, rules.future_pct)


def expected_cost(extra_s: int, more: float, future_pct: int) -> int:
    """Extra driving per pickup once ``more`` expected bookings share the detour, counted
    at ``future_pct`` %: a route that drives to an empty area for one pickup drives there
    once for the ``1 + more`` the window is expected to hold."""
    if extra_s <= 0 or more <= 0 or future_pct <= 0:
        return extra_s
    return round(extra_s * 100 / (100 + future_pct * more))


def protected(booked: int, room: int, expected: float) -> float:
    """Expected bookings of a window beyond the room a booking there leaves (> 0: the
    window is protected): ``expected - booked`` still to come against ``room - 1``."""
    more = max(0.0, expected - booked)
    if room > more:
        return 0.0
    return more - room + 1


def reservations(
    costed: list[tuple[int, OfferedSlot]],
    room: Mapping[SlotRef, int],
    expected: Mapping[SlotRef, float],
    reserve_s: int,
) -> dict[SlotRef, int]:
    """Reservation price (seconds) of each protected window, ``reserve_s`` per expected
    booking beyond its room (at least 1 s: a protected window is marked even at a price
    that rounds to nothing)."""
    priced: dict[SlotRef, int] = {}
    for _, o in costed:
        beyond = protected(o.capacity - o.remaining, room[o.slot], expected.get(o.slot, 0.0))
        if beyond > 0:
            priced[o.slot] = max(1, round(reserve_s * beyond))
    return priced


def _by_cost(pairs: Iterable[tuple[int, OfferedSlot]]) -> list[tuple[int, OfferedSlot]]:
    return sorted(
        pairs, key=lambda pair: (pair[0], pair[1].slot.starts_at, pair[1].slot.carrier_id)
    )


def rank(
    costed: list[tuple[int, OfferedSlot]],
    rules: IncentiveRules | None,
    actual: Mapping[SlotRef, int] | None = None,
    likely: Mapping[SlotRef, float] | None = None,
    reserve: Mapping[SlotRef, int] | None = None,
    wanted: datetime | None = None,
) -> list[OfferedSlot]:
    """The windows to show, cheapest first, from (extra driving s, window) pairs sorted by
    cost: those ``rules`` hide dropped, coupons on the green ones, ranks renumbered.

    ``actual`` (when the costs are priced against the expected rest of the horizon): each
    window's extra driving against today's routes. Coupons are judged on it, since a coupon
    pays for a courier who is nearby now; what is hidden and the order follow ``costed``.

    ``likely``: expected bookings per window (the forecast), for ``likely_saving_s``.

    ``reserve``: the reservation price of each protected window (``reserve_s``): added to
    its cost for the order and the coupons, never for what is hidden; it carries no coupon.

    ``wanted``: when the buyer said suits them, for ``wanted_saving_s``: the stated first
    choice is never hidden and coupons must save against it."""
    stated = None
    if rules is not None and rules.wanted_saving_s and wanted is not None:
        stated = stated_first_choice([o.slot for _, o in costed], wanted)
    typical = median(cost for cost, _ in costed) if costed else 0
    reserved_typical: float = 0
    if reserve:
        # Coupons are judged against the median window with the reservation prices charged.
        every = actual if actual is not None else {o.slot: cost for cost, o in costed}
        reserved_typical = median(cost + reserve.get(slot, 0) for slot, cost in every.items())
    if rules is not None and rules.near_pct:
        # ``costed`` is cheapest first and every test is monotone in cost: a prefix is kept.
        costed = [
            pair
            for i, pair in enumerate(costed)
            if i < rules.keep_at_least
            or pair[0] * 100 <= typical * rules.near_pct
            or pair[0] <= rules.show_within_s
            or (pair[1].slot == stated and rules.wanted_shown)
        ]
    if actual is None:
        judged, judged_typical = costed, typical
    else:
        judged = sorted(
            ((actual[o.slot], o) for _, o in costed),
            key=lambda pair: (pair[0], pair[1].slot.starts_at, pair[1].slot.carrier_id),
        )
        judged_typical = median(actual.values()) if actual else 0
    if reserve:
        costed = _by_cost((cost + reserve.get(o.slot, 0), o) for cost, o in costed)
        judged = _by_cost((cost + reserve.get(o.slot, 0), o) for cost, o in judged)
        judged_typical = reserved_typical
    coupons: dict[SlotRef, int] = {}
    if rules is not None:
        for cost, o in judged[: green_count(judged, judged_typical, rules)]:
            coupons[o.slot] = coupon_for(rules, judged_typical - cost)
        if rules.likely_saving_s and likely is not None:
            aimed = aimed_coupons(judged, likely, rules.likely_saving_s)
            coupons = {slot: fen for slot, fen in coupons.items() if slot in aimed}
        if reserve:
            coupons = {slot: fen for slot, fen in coupons.items() if slot not in reserve}
        if stated is not None:
            coupons = saving_coupons(coupons, judged, stated, rules.wanted_saving_s)
    ranked = []
    for position, (_, offered) in enumerate(costed):
        coupon = coupons.get(offered.slot, 0)
        if coupon:
            offered = replace(
                offered,
                incentive_fen=coupon,
                note_en=f"A courier is already nearby then: ¥{yuan(coupon)} coupon.",
                note_zh=f"该时段快递员就在附近，送 ¥{yuan(coupon)} 优惠券。",
            )
        ranked.append(replace(offered, rank=position))
    return ranked


# Coupons sized by saving come in whole ¥0.50 steps: a buyer reads ¥1.50, not ¥1.37.
COUPON_STEP_FEN = 50


def coupon_for(rules: IncentiveRules, saving_s: float) -> int:
    """The coupon of a green window whose insertion costs ``saving_s`` less than the median
    window's: ``coupon_fen``, or by the saving when ``coupon_per_min_fen`` is set (0: none)."""
    if not rules.coupon_per_min_fen:
        return rules.coupon_fen
    by_saving = int(max(0.0, saving_s) * rules.coupon_per_min_fen // 60)
    return min(rules.coupon_fen, by_saving // COUPON_STEP_FEN * COUPON_STEP_FEN)


def green_count(
    costed: list[tuple[int, OfferedSlot]], typical: float, rules: IncentiveRules | None
) -> int:
    """How many of the shown windows (cheapest first) carry a coupon: a prefix, since every
    test is monotone in cost."""
    if rules is None or len(costed) < 2:
        return 0
    greens = 0
    for cost, _ in costed:
        if not (
            cost * 100 <= typical * rules.cheap_pct
            and typical - cost >= rules.min_saving_s
            and (not rules.green_within_s or cost <= rules.green_within_s)
        ):
            break
        greens += 1
    if rules.coupon_gap_s:
        # Cut back to a step of at least the gap: below it a coupon saves that much per move.
        while (
            0 < greens < len(costed)
            and costed[greens][0] - costed[greens - 1][0] < rules.coupon_gap_s
        ):
            greens -= 1
    return greens


# A coupon moves a buyer a few hours on the same day, not across the day: the simulated
# buyer accepts windows up to 3 h further from their ideal than their first choice
# (``SimParams.tolerance_h``), and a day later weighs 6 h. Alternatives further away are
# not the first choices a coupon on the window can pull buyers off.
MOVE_WITHIN_H = 3.0


def _middle_h(slot: SlotRef) -> float:
    start, end = slot.window.start, slot.window.end
    return (start.hour * 60 + start.minute + end.hour * 60 + end.minute) / 120


def likely_saving(
    green: SlotRef, costs: Mapping[SlotRef, int], likely: Mapping[SlotRef, float]
) -> tuple[float, float] | None:
    """Mean driving saved per buyer a coupon on ``green`` pulls off their likely first choice,
    and the share of nearby buyers whose likely first choice is ``green`` itself; None when
    the forecast expects nobody near it. ``costs``: the shown windows' extra driving."""
    here = _middle_h(green)
    near = [
        slot
        for slot in costs
        if slot.day == green.day and abs(_middle_h(slot) - here) <= MOVE_WITHIN_H
    ]
    weights = {slot: max(0.0, likely.get(slot, 0.0)) for slot in near}
    total = sum(weights.values())
    others = total - weights.get(green, 0.0)
    if total <= 0:
        return None
    if others <= 0:
        return (0.0, 1.0)
    saved = sum(w * (costs[s] - costs[green]) for s, w in weights.items() if s != green)
    return (saved / others, weights.get(green, 0.0) / total)


def aimed_coupons(
    judged: list[tuple[int, OfferedSlot]], likely: Mapping[SlotRef, float], min_saving_s: int
) -> set[SlotRef]:
    """The shown windows a coupon may sit on when aimed at the likely first choice: those
    whose likely alternatives cost at least ``min_saving_s`` more on average, and, if most
    nearby buyers want the window anyway, which add at most ``min_saving_s`` themselves.
    With no forecast at all for the shown windows every window weighs the same (no
    information is not a reason to pay nobody)."""
    costs = {o.slot: cost for cost, o in judged}
    if not any(likely.get(slot, 0.0) > 0 for slot in costs):
        likely = dict.fromkeys(costs, 1.0)
    aimed = set()
    for slot, cost in costs.items():
        found = likely_saving(slot, costs, likely)
        if found is None:
            continue
        saving, own = found
        if saving >= min_saving_s and (own <= 0.5 or cost <= min_saving_s):
            aimed.add(slot)
    return aimed


def stated_first_choice(windows: Iterable[SlotRef], wanted: datetime) -> SlotRef | None:
    """The window whose middle is nearest the moment the buyer wants (earlier, then carrier
    id, on a tie): what they asked for among those shown to be routable."""

    def key(slot: SlotRef) -> tuple[float, datetime, str]:
        middle = slot.starts_at + (slot.ends_at - slot.starts_at) / 2
        return (abs((middle - wanted).total_seconds()), slot.starts_at, slot.carrier_id)

    return min(windows, key=key, default=None)


def saving_coupons(
    coupons: Mapping[SlotRef, int],
    judged: list[tuple[int, OfferedSlot]],
    stated: SlotRef,
    min_saving_s: int,
) -> dict[SlotRef, int]:
    """The coupons left when the buyer stated a first choice (``wanted_saving_s``): none if
    it carries one itself (it is cheap), else those on windows costing at least
    ``min_saving_s`` less than it."""
    if stated in coupons:
        return {}
    costs = {o.slot: cost for cost, o in judged}
    if stated not in costs:
        return dict(coupons)
    return {
        slot: fen
        for slot, fen in coupons.items()
        if costs[stated] - costs.get(slot, costs[stated]) >= min_saving_s
    }
