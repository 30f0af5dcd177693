"""Travel pricing: haversine with detour at city speeds, and given matrices."""

from __future__ import annotations

import numpy as np
import pytest

from doorstep.planning import CitySpeeds, HaversineTravel, MatrixTravel

PEOPLES_SQUARE = (31.2304, 121.4737)
LUJIAZUI = (31.2397, 121.4998)


def test_haversine_distance_is_symmetric_and_detoured() -> None:
    matrix = HaversineTravel().matrix([PEOPLES_SQUARE, LUJIAZUI], depart_second=11 * 3600)
    straight_m = 2670  # about 2.67 km as the crow flies
    assert matrix.distances[0, 0] == 0
    assert matrix.distances[0, 1] == matrix.distances[1, 0]
    assert abs(matrix.distances[0, 1] - 1.3 * straight_m) < 60


def test_rush_hour_is_slower_than_midday_and_night() -> None:
    travel = HaversineTravel()
    pair = [PEOPLES_SQUARE, LUJIAZUI]
    rush = travel.matrix(pair, 8 * 3600).durations[0, 1]
    midday = travel.matrix(pair, 11 * 3600).durations[0, 1]
    night = travel.matrix(pair, 23 * 3600).durations[0, 1]
    assert rush > midday > night
    assert CitySpeeds().kmh_at(18 * 3600 + 59 * 60) == CitySpeeds().peak_kmh


def test_parameters_check_their_values() -> None:
    with pytest.raises(ValueError, match="detour_factor"):
        HaversineTravel(detour_factor=0.5)
    with pytest.raises(ValueError, match="peak_kmh"):
        CitySpeeds(peak_kmh=0)
    with pytest.raises(ValueError, match=r"0\.\.24"):
        CitySpeeds(peaks=((7, 25),))


def test_matrix_travel_picks_sub_matrices_and_rejects_strangers() -> None:
    d = np.array([[0, 5, 9], [5, 0, 4], [9, 4, 0]], dtype=np.int64)
    travel = MatrixTravel(points=((0.0, 0.0), (1.0, 0.0), (2.0, 0.0)), durations=d, distances=d)
    sub = travel.matrix([(2.0, 0.0), (0.0, 0.0)], depart_second=0)
    assert sub.durations.tolist() == [[0, 9], [9, 0]]
    with pytest.raises(ValueError, match="not in the travel matrix"):
        travel.matrix([(7.0, 7.0)], depart_second=0)
    with pytest.raises(ValueError, match="negative"):
        MatrixTravel(
            points=((0.0, 0.0),), durations=-np.ones((1, 1), np.int64), distances=d[:1, :1]
        )
