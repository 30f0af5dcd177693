"""Refund lead times: medians and 90th percentiles per day, request → money and pickup →
money, from paid refunds."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.refund_lead_time import (
    PICKUP,
    REQUEST,
    PaidRefund,
    WaitCount,
    bucket,
    from_histogram,
    lead_times,
    lead_times_of,
    waits_of,
)

T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_nearest_rank_percentiles_of_a_histogram() -> None:
    assert from_histogram(Counter()).count == 0 and from_histogram(Counter()).p50_h is None
    out = from_histogram(Counter({h * 10: 1 for h in range(1, 11)}))
    assert (out.count, out.p50_h, out.p90_h) == (10, 5.0, 9.0)
    assert from_histogram(Counter({30: 1})).p90_h == 3.0
    skewed = from_histogram(Counter({5: 89, 400: 11}))  # 89 at 0.5 h, 11 at 40 h
    assert (skewed.count, skewed.p50_h, skewed.p90_h) == (100, 0.5, 40.0)


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


def test_a_wait_is_counted_in_the_nearest_tenth_of_an_hour_half_up() -> None:
    assert bucket(T, T) == 0 and bucket(T, T - timedelta(hours=1)) == 0
    assert bucket(T, T + timedelta(minutes=2, seconds=59)) == 0
    assert bucket(T, T + timedelta(minutes=3)) == 1  # half up
    assert bucket(T, T + timedelta(hours=24, minutes=8, microseconds=999_999)) == 241
    assert bucket(T, T + timedelta(hours=24, minutes=9)) == 242


def test_a_paid_refund_counts_its_waits_on_its_shanghai_pay_day() -> None:
    paid = PaidRefund(T, T + timedelta(hours=20), T + timedelta(hours=14), "express")  # 00:00
    assert waits_of(paid) == [
        WaitCount(date(2026, 11, 21), "express", REQUEST, 140),
        WaitCount(date(2026, 11, 21), "express", PICKUP, 0),
    ]
    assert [c.measure for c in waits_of(PaidRefund(T, None, T))] == [REQUEST]


@given(
    st.lists(
        st.tuples(st.integers(0, 40 * 3_600_000_000), st.integers(0, 4)), min_size=1, max_size=60
    )
)
def test_percentiles_of_the_tally_are_those_of_the_waits_rounded(
    waits: list[tuple[int, int]],
) -> None:
    paid = [PaidRefund(T, None, T + timedelta(days=day, microseconds=us)) for us, day in waits]
    out = lead_times_of(c for p in paid for c in waits_of(p))
    # Each wait rounded half up to 0.1 h, then the nearest-rank percentile of those.
    rounded = sorted(bucket(p.requested_at, p.paid_at) for p in paid)
    n = len(rounded)
    assert out.request_to_money.count == n
    assert out.request_to_money.p50_h == rounded[-(-50 * n // 100) - 1] / 10
    assert out.request_to_money.p90_h == rounded[-(-90 * n // 100) - 1] / 10
    assert sum(d.request_to_money.count for d in out.days) == n
    assert out.pickup_to_money.count == 0 and out.bucket_h == 0.1
