"""Attempt limits on the ``limits`` library, in memory (Redis: tests/integration)."""

from __future__ import annotations

import pytest

from doorstep.adapters.auth import LimitsThrottle
from doorstep.domain.errors import Unavailable


@pytest.fixture
def throttle() -> LimitsThrottle:
    return LimitsThrottle(
        "memory://",
        {"three": "3/5minutes", "two_windows": "2/minute;3/hour"},
        remember_s={"known": 3600},
    )


def test_hits_fit_until_the_limit_then_say_how_long_to_wait(throttle: LimitsThrottle) -> None:
    assert [throttle.hit("three", "k") for _ in range(3)] == [None, None, None]
    assert throttle.check("three", "k") is not None
    wait = throttle.hit("three", "k")
    assert wait is not None and 1 <= wait <= 300  # never more than the window
    assert throttle.check("three", "other") is None  # keys are counted apart


def test_check_does_not_count(throttle: LimitsThrottle) -> None:
    for _ in range(10):
        assert throttle.check("three", "k") is None
    assert throttle.hit("three", "k") is None


def test_clear_forgets_the_attempts(throttle: LimitsThrottle) -> None:
    for _ in range(3):
        throttle.hit("three", "k")
    throttle.clear("three", "k")
    assert throttle.check("three", "k") is None


def test_every_window_of_a_rule_counts(throttle: LimitsThrottle) -> None:
    assert throttle.hit("two_windows", "k") is None
    assert throttle.hit("two_windows", "k") is None
    wait = throttle.hit("two_windows", "k")
    assert wait is not None and wait <= 60


def test_remember(throttle: LimitsThrottle) -> None:
    assert not throttle.remembers("known", "alice|10.0.0.1")
    throttle.remember("known", "alice|10.0.0.1")
    throttle.remember("known", "alice|10.0.0.1")
    assert throttle.remembers("known", "alice|10.0.0.1")
    assert not throttle.remembers("known", "alice|10.0.0.2")


def test_an_unreachable_store_refuses_rather_than_admits() -> None:
    # Nothing listens on port 1: the attempt cannot be counted, so it is not let through.
    throttle = LimitsThrottle(
        "redis://127.0.0.1:1/0?socket_connect_timeout=0.2", {"three": "3/minute"}
    )
    with pytest.raises(Unavailable) as info:
        throttle.hit("three", "k")
    assert info.value.code == "limits_unavailable"
    assert info.value.details["retry_after_s"] > 0
