"""What a value from outside may be: calendar ranges for times, ASCII-only digits for codes.

Times outside the range are refused where they come in (API, pages, partner imports): a year-1
or year-9999 value stored once makes date arithmetic overflow on every later read. Codes are
matched with ``[0-9]`` and ``re.ASCII``, because ``\\d`` and ``str.isdigit`` also accept Arabic,
Devanagari or full-width digits, which no carrier, phone network or pickup code uses.

The patterns are plain strings so that the API schemas publish exactly what the domain checks.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from doorstep.domain.errors import InvalidInput

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No time doorstep handles is older: orders, releases and signatures are this century's."""
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Nor later: far beyond any return window, and far from ``datetime.max``."""

CLOCK_SKEW = timedelta(minutes=10)
"""How far ahead of our clock a partner's "it happened now" may be."""

ADCODE_PATTERN = r"^[1-8][0-9]{5}$"
PHONE_PATTERN = r"^\+?[0-9]{7,15}$"
PICKUP_CODE_PATTERN = r"^[0-9]{6}$"
WAYBILL_PATTERN = r"^[A-Za-z0-9]{6,32}$"
WHOLE_NUMBER_PATTERN = r"^[+-]?[0-9]{1,12}$"
# Yuan as ops type them: digits, then at most two decimals (fen), ``109.13``.
YUAN_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"

_ADCODE = re.compile(ADCODE_PATTERN, re.ASCII)
_PHONE = re.compile(PHONE_PATTERN, re.ASCII)
_PICKUP_CODE = re.compile(PICKUP_CODE_PATTERN, re.ASCII)
_WAYBILL = re.compile(WAYBILL_PATTERN, re.ASCII)
_WHOLE_NUMBER = re.compile(WHOLE_NUMBER_PATTERN, re.ASCII)
_YUAN = re.compile(YUAN_PATTERN, re.ASCII)


def is_adcode(value: str) -> bool:
    """A 6-digit GB/T 2260 division code in ASCII digits (first digit 1–8)."""
    return _ADCODE.fullmatch(value) is not None


def is_phone(value: str) -> bool:
    """7 to 15 ASCII digits, optionally after a ``+``."""
    return _PHONE.fullmatch(value) is not None


def is_pickup_code(value: str) -> bool:
    """Six ASCII digits."""
    return _PICKUP_CODE.fullmatch(value) is not None


def is_waybill(value: str) -> bool:
    """6 to 32 ASCII letters and digits."""
    return _WAYBILL.fullmatch(value) is not None


def is_whole_number(value: str) -> bool:
    """An optionally signed run of at most 12 ASCII digits (``int()`` alone takes ``"١٢"``)."""
    return _WHOLE_NUMBER.fullmatch(value) is not None


def is_yuan(value: str) -> bool:
    """At most 9 ASCII digits of yuan and at most two of fen after a point, no sign."""
    return _YUAN.fullmatch(value) is not None


def in_calendar(moment: datetime) -> bool:
    """Whether an aware time lies in [2000, 2100)."""
    return EARLIEST <= moment < LATEST


def day_in_calendar(day: date) -> bool:
    """Whether a calendar day lies in [2000, 2100)."""
    return EARLIEST.date() <= day < LATEST.date()


def out_of_range(field: str, en: str, zh: str, **details: object) -> InvalidInput:
    """The one error for a time outside what its field allows, naming the field."""
    return InvalidInput(
        "time_out_of_range",
        f"{field}: {en}",
        f"{field}：{zh}",
        field=field,
        **details,
    )


def check_in_calendar(field: str, moment: datetime) -> None:
    """Refuse a time outside [2000, 2100)."""
    if not in_calendar(moment):
        raise out_of_range(
            field,
            "must be between the years 2000 and 2099.",
            "须在 2000 年至 2099 年之间。",
        )


def check_not_after(field: str, moment: datetime, now: datetime) -> None:
    """Refuse a time that has not happened yet (beyond a few minutes of clock skew)."""
    if moment > now + CLOCK_SKEW:
        raise out_of_range(field, "cannot be in the future.", "不能晚于当前时间。")


def check_not_before(field: str, moment: datetime, other_field: str, other: datetime) -> None:
    """Refuse a time earlier than the one it must follow (signed before placed, ...)."""
    if moment < other:
        raise out_of_range(
            field,
            f"cannot be earlier than {other_field}.",
            f"不能早于 {other_field}。",
            after=other_field,
        )
