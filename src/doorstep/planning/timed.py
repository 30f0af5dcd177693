"""Legs priced at the hours they are driven: a travel profile in hour buckets.

A courier leaves for a visit so as to ring near the window's start (or at once, when late),
so the leg into a stop is driven between ``lead_s`` before its window opens (never before the
courier's shift starts) and the window's close. That leg is priced at the slowest bucket of
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

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

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

Span = tuple[int, int] | None
"""(window start, window end) in seconds of the day of the stop a leg leads to; None: any hour."""

Reach = Callable[[Location, int, int], tuple[Sequence[int], Sequence[int]]]


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


@dataclass(frozen=True, eq=False)
class TimedTravel:
    """The travel port with legs priced per hour bucket at the hours they are driven.

    It answers ``matrix``/``between`` like the port it wraps (a leg leaving at a given second
    costs what that second costs), so whoever drives or re-times a route sees real traffic;
    services that price promises ask ``legs``/``reach`` instead of one peak price."""

    base: TravelTimes
    lead_s: int = LEAD_S
    buckets: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        if self.lead_s < 0:
            raise ValueError("lead_s must be >= 0")
        object.__setattr__(self, "buckets", profile_buckets(self.base))

    def matrix(self, locations: Sequence[Location], depart_second: int) -> TravelMatrix:
        """The wrapped port's matrix for a departure at ``depart_second``."""
        return self.base.matrix(locations, depart_second)

    def between(
        self, origin: Location, points: Sequence[Location], depart_second: int
    ) -> tuple[list[int], list[int]]:
        """The wrapped port's vectors for a departure at ``depart_second``."""
        return self.base.between(origin, points, depart_second)

    def price_seconds(self, span: Span, not_before_s: int = 0) -> tuple[int, ...]:
        """One departure second per profile bucket a leg into ``span`` may be driven in."""
        touched = (
            range(24)
            if span is None
            else hours(max(span[0] - self.lead_s, not_before_s), max(span[1], not_before_s))
        )
        first = bisect_right(self.buckets, touched[0]) - 1
        last = bisect_right(self.buckets, touched[-1]) - 1
        return tuple(max(self.buckets[b], touched[0]) * 3600 for b in range(first, last + 1))

    def legs(
        self, points: Sequence[Location], spans: Sequence[Span], not_before_s: int = 0
    ) -> list[int]:
        """Consecutive drive seconds along ``points``; ``spans[i]`` is the window of
        ``points[i + 1]``, and each leg costs the slowest bucket it may be driven in."""
        if len(spans) != max(0, len(points) - 1):
            raise ValueError("one span per leg")
        at: dict[int, list[list[int]]] = {}
        out = []
        for i, span in enumerate(spans):
            worst = 0
            for second in self.price_seconds(span, not_before_s):
                if second not in at:
                    at[second] = self.base.matrix(list(points), second).durations.tolist()
                worst = max(worst, at[second][i][i + 1])
            out.append(worst)
        return out

    def reach(
        self, points: Sequence[Location], spans: Sequence[Span], not_before_s: int = 0
    ) -> Callable[[Span], Reach]:
        """Candidate travel against a route's nodes ``points`` (``spans[k]``: node k's
        window): for a candidate window, a ``Reach`` giving the legs from each node to the
        candidate (priced by the candidate's window) and from the candidate to each node
        (priced by that node's window). Vectors are computed once per location and bucket."""
        nodes = [self.price_seconds(s, not_before_s) for s in spans]
        memo: dict[tuple[Location, int], tuple[list[int], list[int]]] = {}

        def vectors(u: Location, second: int) -> tuple[list[int], list[int]]:
            found = memo.get((u, second))
            if found is None:
                found = memo[(u, second)] = self.base.between(u, points, second)
            return found

        def for_window(span: Span) -> Reach:
            into_u = self.price_seconds(span, not_before_s)

            def reach(u: Location, lo: int, hi: int) -> tuple[list[int], list[int]]:
                to_u = [max(vectors(u, s)[0][k] for s in into_u) for k in range(lo, hi + 1)]
                from_u = [max(vectors(u, s)[1][k] for s in nodes[k]) for k in range(lo, hi + 1)]
                return to_u, from_u

            return reach

        return for_window

    def retime(
        self,
        points: Sequence[Location],
        windows: Sequence[tuple[int, int]],
        service_s: Sequence[int],
        free_from_s: int,
        first_in_progress: bool = False,
    ) -> list[int]:
        """When service begins at each stop (``points[1:]``) if the courier leaves the
        start ``points[0]`` at ``free_from_s`` and drives each leg at its real departure
        hour, leaving late enough to ring at the window's start. For ETAs, not promises."""
        begins: list[int] = []
        clock = free_from_s
        for i, (earliest, _latest) in enumerate(windows):
            if i == 0 and first_in_progress:
                begin = clock
            else:
                a, b = points[i], points[i + 1]
                # Leave early enough to ring at the window's start whatever bucket the leg
                # falls in (a leg is shorter than ``lead_s``), or at once when already late.
                slowest = max(
                    self._seconds(a, b, s) for s in self.price_seconds((earliest, earliest))
                )
                depart = max(clock, earliest - slowest)
                begin = max(depart + self._seconds(a, b, depart), earliest)
            begins.append(begin)
            clock = begin + service_s[i]
        return begins

    def _seconds(self, a: Location, b: Location, second: int) -> int:
        return int(self.base.between(a, [b], second % DAY_S)[1][0])


def bucketed_matrix(
    travel: TravelTimes,
    locations: Sequence[Location],
    arrive_between: Sequence[Span],
    not_before_s: int = 0,
) -> TravelMatrix:
    """Durations into each location at the slowest bucket it may be reached in; distances
    as usual. ``arrive_between[j]`` is location ``j``'s window, or None when any hour of the
    day is possible; nobody drives before ``not_before_s`` (the earliest shift start)."""
    timed = travel if isinstance(travel, TimedTravel) else TimedTravel(travel)
    n = len(locations)
    if n == 0:
        return timed.base.matrix(locations, 0)
    columns: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for j, span in enumerate(arrive_between):
        columns[timed.price_seconds(span, not_before_s)].append(j)
    needed = sorted({s for wanted in columns for s in wanted})
    at_second = {s: timed.base.matrix(locations, s) for s in needed}
    durations = np.zeros((n, n), dtype=np.int64)
    for wanted, cols in columns.items():
        stacked = np.stack([at_second[s].durations[:, cols] for s in wanted])
        durations[:, cols] = stacked.max(axis=0)
    return TravelMatrix(durations, at_second[needed[0]].distances)
