"""How often the simulated worker re-plans today's and later carrier-days; one JSON line.

Runs one simulated day (``doorstep simulate --days 1``) with ``--replan-every-min`` sweeps and
counts ``routing.plan_day`` calls: today's by hour (the 06:00 morning plan included) and the
later days'. Compares the ``--replan-today`` modes (docs/benchmarks.md, Session 16).

Usage::

    nice -n 10 uv run --frozen python bench/replan_today_count.py --seed 104 --mode needed
    nice -n 10 uv run --frozen python bench/replan_today_count.py --seed 104 --mode always
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from doorstep.domain.clock import local
from doorstep.services import routing
from doorstep.simulation.compare import Scenario
from doorstep.simulation.params import POLICIES, REPLAN_TODAY, SimParams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=104)
    parser.add_argument("--mode", choices=REPLAN_TODAY, default="needed")
    parser.add_argument("--policy", choices=POLICIES, default="planned_incentive")
    parser.add_argument("--every-min", type=int, default=60)
    args = parser.parse_args()
    today: Counter[str] = Counter()
    later = 0
    real = routing.plan_day

    def counted(svc: Any, carrier_id: str, day: Any, params: Any = None) -> Any:
        nonlocal later
        at = local(svc.clock.now())
        if day == at.date():
            today[f"{at:%H:%M}"] += 1
        else:
            later += 1
        return real(svc, carrier_id, day, params)

    routing.plan_day = counted  # type: ignore[assignment]
    params = SimParams(
        days=1, seed=args.seed, replan_every_min=args.every_min, replan_today=args.mode
    )
    with tempfile.TemporaryDirectory() as tmp:
        kpi = Scenario(params, Path(tmp)).run(args.policy, None)
    print(
        json.dumps(
            {
                "seed": args.seed,
                "policy": args.policy,
                "mode": args.mode,
                "every_min": args.every_min,
                "today_plans": sum(today.values()),
                "today_by_time": dict(sorted(today.items())),
                "later_plans": later,
                "inside_window_share": kpi["inside_window_share"],
                "pickups_per_courier_hour": kpi["pickups_per_courier_hour"],
            }
        )
    )


if __name__ == "__main__":
    main()
