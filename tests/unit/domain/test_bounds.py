"""Input bounds: ASCII-only codes, times within a sane range per field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from doorstep.domain import bounds
from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.disruption import Disruption, DisruptionKind
from doorstep.domain.errors import InvalidInput
from doorstep.domain.order import Channel, Order, OrderLine

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
ARABIC_4 = "\u0664"  # ٤
FULLWIDTH_4 = "\uff14"  # ４
DEVANAGARI_4 = "\u096a"  # ४


@pytest.mark.parametrize("digit", [ARABIC_4, FULLWIDTH_4, DEVANAGARI_4])
def test_codes_take_only_ascii_digits(digit: str) -> None:
    assert digit.isdigit()  # what str.isdigit and \d would have let through
    assert bounds.is_adcode("310104") and not bounds.is_adcode("31010" + digit)
    assert bounds.is_phone("+8613800001001") and not bounds.is_phone("1380000100" + digit)
    assert bounds.is_pickup_code("123456") and not bounds.is_pickup_code("12345" + digit)
    assert bounds.is_waybill("SF1234567") and not bounds.is_waybill("SF123456" + digit)
    assert bounds.is_whole_number("-12") and not bounds.is_whole_number("1" + digit)


@pytest.mark.parametrize("value", ["310104\n", " 310104", "3101040", "31_104"])
def test_codes_match_whole_values_only(value: str) -> None:
    assert not bounds.is_adcode(value)


def test_whole_numbers_are_plain_digits() -> None:
    assert int("1_0") == 10 and not bounds.is_whole_number("1_0")
    assert not bounds.is_whole_number("1" * 13)


def test_calendar_range() -> None:
    assert bounds.in_calendar(NOW)
    assert not bounds.in_calendar(datetime(1, 1, 1, tzinfo=UTC))
    assert not bounds.in_calendar(datetime(9999, 12, 31, tzinfo=UTC))
    assert not bounds.day_in_calendar(date(1999, 12, 31))
    assert bounds.day_in_calendar(date(2099, 12, 31))


def order(**times: datetime | None) -> Order:
    address = Address(
        "310104", "上海市", "上海市", "徐汇区", "漕溪北路 1 号", "张三", "13800138000"
    )
    base = Order(
        "O1",
        "buyer-001",
        "shop",
        Channel.BONDED,
        NOW - timedelta(days=10),
        address,
        (OrderLine("L1", "SKU", 1, 100),),
        signed_at=NOW - timedelta(days=1),
        customs_released_at=NOW - timedelta(days=3),
    )
    return replace(base, **times)


def test_plausible_order_times_pass() -> None:
    order().check_times(NOW)
    order(signed_at=None, customs_released_at=None).check_times(NOW)
    order(signed_at=NOW + timedelta(minutes=5)).check_times(NOW)  # partner clock a little ahead


@pytest.mark.parametrize(
    ("times", "field"),
    [
        ({"signed_at": datetime(9999, 12, 31, 23, tzinfo=UTC)}, "signed_at"),
        ({"placed_at": datetime(1, 1, 1, tzinfo=UTC)}, "placed_at"),
        ({"signed_at": NOW + timedelta(days=400)}, "signed_at"),
        ({"placed_at": NOW + timedelta(hours=1), "signed_at": None}, "placed_at"),
        ({"signed_at": NOW - timedelta(days=20)}, "signed_at"),  # before placed
        ({"customs_released_at": NOW - timedelta(days=11)}, "customs_released_at"),
        ({"signed_at": NOW - timedelta(days=4)}, "signed_at"),  # before customs release
    ],
)
def test_implausible_order_times_are_refused(times: dict[str, datetime | None], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        order(**times).check_times(NOW)
    assert caught.value.code == "time_out_of_range"
    assert caught.value.details["field"] == field
    assert field in caught.value.message_en and field in caught.value.message_zh


def declare(start: datetime, end: datetime) -> Disruption:
    return Disruption.declare(
        "D1", DisruptionKind.PEAK, ["310104"], start, end, 50, "peak", "高峰", NOW, "ops"
    )


def test_disruption_within_the_horizon_is_declared() -> None:
    declare(NOW - timedelta(days=2), NOW + timedelta(days=29))
    declare(NOW + timedelta(days=300), NOW + timedelta(days=310))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), NOW + timedelta(days=1)),
        (NOW, datetime(9999, 12, 31, tzinfo=UTC)),
        (NOW - timedelta(days=8), NOW + timedelta(days=1)),
        (NOW + timedelta(days=367), NOW + timedelta(days=368)),
        (NOW - timedelta(days=3), NOW - timedelta(days=1)),
        (NOW, NOW + timedelta(days=32)),
    ],
)
def test_disruption_outside_the_horizon_is_refused(start: datetime, end: datetime) -> None:
    with pytest.raises(InvalidInput) as caught:
        declare(start, end)
    assert caught.value.code == "time_out_of_range"
