"""PyVRP's search settings compared on one part of a city-day, each with the same CPU seconds.

    uv run python bench/pyvrp_settings.py CITY_SEED SECONDS PART '{}' '{"exh": false}' ...

Takes the city of `bench/city_scale.py --pickups 5000 --couriers 50 --depots 5` (parts of
~1,000 stops for 10 couriers, the size of a full city-day's parts), its PART-th largest part,
and solves it with each setting (JSON: `exh` exhaustive re-search on a new best, `hist`
late-acceptance history, `nb` granular neighbours, `pmax` most perturbations; missing keys
are PyVRP's defaults, so `'{}'` is the baseline measured in the same run) for solver seeds
1–3, SECONDS of CPU each, set-up included. Prints one JSON line per setting and seed: km,
unassigned stops, iterations. The settings suit short searches: PyVRP's defaults are made
for long ones.
"""

from __future__ import annotations

import json
import sys
import time

from pyvrp import (
    IteratedLocalSearch,
    IteratedLocalSearchParams,
    PenaltyManager,
    PenaltyParams,
    RandomNumberGenerator,
    Solution,
)
from pyvrp.search import (
    OPERATORS,
    LocalSearch,
    NeighbourhoodParams,
    PerturbationManager,
    PerturbationParams,
    compute_neighbours,
)

from city_scale import shanghai_day
from doorstep.planning import SolveParams
from doorstep.planning.model import translate
from doorstep.planning.partition import partition_by_depot
from doorstep.planning.problem import Network
from doorstep.planning.solve import _vehicle
from doorstep.planning.stopping import MaxCpuTime


def main() -> None:
    city_seed, secs, part_ix = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    settings = [json.loads(a) for a in sys.argv[4:]]
    parts = sorted(
        partition_by_depot(shanghai_day(5000, 50, 5, city_seed)), key=lambda p: -len(p.stops)
    )
    part = parts[part_ix]
    network = Network.of(part)
    vehicles = [_vehicle(part, network, c, None) for c in part.couriers]
    data = translate(network, vehicles, part.stops, SolveParams()).data
    for cfg in settings:
        for seed in (1, 2, 3):
            began = time.process_time()
            rng = RandomNumberGenerator(seed=seed)
            neighbours = compute_neighbours(
                data, NeighbourhoodParams(num_neighbours=cfg.get("nb", 50))
            )
            kicks = PerturbationManager(PerturbationParams(1, cfg.get("pmax", 25)))
            ls = LocalSearch(data, rng, neighbours, kicks)
            for op in OPERATORS:
                if op.supports(data):
                    ls.add_operator(op(data))
            penalty = PenaltyParams()
            pm = PenaltyManager(penalty.midpoint_penalties(data), penalty)
            init = ls(Solution.make_random(data, rng), pm.max_cost_evaluator(), exhaustive=True)
            ils = IteratedLocalSearchParams(
                exhaustive_on_best=cfg.get("exh", True), history_length=cfg.get("hist", 300)
            )
            left = secs - (time.process_time() - began)
            res = IteratedLocalSearch(data, pm, ls, init, ils).run(
                MaxCpuTime(left), collect_stats=False
            )
            print(
                json.dumps(
                    {
                        "city_seed": city_seed,
                        "part_stops": len(part.stops),
                        "cfg": cfg,
                        "seed": seed,
                        "km": round(res.best.distance() / 1000, 1),
                        "unassigned": data.num_clients - res.best.num_clients(),
                        "iters": res.num_iterations,
                        "feasible": res.best.is_feasible(),
                        "cpu_s": round(time.process_time() - began, 2),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
