"""VRPTW benchmark instances (Solomon, Gehring–Homberger, VRPLIB) through doorstep's planning API.

DIMACS convention: each arc is its Euclidean length ×10 truncated, /10; travel time equals
distance. Everything is kept ×10 as integers internally so the figures are exact.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import vrplib

from doorstep.planning.feasibility import check_plan
from doorstep.planning.params import SolveParams
from doorstep.planning.plan import Plan
from doorstep.planning.problem import Courier, Depot, PlanningProblem, Stop
from doorstep.planning.solve import solve
from doorstep.planning.travel import IntMatrix, Location, MatrixTravel

SCALE = 10
"""DIMACS keeps one truncated decimal; ×10 makes it an integer."""

DEPOT_ID = "0"


@dataclass(frozen=True)
class VrptwInstance:
    """One instance as read from disk; node 0 is the depot."""

    name: str
    coords: npt.NDArray[np.float64]
    demand: npt.NDArray[np.int64]
    time_window: npt.NDArray[np.int64]
    service: npt.NDArray[np.int64]
    capacity: int
    vehicles: int

    @property
    def customers(self) -> int:
        """Number of customers (nodes other than the depot)."""
        return len(self.demand) - 1


def data_dir() -> Path:
    """The default benchmark folder: $DOORSTEP_VRPTW_DIR, else ../shared/bench/vrptw from the repo.

    Scripts take the folder as an argument; this is only what they fall back to.
    """
    override = os.environ.get("DOORSTEP_VRPTW_DIR")
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[3]
    return (repo / ".." / "shared" / "bench" / "vrptw").resolve()


def bks_dir_for(instance: Path) -> Path:
    """Where an instance's best-known values are: the nearest folder above it with a bks.csv.

    Instances live in ``<data>/solomon/`` or ``<data>/homberger/200/`` next to ``<data>/bks.csv``,
    so a file given by path finds its own values whichever data folder it came from.
    """
    for folder in instance.resolve().parents:
        if (folder / "bks.csv").is_file():
            return folder
    return data_dir()


def read_instance(path: Path) -> VrptwInstance:
    """Read a Solomon text file (LF or CRLF) or a VRPLIB file."""
    head = path.read_text(encoding="utf-8", errors="replace").lstrip()[:200]
    fmt = "vrplib" if ":" in head.splitlines()[0] else "solomon"
    raw: dict[str, Any] = vrplib.read_instance(str(path), instance_format=fmt)
    n = len(raw["demand"])
    service = np.asarray(raw.get("service_time", np.zeros(n)), dtype=np.int64)
    if service.ndim == 0:
        service = np.full(n, int(service), dtype=np.int64)
    vehicles = raw.get("vehicles")
    return VrptwInstance(
        name=path.stem.upper() if fmt == "solomon" else str(raw.get("name", path.stem)),
        coords=np.asarray(raw["node_coord"], dtype=np.float64),
        demand=np.asarray(raw["demand"], dtype=np.int64),
        time_window=np.asarray(raw["time_window"], dtype=np.int64),
        service=service,
        capacity=int(raw["capacity"]),
        vehicles=int(vehicles) if vehicles is not None else n - 1,
    )


def dimacs_matrix(coords: npt.NDArray[np.float64]) -> IntMatrix:
    """Euclidean distances ×10, truncated (exact for integer coordinates)."""
    diff = coords[:, None, :] - coords[None, :, :]
    squared = (diff**2).sum(axis=2)
    truncated: IntMatrix = np.floor(np.sqrt(squared * SCALE * SCALE) + 1e-9).astype(np.int64)
    return truncated


def to_problem(instance: VrptwInstance) -> PlanningProblem:
    """The instance as a doorstep problem: one depot, identical couriers, one stop per customer."""
    points: tuple[Location, ...] = tuple((float(x), float(y)) for x, y in instance.coords.tolist())
    matrix = dimacs_matrix(instance.coords)
    travel = MatrixTravel(points=points, durations=matrix, distances=matrix)
    open_s, close_s = (int(t) * SCALE for t in instance.time_window[0])
    couriers = [
        Courier(
            id=f"v{k + 1}",
            depot_id=DEPOT_ID,
            shift_start_s=open_s,
            shift_end_s=close_s,
            capacity_weight_g=instance.capacity,
            capacity_volume_cm3=0,
        )
        for k in range(instance.vehicles)
    ]
    stops = [
        Stop(
            id=str(i),
            location=points[i],
            earliest_s=int(instance.time_window[i][0]) * SCALE,
            latest_s=int(instance.time_window[i][1]) * SCALE,
            service_s=int(instance.service[i]) * SCALE,
            weight_g=int(instance.demand[i]),
        )
        for i in range(1, len(points))
    ]
    return PlanningProblem(
        depots=[Depot(DEPOT_ID, points[0])], couriers=couriers, stops=stops, travel=travel
    )


def best_known(name: str, directory: Path | None = None) -> tuple[float, str] | None:
    """The DIMACS-convention best-known distance for `name` and its bks.csv source.

    `cvrplib_dimacs` is preferred; `cvrplib_dimacs_int` (possibly floored by up to 0.9, so a
    gap against it errs against doorstep) fills in where that is all the file has.
    """
    path = (directory or data_dir()) / "bks.csv"
    if not path.is_file():
        return None
    found: dict[str, float] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["instance"].upper() == name.upper():
                found[row["source"]] = float(row["distance"])
    for source in ("cvrplib_dimacs", "cvrplib_dimacs_int"):
        if source in found:
            return found[source], source
    return None


def report(
    instance: VrptwInstance,
    problem: PlanningProblem,
    plan: Plan,
    seconds: float,
    solver: str,
    bks_dir: Path | None = None,
) -> dict[str, Any]:
    """The JSON line of one run, checked by doorstep's own feasibility checker."""
    violations = check_plan(problem, plan)
    distance = plan.distance / SCALE
    known = best_known(instance.name, bks_dir)
    bks = None if known is None else known[0]
    feasible = not violations and not plan.unserved
    return {
        "instance": instance.name,
        "solver": solver,
        "vehicles": len(plan.routes),
        "distance": round(distance, 1),
        "feasible": feasible,
        "violations": len(violations),
        "unserved": len(plan.unserved),
        "seconds": round(seconds, 2),
        "bks": bks,
        "bks_source": None if known is None else known[1],
        "gap_pct": None if bks is None or not feasible else round(100 * (distance - bks) / bks, 3),
    }


def run_doorstep(
    path: Path, time_limit_s: float, seed: int, bks_dir: Path | None = None
) -> tuple[dict[str, Any], Plan]:
    """Solve one instance with `doorstep.planning.solve` and report it.

    ``bks_dir`` holds the bks.csv to compare with (default: found from the instance's path).
    """
    instance = read_instance(path)
    problem = to_problem(instance)
    params = SolveParams(seed=seed, time_limit_s=time_limit_s, require_all=True)
    began = time.perf_counter()
    plan = solve(problem, params)
    seconds = time.perf_counter() - began
    bks = bks_dir or bks_dir_for(path)
    return report(instance, problem, plan, seconds, "doorstep", bks), plan


def solution_text(plan: Plan) -> str:
    """VRPLIB solution format: one 'Route #k:' line per route, then 'Cost'."""
    lines = [f"Route #{k}: {' '.join(r.stop_ids)}" for k, r in enumerate(plan.routes, start=1)]
    lines.append(f"Cost {plan.distance / SCALE:.1f}")
    return "\n".join(lines) + "\n"
