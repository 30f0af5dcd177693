"""Simulation parameters: one frozen dataclass that refuses nonsense at construction."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date

from doorstep.domain import bounds
from doorstep.services.planned_offering import IncentiveRules

POLICIES = (
    "fixed",
    "fixed_full",
    "planned",
    "planned_incentive",
    "planned_peak",
    "planned_timed",
)
# ``routing.TodayReplan``'s values, spelt out: the planner is not imported to read options.
REPLAN_TODAY = ("needed", "always", "never")

# Central districts that each have their own depot courier in the demo fleet, so every
# district's day is planned for exactly its own couriers (no courier is planned twice).
# Seeds feed random.Random and numpy's generators; beyond 2**32 - 1 numpy refuses them.
MAX_SEED = 2**32 - 1
DEFAULT_DISTRICTS = ("310104", "310106", "310110", "310107")


@dataclass(frozen=True)
class SimParams:
    """What the simulated week looks like and how buyers and couriers behave."""

    days: int = 7
    seed: int = 1
    start: date = date(2026, 11, 23)  # a Monday; no statutory holiday in the week
    districts: tuple[str, ...] = DEFAULT_DISTRICTS
    # None: couriers x pickups_per_courier_day. 16 is near full courier capacity: fixed
    # capacity then has to turn buyers away to keep its windows (12 was light: every policy
    # kept every window and accepted everyone; docs/benchmarks.md has the load sweep).
    requests_per_day: int | None = None
    pickups_per_courier_day: int = 16
    spread_km: float = 2.0  # standard deviation of addresses around the district centre
    not_home_share: float = 0.05
    incentive_take_share: float = 0.4  # of buyers follow a ¥3 coupon (choice.COUPON_REF_FEN)
    # Take-up grows with coupon size and saturates on this scale (choice.CouponResponse);
    # 0: size does not matter.
    coupon_scale_fen: int = 300
    tolerance_h: float = 3.0  # how far from their ideal window a buyer still accepts
    # Asked "when suits you?" (choice.Stating): the share who state a moment, and the normal
    # error in hours of what they state around their ideal (default: all, exactly).
    wanted_share: float = 1.0
    wanted_noise_h: float = 0.0
    travel_noise_sigma: float = 0.25  # lognormal sigma on each leg's driving time
    service_noise_sigma: float = 0.2  # lognormal sigma on time at the door
    solver_iterations: int = 300  # iterations, not seconds: a run must repeat for its seed
    # Every this many minutes after the 06:00 plan, every busy carrier-day from today to the
    # horizon is planned again, as the live worker does every minute (docs/deploy.md); 0: the
    # morning plan only, so later days' routes are built by insertion alone until their day.
    replan_every_min: int = 0
    # Capacity per window for the route-aware policies (None: the slot template's, 4 an SF
    # hour). They check every window against the routes, so the table need not be the limit;
    # fixed capacity takes its capacity from the run instead (``Scenario.run``).
    route_capacity: int | None = None
    # Which of today's carrier-days the replan_every_min sweeps re-plan (the later days they
    # always do), ``routing.TodayReplan``: "needed" as the live worker (before the couriers'
    # day begins, then only a day with a visit off every route), "always" (the worker to
    # session 15; ``--replan-today`` then), "never" (session 15's default).
    replan_today: str = "needed"
    # "HH:MM": at that time of the first day, the courier with the most open visits of the day
    # leaves the fleet (their account deleted, ``services/erasure.py``): the visits they had
    # not made go back to the pool and they drive home. None: nobody leaves.
    courier_leaves_at: str | None = None
    # The planned_incentive policy's rules (the live defaults unless a benchmark tunes them).
    incentives: IncentiveRules = field(default_factory=IncentiveRules)

    def __post_init__(self) -> None:
        if not 1 <= self.days <= 31:
            raise ValueError(f"days must be 1–31, got {self.days}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be 0–{MAX_SEED}, got {self.seed}")
        if not self.districts or len(set(self.districts)) != len(self.districts):
            raise ValueError("districts must be a non-empty list without repeats")
        if len(self.districts) > 32 or not all(bounds.is_adcode(d) for d in self.districts):
            raise ValueError("districts are at most 32 six-digit adcodes (ASCII digits)")
        if self.requests_per_day is not None and not 0 <= self.requests_per_day <= 5000:
            raise ValueError(f"requests_per_day must be 0–5000, got {self.requests_per_day}")
        if not 1 <= self.pickups_per_courier_day <= 60:
            raise ValueError("pickups_per_courier_day must be 1–60")
        for name in ("not_home_share", "incentive_take_share", "wanted_share"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")
        for name in (
            "spread_km",
            "tolerance_h",
            "travel_noise_sigma",
            "service_noise_sigma",
            "wanted_noise_h",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value <= 50.0):
                raise ValueError(f"{name} must be within [0, 50], got {value!r}")
        if not 0 <= self.coupon_scale_fen <= 100_000:
            raise ValueError(f"coupon_scale_fen must be 0–100000, got {self.coupon_scale_fen}")
        if not 1 <= self.solver_iterations <= 100_000:
            raise ValueError("solver_iterations must be 1–100000")
        if self.route_capacity is not None and not 0 <= self.route_capacity <= 10_000:
            raise ValueError(f"route_capacity must be 0–10000, got {self.route_capacity}")
        if self.replan_today not in REPLAN_TODAY:
            raise ValueError(f"replan_today must be one of {', '.join(REPLAN_TODAY)}")
        if self.courier_leaves_at is not None and leave_minute(self.courier_leaves_at) is None:
            raise ValueError(f"courier_leaves_at must be HH:MM, got {self.courier_leaves_at!r}")
        if not 0 <= self.replan_every_min <= 1440:
            raise ValueError(f"replan_every_min must be 0–1440, got {self.replan_every_min}")

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, for the report's ``params``."""
        out = asdict(self)
        out["start"] = self.start.isoformat()
        out["districts"] = list(self.districts)
        return out


def leave_minute(text: str) -> int | None:
    """Minutes after midnight of an "HH:MM" time of day (ASCII digits), or None."""
    hours, sep, minutes = text.partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2 and (hours + minutes).isascii()):
        return None
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return int(hours) * 60 + int(minutes)
