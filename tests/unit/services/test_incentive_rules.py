"""planned_offering.rank: which costed windows are shown and which carry a coupon."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

import pytest

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.services.offering import OfferedSlot
from doorstep.services.planned_offering import (
    IncentiveRules,
    aimed_coupons,
    coupon_for,
    expected_cost,
    likely_saving,
    protected,
    rank,
    reservations,
)

DAY = date(2026, 11, 26)


def window(hour: int) -> OfferedSlot:
    slot = SlotRef("310116", "yto", DAY, Window(time(hour), time(hour + 1)))
    return OfferedSlot(slot, 4, 4, datetime(2026, 11, 25, 18, tzinfo=SHANGHAI), rank=99)


# Extra driving per window, cheapest first (median 300 s).
COSTED = [
    (60, window(9)),
    (120, window(10)),
    (300, window(11)),
    (420, window(12)),
    (900, window(13)),
]


def hours(shown: list[OfferedSlot]) -> list[int]:
    return [o.slot.window.start.hour for o in shown]


def test_near_pct_hides_windows_far_above_the_median_but_keeps_the_cheapest() -> None:
    rules = IncentiveRules(near_pct=100, keep_at_least=1, green_within_s=0, show_within_s=0)
    assert hours(rank(COSTED, rules)) == [9, 10, 11]
    keep4 = IncentiveRules(near_pct=100, keep_at_least=4, show_within_s=0)
    assert hours(rank(COSTED, keep4)) == [9, 10, 11, 12]
    assert [o.rank for o in rank(COSTED, rules)] == [0, 1, 2]


def test_show_within_s_never_hides_a_window_that_cheap() -> None:
    # 420 s is above 100 % of the median, yet within the 450 s bound: shown.
    rules = IncentiveRules(near_pct=100, keep_at_least=1, show_within_s=450)
    assert hours(rank(COSTED, rules)) == [9, 10, 11, 12]
    assert hours(rank(COSTED, IncentiveRules(near_pct=0, show_within_s=450))) == hours(
        rank(COSTED, None)
    )


def test_coupons_only_at_or_below_the_median_and_within_reach() -> None:
    shown = rank(COSTED, IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=200))
    assert [o.incentive_fen for o in shown] == [300, 300, 0, 0, 0]
    assert all(o.incentive_fen == 0 for o in rank(COSTED, None))


def test_rules_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError):
        IncentiveRules(show_within_s=-1)


def test_coupon_gap_cuts_coupons_back_to_a_real_saving() -> None:
    # Green by the median alone: 60, 120 and 300 s; the next shown window (420 s) is only
    # 120 s dearer than 300 s, so a coupon there would pull buyers off it for little.
    plain = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=0)
    assert [o.incentive_fen > 0 for o in rank(COSTED, plain)] == [True, True, True, False, False]
    gap150 = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=0, coupon_gap_s=150)
    # 300 -> 420 is a step of 120 (< 150): cut back; 120 -> 300 is 180: every move saves >= 150.
    assert [o.incentive_fen > 0 for o in rank(COSTED, gap150)] == [True, True, False, False, False]
    gap200 = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=0, coupon_gap_s=200)
    # No step of 200 s below the last green window: no coupon at all, every window is shown.
    assert [o.incentive_fen for o in rank(COSTED, gap200)] == [0, 0, 0, 0, 0]
    assert hours(rank(COSTED, gap200)) == [9, 10, 11, 12, 13]


def test_coupon_gap_is_measured_between_shown_windows_only() -> None:
    # 420 and 900 s are hidden: every shown window is green, so a coupon pulls nobody off a
    # window without one, whatever the gap to the hidden ones.
    rules = IncentiveRules(
        near_pct=100, keep_at_least=1, show_within_s=0, cheap_pct=100, green_within_s=0,
        coupon_gap_s=1000,
    )  # fmt: skip
    assert [o.incentive_fen > 0 for o in rank(COSTED, rules)] == [True, True, True]
    with pytest.raises(ValueError):
        IncentiveRules(coupon_gap_s=-1)


def test_expected_cost_shares_the_detour_with_the_bookings_still_expected() -> None:
    assert expected_cost(1200, 0.0, 100) == 1200  # nothing more expected: the whole detour
    assert expected_cost(1200, 3.0, 100) == 300  # four pickups share one trip
    assert expected_cost(1200, 3.0, 50) == 480  # half of the expectation counted
    assert expected_cost(1200, 3.0, 0) == 1200  # off
    assert expected_cost(0, 5.0, 100) == 0
    with pytest.raises(ValueError):
        IncentiveRules(future_pct=-1)


def test_priced_against_the_forecast_coupons_still_follow_todays_cost() -> None:
    # Priced cheapest first: 9, 10, 11, 12, 13; against today's routes 12 and 10 are the
    # near ones (9 is cheap only because bookings are expected there).
    today = {
        o.slot: c for c, o in zip([900, 120, 300, 60, 420], [o for _, o in COSTED], strict=True)
    }
    rules = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=200)
    shown = rank(COSTED, rules, today)
    assert hours(shown) == [9, 10, 11, 12, 13]
    assert {o.slot.window.start.hour for o in shown if o.incentive_fen} == {10, 12}
    plain = rank(COSTED, rules)
    assert {o.slot.window.start.hour for o in plain if o.incentive_fen} == {9, 10}


def test_coupons_sized_by_saving_grow_with_the_driving_saved_up_to_the_cap() -> None:
    # Median 300 s. Green (at or below it): 60, 120, 300 s, saving 240, 180 and 0 s.
    rules = IncentiveRules(
        near_pct=0, cheap_pct=100, green_within_s=0, coupon_fen=600, coupon_per_min_fen=100
    )
    # 4 min saved at ¥1/min: ¥4; 3 min: ¥3; the median window itself saves nothing: no coupon.
    assert [o.incentive_fen for o in rank(COSTED, rules)] == [400, 300, 0, 0, 0]
    capped = IncentiveRules(
        near_pct=0, cheap_pct=100, green_within_s=0, coupon_fen=350, coupon_per_min_fen=100
    )
    assert [o.incentive_fen for o in rank(COSTED, capped)] == [350, 300, 0, 0, 0]
    # ¥0.40/min: 4 min buys ¥1.60 -> ¥1.50 (whole ¥0.50 steps), 3 min ¥1.20 -> ¥1.00.
    small = IncentiveRules(
        near_pct=0, cheap_pct=100, green_within_s=0, coupon_fen=600, coupon_per_min_fen=40
    )
    assert [o.incentive_fen for o in rank(COSTED, small)] == [150, 100, 0, 0, 0]
    # Off: every green window carries the flat coupon, as before.
    flat = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=0, coupon_fen=300)
    assert [o.incentive_fen for o in rank(COSTED, flat)] == [300, 300, 300, 0, 0]
    shown = rank(COSTED, rules)
    assert "¥4" in shown[0].note_en and "¥4" in shown[0].note_zh
    with pytest.raises(ValueError):
        IncentiveRules(coupon_per_min_fen=-1)


def test_coupon_for_never_pays_for_a_window_dearer_than_the_median() -> None:
    rules = IncentiveRules(coupon_fen=600, coupon_per_min_fen=100)
    assert coupon_for(rules, -120) == 0
    assert coupon_for(rules, 29) == 0  # ¥0.48: under the smallest step
    assert coupon_for(rules, 30) == 50
    assert coupon_for(rules, 10_000) == 600
    assert coupon_for(IncentiveRules(coupon_fen=300), -120) == 300  # flat: the rule decides


def likely_costed(costs: dict[int, int]) -> list[tuple[int, OfferedSlot]]:
    return sorted(
        ((c, window(h)) for h, c in costs.items()), key=lambda p: (p[0], p[1].slot.window.start)
    )


def coupon_hours(shown: list[OfferedSlot]) -> set[int]:
    return {o.slot.window.start.hour for o in shown if o.incentive_fen}


def test_a_coupon_whose_likely_alternatives_are_as_cheap_is_dropped() -> None:
    # 10:00 and 11:00 are near (green); buyers mostly want 11:00 and 12:00, which cost
    # about as little: a coupon on 10:00 would pull them off for 60-150 s a move.
    costed = likely_costed({9: 900, 10: 60, 11: 120, 12: 210, 13: 900})
    demand = {window(h).slot: p for h, p in {9: 0.0, 10: 0.0, 11: 3.0, 12: 3.0, 13: 0.0}.items()}
    green = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=200)
    assert coupon_hours(rank(costed, green)) == {10, 11}
    aimed = replace(green, likely_saving_s=120)
    # 10:00 saves (60 + 150) / 2 = 105 s a move: no coupon. 11:00 is the likely first choice
    # of half the nearby buyers, the other half (12:00) save only 90 s: none either.
    assert coupon_hours(rank(costed, aimed, None, demand)) == set()
    assert coupon_hours(rank(costed, replace(green, likely_saving_s=60), None, demand)) == {
        10,
        11,
    }
    # Without a forecast the rule is off: the plain green windows.
    assert coupon_hours(rank(costed, aimed)) == {10, 11}


def test_a_coupon_pulling_buyers_off_an_expensive_likely_choice_is_kept() -> None:
    # Buyers mostly want 12:00, a 900 s detour; 11:00 is near: each move saves 840 s.
    costed = likely_costed({9: 1000, 10: 300, 11: 60, 12: 900, 13: 420})
    demand = {window(h).slot: p for h, p in {9: 1.0, 10: 0.0, 11: 0.5, 12: 4.0, 13: 0.5}.items()}
    rules = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=0, likely_saving_s=600)
    # Green by the median (420 s): 11:00, 10:00 and 13:00. 10:00's likely alternatives
    # (9, 11, 12, 13 weighted 1 : 0.5 : 4 : 0.5) save (700 - 120 + 2400 + 60) / 6 = 507 s:
    # dropped. 13:00 (9:00 is out of reach): (0.5·(-360) + 4·480) / 4.5 = 387 s, dropped.
    assert coupon_hours(rank(costed, rules, None, demand)) == {11}
    # The same saving with the likely first choice at 11:00 itself for most nearby buyers:
    # paid mostly to buyers who come anyway, so only where the window is near-free.
    most = {**demand, window(11).slot: 20.0}
    assert coupon_hours(rank(costed, rules, None, most)) == {11}  # 60 s <= 600 s
    # At 50 s 11:00 (60 s) is no longer near-free; 10:00 and 13:00 would pull buyers off
    # the cheaper 11:00: no coupon anywhere.
    low = replace(rules, likely_saving_s=50)
    assert coupon_hours(rank(costed, low, None, most)) == set()


def test_likely_saving_counts_same_day_windows_within_reach_only() -> None:
    # 19:00 is a 3,000 s detour the forecast fills, but nobody wanting 19:00 takes 11:00.
    costs = {window(h).slot: c for h, c in {11: 60, 12: 120, 19: 3000}.items()}
    demand = {window(12).slot: 1.0, window(19).slot: 9.0}
    assert likely_saving(window(11).slot, costs, demand) == (60.0, 0.0)
    assert likely_saving(window(11).slot, costs, {window(19).slot: 9.0}) is None
    # No forecast for any shown window: every window weighs the same.
    assert aimed_coupons(likely_costed({11: 60, 12: 400}), {}, 300) == {window(11).slot}
    with pytest.raises(ValueError):
        IncentiveRules(likely_saving_s=-1)


# Session 13: room kept for the first choices the forecast still expects (``reserve_s``).
RESERVE_COSTS = {9: 60, 10: 120, 11: 300, 12: 420, 13: 900}
# 11:00 has room for one more pickup (one route can still take it) and two more expected.
ROOM = {window(h).slot: r for h, r in {9: 3, 10: 3, 11: 1, 12: 3, 13: 3}.items()}
EXPECTED = {window(h).slot: e for h, e in {9: 0.5, 10: 1.0, 11: 2.0, 12: 1.0, 13: 0.5}.items()}


def test_a_window_is_protected_when_its_room_is_at_or_below_what_is_still_expected() -> None:
    assert protected(booked=0, room=1, expected=2.0) == 2.0  # 2 expected, 0 left after this one
    assert protected(booked=0, room=2, expected=2.0) == 1.0  # at the room: protected
    assert protected(booked=0, room=3, expected=2.0) == 0.0
    assert protected(booked=1, room=1, expected=2.0) == 1.0  # the booked one is no longer to come
    assert protected(booked=3, room=1, expected=2.0) == 0.0
    with pytest.raises(ValueError):
        IncentiveRules(reserve_s=-1)
    with pytest.raises(ValueError):
        IncentiveRules(reserve_s=7201)


def test_a_protected_window_gets_no_coupon_and_a_reservation_price() -> None:
    costed = likely_costed(RESERVE_COSTS)
    # Two expected bookings beyond the room this one leaves: 2 x 600 s.
    reserve = reservations(costed, ROOM, EXPECTED, 600)
    assert reserve == {window(11).slot: 1200}
    rules = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=0, reserve_s=600)
    assert coupon_hours(rank(costed, rules)) == {9, 10, 11}  # median 300 s
    shown = rank(costed, rules, None, EXPECTED, reserve)
    # No coupon pulls a buyer into 11:00; charged 1,500 s it lifts the median to 420 s, so
    # 12:00 turns green and steers buyers who want neither away from it; ranked last.
    assert coupon_hours(shown) == {9, 10, 12}
    assert hours(shown) == [9, 10, 12, 13, 11]
    assert [o.rank for o in shown] == [0, 1, 2, 3, 4]


def test_the_reservation_price_never_hides_a_protected_window() -> None:
    costed = likely_costed(RESERVE_COSTS)
    hiding = IncentiveRules(near_pct=100, keep_at_least=1, show_within_s=0, reserve_s=600)
    reserve = reservations(costed, ROOM, EXPECTED, 600)
    # Hidden above the plain median (300 s) only: a buyer who wants 11:00 still sees it.
    assert sorted(hours(rank(costed, hiding, None, EXPECTED, reserve))) == [9, 10, 11]


def test_the_windows_own_buyers_still_see_it_however_likely() -> None:
    costed = likely_costed(RESERVE_COSTS)
    # Most buyers near 11:00 want 11:00 itself (8 of 11): it is protected all the same (the
    # offer cannot tell who is asking), and shown to them, at any reservation price.
    own = {**EXPECTED, window(11).slot: 8.0}
    for reserve_s in (1, 600, 7200):
        reserve = reservations(costed, ROOM, own, reserve_s)
        assert set(reserve) == {window(11).slot}
        rules = IncentiveRules(near_pct=100, keep_at_least=1, show_within_s=0)
        shown = rank(costed, replace(rules, reserve_s=reserve_s), None, own, reserve)
        assert window(11).slot in {o.slot for o in shown}
        assert not [o for o in shown if o.slot == window(11).slot and o.incentive_fen]


def test_reserve_off_ranks_as_today() -> None:
    costed = likely_costed(RESERVE_COSTS)
    for rules in (IncentiveRules(), IncentiveRules(near_pct=0, green_within_s=0), None):
        assert rank(costed, rules, None, EXPECTED, None) == rank(costed, rules, None, EXPECTED)
        assert rank(costed, rules, None, EXPECTED, {}) == rank(costed, rules, None, EXPECTED)
