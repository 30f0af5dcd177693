"""Legs priced at the hours they are driven: a travel profile in hour buckets.

A courier leaves for a visit so as to ring near the window's start (or at once, when late),
so the leg into a stop is driven between ``lead_s`` before its window opens and the window's
close. (Not clamped to the courier's shift start: the day plan prices legs for all couriers
in one matrix, and a booking must be priced exactly as the plan that referees it, or the plan
drops what booking promised. A first window of the day may so cost the morning peak.) That leg is priced at the slowest bucket of
the day in that range: a morning leg costs morning traffic while a leg that may run into the
evening peak still costs the peak, and every promise holds wherever the real speed over the
range is at least the slowest one. Legs into the depot (the way home) keep the whole day's
slowest bucket.

One rule for every part of the system: the day plan's matrix (``bucketed_matrix``), the legs
stored on a route (``TimedTravel.legs``) and the candidate legs a booking checks
(``TimedTravel.reach``). The price of a leg depends only on where it goes and that stop's
window, so the insertion slack (``planning.RouteSlack``) stays exact and O(stops).

For ETAs (not promises) ``TimedTravel.retime`` walks a route leg by leg at each leg's real
departure hour.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from doorstep.planning.travel import (
    HaversineTravel,
    Location,
    MatrixTravel,
    TravelMatrix,
    TravelTimes,
)

DAY_S = 86_400
# How long before a window opens the leg into it may start.
LEAD_S = 3600
# Legs off the day's slowest hours are priced this much above their bucket (never above the
# slowest bucket): real legs scatter around the profile, and evening-peak pricing used to give
# morning legs that room for free. Chosen on the simulator's tuning seeds (docs/benchmarks.md).
MARGIN = 1.2
# Every leg into a promised window is priced this many seconds longer still. A courier leaves
# for the first visit of a window just in time for the leg as it usually runs, so nothing
# covers that leg's delay but what the legs after it were priced above their real time: with
# a per-leg margin alone a slow first leg followed by short ones makes the last visit of a
# packed window late (seed 106, docs/benchmarks.md). A fixed reserve per leg makes the room
# grow with the number of legs driven before a visit, and any one leg running up to this
# much over its bucket is then absorbed by the next leg. Chosen on the tuning seeds.
RESERVE_S = 120
# The chain reserve (``TimedTravel.chain_slack``) is off unless these are set (from config):
# the relative standard deviation of one leg's drive time and of the time at a door, and the
# quantile (in standard deviations) a promise must hold at.
LEG_SD = 0.0
DOOR_SD = 0.0
CHAIN_Z = 0.0
# Whether a leg is priced only at the hours it can really be driven in (``price_seconds``):
# it leaves before its window closes (so not at the closing hour), and never before the
# window of the stop it leaves opens (service there begins no earlier). Off: the whole
# range from ``lead_s`` before the window opens to its close, whatever the leg leaves from.
DRIVEN_HOURS = False

Span = tuple[int, int] | None
"""(window start, window end) in seconds of the day of the stop a leg leads to; None: any hour."""

Reach = Callable[[Location, int, int], tuple[Sequence[int], Sequence[int]]]
IntVector = npt.NDArray[np.int64]
HourRows = dict[tuple[Location, Location], list[int]]
"""Drive seconds per departure hour for legs already walked (a memo for one request, or the
port's own, ``shared_rows``)."""
# How many legs ``shared_rows`` keeps before it starts again: a day's routes of a city's
# fleet walk a few tens of thousands; a row is 24 ints.
SHARED_ROWS_MAX = 50_000


def hours(lo_s: int, hi_s: int) -> range:
    """Whole hours touched by the seconds ``lo_s``..``hi_s`` (clamped to one day)."""
    lo = max(0, min(lo_s, DAY_S - 1)) // 3600
    hi = max(0, min(hi_s, DAY_S - 1)) // 3600
    return range(lo, max(lo, hi) + 1)


def profile_buckets(travel: TravelTimes) -> tuple[int, ...]:
    """First hour of each run of hours the port prices alike (its travel profile).

    City speeds change at a few hours of the day, so a leg needs one price per bucket it
    touches, not one per hour; a matrix does not depend on the hour at all. An unknown port
    is taken to change every hour."""
    if isinstance(travel, MatrixTravel):
        return (0,)
    if isinstance(travel, HaversineTravel):
        speeds = [travel.speeds.kmh_at(h * 3600) for h in range(24)]
        return tuple(h for h in range(24) if h == 0 or speeds[h] != speeds[h - 1])
    return tuple(range(24))


def slowest_seconds(travel: TravelTimes, buckets: tuple[int, ...]) -> tuple[int, ...]:
    """Departure seconds that together give the day's slowest leg between any two places:
    the slowest bucket where one speed applies to the whole city, every bucket otherwise."""
    if isinstance(travel, HaversineTravel):
        slowest = min(buckets, key=lambda h: travel.speeds.kmh_at(h * 3600))
        return (slowest * 3600,)
    return tuple(h * 3600 for h in buckets)


class ChainStep(NamedTuple):
    """One stop of a walk at real hours: when service begins, the delay quantile at the
    ring (0 without the chain reserve), and when the courier is free after it carrying
    which delay quantile."""

    begin: int
    late: int
    clock: int
    carried: float


def slack_of(steps: Sequence[ChainStep], windows: Sequence[tuple[int, int]]) -> list[int]:
    """Each step's seconds to its window's close at the delay quantile."""
    return [latest - s.begin - s.late for s, (_, latest) in zip(steps, windows, strict=True)]


@dataclass(frozen=True, eq=False)
class TimedTravel:
    """The travel port with legs priced per hour bucket at the hours they are driven.

    It answers ``matrix``/``between`` like the port it wraps (a leg leaving at a given second
    costs what that second costs), so whoever drives or re-times a route sees real traffic;
    services that price promises ask ``legs``/``reach`` instead of one peak price."""

    base: TravelTimes
    lead_s: int = LEAD_S
    margin: float = MARGIN
    reserve_s: int = RESERVE_S
    leg_sd: float = LEG_SD
    door_sd: float = DOOR_SD
    chain_z: float = CHAIN_Z
    driven_hours: bool = DRIVEN_HOURS
    buckets: tuple[int, ...] = field(init=False)
    slowest: tuple[int, ...] = field(init=False)
    _shared_rows: HourRows = field(init=False, repr=False)
    """Departure seconds whose slowest leg is the day's slowest for any pair (the ceiling)."""

    def __post_init__(self) -> None:
        if self.lead_s < 0:
            raise ValueError("lead_s must be >= 0")
        if not 1.0 <= self.margin <= 3.0:
            raise ValueError("margin must be within [1, 3]")
        if not 0 <= self.reserve_s <= self.lead_s:
            raise ValueError("reserve_s must be within [0, lead_s]")
        if not (0.0 <= self.leg_sd <= 1.0 and 0.0 <= self.door_sd <= 1.0):
            raise ValueError("leg_sd and door_sd must be within [0, 1]")
        if not 0.0 <= self.chain_z <= 5.0:
            raise ValueError("chain_z must be within [0, 5]")
        object.__setattr__(self, "buckets", profile_buckets(self.base))
        object.__setattr__(self, "_shared_rows", {})
        object.__setattr__(self, "slowest", slowest_seconds(self.base, self.buckets))

    def matrix(self, locations: Sequence[Location], depart_second: int) -> TravelMatrix:
        """The wrapped port's matrix for a departure at ``depart_second``."""
        return self.base.matrix(locations, depart_second)

    def between(
        self, origin: Location, points: Sequence[Location], depart_second: int
    ) -> tuple[list[int], list[int]]:
        """The wrapped port's vectors for a departure at ``depart_second``."""
        return self.base.between(origin, points, depart_second)

    def leaving(self, span: Span) -> int | None:
        """The earliest second a leg from a stop with window ``span`` leaves (None: any)."""
        return span[0] if self.driven_hours and span is not None else None

    def price_seconds(self, span: Span, after: int | None = None) -> tuple[int, ...]:
        """The first second of each profile bucket a leg into ``span`` may be driven in
        (a bucket prices every second in it alike). With ``driven_hours`` the leg leaves
        before ``span`` closes and not before ``after`` (``leaving`` of the stop it comes
        from); a leg that cannot leave in time at all keeps the hour its window closes in."""
        if span is None:
            return self.slowest
        lo, hi = span[0] - self.lead_s, span[1]
        if self.driven_hours:
            hi = max(span[0], span[1] - 1)
            if after is not None:
                lo = min(max(lo, after), hi)
        touched = hours(lo, hi)
        first = bisect_right(self.buckets, touched[0]) - 1
        last = bisect_right(self.buckets, touched[-1]) - 1
        return tuple(self.buckets[b] * 3600 for b in range(first, last + 1))

    def price(
        self,
        cost: Callable[[int], int],
        span: Span,
        margin: bool = True,
        after: int | None = None,
    ) -> int:
        """The slowest of ``cost(second)`` over the buckets a leg into ``span`` may be driven
        in, times the margin but never above the day's slowest bucket (what evening-peak
        pricing charges), plus the reserve (none for a leg of no length). A leg longer than the lead may be left for
        earlier still, so it costs the day's slowest bucket (never the case for a leg across
        a district). ``margin=False``: without margin and reserve (for ETAs, not promises).
        ``after``: the earliest the leg leaves (``leaving`` of the stop it comes from)."""
        worst = max(cost(s) for s in self.price_seconds(span, after))
        if span is None or worst == 0:
            return worst
        ceiling = max(cost(s) for s in self.slowest)
        if not margin:
            return ceiling if worst > self.lead_s else worst
        if worst > self.lead_s:
            return ceiling + self.reserve_s
        return min(math.ceil(worst * self.margin), ceiling) + self.reserve_s

    def legs(
        self, points: Sequence[Location], spans: Sequence[Span], first: Span = None
    ) -> list[int]:
        """Consecutive drive seconds along ``points``; ``spans[i]`` is the window of
        ``points[i + 1]`` and ``first`` that of ``points[0]`` (None: a depot or where the
        courier is), and each leg costs the slowest bucket it may be driven in."""
        if len(spans) != max(0, len(points) - 1):
            raise ValueError("one span per leg")
        origins = [first, *spans[:-1]]
        at: dict[int, list[list[int]]] = {}

        def durations(second: int) -> list[list[int]]:
            if second not in at:
                at[second] = self.base.matrix(list(points), second).durations.tolist()
            return at[second]

        def leg(i: int) -> Callable[[int], int]:
            return lambda second: durations(second)[i][i + 1]

        return [
            self.price(leg(i), span, after=self.leaving(origins[i])) for i, span in enumerate(spans)
        ]

    def reach(self, points: Sequence[Location], spans: Sequence[Span]) -> Callable[[Span], Reach]:
        """Candidate travel against a route's nodes ``points`` (``spans[k]``: node k's
        window): for a candidate window, a ``Reach`` giving the legs from each node to the
        candidate (priced by the candidate's window) and from the candidate to each node
        (priced by that node's window). Vectors are computed once per location for every
        bucket it needs, in one call to the port, and each node's price is one masked
        maximum over them. With ``driven_hours`` a leg from a node leaves no earlier than
        that node's window opens, and a leg from the candidate no earlier than its window."""
        seconds_of = cache(self.price_seconds)
        needed = sorted({s for span in spans for s in seconds_of(span)} | {*self.slowest})
        row = {s: i for i, s in enumerate(needed)}
        afters = [self.leaving(span) for span in spans]
        into_memo: dict[int | None, npt.NDArray[np.bool_]] = {}

        def into_nodes(after: int | None) -> npt.NDArray[np.bool_]:
            """mask[i, k]: a leg leaving no earlier than ``after`` into node k may be driven
            at needed[i] (the hours are a subset of those without ``after``)."""
            mask = into_memo.get(after)
            if mask is None:
                mask = into_memo[after] = np.zeros((len(needed), len(points)), dtype=bool)
                for k, span in enumerate(spans):
                    mask[[row[s] for s in seconds_of(span, after)], k] = True
            return mask

        from_nodes_memo: dict[Span, npt.NDArray[np.bool_]] = {}

        def from_nodes(span: Span) -> npt.NDArray[np.bool_]:
            """mask[i, k]: a leg from node k into ``span`` may be driven at the i-th second
            of ``seconds_of(span)``."""
            mask = from_nodes_memo.get(span)
            if mask is None:
                seconds = seconds_of(span)
                mask = from_nodes_memo[span] = np.zeros((len(seconds), len(points)), dtype=bool)
                for k, after in enumerate(afters):
                    mask[[seconds.index(s) for s in seconds_of(span, after)], k] = True
            return mask

        ceiling_rows = [row[s] for s in self.slowest]
        windowed = np.array([span is not None for span in spans], dtype=bool)
        # The port is asked once per candidate location for all the buckets any window of
        # this route may need, the route's own and every candidate window's.
        coords: Sequence[Location] = points
        if points and isinstance(self.base, HaversineTravel):
            coords = np.asarray(points, dtype=np.float64)  # type: ignore[assignment]
        at: dict[Location, dict[int, tuple[IntVector, IntVector]]] = {}
        from_memo: dict[tuple[Location, int | None], list[int]] = {}
        to_memo: dict[tuple[Location, Span], list[int]] = {}

        def vectors(u: Location, seconds: Sequence[int]) -> list[tuple[IntVector, IntVector]]:
            known = at.get(u)
            if known is None:
                wanted = sorted({*needed, *seconds})
                known = at[u] = dict(zip(wanted, self._vectors(u, coords, wanted), strict=True))
            missing = [s for s in seconds if s not in known]
            if missing:
                known.update(zip(missing, self._vectors(u, coords, missing), strict=True))
            return [known[s] for s in seconds]

        def from_all(u: Location, after: int | None) -> list[int]:
            found = from_memo.get((u, after))
            if found is None:
                rows = np.stack([back for _, back in vectors(u, needed)])
                worst = np.where(into_nodes(after), rows, 0).max(axis=0)
                ceiling = rows[ceiling_rows].max(axis=0)
                found = from_memo[(u, after)] = self._margined(worst, ceiling, windowed).tolist()
            return found

        def for_window(span: Span) -> Reach:
            seconds = seconds_of(span)
            both = [*seconds, *self.slowest]
            after = self.leaving(span)

            def reach(u: Location, lo: int, hi: int) -> tuple[list[int], list[int]]:
                to_u = to_memo.get((u, span))
                if to_u is None:
                    rows = np.stack([to for to, _ in vectors(u, both)])
                    worst = np.where(from_nodes(span), rows[: len(seconds)], 0).max(axis=0)
                    ceiling = rows[len(seconds) :].max(axis=0)
                    priced = self._margined(worst, ceiling, span is not None)
                    to_u = to_memo[(u, span)] = priced.tolist()
                return to_u[lo : hi + 1], from_all(u, after)[lo : hi + 1]

            return reach

        return for_window

    def _vectors(
        self, u: Location, points: Sequence[Location], seconds: Sequence[int]
    ) -> list[tuple[IntVector, IntVector]]:
        """Travel to and from ``u`` for each departure second: the port's batched form
        when it has one (the city model computes distances once), else one call each."""
        if isinstance(self.base, HaversineTravel):
            rows = self.base.between_many(u, points, seconds)
            return [(r, r) for r in rows]
        out = []
        for second in seconds:
            to_u, from_u = self.base.between(u, points, second)
            out.append((np.asarray(to_u, dtype=np.int64), np.asarray(from_u, dtype=np.int64)))
        return out

    def _margined(
        self, worst: IntVector, ceiling: IntVector, windowed: npt.NDArray[np.bool_] | bool
    ) -> IntVector:
        """``price`` for many legs at once: times the margin up to the ceiling (the ceiling
        for legs longer than the lead), plus the reserve where the leg leads to a window
        (``windowed``; a leg that may run at any hour already costs the ceiling) and goes
        somewhere (a stop at the same door is not driven to)."""
        margined = np.minimum(np.ceil(worst * self.margin).astype(np.int64), ceiling)
        priced = np.where(worst > self.lead_s, ceiling, margined)
        reserve = np.where(windowed & (worst > 0), self.reserve_s, 0)
        return np.asarray(priced + reserve, dtype=np.int64)

    @property
    def chained(self) -> bool:
        """Whether promises are also checked along the chain (``chain_slack``)."""
        return self.chain_z > 0 and (self.leg_sd > 0 or self.door_sd > 0)

    def retime(
        self,
        points: Sequence[Location],
        windows: Sequence[tuple[int, int]],
        service_s: Sequence[int],
        free_from_s: int,
        first_in_progress: bool = False,
        rows: HourRows | None = None,
    ) -> list[int]:
        """When service begins at each stop (``points[1:]``) if the courier leaves the
        start ``points[0]`` at ``free_from_s`` and drives each leg at its real departure
        hour, leaving late enough to ring at the window's start. For ETAs, not promises."""
        steps = self.chain_steps(points, windows, service_s, free_from_s, first_in_progress, rows)
        return [step.begin for step in steps]

    def chain_slack(
        self,
        points: Sequence[Location],
        windows: Sequence[tuple[int, int]],
        service_s: Sequence[int],
        free_from_s: int,
        first_in_progress: bool = False,
        rows: HourRows | None = None,
    ) -> list[int]:
        """Seconds each stop's ring, at the ``chain_z`` quantile of the delay gathered along
        the route, stays before its window closes (negative: the promise does not hold).

        The route is driven as in ``retime``. A delay grows along a chain of legs and doors
        with no idle time between them (variances add: ``leg_sd`` of each leg's drive,
        ``door_sd`` of each door's time), and idle time (waiting to leave, or at the door
        for the window to open) absorbs it: its quantile falls by the idle seconds. So a
        visit after four back-to-back legs needs more room than one after a wait, which a
        reserve per leg cannot express (docs/benchmarks.md, seed 106)."""
        steps = self.chain_steps(points, windows, service_s, free_from_s, first_in_progress, rows)
        return slack_of(steps, windows)

    def chain_steps(
        self,
        points: Sequence[Location],
        windows: Sequence[tuple[int, int]],
        service_s: Sequence[int],
        free_from_s: int,
        first_in_progress: bool = False,
        rows: HourRows | None = None,
        carried: float = 0.0,
        settle: Sequence[ChainStep] = (),
    ) -> list[ChainStep]:
        """The walk behind ``chain_slack``, one step per stop, from a courier free at
        ``free_from_s`` at ``points[0]`` carrying a delay quantile of ``carried`` s.
        ``settle``: the steps of the same stops after the first one as walked before (a
        route before an insertion at its head); once a step leaves the courier as free and
        as late as before, the rest is taken from there instead of walked again."""
        rows = {} if rows is None else rows
        z = self.chain_z if self.chained else 0.0
        out: list[ChainStep] = []
        clock = free_from_s
        late = carried  # the chain_z quantile of the delay carried, in seconds
        for i, (earliest, _latest) in enumerate(windows):
            if i == 0 and first_in_progress:
                begin = clock
            else:
                seconds = self._by_hour(points[i], points[i + 1], rows)
                # Leave early enough to ring at the window's start whatever bucket the leg
                # falls in, or at once when already late.
                slowest = self._lead(seconds, earliest)
                depart = max(clock, earliest - slowest)
                drive = seconds(depart)
                arrive = depart + drive
                begin = max(arrive, earliest)
                if z:
                    late = math.hypot(max(0.0, late - (depart - clock)), z * self.leg_sd * drive)
                    late = max(0.0, late - (begin - arrive))
            at_ring = math.ceil(late)
            if z:
                late = math.hypot(late, z * self.door_sd * service_s[i])
            clock = begin + service_s[i]
            out.append(ChainStep(begin, at_ring, clock, late))
            if 1 <= i <= len(settle):
                before = settle[i - 1]
                if before.clock == clock and before.carried == late:
                    return [*out, *settle[i:]]
        return out

    def lead(self, a: Location, b: Location, earliest_s: int, rows: HourRows | None = None) -> int:
        """Seconds before ``earliest_s`` a walk (``chain_steps``) leaves ``a`` to ring at
        ``b`` when its window opens: the leg as the courier is taken to drive it."""
        return self._lead(self._by_hour(a, b, {} if rows is None else rows), earliest_s)

    def shared_rows(self) -> HourRows:
        """A memo of legs' hourly drive times shared by every request of this process (a
        leg's row is a function of its two ends only, for the city model); it starts again
        past ``SHARED_ROWS_MAX`` legs. Walks along the same booked stops, which every offer
        re-checks, then price each leg once."""
        return self._shared_rows

    def _lead(self, seconds: Callable[[int], int], earliest_s: int) -> int:
        return self.price(seconds, (earliest_s, earliest_s), False)

    def _by_hour(self, a: Location, b: Location, rows: HourRows) -> Callable[[int], int]:
        """Seconds from ``a`` to ``b`` by departure second. The city model gives all 24
        hours from one great circle (re-timing a route at booking asks a few per leg);
        ``rows`` keeps them for the caller's next walk along the same legs."""
        if isinstance(self.base, HaversineTravel):
            row = rows.get((a, b))
            if row is None:
                if len(rows) >= SHARED_ROWS_MAX:
                    rows.clear()
                hourly = self.base.between_many(a, [b], range(0, DAY_S, 3600))[:, 0].tolist()
                row = rows[(a, b)] = [int(x) for x in hourly]
            return lambda second: row[(second % DAY_S) // 3600]
        return partial(self._seconds, a, b)

    def _seconds(self, a: Location, b: Location, second: int) -> int:
        return int(self.base.between(a, [b], second % DAY_S)[1][0])


def chain_keeps(before: Sequence[int], after: Sequence[int], position: int) -> bool:
    """Whether inserting a visit at ``position`` keeps the route's promises under the chain
    reserve: ``before``/``after`` are ``TimedTravel.chain_slack`` of the route without and
    with it. The new visit must hold, and no other visit may fall below zero or, when it
    was already below (the courier running late today), below what it had."""
    rest = [*after[:position], *after[position + 1 :]]
    return after[position] >= 0 and all(n >= min(0, o) for n, o in zip(rest, before, strict=True))


def bucketed_matrix(
    travel: TravelTimes, locations: Sequence[Location], arrive_between: Sequence[Span]
) -> TravelMatrix:
    """Durations into each location at the slowest bucket it may be reached in; distances
    as usual. ``arrive_between[j]`` is location ``j``'s window, or None when any hour of the
    day is possible (with ``driven_hours`` a leg from location ``i`` leaves no earlier than
    its window opens: give a location with several stops the earliest of their windows)."""
    timed = travel if isinstance(travel, TimedTravel) else TimedTravel(travel)
    n = len(locations)
    if n == 0:
        return timed.base.matrix(locations, 0)
    rows_after: dict[int | None, list[int]] = defaultdict(list)
    for i, span in enumerate(arrive_between):
        rows_after[timed.leaving(span)].append(i)
    blocks: dict[tuple[int, ...], list[tuple[list[int], list[int]]]] = defaultdict(list)
    for after, rows in rows_after.items():
        columns: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for j, span in enumerate(arrive_between):
            columns[timed.price_seconds(span, after)].append(j)
        for wanted, cols in columns.items():
            blocks[wanted].append((rows, cols))
    needed = sorted({s for wanted in blocks for s in wanted})
    at_second = {s: timed.base.matrix(locations, s) for s in needed}
    durations = np.zeros((n, n), dtype=np.int64)
    for wanted, parts in blocks.items():
        for rows, cols in parts:
            pick = np.ix_(rows, cols)
            stacked = np.stack([at_second[s].durations[pick] for s in wanted])
            durations[pick] = stacked.max(axis=0)
    whole_day = np.stack([timed.base.matrix(locations, s).durations for s in timed.slowest])
    windowed = np.array([span is not None for span in arrive_between], dtype=bool)
    durations = timed._margined(durations, whole_day.max(axis=0), windowed[np.newaxis, :])
    return TravelMatrix(durations, at_second[needed[0]].distances)
