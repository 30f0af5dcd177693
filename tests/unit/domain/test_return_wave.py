"""The return wave: requests follow signings by a learned lag, so a sales spike is seen
days before its returns come, where the same weekday of past weeks sees nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from doorstep.domain.outlook import same_weekdays
from doorstep.domain.return_wave import (
    MAX_LAG,
    MAX_LEAD,
    MIN_ORDERS,
    booking,
    learn,
    pickups,
    request_days,
    requests,
    window_shares,
)

TODAY = date(2026, 11, 12)  # the day after Double 11
A = "310104"


def _history(rate: float = 0.1, per_day: int = 100) -> tuple[dict, dict, dict, dict]:  # type: ignore[type-arg]
    """Learning counts: ``per_day`` × 28 orders, a tenth returned 3 to 5 days after signing,
    half of the requests booking a pickup."""
    signed = {A: per_day * 28}
    returned = int(per_day * 28 * rate)
    lags = {(A, 3): returned // 4, (A, 4): returned // 2, (A, 5): returned - 3 * returned // 4}
    return signed, lags, {A: 400}, {A: 200}


def test_rate_lag_and_pickup_share_are_learned_from_counts() -> None:
    model = learn(*_history())
    assert model is not None
    assert model.rate(A) == pytest.approx(0.1)
    assert model.lag[4] == pytest.approx(0.5) and sum(model.lag) == pytest.approx(1.0)
    assert model.pickup_share(A) == pytest.approx(0.5)
    # A district never seen takes the city's figures.
    assert model.rate("310115") == model.city_rate


def test_a_double_11_spike_is_a_wave_three_to_seven_days_later_the_weekday_mean_misses() -> None:
    model = learn(*_history())
    assert model is not None
    # 100 orders signed a day for eight weeks, then 1000 on Double 11 (yesterday).
    signed = {(A, TODAY - timedelta(days=n)): 100 for n in range(2, 57)}
    signed[A, TODAY - timedelta(days=1)] = 1000
    days = [TODAY + timedelta(days=n) for n in range(0, 8)]
    got = requests(model, signed, TODAY, days, [A])
    steady = 100 * 0.1
    # The wave: signed on the 11th, asking on the 14th-16th (lags 3-5), 10 × the usual.
    spike = {TODAY + timedelta(days=n) for n in (2, 3, 4)}
    for day in days:
        if day in spike:
            assert got[A, day] > 3 * steady, (day, got[A, day])
        else:
            assert got[A, day] == pytest.approx(steady), (day, got[A, day])
    # The same weekday of the last four weeks saw the steady days only.
    past = {d: steady for d in same_weekdays(TODAY + timedelta(days=3))}
    weekday_mean = sum(past.values()) / len(past)
    assert got[A, TODAY + timedelta(days=3)] > 4 * weekday_mean
    assert pickups(model, A, got[A, TODAY + timedelta(days=3)]) == pytest.approx(
        got[A, TODAY + timedelta(days=3)] / 2
    )


def test_days_not_yet_signed_count_the_recent_daily_median() -> None:
    model = learn(*_history())
    assert model is not None
    signed = {(A, TODAY - timedelta(days=n)): 70 for n in range(1, 29)}
    # Three days ahead, lag 3 falls on today (not signed yet): the median of 70 stands in.
    got = requests(model, signed, TODAY, [TODAY + timedelta(days=3)], [A])
    assert got[A, TODAY + timedelta(days=3)] == pytest.approx(7.0)


def test_no_history_gives_no_model_not_a_prior() -> None:
    assert learn({}, {}, {}, {}) is None
    assert learn({A: MIN_ORDERS - 1}, {(A, 3): 5}, {}, {}) is None
    # Orders but no returns: a rate of 0 is what history says.
    model = learn({A: MIN_ORDERS}, {}, {}, {})
    assert model is not None and model.rate(A) == 0.0 and model.pickup_share(A) == 0.0


def test_a_small_district_is_pulled_to_the_city_rate() -> None:
    signed = {A: 5000, "310115": 10}
    lags = {(A, 2): 500, ("310115", 2): 10}  # 10 % and 100 %
    model = learn(signed, lags, {}, {})
    assert model is not None
    assert 0.1 < model.rate("310115") < 0.5
    assert model.rate(A) == pytest.approx(0.1, abs=0.01)


def test_lags_out_of_range_are_left_out() -> None:
    model = learn({A: 100}, {(A, 2): 10, (A, MAX_LAG + 1): 50, (A, -1): 50}, {}, {})
    assert model is not None and model.rate(A) == pytest.approx(0.1)


@pytest.mark.parametrize("bad", [-1, 10_000_001, True, 1.5])
def test_counts_are_bounded(bad: object) -> None:
    with pytest.raises(ValueError):
        learn({A: bad}, {}, {}, {})  # type: ignore[dict-item]
    model = learn(*_history())
    assert model is not None
    with pytest.raises(ValueError):
        requests(model, {(A, TODAY - timedelta(days=1)): bad}, TODAY, [TODAY], [A])  # type: ignore[dict-item]


def test_forecast_days_are_bounded() -> None:
    model = learn(*_history())
    assert model is not None
    for day in (TODAY - timedelta(days=MAX_LEAD + 1), TODAY + timedelta(days=15)):
        with pytest.raises(ValueError):
            requests(model, {}, TODAY, [day], [A])


def test_window_shares_follow_past_bookings_among_offered_windows() -> None:
    shares = window_shares(
        {"yto 09:00": 8, "yto 13:00": 0, "gone 18:00": 50}, ["yto 09:00", "yto 13:00"]
    )
    assert shares == {"yto 09:00": pytest.approx(0.9), "yto 13:00": pytest.approx(0.1)}
    assert window_shares({}, []) == {}


MONDAY = date(2026, 11, 16)


def test_a_wave_opened_on_monday_lands_on_tuesdays_windows_with_a_next_day_lead() -> None:
    signed, lags, opened, booked = _history()
    model = learn(signed, lags, opened, booked, {1: 40})  # every request books the next day
    assert model is not None and model.lead[1] == pytest.approx(1.0)
    expected = {(A, MONDAY): 300.0, (A, MONDAY + timedelta(days=1)): 10.0}
    assert booking(model, expected, A, MONDAY) == 0.0
    assert booking(model, expected, A, MONDAY + timedelta(days=1)) == pytest.approx(300.0)
    assert booking(model, expected, A, MONDAY + timedelta(days=2)) == pytest.approx(10.0)
    # Without a learned lead the wave stays on Monday, as before.
    same_day = learn(signed, lags, opened, booked)
    assert same_day is not None and same_day.lead == (1.0,)
    assert booking(same_day, expected, A, MONDAY) == pytest.approx(300.0)


def test_a_lead_distribution_spreads_a_days_requests_and_keeps_their_sum() -> None:
    model = learn(*_history(), {0: 50, 1: 40, 2: 10})
    assert model is not None
    assert model.lead[:3] == pytest.approx((0.5, 0.4, 0.1))
    expected = {(A, MONDAY): 100.0}
    got = [booking(model, expected, A, MONDAY + timedelta(days=j)) for j in range(4)]
    assert got == pytest.approx([50.0, 40.0, 10.0, 0.0])
    assert sum(got) == pytest.approx(100.0)


def test_leads_beyond_the_horizon_count_as_the_last_and_negative_ones_are_left_out() -> None:
    model = learn(*_history(), {0: 1, MAX_LEAD + 5: 1, -1: 7})
    assert model is not None
    assert len(model.lead) == MAX_LEAD + 1
    assert model.lead[0] == pytest.approx(0.5) and model.lead[MAX_LEAD] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        learn(*_history(), {1: -3})


def test_request_days_reach_back_the_longest_lead() -> None:
    days = request_days([TODAY + timedelta(days=1), TODAY + timedelta(days=2)])
    assert days[0] == TODAY + timedelta(days=1 - MAX_LEAD) and days[-1] == TODAY + timedelta(days=2)
    assert len(days) == MAX_LEAD + 2
    # Past request days are counted from their signings (bounded by MAX_LEAD before today).
    model = learn(*_history())
    assert model is not None
    got = requests(model, {}, TODAY, [TODAY - timedelta(days=MAX_LEAD)], [A])
    assert got == {(A, TODAY - timedelta(days=MAX_LEAD)): 0.0}


def test_a_day_whose_requests_came_in_far_above_the_forecast_raises_the_next_days_windows() -> None:
    model = learn(*_history(), {0: 50, 1: 40, 2: 10})
    assert model is not None
    # A steady 100 signings a day: about 10 requests a day forecast.
    signed = {(A, TODAY - timedelta(days=n)): 100 for n in range(1, 31)}
    tomorrow = TODAY + timedelta(days=1)
    days = request_days([tomorrow])
    forecast = requests(model, signed, TODAY, days, [A])
    yesterday = TODAY - timedelta(days=1)
    assert forecast[A, yesterday] == pytest.approx(10.0, rel=0.2)
    # Yesterday 200 requests came in (a spike the signings did not show), today 3 so far.
    opened = {(A, yesterday): 200, (A, TODAY): 3}
    counted = requests(model, signed, TODAY, days, [A], opened)
    assert counted[A, yesterday] == 200.0
    # A past day with nothing opened counts 0, not its forecast.
    assert counted[A, TODAY - timedelta(days=2)] == 0.0
    # Today is not over: 3 so far do not pull it under its forecast, 50 would lift it.
    assert counted[A, TODAY] == pytest.approx(forecast[A, TODAY])
    busy = requests(model, signed, TODAY, days, [A], {(A, TODAY): 50})
    assert busy[A, TODAY] == 50.0
    # Tomorrow's windows take the tenth of yesterday's requests that book two days on.
    before = pickups(model, A, booking(model, forecast, A, tomorrow))
    after = pickups(model, A, booking(model, counted, A, tomorrow))
    assert after - before == pytest.approx(
        model.pickup_share(A) * 0.1 * (200 - forecast[A, yesterday])
    )
    assert after > before + 5
