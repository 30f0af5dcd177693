"""Door checklists per category, unit judgement against the order line, weight."""

from __future__ import annotations

import pytest

from doorstep.domain.catalog import Accessory, Category, Dimensions, Product
from doorstep.domain.errors import InvalidInput
from doorstep.domain.inspection import (
    UnitAnswer,
    checklist_for,
    judge_unit,
    refusal_reason,
    taken_per_line,
    weight_off,
)
from doorstep.domain.order import OrderLine


def _product(category: Category, **kw: object) -> Product:
    return Product("SKU-1", "商品", "item", category, 500, Dimensions(10, 10, 10), **kw)  # type: ignore[arg-type]


def _keys(product: Product) -> list[str]:
    return [c.key for c in checklist_for(product)]


def test_cosmetics_check_seal_and_wrap_with_photos() -> None:
    checks = {c.key: c.photo for c in checklist_for(_product(Category.COSMETICS))}
    assert checks["seal_intact"] is True and checks["plastic_wrap_intact"] is True
    assert "serial_matches" not in checks and "tags_attached" not in checks


def test_electronics_check_the_serial_and_each_listed_accessory() -> None:
    keys = _keys(_product(Category.ELECTRONICS, accessories=(Accessory.CHARGER, Accessory.MANUAL)))
    assert "serial_matches" in keys and "barcode_matches" not in keys
    assert {"accessory_charger", "accessory_manual"} <= set(keys)
    assert "accessories_complete" not in keys and "seal_intact" not in keys


def test_apparel_checks_tags_and_has_no_box() -> None:
    keys = _keys(_product(Category.APPAREL))
    assert "tags_attached" in keys and "original_box_present" not in keys
    assert "accessories_complete" in keys  # nothing listed: the courier answers for the box


def _answers(product: Product, **changes: bool) -> dict[str, bool]:
    return {c.key: True for c in checklist_for(product)} | changes


def test_a_serial_number_decides_its_check_and_counts_once() -> None:
    tv = _product(Category.ELECTRONICS)
    line = OrderLine("L1", "SKU-1", 2, 100, serial_numbers=("SN-0001", "SN-0002"))
    answers = _answers(tv)
    del answers["serial_matches"]
    seen: set[str] = set()
    first = judge_unit(
        tv, line, 1, UnitAnswer(answers, "SN-0001"), shared_photos=True, codes_seen=seen
    )
    again = judge_unit(
        tv, line, 2, UnitAnswer(answers, "SN-0001"), shared_photos=True, codes_seen=seen
    )
    other = judge_unit(
        tv, line, 2, UnitAnswer(answers, "SN-9999"), shared_photos=True, codes_seen=set()
    )
    assert first.taken and not again.taken and again.failed == ("serial_matches",)
    assert other.failed == ("serial_matches",)
    with pytest.raises(InvalidInput) as err:
        judge_unit(tv, line, 1, UnitAnswer(answers), shared_photos=True, codes_seen=set())
    assert err.value.code == "unit_code_required"


def test_a_refusal_names_only_what_failed() -> None:
    lipstick = _product(Category.COSMETICS)
    line = OrderLine("L1", "SKU-1", 3, 100, barcode="6901234567892")
    answers = _answers(lipstick)
    del answers["barcode_matches"]
    units = tuple(
        judge_unit(
            lipstick, line, n, UnitAnswer(a, code, ("p",)), shared_photos=False, codes_seen=set()
        )
        for n, (a, code) in enumerate(
            [
                (answers, "6901234567892"),
                (answers | {"seal_intact": False}, "6901234567892"),
                (answers, "6901234567892"),
            ],
            start=1,
        )
    )
    assert taken_per_line(units) == {"L1": 2}
    assert refusal_reason(units) == "seal_intact"
    assert [u.failed for u in units] == [(), ("seal_intact",), ()]


def test_a_check_that_needs_a_photo_refuses_a_unit_without_one() -> None:
    lipstick = _product(Category.COSMETICS)
    line = OrderLine("L1", "SKU-1", 2, 100)
    with pytest.raises(InvalidInput) as err:
        judge_unit(
            lipstick, line, 1, UnitAnswer(_answers(lipstick)), shared_photos=False, codes_seen=set()
        )
    assert err.value.code == "unit_photo_required"
    assert "seal_intact" in err.value.details["checks"]


def test_unknown_and_missing_answers_are_refused() -> None:
    pillow = _product(Category.HOME)
    line = OrderLine("L1", "SKU-1", 1, 100)
    answers = _answers(pillow, tags_attached=True)
    del answers["unused"]
    with pytest.raises(InvalidInput) as err:
        judge_unit(pillow, line, 1, UnitAnswer(answers), shared_photos=True, codes_seen=set())
    assert err.value.details["missing"] == ["unused"]
    assert err.value.details["unknown"] == ["tags_attached"]


@pytest.mark.parametrize(
    ("verified", "expected", "off"),
    [
        (1_500, 1_500, False),
        (1_700, 1_500, False),
        (2_000, 1_500, True),
        (300, 45, True),
        (200, 45, False),
    ],
)
def test_weight_off_when_far_from_the_catalogue(verified: int, expected: int, off: bool) -> None:
    assert weight_off(verified, expected) is off
