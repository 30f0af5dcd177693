"""Slot offering policies on simulated demand: one JSON line with the issue 3 §5 figures.

Runs ``doorstep simulate --compare`` on several seeds (short periods by default) and prints
per-policy means plus the ratios the issue targets, each against the fixed baseline measured
in the same run:

- planned inside-window share (target 1.0),
- planned vs fixed pickups per courier hour (target >= +4 %),
- planned_incentive vs fixed km per pickup (target >= 8 % fewer),
- first-choice share per policy.

Usage: ``uv run python bench/slot_offering.py [--seeds 3] [--days 2] [--requests-per-day N]``
"""

from __future__ import annotations

import argparse
import json
from statistics import mean

from doorstep.simulation.compare import simulate
from doorstep.simulation.params import POLICIES, SimParams

FIGURES = (
    "accepted_share",
    "first_choice_share",
    "inside_window_share",
    "first_attempt_success",
    "km_per_pickup",
    "pickups_per_courier_hour",
    "request_to_pickup_minutes_median",
)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--requests-per-day", type=int, default=None)
    args = parser.parse_args()
    runs = []
    for seed in range(1, args.seeds + 1):
        params = SimParams(days=args.days, seed=seed, requests_per_day=args.requests_per_day)
        runs.append(simulate(params, POLICIES)["policies"])
    means = {
        policy: {key: round(mean(float(r[policy][key]) for r in runs), 4) for key in FIGURES}
        for policy in POLICIES
    }
    fixed, planned, incentive = means["fixed"], means["planned"], means["planned_incentive"]
    km_ratio = _ratio(incentive["km_per_pickup"], fixed["km_per_pickup"])
    pph_ratio = _ratio(planned["pickups_per_courier_hour"], fixed["pickups_per_courier_hour"])
    print(
        json.dumps(
            {
                "bench": "slot_offering",
                "seeds": args.seeds,
                "days": args.days,
                "fixed_capacity_per_window": [r["fixed"]["capacity_per_window"] for r in runs],
                "means": means,
                "planned_inside_window_share": planned["inside_window_share"],
                "planned_vs_fixed_pickups_per_courier_hour": pph_ratio,
                "planned_incentive_vs_fixed_km_per_pickup": km_ratio,
                "first_choice_share": {p: means[p]["first_choice_share"] for p in POLICIES},
                "targets": {
                    "planned_inside_window_share": 1.0,
                    "planned_vs_fixed_pickups_per_courier_hour": ">= 1.04",
                    "planned_incentive_vs_fixed_km_per_pickup": "<= 0.92",
                },
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
