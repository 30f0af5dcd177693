"""Counting what happened in a run and turning the counts into the figures compared."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from doorstep.simulation.eta import EtaLog


@dataclass(frozen=True)
class LateVisit:
    """A visit rung after its window closed (or before it opened)."""

    appointment_id: str
    courier_id: str
    window: str  # "YYYY-MM-DD HH:MM-HH:MM", local time
    booked_at: str  # local "YYYY-MM-DD HH:MM"
    rung_at: str  # local "YYYY-MM-DD HH:MM"
    minutes_out: float  # past the close (negative: before the opening)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class Tally:
    """Raw counts of one run; ``kpis`` derives the shares from them."""

    requests: int = 0
    approved: int = 0
    offered: int = 0  # approved requests shown at least one window
    accepted: int = 0  # booked a window
    first_choice: int = 0
    incentive_taken: int = 0
    # Coupons on the windows booked, whoever booked them: a buyer whose first choice carries
    # one is paid it too (what the incentive costs, not only what it moves).
    coupon_fen: int = 0
    visits: int = 0  # first attempts made at the door
    inside_window: int = 0
    completed: int = 0
    not_home: int = 0
    missed: int = 0  # booked, never visited in the simulated period
    driven_m: int = 0
    courier_seconds: int = 0
    request_to_pickup_min: list[float] = field(default_factory=list)
    # Each visit rung outside its window: what an engineer needs to find why (a promise the
    # pricing broke, or a booking inserted into a route it could not keep).
    late: list[LateVisit] = field(default_factory=list)
    eta: EtaLog = field(default_factory=EtaLog)


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def kpis(t: Tally) -> dict[str, object]:
    """The comparison figures (no wall-clock fields: a seed must give the same dict)."""
    due = t.visits + t.missed
    hours = t.courier_seconds / 3600
    return {
        # Of buyers whose return allows pickup, how many booked a window / got their ideal one.
        "accepted_share": _share(t.accepted, t.approved),
        "first_choice_share": _share(t.first_choice, t.approved),
        # Of booked visits due in the period (missed ones count as late).
        "inside_window_share": _share(t.inside_window, due),
        "first_attempt_success": _share(t.completed, due),
        "km_per_pickup": round(t.driven_m / 1000 / t.completed, 3) if t.completed else 0.0,
        "pickups_per_courier_hour": round(t.completed / hours, 3) if hours else 0.0,
        "request_to_pickup_minutes_median": (
            round(median(t.request_to_pickup_min), 1) if t.request_to_pickup_min else 0.0
        ),
        "incentive_share": _share(t.incentive_taken, t.accepted),
        "coupon_fen_per_booking": round(t.coupon_fen / t.accepted, 1) if t.accepted else 0.0,
        "eta_error": t.eta.summary(),
        "late_visits": [v.as_dict() for v in t.late],
        "counts": {
            "requests": t.requests,
            "approved": t.approved,
            "offered": t.offered,
            "accepted": t.accepted,
            "first_choice": t.first_choice,
            "incentive_taken": t.incentive_taken,
            "coupon_fen": t.coupon_fen,
            "visits": t.visits,
            "inside_window": t.inside_window,
            "completed": t.completed,
            "not_home": t.not_home,
            "missed": t.missed,
            "driven_km": round(t.driven_m / 1000, 2),
            "courier_hours": round(hours, 2),
        },
    }
