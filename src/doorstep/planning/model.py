"""Translation of a prepared problem into PyVRP's ProblemData, and of its routes back.

Matrices are handed to ProblemData directly: PyVRP's Model builder adds edges one Python
call at a time, which is slow for a few hundred stops.

PyVRP has no breaks and no stop-to-courier restrictions, so both are modelled:
- a break is a mandatory dummy client with the break window. Arcs into it are free; arcs out
  of it take the longest arc into the next stop. The courier really rests where they are and
  then drives the real arc, which is never longer, so every timed plan stays feasible.
- a stop fixed to a courier (and each break) can only be reached in that courier's routing
  profile: other profiles see a prohibitive arc into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyvrp

from doorstep.planning.params import SolveParams
from doorstep.planning.problem import Break, Network, Stop
from doorstep.planning.travel import IntMatrix, Location

FORBIDDEN = 1_000_000_000
"""Cost of an arc a courier may not use: dominates any real route, safe from int64 overflow."""


@dataclass(frozen=True)
class Vehicle:
    """One courier as the solver sees them, after pinned first stops are taken out."""

    courier_id: str
    start: Location
    start_s: int
    end: Location
    end_s: int
    capacity_weight_g: int
    capacity_volume_cm3: int
    rest: Break | None


@dataclass(frozen=True)
class Translation:
    """ProblemData plus the maps back to doorstep ids."""

    data: pyvrp.ProblemData
    client_stop: list[str | None]
    """Stop id per PyVRP client index; None for a break client."""
    client_rest_of: list[str | None]
    """Courier id per break client index; None for stops."""
    type_couriers: list[list[str]]
    """Courier ids per vehicle type, in the order routes of that type are handed out."""


def translate(
    network: Network,
    vehicles: Sequence[Vehicle],
    stops: Sequence[Stop],
    params: SolveParams,
) -> Translation:
    """Build the PyVRP instance for these vehicles and stops."""
    # PyVRP locations: start/end depots, then one location per client so that
    # a fixed stop can be forbidden without hiding a neighbour at the same address.
    depot_rows: list[int] = []
    depot_opens: list[int] = []
    depot_key: dict[tuple[int, int], int] = {}

    def depot_for(loc: Location, tw_early: int) -> int:
        key = (network.index[loc], tw_early)
        if key not in depot_key:
            depot_key[key] = len(depot_rows)
            depot_rows.append(network.index[loc])
            depot_opens.append(tw_early)
        return depot_key[key]

    starts = [depot_for(v.start, 0) for v in vehicles]
    # A courier on duty until a second of the day waits for it at the end depot (PyVRP counts
    # the wait in the route's duration): time costs from first departure to the later of
    # return and that second, as a courier who has driven today is paid. Never past the shift.
    duty = params.on_duty_until_s
    ends = [depot_for(v.end, 0 if duty is None else min(duty, v.end_s)) for v in vehicles]
    n_depots = len(depot_rows)
    rest_vehicles = [i for i, v in enumerate(vehicles) if v.rest is not None]
    rows = depot_rows + [network.index[s.location] for s in stops] + [0] * len(rest_vehicles)
    rows_arr = np.asarray(rows, dtype=np.int64)
    pick = np.ix_(rows_arr, rows_arr)
    durations: IntMatrix = network.matrix.durations[pick].copy()
    distances: IntMatrix = network.matrix.distances[pick].copy()
    first_rest = n_depots + len(stops)
    real = slice(0, first_rest)
    for k in range(len(rest_vehicles)):
        r = first_rest + k
        durations[:, r] = 0
        distances[:, r] = 0
        distances[r, :] = 0
        durations[r, :] = durations[real, :].max(axis=0) if first_rest else 0
        durations[r, r] = 0

    vehicle_of = {v.courier_id: i for i, v in enumerate(vehicles)}
    owner: dict[int, int] = {}
    for j, stop in enumerate(stops):
        if stop.courier_id is not None:
            owner[n_depots + j] = vehicle_of[stop.courier_id]
    for k, i in enumerate(rest_vehicles):
        owner[first_rest + k] = i
    owners = sorted(set(owner.values()))
    profile_of = {i: p + 1 for p, i in enumerate(owners)} if owner else {}
    dist_mats: list[IntMatrix] = []
    dur_mats: list[IntMatrix] = []
    for profile in range(len(owners) + 1 if owner else 1):
        allowed_vehicle = owners[profile - 1] if profile else None
        banned = [col for col, who in owner.items() if who != allowed_vehicle]
        dist = distances.copy()
        dur = durations.copy()
        if banned:
            dist[:, banned] = FORBIDDEN
            dur[:, banned] = FORBIDDEN
            np.fill_diagonal(dist, 0)
            np.fill_diagonal(dur, 0)
        dist_mats.append(dist)
        dur_mats.append(dur)

    penalty = params.drop_penalty or auto_drop_penalty(distances, vehicles, params)
    depots = [pyvrp.Depot(location=i, tw_early=depot_opens[i]) for i in range(n_depots)]
    clients = [
        pyvrp.Client(
            location=n_depots + j,
            pickup=[s.weight_g, s.volume_cm3],
            service_duration=s.service_s,
            tw_early=s.earliest_s,
            tw_late=s.latest_s,
            prize=0 if params.require_all else penalty,
            required=params.require_all,
            name=s.id,
        )
        for j, s in enumerate(stops)
    ]
    client_stop: list[str | None] = [s.id for s in stops]
    client_rest_of: list[str | None] = [None] * len(stops)
    for k, i in enumerate(rest_vehicles):
        rest = vehicles[i].rest
        assert rest is not None
        clients.append(
            pyvrp.Client(
                location=first_rest + k,
                pickup=[0, 0],
                service_duration=rest.duration_s,
                tw_early=rest.earliest_s,
                tw_late=rest.latest_start_s,
                required=True,
                name=f"rest:{vehicles[i].courier_id}",
            )
        )
        client_stop.append(None)
        client_rest_of.append(vehicles[i].courier_id)

    groups: dict[tuple[int, int, int, int, int, int, int], list[int]] = {}
    for i, v in enumerate(vehicles):
        key = (
            starts[i],
            ends[i],
            v.start_s,
            v.end_s,
            v.capacity_weight_g,
            v.capacity_volume_cm3,
            profile_of.get(i, 0),
        )
        groups.setdefault(key, []).append(i)
    vehicle_types = []
    type_couriers: list[list[str]] = []
    for key, members in groups.items():
        start, end, start_s, end_s, cap_w, cap_v, profile = key
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(members),
                capacity=[cap_w, cap_v],
                start_depot=start,
                end_depot=end,
                tw_early=start_s,
                tw_late=end_s,
                unit_distance_cost=1,
                unit_duration_cost=params.duration_weight,
                profile=profile,
            )
        )
        type_couriers.append([vehicles[i].courier_id for i in members])

    locations = [pyvrp.Location(x=0, y=0) for _ in rows]
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=cast("list[Any]", dist_mats),
        duration_matrices=cast("list[Any]", dur_mats),
    )
    return Translation(data, client_stop, client_rest_of, type_couriers)


def auto_drop_penalty(
    distances: IntMatrix, vehicles: Sequence[Vehicle], params: SolveParams
) -> int:
    """What the search charges for leaving a stop out when `params.drop_penalty` is None."""
    # Serving a stop costs at most two of the longest arcs (a detour or a fresh route),
    # plus route time if time is priced; the penalty must beat that so no servable stop drops.
    longest_arc = int(distances.max()) if distances.size else 0
    longest_shift = max((v.end_s - v.start_s for v in vehicles), default=0)
    return 4 * longest_arc + params.duration_weight * longest_shift + 1


def initial_routes(
    translation: Translation,
    courier_stops: dict[str, list[str]],
    courier_rest_after: dict[str, int | None],
) -> pyvrp.Solution | None:
    """A warm-start solution from earlier routes, or None if PyVRP rejects it."""
    client_of_stop = {sid: i for i, sid in enumerate(translation.client_stop) if sid is not None}
    client_of_rest = {c: i for i, c in enumerate(translation.client_rest_of) if c is not None}
    routes = []
    for vt, couriers in enumerate(translation.type_couriers):
        for courier_id in couriers:
            visits = [
                client_of_stop[s] for s in courier_stops.get(courier_id, ()) if s in client_of_stop
            ]
            rest_client = client_of_rest.get(courier_id)
            if rest_client is not None:
                after = courier_rest_after.get(courier_id)
                position = len(visits) if after is None else min(max(after + 1, 0), len(visits))
                visits.insert(position, rest_client)
            if visits:
                routes.append(pyvrp.Route(translation.data, visits, vt))
    try:
        return pyvrp.Solution(translation.data, routes)
    except (ValueError, RuntimeError, IndexError):
        return None
