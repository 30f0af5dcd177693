"""Small hand-checkable problems on a plane: travel seconds = distance = Euclidean length."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from doorstep.planning import (
    Break,
    Courier,
    Depot,
    Location,
    MatrixTravel,
    PlanningProblem,
    Stop,
)

DAY = 86_400


def planar_travel(points: Sequence[Location]) -> MatrixTravel:
    unique = tuple(dict.fromkeys(points))
    matrix = np.array(
        [[round(math.dist(a, b)) for b in unique] for a in unique], dtype=np.int64
    ).reshape(len(unique), len(unique))
    return MatrixTravel(points=unique, durations=matrix, distances=matrix.copy())


def make_problem(
    stops: Sequence[Stop],
    couriers: Sequence[Courier] | None = None,
    depots: Sequence[Depot] = (Depot("D", (0.0, 0.0)),),
    extra: Sequence[Location] = (),
) -> PlanningProblem:
    if couriers is None:
        couriers = [courier("c1")]
    points: list[Location] = [d.location for d in depots]
    points += [c.start_location for c in couriers if c.start_location is not None]
    points += [s.location for s in stops]
    points += list(extra)
    return PlanningProblem(
        depots=list(depots),
        couriers=list(couriers),
        stops=list(stops),
        travel=planar_travel(points),
    )


def courier(
    cid: str,
    *,
    depot: str = "D",
    start: int = 0,
    end: int = DAY,
    weight: int = 100_000,
    volume: int = 100_000,
    rest: Break | None = None,
) -> Courier:
    return Courier(
        id=cid,
        depot_id=depot,
        shift_start_s=start,
        shift_end_s=end,
        capacity_weight_g=weight,
        capacity_volume_cm3=volume,
        rest=rest,
    )


def stop(
    sid: str,
    x: float,
    y: float = 0.0,
    *,
    earliest: int = 0,
    latest: int = DAY,
    service: int = 0,
    weight: int = 0,
    volume: int = 0,
    courier_id: str | None = None,
) -> Stop:
    return Stop(
        id=sid,
        location=(float(x), float(y)),
        earliest_s=earliest,
        latest_s=latest,
        service_s=service,
        weight_g=weight,
        volume_cm3=volume,
        courier_id=courier_id,
    )


class Builder:
    """Test data builders, handed out by the `build` fixture."""

    day = DAY
    problem = staticmethod(make_problem)
    courier = staticmethod(courier)
    stop = staticmethod(stop)
    travel = staticmethod(planar_travel)


@pytest.fixture
def build() -> Builder:
    return Builder()
