"""GET /ops/retention: departed buyers due, erased, the next due date, in English and Chinese;
for ops only."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.e2e.query_plans import query_plan  # type: ignore[import-not-found]
from tests.integration.retention_world import after_years, leaver  # type: ignore[import-not-found]

from doorstep.adapters.db.retention import account_events_query
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.entrypoints import jobs


def test_ops_see_departed_buyers_due_erased_and_next(
    client: TestClient, wired: App, clock: FixedClock, login: Callable[[str], dict[str, str]]
) -> None:
    ops = login("ops1")
    assert client.get("/ops/retention", headers=login("buyer1")).status_code == 403
    empty = client.get("/ops/retention", headers=ops).json()
    assert (empty["due"], empty["erased"], empty["next_due"]) == (0, 0, None)
    assert empty["retention_years"] == 3 and "none waiting" in empty["note_en"]

    leaver(wired, book=False)
    assert client.get("/ops/retention", headers=ops).json()["due"] == 1
    jobs.SWEEPS["retention"](wired)  # weighed: the period has three years to run
    waiting = client.get("/ops/retention", headers=ops).json()
    assert waiting["due"] == 0 and waiting["next_due"] is not None
    assert "next due" in waiting["note_en"] and "下一位到期时间" in waiting["note_zh"]

    after_years(clock, 3)
    assert client.get("/ops/retention", headers=ops).json()["due"] == 1
    assert jobs.SWEEPS["retention"](wired) == {"buyers_erased": 1}
    done = client.get("/ops/retention", headers=ops).json()
    assert (done["due"], done["erased"], done["next_due"]) == (0, 1, None)
    assert "1 erased" in done["note_en"] and "已删除 1 位" in done["note_zh"]


def test_the_sweep_finds_account_events_by_the_buyer_index(wired: App) -> None:
    """An erasing pass finds the departed buyers' account events through
    ``ix_events_user_actor``, not by reading every account event ever written."""
    plan = query_plan(wired.engine, account_events_query(["b-1", "b-2"]))
    assert any("ix_events_user_actor" in line for line in plan), plan
