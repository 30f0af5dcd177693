"""Policies on the same demand, and the search for the fixed capacity that keeps its promise."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from pathlib import Path

from doorstep.simulation.demand import Request, daily_counts, generate
from doorstep.simulation.kpis import kpis
from doorstep.simulation.params import SimParams
from doorstep.simulation.run import Simulation
from doorstep.simulation.world import (
    City,
    district_weights,
    make_template,
    plan_city,
    requests_per_day,
)

INSIDE_TARGET = 0.99  # the fixed policy's capacity is the highest that keeps this share

Progress = Callable[[str, int, int], None]  # (label, steps done, steps in all)

SETUP_LABEL = "preparing city and demand"


class Scenario:
    """One city and one set of requests, seeded once into a template database."""

    def __init__(self, params: SimParams, workdir: Path) -> None:
        self.params = params
        self.workdir = workdir
        self.city: City = plan_city(params)
        self.base = requests_per_day(params, self.city)
        centres = {a: d.centre for a, d in self.city.districts.items()}
        weights = district_weights(self.city)
        self.requests: list[Request] = generate(params, centres, weights, self.base)
        self.template = workdir / "template.db"
        make_template(params, self.city, self.requests, self.template)

    @property
    def full_capacity(self) -> int:
        """Capacity equal to expected demand per window on the busiest day."""
        peak = max(daily_counts(self.params, self.base), default=0)
        return max(1, math.ceil(self.city.expected_per_window(peak)))

    def run(
        self,
        policy: str,
        capacity: int | None,
        progress: Progress | None = None,
        params: SimParams | None = None,
    ) -> dict[str, object]:
        """One policy on this scenario's demand. ``params`` may change only what the policy
        reads (e.g. the incentive rules a benchmark tunes); the city and demand stay as built."""
        sim = Simulation(
            params or self.params,
            self.city,
            self.requests,
            self.template,
            self.workdir,
            policy,
            capacity,
        )
        label = f"{policy} (capacity {capacity})" if capacity is not None else policy
        total = sim.driving_days
        if progress is not None:
            progress(label, 0, total)
        tally = sim.run(None if progress is None else lambda d: progress(label, d + 1, total))
        out = kpis(tally)
        if capacity is not None:
            out["capacity_per_window"] = capacity
        return out

    def search_fixed(self, progress: Progress | None = None) -> dict[str, object]:
        """Highest capacity per window whose pickups stay inside the window >= 99 %."""
        tried: dict[int, dict[str, object]] = {}
        for capacity in range(self.full_capacity, 0, -1):
            tried[capacity] = result = self.run("fixed", capacity, progress)
            if float(result["inside_window_share"]) >= INSIDE_TARGET:  # type: ignore[arg-type]
                result["target_met"] = True
                result["capacities_tried"] = sorted(tried)
                return result
        result = tried[1]
        result["target_met"] = False
        result["capacities_tried"] = sorted(tried)
        return result

    def policy(self, name: str, progress: Progress | None = None) -> dict[str, object]:
        if name == "fixed":
            return self.search_fixed(progress)
        if name == "fixed_full":
            return self.run("fixed_full", self.full_capacity, progress)
        return self.run(name, None, progress)


def simulate(
    params: SimParams, policies: tuple[str, ...], progress: Progress | None = None
) -> dict[str, object]:
    """Run ``policies`` on the same demand in a throwaway directory; the JSON report."""
    if progress is not None:
        # Seeding the template takes seconds: say so at once, so nobody stares at nothing.
        progress(SETUP_LABEL, 0, 1)
    with tempfile.TemporaryDirectory(prefix="doorstep-sim-") as tmp:
        scenario = Scenario(params, Path(tmp))
        if progress is not None:
            progress(SETUP_LABEL, 1, 1)
        results = {name: scenario.policy(name, progress) for name in policies}
        info = {
            **params.as_dict(),
            "couriers": sorted(scenario.city.couriers),
            "requests_total": len(scenario.requests),
            "full_capacity_per_window": scenario.full_capacity,
        }
    return {"policies": results, "params": info}
