"""Route planning and slot feasibility: numbers in, numbers out; no database, no web.

The service layer calls `solve` / `replan` for routes, `check_plan` to referee a plan, and
`RouteSlack` + `best_insertion` to decide which pickup windows can still be offered.
"""

from doorstep.planning.feasibility import Violation, ViolationKind, check_plan
from doorstep.planning.params import SolveParams
from doorstep.planning.plan import Plan, Route, Unserved, UnservedReason, Visit
from doorstep.planning.problem import Break, Courier, Depot, PlanningProblem, Stop, StopStatus
from doorstep.planning.solve import solve
from doorstep.planning.travel import (
    CitySpeeds,
    HaversineTravel,
    Location,
    MatrixTravel,
    TravelMatrix,
    TravelTimes,
)

__all__ = [
    "Break",
    "CitySpeeds",
    "Courier",
    "Depot",
    "HaversineTravel",
    "Location",
    "MatrixTravel",
    "Plan",
    "PlanningProblem",
    "Route",
    "SolveParams",
    "Stop",
    "StopStatus",
    "TravelMatrix",
    "TravelTimes",
    "Unserved",
    "UnservedReason",
    "Violation",
    "ViolationKind",
    "Visit",
    "check_plan",
    "solve",
]
