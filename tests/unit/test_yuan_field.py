"""The console's "Take back (yuan)" field: yuan with at most two decimals, read as integer fen
with Decimal (never a float), bounds in fen, errors in both languages naming the field."""

from __future__ import annotations

import pytest

from doorstep.domain.errors import InvalidInput
from doorstep.entrypoints.web.forms import optional_fen, to_fen, to_int
from doorstep.entrypoints.web.i18n import yuan

FIELD, HIGH = "Take back (yuan)", 1_000_000_000


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("0", 0),
        ("109.13", 10_913),
        (" 109.1 ", 10_910),
        ("0.29", 29),  # float("0.29") * 100 is 28.999999999999996
        ("1.15", 115),  # and 1.15 * 100 is 114.99999999999999
        ("399", 39_900),
        ("007.50", 750),
        ("10000000", HIGH),
        ("10000000.00", HIGH),
    ],
)
def test_yuan_with_up_to_two_decimals_are_read_as_exact_fen(typed: str, fen: int) -> None:
    assert to_fen(typed, FIELD, low=0, high=HIGH) == fen


@pytest.mark.parametrize(
    "typed",
    ["", "109.135", "109.", ".5", "1,09", "1_000", "-1", "+1", "1e3", "¥109", "１０９", "١٢", "abc",
     "NaN", "Infinity", "10 9"],
)  # fmt: skip
def test_anything_else_is_refused_in_both_languages(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        to_fen(typed, FIELD, low=0, high=HIGH)
    assert refused.value.code == "not_an_amount"
    assert (
        refused.value.message_en.startswith(f"{FIELD}: ") and "109.13" in refused.value.message_en
    )
    assert (
        refused.value.message_zh.startswith(f"{FIELD}：")
        and "最多两位小数" in refused.value.message_zh
    )
    assert refused.value.details == {"field": FIELD}


@pytest.mark.parametrize("typed", ["10000000.01", "999999999.99"])
def test_amounts_past_the_bounds_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        to_fen(typed, FIELD, low=0, high=HIGH)
    assert refused.value.code == "number_out_of_range"
    assert "¥0.00" in refused.value.message_en and "¥10,000,000.00" in refused.value.message_en
    assert "¥10,000,000.00" in refused.value.message_zh


def test_an_empty_field_names_no_amount() -> None:
    assert optional_fen("  ", FIELD, low=0, high=HIGH) is None
    assert optional_fen("0.5", FIELD, low=0, high=HIGH) == 50


@pytest.mark.parametrize("fen", [0, 5, 29, 10_913, 39_900, HIGH])
def test_the_placeholder_is_what_the_field_reads_back(fen: int) -> None:
    assert to_fen(yuan(fen), FIELD, low=0, high=HIGH) == fen


@pytest.mark.parametrize(("typed", "number"), [("3", 3), (" 12 ", 12)])
def test_whole_numbers_share_the_range_check_with_plain_bounds(typed: str, number: int) -> None:
    assert to_int(typed, "Capacity", low=3, high=12) == number
    with pytest.raises(InvalidInput) as refused:
        to_int("13", "Capacity", low=3, high=12)
    assert refused.value.code == "number_out_of_range"
    assert refused.value.message_en == "Capacity: must be between 3 and 12."
    assert refused.value.message_zh == "Capacity：必须在 3 到 12 之间。"
