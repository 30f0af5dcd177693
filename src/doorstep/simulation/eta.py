"""How far the ETA a buyer is shown lands from the simulated arrival, by when it was shown.

Four moments (issue 11 §4): at booking (what the booking wrote), the evening before (20:00,
from the routes as they then stand), the morning of the day (right after the 06:00 plan) and
one stop before (when the courier is done with the previous stop and looks at the route for
the next one). Arrival is when the courier rings: the later of arriving and the window start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from doorstep.domain.fleet import Courier as FleetCourier
from doorstep.services.context import Services
from doorstep.services.route import expected_etas

HORIZONS = ("booking", "evening_before", "morning", "one_stop_before")


def route_etas(svc: Services, couriers: dict[str, FleetCourier], day: date) -> dict[str, datetime]:
    """Every open visit of ``day`` with the ETA a buyer would be told now: its route as it
    stands, re-timed at each leg's real hour (``services.route.expected_etas``)."""
    out: dict[str, datetime] = {}
    now = svc.clock.now()
    with svc.uow() as uow:
        routes = [(uow.routes.get(cid, day), fleet) for cid, fleet in sorted(couriers.items())]
    for route, fleet in routes:
        if route is not None:
            out.update(expected_etas(svc.travel, route, fleet, now))
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass
class EtaLog:
    """ETAs shown per visit and moment, and the arrival each visit really had."""

    shown: dict[str, dict[str, datetime]] = field(default_factory=dict)
    arrived: dict[str, datetime] = field(default_factory=dict)

    def show(self, appointment_id: str, horizon: str, eta: datetime | None) -> None:
        """Remember an ETA; the first one per moment counts (later looks are not new info)."""
        if eta is not None:
            self.shown.setdefault(appointment_id, {}).setdefault(horizon, eta)

    def arrive(self, appointment_id: str, at: datetime) -> None:
        self.arrived.setdefault(appointment_id, at)

    def errors_min(self) -> dict[str, list[float]]:
        """Absolute error in minutes per moment, over visits that were made."""
        out: dict[str, list[float]] = {h: [] for h in HORIZONS}
        for appointment_id, at in self.arrived.items():
            for horizon, eta in self.shown.get(appointment_id, {}).items():
                out[horizon].append(abs((at - eta).total_seconds()) / 60)
        return out

    def summary(self) -> dict[str, dict[str, float]]:
        """p50/p90 minutes and the count per moment (the report's ``eta_error``)."""
        return {
            horizon: {
                "p50_min": round(percentile(values, 50), 1),
                "p90_min": round(percentile(values, 90), 1),
                "n": len(values),
            }
            for horizon, values in self.errors_min().items()
        }
