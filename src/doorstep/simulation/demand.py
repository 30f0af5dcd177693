"""Synthetic return requests: how many per day, when in the day, where, what and why.

Pure and seeded: the same parameters give the same requests, so every policy of a comparison
faces exactly the same demand.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.returns import Reason
from doorstep.simulation.params import SimParams

# Returns peak after the weekend (Monday) and on the weekend itself; mid-week is quieter.
# Indexed by weekday (Monday = 0); the mean is 1 so the weekly total matches the daily base.
DAY_WEIGHTS = (1.25, 1.0, 0.9, 0.85, 0.9, 1.0, 1.1)

# Requests by hour of day: a late-morning and a strong evening peak (people file returns
# after work), almost nothing at night.
HOUR_WEIGHTS = (
    0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 1.0, 1.4, 1.7, 1.6,
    1.3, 1.2, 1.2, 1.2, 1.2, 1.3, 1.5, 1.8, 2.1, 2.2, 1.7, 0.9,
)  # fmt: skip

# Mostly "seven days without reason"; the rest are seller-fault reasons.
REASON_MIX: tuple[tuple[Reason, float], ...] = (
    (Reason.NO_REASON, 0.75),
    (Reason.QUALITY, 0.10),
    (Reason.NOT_AS_DESCRIBED, 0.08),
    (Reason.WRONG_ITEM, 0.04),
    (Reason.DAMAGED_ON_ARRIVAL, 0.03),
)

# Domestic, pickup-friendly SKUs of the demo catalogue, weighted by how often they come back.
PRODUCT_MIX: tuple[tuple[str, float], ...] = (
    ("CN-RUNNING-SHOES-42", 0.35),
    ("CN-LATEX-PILLOW", 0.25),
    ("CN-BLOCKS-CASTLE", 0.2),
    ("CN-PICTURE-BOOKS-10", 0.2),
)

# Day part the buyer would like the courier to come (hour of the ideal window's middle).
DAY_PARTS: tuple[tuple[float, float], ...] = ((10.0, 0.3), (13.0, 0.2), (16.0, 0.25), (19.5, 0.25))
# Which day the buyer would like: as soon as possible, tomorrow, the day after.
DAY_OFFSETS: tuple[tuple[int, float], ...] = ((0, 0.35), (1, 0.45), (2, 0.2))

KM_PER_DEGREE_LAT = 111.32

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """One buyer who will file a return, and how they will behave."""

    index: int
    at: datetime  # when the return is opened (Shanghai time)
    adcode: str
    lat: float
    lon: float
    sku: str
    reason: Reason
    preferred_day_offset: int
    preferred_hour: float
    at_home: bool  # whether the buyer is in when the courier rings
    # Uniform in [0, 1): the buyer follows a coupon whose take-up share
    # (``choice.CouponResponse``) is above it, to a window they also accept.
    coupon_draw: float

    @property
    def buyer_id(self) -> str:
        return f"sim-buyer-{self.index:05d}"

    @property
    def order_id(self) -> str:
        return f"SIM-{self.index:05d}"


def daily_counts(params: SimParams, base: float) -> list[int]:
    """Requests per simulated day: the base shaped by weekday, rounded."""
    return [
        round(base * DAY_WEIGHTS[(params.start + timedelta(days=d)).weekday()])
        for d in range(params.days)
    ]


def _pick(rng: random.Random, mix: Sequence[tuple[T, float]]) -> T:
    values = [v for v, _ in mix]
    weights = [w for _, w in mix]
    return rng.choices(values, weights)[0]


def generate(
    params: SimParams,
    centres: Mapping[str, tuple[float, float]],
    district_weights: Mapping[str, float],
    base: float,
) -> list[Request]:
    """All requests of the run in time order; ``centres`` and weights are per district."""
    rng = random.Random(params.seed)
    districts = sorted(district_weights)
    weights = [district_weights[d] for d in districts]
    out: list[Request] = []
    for day_index, count in enumerate(daily_counts(params, base)):
        day = params.start + timedelta(days=day_index)
        midnight = datetime.combine(day, time.min, tzinfo=SHANGHAI)
        seconds = sorted(
            rng.choices(range(24), HOUR_WEIGHTS)[0] * 3600 + rng.randrange(3600)
            for _ in range(count)
        )
        for second in seconds:
            adcode = rng.choices(districts, weights)[0]
            lat0, lon0 = centres[adcode]
            sd_lat = params.spread_km / KM_PER_DEGREE_LAT
            sd_lon = sd_lat / math.cos(math.radians(lat0))
            out.append(
                Request(
                    index=len(out),
                    at=midnight + timedelta(seconds=second),
                    adcode=adcode,
                    lat=round(rng.gauss(lat0, sd_lat), 6),
                    lon=round(rng.gauss(lon0, sd_lon), 6),
                    sku=_pick(rng, PRODUCT_MIX),
                    reason=_pick(rng, REASON_MIX),
                    preferred_day_offset=_pick(rng, DAY_OFFSETS),
                    preferred_hour=_pick(rng, DAY_PARTS),
                    at_home=rng.random() >= params.not_home_share,
                    coupon_draw=rng.random(),
                )
            )
    return out
