"""The buyer's wanted time (``IncentiveRules.wanted_saving_s``): the stated first choice is
never hidden, coupons sit only where they save enough against it, none when it is cheap."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import Window
from doorstep.domain.errors import InvalidInput
from doorstep.domain.pickup import BookingRules, SlotRef, check_wanted
from doorstep.services.offering import OfferedSlot
from doorstep.services.planned_offering import IncentiveRules, rank, stated_first_choice

DAY = date(2026, 11, 26)


def window(hour: int, day: date = DAY) -> OfferedSlot:
    slot = SlotRef("310116", "yto", day, Window(time(hour), time(hour + 1)))
    return OfferedSlot(slot, 4, 4, datetime(2026, 11, 25, 18, tzinfo=SHANGHAI), rank=99)


# Extra driving per window, cheapest first (median 300 s): 9-11 h are green under COUPONS.
COSTED = [
    (60, window(9)),
    (120, window(10)),
    (300, window(11)),
    (420, window(12)),
    (900, window(13)),
]
COUPONS = IncentiveRules(near_pct=0, cheap_pct=100, green_within_s=0)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def coupons(shown: list[OfferedSlot]) -> dict[int, int]:
    return {o.slot.window.start.hour: o.incentive_fen for o in shown if o.incentive_fen}


def test_the_stated_first_choice_is_the_window_whose_middle_is_nearest() -> None:
    slots = [o.slot for _, o in COSTED]
    assert stated_first_choice(slots, at(12, 30)) == window(12).slot
    # 12:00 is as near 11:30 as 12:30: the earlier window.
    assert stated_first_choice(slots, at(12)) == window(11).slot
    assert stated_first_choice(slots, at(6)) == window(9).slot
    assert stated_first_choice([], at(6)) is None


def test_the_stated_first_choice_is_never_hidden() -> None:
    hiding = IncentiveRules(near_pct=100, keep_at_least=1, show_within_s=0)
    assert [o.slot.window.start.hour for o in rank(COSTED, hiding)] == [9, 10, 11]
    on = replace(hiding, wanted_saving_s=60)
    shown = rank(COSTED, on, wanted=at(13, 30))
    assert [o.slot.window.start.hour for o in shown] == [9, 10, 11, 13]
    assert [o.rank for o in shown] == [0, 1, 2, 3]
    # Only the stated one comes back: 12 h stays hidden.
    assert window(12).slot not in {o.slot for o in shown}
    # ``wanted_shown`` 0: the coupon half alone, the stated window hidden as without it.
    alone = rank(COSTED, replace(on, wanted_shown=0), wanted=at(13, 30))
    assert [o.slot.window.start.hour for o in alone] == [9, 10, 11]


def test_coupons_only_where_the_saving_against_the_stated_choice_reaches_the_threshold() -> None:
    assert coupons(rank(COSTED, COUPONS)) == {9: 300, 10: 300, 11: 300}
    # Stated 12 h (420 s, not green): 9 h saves 360 s, 10 h 300 s, 11 h 120 s.
    wanted = at(12, 30)
    assert coupons(rank(COSTED, replace(COUPONS, wanted_saving_s=120), wanted=wanted)) == {
        9: 300,
        10: 300,
        11: 300,
    }
    assert coupons(rank(COSTED, replace(COUPONS, wanted_saving_s=300), wanted=wanted)) == {
        9: 300,
        10: 300,
    }
    assert coupons(rank(COSTED, replace(COUPONS, wanted_saving_s=301), wanted=wanted)) == {9: 300}
    assert coupons(rank(COSTED, replace(COUPONS, wanted_saving_s=361), wanted=wanted)) == {}


def test_no_coupon_at_all_when_the_stated_first_choice_is_cheap() -> None:
    # 10 h is green (120 s): a coupon on 9 h would save 60 s and take the first choice.
    on = replace(COUPONS, wanted_saving_s=1)
    assert coupons(rank(COSTED, on, wanted=at(10, 30))) == {}
    assert coupons(rank(COSTED, on, wanted=at(9, 30))) == {}


def test_coupons_with_a_wanted_time_are_among_those_without() -> None:
    # The booking checks a claimed coupon against the offer asked without the wanted time.
    today = coupons(rank(COSTED, COUPONS))
    for saving in (1, 120, 600, 7200):
        for hour in range(6, 23):
            on = replace(COUPONS, wanted_saving_s=saving)
            with_wanted = coupons(rank(COSTED, on, wanted=at(hour)))
            assert with_wanted.items() <= today.items()


def test_off_or_unstated_offers_exactly_as_today() -> None:
    live = IncentiveRules()
    today = rank(COSTED, live)
    assert rank(COSTED, live, wanted=at(13, 30)) == today
    assert rank(COSTED, replace(live, wanted_saving_s=600)) == today
    assert rank(COSTED, replace(live, wanted_saving_s=600), wanted=None) == today
    assert rank(COSTED, None, wanted=at(13, 30)) == rank(COSTED, None)


def test_wanted_saving_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        IncentiveRules(wanted_saving_s=-1)
    with pytest.raises(ValueError):
        IncentiveRules(wanted_saving_s=7201)
    assert IncentiveRules(wanted_saving_s=7200).wanted_saving_s == 7200
    with pytest.raises(ValueError):
        IncentiveRules(wanted_shown=2)


NOW = datetime(2026, 11, 26, 10, 7, tzinfo=SHANGHAI)
RULES = BookingRules()  # today and the two days after


def test_a_wanted_time_on_the_quarter_hour_inside_the_horizon_is_kept() -> None:
    assert check_wanted(at(10), NOW, RULES) == at(10)  # the current quarter hour
    last = at(23, 45, DAY + timedelta(days=2))
    assert check_wanted(last, NOW, RULES) == last
    # Another zone is the same instant on the Shanghai clock.
    utc = datetime(2026, 11, 26, 6, 15, tzinfo=UTC)
    assert check_wanted(utc, NOW, RULES).isoformat() == "2026-11-26T14:15:00+08:00"


@pytest.mark.parametrize(
    ("wanted", "code"),
    [
        (at(14, 10), "wanted_not_quarter_hour"),
        (at(14, 0).replace(second=30), "wanted_not_quarter_hour"),
        (at(9, 45), "wanted_outside_horizon"),
        (at(0, 0, DAY + timedelta(days=3)), "wanted_outside_horizon"),
        (datetime(2026, 11, 26, 14), "wanted_without_zone"),  # noqa: DTZ001
        # At the calendar's edges a far offset does not fit once moved to Shanghai: refused,
        # not an OverflowError (found by the input audit: a 500 on the slots route).
        (
            datetime(9999, 12, 31, 23, 45, tzinfo=timezone(-timedelta(hours=12))),
            "wanted_outside_horizon",
        ),
        (datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14))), "wanted_outside_horizon"),
    ],
)
def test_a_bad_wanted_time_is_refused_in_both_languages(wanted: datetime, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_wanted(wanted, NOW, RULES)
    assert refused.value.code == code
    assert refused.value.message_en and refused.value.message_zh
    assert refused.value.message_en != refused.value.message_zh
