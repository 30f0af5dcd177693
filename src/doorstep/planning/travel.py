"""Travel times between locations: the port the planner asks, and two implementations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

Location = tuple[float, float]
"""(lat, lon) in degrees for city use; planar (x, y) when an explicit matrix is given."""

IntMatrix = npt.NDArray[np.int64]

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class TravelMatrix:
    """Square matrices over a list of locations: seconds and metres (or benchmark units)."""

    durations: IntMatrix
    distances: IntMatrix

    def __post_init__(self) -> None:
        if self.durations.shape != self.distances.shape:
            raise ValueError("durations and distances must have the same shape")
        if self.durations.ndim != 2 or self.durations.shape[0] != self.durations.shape[1]:
            raise ValueError("travel matrices must be square")
        if (self.durations < 0).any() or (self.distances < 0).any():
            raise ValueError("travel matrices must not be negative")


class TravelTimes(Protocol):
    """Port: anything that can price travel between locations leaving at a given second."""

    def matrix(self, locations: Sequence[Location], depart_second: int) -> TravelMatrix:
        """Return durations (s) and distances for every ordered pair of `locations`."""
        ...

    def between(
        self, origin: Location, points: Sequence[Location], depart_second: int
    ) -> tuple[list[int], list[int]]:
        """Seconds from each of `points` to `origin`, and from `origin` to each: O(points)."""
        ...


@dataclass(frozen=True)
class CitySpeeds:
    """Average door-to-door speeds in km/h by time of day; peaks are half-open hour ranges."""

    off_peak_kmh: float = 25.0
    peak_kmh: float = 15.0
    night_kmh: float = 35.0
    peaks: tuple[tuple[int, int], ...] = ((7, 9), (17, 19))
    night: tuple[int, int] = (22, 6)

    def __post_init__(self) -> None:
        for name in ("off_peak_kmh", "peak_kmh", "night_kmh"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive speed, got {value!r}")
        for start, end in (*self.peaks, self.night):
            if not (0 <= start <= 24 and 0 <= end <= 24):
                raise ValueError(f"hour ranges must lie in 0..24, got ({start}, {end})")

    def kmh_at(self, second_of_day: int) -> float:
        """Speed that applies when leaving at `second_of_day` (taken modulo one day)."""
        hour = (second_of_day % 86_400) // 3600
        if any(start <= hour < end for start, end in self.peaks):
            return self.peak_kmh
        night_start, night_end = self.night
        in_night = (
            night_start <= hour or hour < night_end
            if night_start > night_end
            else night_start <= hour < night_end
        )
        return self.night_kmh if in_night else self.off_peak_kmh


@dataclass(frozen=True)
class HaversineTravel:
    """Great-circle distance times a detour factor, at the city speed of the departure hour.

    A stand-in until a road network adapter exists; the detour factor (1.3 by default) is the
    usual ratio of road to straight-line distance in dense cities.
    """

    detour_factor: float = 1.3
    speeds: CitySpeeds = field(default_factory=CitySpeeds)
    # Metres per second by hour of day: candidate pricing asks for several hours per
    # candidate, and the speed rules are the same for every call.
    _mps: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.detour_factor) and self.detour_factor >= 1.0):
            raise ValueError(f"detour_factor must be >= 1, got {self.detour_factor!r}")
        mps = tuple(self.speeds.kmh_at(h * 3600) / 3.6 for h in range(24))
        object.__setattr__(self, "_mps", mps)

    def matrix(self, locations: Sequence[Location], depart_second: int) -> TravelMatrix:
        """Haversine metres × detour, and seconds at the speed for `depart_second`."""
        if not locations:
            empty = np.zeros((0, 0), dtype=np.int64)
            return TravelMatrix(empty, empty.copy())
        coords = np.radians(np.asarray(locations, dtype=np.float64))
        lat, lon = coords[:, 0:1], coords[:, 1:2]
        dlat = lat - lat.T
        dlon = lon - lon.T
        a = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin(dlon / 2) ** 2
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        road_m = metres * self.detour_factor
        metres_per_s = self.speeds.kmh_at(depart_second) / 3.6
        distances = np.rint(road_m).astype(np.int64)
        durations = np.rint(road_m / metres_per_s).astype(np.int64)
        return TravelMatrix(durations=durations, distances=distances)

    def between(
        self, origin: Location, points: Sequence[Location], depart_second: int
    ) -> tuple[list[int], list[int]]:
        """One row of `matrix` (the great circle is symmetric, so both ways are equal)."""
        seconds = self.between_many(origin, points, [depart_second])[0].tolist()
        return seconds, list(seconds)

    def between_many(
        self, origin: Location, points: Sequence[Location], depart_seconds: Sequence[int]
    ) -> IntMatrix:
        """Seconds between ``origin`` and each of ``points`` (either way) for each departure
        second, one row per second: the great circle is computed once for all of them.
        ``points`` may be an (n, 2) array, which a caller asking often converts once."""
        if len(points) == 0:
            return np.zeros((len(depart_seconds), 0), dtype=np.int64)
        lat0, lon0 = np.radians(origin[0]), np.radians(origin[1])
        coords = np.radians(np.asarray(points, dtype=np.float64))
        dlat = coords[:, 0] - lat0
        dlon = coords[:, 1] - lon0
        a = np.sin(dlat / 2) ** 2 + np.cos(coords[:, 0]) * np.cos(lat0) * np.sin(dlon / 2) ** 2
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        metres_per_s = np.asarray([self._mps[(s % 86_400) // 3600] for s in depart_seconds])
        road = metres * self.detour_factor
        out: IntMatrix = np.rint(road[None, :] / metres_per_s[:, None]).astype(np.int64)
        return out


@dataclass(frozen=True, eq=False)
class MatrixTravel:
    """Given matrices over known points (benchmarks, precomputed road networks).

    Locations are looked up by exact coordinates; points that share coordinates must share
    rows, which holds for any matrix derived from the coordinates.
    """

    points: tuple[Location, ...]
    durations: IntMatrix
    distances: IntMatrix
    _index: dict[Location, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        TravelMatrix(self.durations, self.distances)
        if self.durations.shape[0] != len(self.points):
            raise ValueError("matrix size must equal the number of points")
        index: dict[Location, int] = {}
        for i, point in enumerate(self.points):
            index.setdefault(point, i)
        object.__setattr__(self, "_index", index)

    def matrix(self, locations: Sequence[Location], depart_second: int) -> TravelMatrix:
        """Sub-matrix for `locations`; the departure time does not matter here."""
        try:
            rows = np.fromiter((self._index[loc] for loc in locations), dtype=np.int64)
        except KeyError as exc:
            raise ValueError(f"location {exc.args[0]!r} is not in the travel matrix") from None
        pick = np.ix_(rows, rows)
        return TravelMatrix(self.durations[pick], self.distances[pick])

    def between(
        self, origin: Location, points: Sequence[Location], depart_second: int
    ) -> tuple[list[int], list[int]]:
        """The origin's column and row, restricted to `points`."""
        try:
            o = self._index[origin]
            rows = [self._index[p] for p in points]
        except KeyError as exc:
            raise ValueError(f"location {exc.args[0]!r} is not in the travel matrix") from None
        return self.durations[rows, o].tolist(), self.durations[o, rows].tolist()
