"""Reading form fields into domain values, with errors in both languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from typing import Annotated

from fastapi import Path, Query, UploadFile
from pydantic import AfterValidator

from doorstep.domain import bounds
from doorstep.domain.errors import InvalidInput, TooLarge
from doorstep.domain.pickup import Handover
from doorstep.entrypoints.web.i18n import money
from doorstep.services.pickup import SlotChoice

# Ids in page addresses and search boxes: as long as any id doorstep issues, no longer.
PathId = Annotated[str, Path(max_length=64)]
QueryText = Annotated[str, Query(max_length=64)]


def _day_in_calendar(day: date) -> date:
    if not bounds.day_in_calendar(day):
        raise ValueError("must be between the years 2000 and 2099")
    return day


CalendarDay = Annotated[date, AfterValidator(_day_in_calendar)]
"""A day in the years 2000-2099 from a form or address (others get the 422 page)."""


def to_int(value: str | None, field: str, *, low: int, high: int) -> int:
    """A whole number in [low, high] from a text field, in ASCII digits."""
    text = (value or "").strip()
    if not bounds.is_whole_number(text):
        # int() alone would also take "١٢" or "1_0".
        raise InvalidInput(
            "not_a_number",
            f"{field}: enter a whole number (digits 0-9).",
            f"{field}：请输入整数（数字 0-9）。",
            field=field,
        )
    return _in_range(int(text), field, low, high, str(low), str(high))


def optional_int(value: str | None, field: str, *, low: int, high: int) -> int | None:
    return None if not (value or "").strip() else to_int(value, field, low=low, high=high)


def to_fen(value: str | None, field: str, *, low: int, high: int) -> int:
    """An amount typed in yuan with at most two decimals (``109.13``) as integer fen in
    [low, high] fen. Read with Decimal: a float would turn 0.29 yuan into 28 fen."""
    text = (value or "").strip()
    if not bounds.is_yuan(text):
        raise InvalidInput(
            "not_an_amount",
            f"{field}: enter yuan with at most two decimals (digits 0-9 and a point, e.g. 109.13).",
            f"{field}：请输入金额（元），最多两位小数（数字 0-9 和小数点，例如 109.13）。",
            field=field,
        )
    return _in_range(int(Decimal(text) * 100), field, low, high, money(low), money(high))


def _in_range(number: int, field: str, low: int, high: int, low_shown: str, high_shown: str) -> int:
    """``number`` if within [low, high]; the error names the bounds as the field shows them."""
    if not low <= number <= high:
        raise InvalidInput(
            "number_out_of_range",
            f"{field}: must be between {low_shown} and {high_shown}.",
            f"{field}：必须在 {low_shown} 到 {high_shown} 之间。",
            field=field,
        )
    return number


def optional_fen(value: str | None, field: str, *, low: int, high: int) -> int | None:
    """``to_fen``, or None for a field left empty."""
    return None if not (value or "").strip() else to_fen(value, field, low=low, high=high)


def slot_value(carrier_id: str, day: date, start: time, coupon_fen: int = 0) -> str:
    """One radio value that names a window: ``sf|2026-11-25|10:00``, with ``|300`` when the
    window carries a coupon (checked against the offer when booked, issue 9 §9)."""
    value = f"{carrier_id}|{day.isoformat()}|{start:%H:%M}"
    return f"{value}|{coupon_fen}" if coupon_fen > 0 else value


def parse_slot(value: str) -> SlotChoice:
    """The window a slot radio button named (a day in the years 2000-2099, a wall-clock time)."""
    parts = value.split("|")
    coupon_text = parts.pop() if len(parts) == 4 else "0"
    try:
        carrier_id, day_text, start_text = parts
        day, start = date.fromisoformat(day_text), time.fromisoformat(start_text)
    except ValueError:
        day = None
    valid_coupon = bounds.is_whole_number(coupon_text) and len(coupon_text) <= 7
    if (
        day is None
        or not bounds.day_in_calendar(day)
        or start.tzinfo is not None
        or not valid_coupon
    ):
        raise InvalidInput("slot_choice_invalid", "Choose a pickup window.", "请选择一个上门时段。")
    return SlotChoice(carrier_id, day, start, coupon_fen=int(coupon_text))


def with_handover(choice: SlotChoice, handover: str, note: str) -> SlotChoice:
    """The booking's contactless option (issue 8 §8): in person, at the door or a locker."""
    try:
        how = Handover(handover or "in_person")
    except ValueError:
        raise InvalidInput(
            "handover_invalid", "Choose how to hand the parcel over.", "请选择交件方式。"
        ) from None
    return replace(choice, handover=how, handover_note=note.strip() if how.contactless else "")


def read_upload(upload: UploadFile | None, limit: int) -> bytes | None:
    """The bytes of an optional file field (browsers send an empty part when none is chosen)."""
    if upload is None or not upload.filename:
        return None
    data = upload.file.read(limit + 1)
    if not data:
        return None
    if len(data) > limit:
        raise TooLarge(
            "photo_too_large",
            f"Photos may be at most {limit // 1_000_000} MB.",
            f"照片不能超过 {limit // 1_000_000} MB。",
        )
    return data
