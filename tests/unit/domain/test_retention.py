"""The retention rule (domain/retention.py): when a departed buyer's records fall due, on the
Shanghai calendar, and what an erased address, sender and buyer keep."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from doorstep.domain.address import Address
from doorstep.domain.carrier_order import Party
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.order import Buyer
from doorstep.domain.retention import (
    ERASED,
    ERASED_PHONE,
    MIN_YEARS,
    PersonalValues,
    RetentionRule,
    anniversary,
    completed_at,
    erased_address,
    erased_party,
    is_erased,
)

HOME = Address(
    "310104",
    "上海市",
    "上海市",
    "徐汇区",
    "漕溪北路 88 号 1201",
    "王小明",
    "13912345678",
    31.19,
    121.43,
)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_the_period_is_three_years_at_least_and_bounded() -> None:
    assert RetentionRule().years == MIN_YEARS == 3
    assert RetentionRule(10).years == 10
    for years in (0, 2, 31):
        with pytest.raises(ValueError, match=r"art\. 31"):
            RetentionRule(years)


def test_due_the_day_after_the_third_anniversary_on_the_shanghai_calendar() -> None:
    rule = RetentionRule()
    # Completed in the afternoon: the whole anniversary day is kept, erasure from midnight.
    assert rule.due(sh(2023, 5, 10, 15, 0)) == sh(2026, 5, 11, 0, 0)
    # 23:30 UTC on 9 May is already 10 May in Shanghai: the Shanghai day counts.
    assert rule.due(datetime(2023, 5, 9, 23, 30, tzinfo=UTC)) == sh(2026, 5, 11, 0, 0)
    # 15:59 UTC on 9 May is 23:59 of 9 May in Shanghai.
    assert rule.due(datetime(2023, 5, 9, 15, 59, tzinfo=UTC)) == sh(2026, 5, 10, 0, 0)
    # The last moment still kept is a full three years after completion, never less.
    done = sh(2023, 12, 31, 23, 59, 59)
    assert rule.due(done) == sh(2027, 1, 1, 0, 0)
    assert rule.due(done) > sh(2026, 12, 31, 23, 59, 59)


def test_a_leap_day_falls_due_after_the_first_of_march() -> None:
    assert anniversary(date(2024, 2, 29), 3) == date(2027, 3, 1)
    assert anniversary(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert RetentionRule().due(sh(2024, 2, 29, 9, 0)) == sh(2027, 3, 2, 0, 0)
    # The day before a leap day: 28 February, as any year.
    assert RetentionRule().due(sh(2024, 2, 28, 9, 0)) == sh(2027, 3, 1, 0, 0)
    # Into a leap year: 29 February 2028 exists, so the day after is 1 March.
    assert RetentionRule().due(sh(2025, 2, 28, 9, 0)) == sh(2028, 2, 29, 0, 0)


def test_the_last_completed_fact_counts() -> None:
    assert completed_at([None, sh(2023, 1, 1), sh(2024, 6, 1), None]) == sh(2024, 6, 1)
    assert completed_at([None]) is None


def test_an_erased_address_keeps_the_district_only() -> None:
    gone = erased_address(HOME)
    assert (gone.adcode, gone.province, gone.city, gone.district) == (
        "310104",
        "上海市",
        "上海市",
        "徐汇区",
    )
    assert (gone.detail, gone.contact_name, gone.contact_phone) == (ERASED, ERASED, ERASED_PHONE)
    assert gone.lat is None and gone.lon is None
    assert "5678" not in gone.masked_phone
    assert is_erased(gone) and not is_erased(HOME)
    assert erased_address(gone) == gone  # a second pass changes nothing


def test_an_erased_sender_and_buyer() -> None:
    party = Party(
        "王小明",
        "13912345678",
        "上海市",
        "上海市",
        "徐汇区",
        "漕溪北路 88 号",
        "310104",
        town="徐家汇街道",
        raw_text="王小明 13912345678 漕溪北路 88 号",
    )
    gone = erased_party(party)
    assert (gone.name, gone.mobile, gone.detail, gone.town, gone.raw_text) == (
        ERASED,
        ERASED_PHONE,
        ERASED,
        "",
        "",
    )
    assert gone.adcode == "310104"
    buyer = Buyer("b1", "王小明", "13912345678", trust_score=720, addresses=[HOME], email="w@x.cn")
    buyer.depart(sh(2023, 1, 1))
    buyer.erase(sh(2026, 1, 2))
    assert (buyer.name, buyer.phone, buyer.email, buyer.addresses) == (ERASED, ERASED_PHONE, "", [])
    assert buyer.trust_score == 720 and buyer.erase_due is None
    assert buyer.erased_at == sh(2026, 1, 2)


def test_personal_values_are_found_in_any_copy() -> None:
    values = PersonalValues.of(["王小明", "王"], ["13912345678", ""], ["漕溪北路 88 号 1201", ""])
    assert "王" not in values.values  # one character would erase unrelated text
    assert {"13912345678", "139****5678"} <= values.values
    doc = {
        "to": "13912345678",
        "text": "王小明您好，快递员已取件",
        "n": 3,
        "lines": [{"sku": "CN-1", "mobile": "139****5678"}],
        "status": "picked_up",
    }
    assert values.scrub(doc) == {
        "to": ERASED,
        "text": ERASED,
        "n": 3,
        "lines": [{"sku": "CN-1", "mobile": ERASED}],
        "status": "picked_up",
    }
    assert values.scrub(values.scrub(doc)) == values.scrub(doc)
