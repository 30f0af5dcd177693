"""ETA error bookkeeping: which ETA counts per moment and how errors are summarised."""

from __future__ import annotations

from datetime import datetime, timedelta

from doorstep.domain.clock import SHANGHAI
from doorstep.simulation.eta import HORIZONS, EtaLog, percentile

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5.0
    assert percentile(values, 90) == 9.0
    assert percentile(values, 100) == 10.0
    assert percentile([], 90) == 0.0


def test_first_eta_per_moment_counts_and_unvisited_are_left_out() -> None:
    log = EtaLog()
    log.show("a", "booking", T0 + timedelta(minutes=20))
    log.show("a", "booking", T0)  # a later look is not what the buyer was first told
    log.show("a", "morning", T0 - timedelta(minutes=5))
    log.show("a", "evening_before", None)
    log.show("b", "booking", T0)  # never visited
    log.arrive("a", T0)
    log.arrive("a", T0 + timedelta(hours=1))  # a second attempt is not the arrival
    errors = log.errors_min()
    assert errors["booking"] == [20.0]
    assert errors["morning"] == [5.0]
    assert errors["evening_before"] == []
    summary = log.summary()
    assert set(summary) == set(HORIZONS)
    assert summary["booking"] == {"p50_min": 20.0, "p90_min": 20.0, "n": 1}
    assert summary["one_stop_before"]["n"] == 0
