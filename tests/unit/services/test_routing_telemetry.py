"""Re-planning reports the planner's run time through the Telemetry port."""

from __future__ import annotations

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import TOMORROW, booked  # type: ignore[import-not-found]

from doorstep.planning import SolveParams
from doorstep.services import routing


def test_planning_a_carrier_day_reports_one_planner_run(world: World) -> None:
    booked(world)
    report = routing.plan_day(world.svc, "yto", TOMORROW, SolveParams(seed=0, max_iterations=50))
    assert not report.unserved
    runs = world.svc.telemetry.planner_runs
    assert len(runs) == 1 and runs[0] >= 0
