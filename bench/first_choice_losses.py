"""Why buyers lose their first choice, per seed and rule set (issue 11 §2, sessions 12-13).

Runs ``planned_incentive`` on one simulated day per seed (``Scenario(SimParams(days=1,
seed=S))``, the bench's default load) with the buyer's choice and the offering's ranking
watched, and counts each buyer who was offered windows by what happened to their first
choice:

- ``kept``: booked it (``kept_with_coupon``: it carried a coupon);
- ``coupon_follower``: it was shown, the buyer followed a coupon elsewhere;
- ``shown_other``: it was shown and not booked for another reason (a lost race);
- ``hidden``: the routes could take it but the rules hid it (``near_pct``);
- ``unroutable_or_full``: no route could take it, or its capacity was full (split into
  ``full``: not among the windows with capacity left, and ``unroutable``: among them, but
  no route could take it);
- ``walked_away``: nothing shown was acceptable (counted apart from the four above).

Session 12 made these counts with a script it did not commit; this one is the same
classification, kept so that the next rule is measured the same way.

    nice -n 10 uv run --frozen python bench/first_choice_losses.py --seeds 2,5 \\
        --incentive reserve_s=600
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from doorstep.domain.pickup import SlotRef
from doorstep.services import planned_offering
from doorstep.services.offering import FixedCapacityOffering, OfferedSlot
from doorstep.services.planned_offering import IncentiveRules
from doorstep.simulation import booking
from doorstep.simulation.choice import Choice, CouponResponse
from doorstep.simulation.compare import Scenario
from doorstep.simulation.demand import Request
from doorstep.simulation.params import REPLAN_TODAY, SimParams


def classify(seed: int, rules: IncentiveRules, base: SimParams | None = None) -> dict[str, Any]:
    """The first-choice outcome counts of one seed's day under ``rules`` (``base``: the
    scenario's other parameters, the bench's defaults when None)."""
    routable: list[set[SlotRef]] = [set()]
    open_: list[set[SlotRef]] = [set()]
    counts: Counter[str] = Counter()
    real_rank, real_choose = planned_offering.rank, booking.choose
    real_open = FixedCapacityOffering.offer

    def capacity_offer(self: FixedCapacityOffering, *args: Any) -> list[OfferedSlot]:
        # The windows with capacity left, before the routes are asked.
        found = real_open(self, *args)
        open_[0] = {o.slot for o in found}
        return found

    def rank(costed: list[tuple[int, OfferedSlot]], *args: Any, **kw: Any) -> list[OfferedSlot]:
        # The windows the routes could take, before the rules hide any.
        routable[0] = {o.slot for _, o in costed}
        return real_rank(costed, *args, **kw)

    def choose(
        offered: Sequence[OfferedSlot],
        ideal: SlotRef | None,
        request: Request,
        tolerance_h: float,
        response: CouponResponse | None = None,
    ) -> Choice | None:
        picked = real_choose(offered, ideal, request, tolerance_h, response)
        shown = {o.slot for o in offered}
        if picked is None:
            counts["walked_away"] += 1
        elif picked.first_choice:
            counts["kept"] += 1
            counts["kept_with_coupon"] += picked.slot.incentive_fen > 0
        elif ideal in shown:
            counts["coupon_follower" if picked.incentive else "shown_other"] += 1
        elif ideal in routable[0]:
            counts["hidden"] += 1
        else:
            counts["unroutable_or_full"] += 1
            counts["unroutable" if ideal in open_[0] else "full"] += 1
        counts["offers_with_coupon"] += any(o.incentive_fen for o in offered)
        return picked

    params = replace(base or SimParams(days=1), seed=seed, incentives=rules)
    planned_offering.rank, booking.choose = rank, choose  # type: ignore[assignment]
    FixedCapacityOffering.offer = capacity_offer  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory(prefix="doorstep-losses-") as tmp:
            result = Scenario(params, Path(tmp)).run("planned_incentive", None)
    finally:
        planned_offering.rank, booking.choose = real_rank, real_choose  # type: ignore[assignment]
        FixedCapacityOffering.offer = real_open  # type: ignore[method-assign]
    out = dict(counts)
    tally: Any = result["counts"]
    out["approved"], out["first_choice_tally"] = tally["approved"], tally["first_choice"]
    out["km_per_pickup"] = result["km_per_pickup"]  # type: ignore[assignment]
    return out


def rules_from(text: str) -> IncentiveRules:
    """``field=value,...`` over the live rules."""
    changes: Mapping[str, str] = dict(p.split("=") for p in text.split(",") if p)
    return replace(IncentiveRules(), **{k.strip(): int(v) for k, v in changes.items()})


def main() -> None:
    """One JSON line: per seed, the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="2,5")
    parser.add_argument("--incentive", default="", help="e.g. reserve_s=600")
    # The scenario of bench/slot_offering.py's runs since session 16 (§2's pair).
    parser.add_argument("--replan-every-min", type=int, default=0)
    parser.add_argument("--route-capacity", type=int, default=None)
    parser.add_argument("--replan-today", choices=REPLAN_TODAY, default="never")
    args = parser.parse_args()
    rules = rules_from(args.incentive)
    base = SimParams(
        days=1,
        replan_every_min=args.replan_every_min,
        replan_today=args.replan_today,
        route_capacity=args.route_capacity,
    )
    report: dict[str, Any] = {"incentive": args.incentive, "seeds": {}}
    report["replan_every_min"], report["route_capacity"] = (
        args.replan_every_min,
        args.route_capacity,
    )
    with contextlib.redirect_stdout(sys.stderr):
        for seed in (int(s) for s in args.seeds.split(",") if s):
            report["seeds"][str(seed)] = classify(seed, rules, base)
            print(seed, report["seeds"][str(seed)], file=sys.stderr)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
