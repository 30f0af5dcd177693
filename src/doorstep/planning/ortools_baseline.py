"""The OR-Tools routing solver on the same instance and convention: the benchmark baseline.

OR-Tools is a dev dependency and is imported only when this runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from doorstep.planning.benchmark import (
    SCALE,
    bks_dir_for,
    dimacs_matrix,
    read_instance,
    report,
    to_problem,
)
from doorstep.planning.plan import Plan, Unserved, UnservedReason, schedule_route
from doorstep.planning.problem import Network


def run_ortools(
    path: Path, time_limit_s: float, seed: int, bks_dir: Path | None = None
) -> tuple[dict[str, Any], Plan]:
    """Solve with guided local search for `time_limit_s`; times and checks as doorstep does.

    OR-Tools' routing search has no seed parameter; `seed` is accepted for symmetry only.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    del seed
    instance = read_instance(path)
    problem = to_problem(instance)
    matrix = dimacs_matrix(instance.coords).tolist()
    n = len(matrix)
    service = [int(s) * SCALE for s in instance.service]
    windows = [(int(a) * SCALE, int(b) * SCALE) for a, b in instance.time_window]
    demand = [int(d) for d in instance.demand]
    vehicles = instance.vehicles
    began = time.perf_counter()

    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    dist_cb = routing.RegisterTransitMatrix(matrix)
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    time_matrix = [[row[j] + service[i] for j in range(n)] for i, row in enumerate(matrix)]
    time_cb = routing.RegisterTransitMatrix(time_matrix)
    horizon = windows[0][1]
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(*windows[node])
    for v in range(vehicles):
        time_dim.CumulVar(routing.Start(v)).SetRange(*windows[0])
        time_dim.CumulVar(routing.End(v)).SetRange(*windows[0])
    demand_cb = routing.RegisterUnaryTransitVector(demand)
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [instance.capacity] * vehicles, True, "load"
    )

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    search.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    solution = routing.SolveWithParameters(search)
    seconds = time.perf_counter() - began

    network = Network.of(problem)
    stops = {s.id: s for s in problem.stops}
    routes = []
    routed: set[str] = set()
    if solution is not None:
        for v, courier in enumerate(problem.couriers):
            index = solution.Value(routing.NextVar(routing.Start(v)))
            seq = []
            while not routing.IsEnd(index):
                seq.append(stops[str(manager.IndexToNode(index))])
                index = solution.Value(routing.NextVar(index))
            if seq:
                start = solution.Min(time_dim.CumulVar(routing.Start(v)))
                routes.append(schedule_route(problem, network, courier, seq, start, None))
                routed.update(s.id for s in seq)
    unserved = tuple(
        Unserved(s.id, UnservedReason.SOLVER_DROPPED) for s in problem.stops if s.id not in routed
    )
    plan = Plan(routes=tuple(routes), unserved=unserved)
    return report(instance, problem, plan, seconds, "ortools", bks_dir or bks_dir_for(path)), plan
