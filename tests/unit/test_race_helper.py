"""The race helper refuses a race too short to be one (issue 7: at least 20 at once)."""

from __future__ import annotations

import pytest
from tests.integration.races import MIN_RACERS, race  # type: ignore[import-not-found]


def test_a_race_of_fewer_than_twenty_is_refused() -> None:
    with pytest.raises(AssertionError, match="at least 20"):
        race([lambda: None] * (MIN_RACERS - 1))


def test_a_race_of_twenty_runs_every_call_once() -> None:
    ran: list[int] = []
    out = race([lambda i=i: ran.append(i) for i in range(MIN_RACERS)])
    assert sorted(ran) == list(range(MIN_RACERS))
    assert (len(out.won), out.lost, out.other) == (MIN_RACERS, [], [])
