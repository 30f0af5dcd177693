"""Refund lead times: medians and 90th percentiles per day, request → money and pickup →
money, from paid refunds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.refund_lead_time import PaidRefund, lead_time, lead_times

T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_nearest_rank_percentiles() -> None:
    assert lead_time([]).count == 0 and lead_time([]).p50_h is None
    out = lead_time([float(h) for h in range(1, 11)])
    assert (out.count, out.p50_h, out.p90_h) == (10, 5.0, 9.0)
    assert lead_time([3.0]).p90_h == 3.0


def test_both_waits_overall_and_per_shanghai_day() -> None:
    paid = [
        PaidRefund(T, T + timedelta(hours=20), T + timedelta(hours=24)),  # express-like
        PaidRefund(T, T + timedelta(hours=20), T + timedelta(hours=100)),
        PaidRefund(T, None, T + timedelta(hours=2)),  # refund-only: no pickup
    ]
    out = lead_times(paid)
    assert out.request_to_money.count == 3 and out.pickup_to_money.count == 2
    assert out.request_to_money.p50_h == 24.0 and out.pickup_to_money.p90_h == 80.0
    assert [d.day.isoformat() for d in out.days] == ["2026-11-20", "2026-11-21", "2026-11-24"]
    assert out.days[0].pickup_to_money.count == 0


@given(st.lists(st.floats(min_value=0, max_value=10_000), min_size=1, max_size=50))
def test_percentiles_are_values_of_the_sample_in_order(hours: list[float]) -> None:
    out = lead_time(hours)
    assert out.p50_h is not None and out.p90_h is not None
    assert min(hours) - 0.05 <= out.p50_h <= out.p90_h <= max(hours) + 0.05
