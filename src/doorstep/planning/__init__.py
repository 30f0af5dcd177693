"""Route planning and slot feasibility: numbers in, numbers out; no database, no web.

The service layer calls `solve` / `replan` for routes, `check_plan` to referee a plan, and
`RouteSlack` + `best_insertion` to decide which pickup windows can still be offered.
"""

from doorstep.planning.feasibility import Violation, ViolationKind, check_plan
from doorstep.planning.insertion import Insertion, RouteSlack, best_insertion
from doorstep.planning.params import SolveParams
from doorstep.planning.plan import Plan, Route, Unserved, UnservedReason, Visit
from doorstep.planning.problem import (
    Break,
    Courier,
    Depot,
    Network,
    PlanningProblem,
    Stop,
    StopStatus,
)
from doorstep.planning.replan import freeze_progress, left_for, replan
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
    "Insertion",
    "Location",
    "MatrixTravel",
    "Network",
    "Plan",
    "PlanningProblem",
    "Route",
    "RouteSlack",
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
    "best_insertion",
    "check_plan",
    "freeze_progress",
    "left_for",
    "replan",
    "solve",
]
