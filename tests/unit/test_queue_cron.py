"""The periodic jobs' cron lines tick as often as ``doorstep worker --every`` says."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import croniter
import pytest

from doorstep.entrypoints.queue import cron_every


@pytest.mark.parametrize(("every", "gap"), [(1, 1), (2, 2), (5, 5), (30, 30), (60, 60), (120, 120)])
def test_ticks_are_every_seconds(every: int, gap: int) -> None:
    # Found by running a worker: "*/5 * * * * *" reads as every second of every fifth minute.
    start = datetime(2026, 12, 2, 2, 53, 31, tzinfo=UTC).timestamp()
    ticks = croniter.croniter(cron_every(every), start)
    times = [ticks.get_next(float) for _ in range(6)]
    assert {round(b - a) for a, b in itertools.pairwise(times)} == {gap}
