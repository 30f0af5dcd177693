"""Legs priced at the hours they can be driven (time buckets), not one hour for the whole day.

PyVRP takes one duration per arc, so a time-dependent model is approximated per arc: the leg
into a stop is driven between an hour before its window opens (couriers leave for a visit
close to its window) and the window's close, so it is priced at the slowest hour in that
range. A morning leg then costs morning traffic while an evening leg still costs the evening
peak: promises hold wherever the real speed over the range is at least the slowest one.
Depots and other non-stop destinations (the way home) keep the whole day's slowest hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from doorstep.planning.travel import Location, TravelMatrix, TravelTimes

DAY_S = 86_400
# How long before a window opens the leg into it may start.
LEAD_S = 3600


def hours(lo_s: int, hi_s: int) -> range:
    """Whole hours touched by the seconds ``lo_s``..``hi_s`` (clamped to one day)."""
    lo = max(0, min(lo_s, DAY_S - 1)) // 3600
    hi = max(0, min(hi_s, DAY_S - 1)) // 3600
    return range(lo, max(lo, hi) + 1)


def bucketed_matrix(
    travel: TravelTimes,
    locations: Sequence[Location],
    arrive_between: Sequence[tuple[int, int] | None],
    not_before_s: int = 0,
) -> TravelMatrix:
    """Durations into each location at the slowest hour it may be reached in; distances as
    usual. ``arrive_between[j]`` is (earliest, latest) second of arrival at location ``j``,
    or None when any hour of the day is possible; nobody drives before ``not_before_s``
    (the earliest shift start)."""
    n = len(locations)
    if n == 0:
        return travel.matrix(locations, 0)
    columns: dict[range, list[int]] = defaultdict(list)
    for j, span in enumerate(arrive_between):
        wanted = (
            range(0, 24) if span is None else hours(max(span[0] - LEAD_S, not_before_s), span[1])
        )
        columns[wanted].append(j)
    needed = sorted({h for wanted in columns for h in wanted})
    at_hour = {h: travel.matrix(locations, h * 3600) for h in needed}
    durations = np.zeros((n, n), dtype=np.int64)
    for wanted, cols in columns.items():
        stacked = np.stack([at_hour[h].durations[:, cols] for h in wanted])
        durations[:, cols] = stacked.max(axis=0)
    return TravelMatrix(durations, at_hour[needed[0]].distances)
