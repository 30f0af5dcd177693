"""The door inspection (上门验货): which checks an item needs, and what each unit's answers mean.

RULES.md §5 (JD's pickup rules): the courier refuses an item when its outer packaging is
missing, the plastic wrap is incomplete, the original box is lost or damaged, the item was
used, its barcode or serial number does not match, its appearance is damaged past 3 cm or
3 cm², or an accessory is missing. Which of those apply depends on what the item is: a seal
only on cosmetics and other sealed goods, a serial number on electronics, tags on clothes,
and the accessories the product lists. Cainiao also keeps a photo and the verified weight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from doorstep.domain.catalog import Category, Product
from doorstep.domain.errors import InvalidInput
from doorstep.domain.order import OrderLine


@dataclass(frozen=True)
class Check:
    """One checklist item; ``photo`` when the courier must show what he saw."""

    key: str
    photo: bool = False


ACCESSORY_PREFIX = "accessory_"
# Sealed goods: opening them ends resale (cosmetics, formula, supplements, food, medical).
SEALED = frozenset(
    {
        Category.COSMETICS,
        Category.INFANT_FORMULA,
        Category.SUPPLEMENTS,
        Category.FOOD,
        Category.MEDICAL,
    }
)
TAGGED = frozenset({Category.APPAREL, Category.SHOES})
SERIALISED = frozenset({Category.ELECTRONICS})
# Clothes travel in a bag, not an original box.
BOXLESS = frozenset({Category.APPAREL})

CODE_PATTERN = r"^[A-Za-z0-9-]{4,40}$"
_CODE = re.compile(CODE_PATTERN, re.ASCII)
MAX_PHOTOS_PER_UNIT = 5
MAX_UNITS = 50


def checklist_for(product: Product) -> tuple[Check, ...]:
    """The checks one unit of ``product`` gets at the door, in the order the courier asks."""
    cat = product.category
    checks = [Check("outer_packaging")]
    if cat not in BOXLESS:
        checks += [Check("original_box_present"), Check("original_box_undamaged")]
    checks.append(Check("plastic_wrap_intact", photo=cat in SEALED))
    if cat in SEALED or product.seal_sensitive:
        checks.append(Check("seal_intact", photo=True))
    checks.append(Check("unused"))
    if cat in SERIALISED:
        checks.append(Check("serial_matches", photo=True))
    else:
        checks.append(Check("barcode_matches"))
    if cat in TAGGED:
        checks.append(Check("tags_attached", photo=True))
    checks.append(Check("appearance_ok", photo=True))
    if product.accessories:
        checks += [Check(f"{ACCESSORY_PREFIX}{a.value}") for a in product.accessories]
    else:
        # The catalogue lists nothing: the courier still answers for "everything in the box".
        checks.append(Check("accessories_complete"))
    return tuple(checks)


def identity_check(product: Product) -> str:
    """The check a scanned code decides: serial number for electronics, barcode otherwise."""
    return "serial_matches" if product.category in SERIALISED else "barcode_matches"


def expected_codes(product: Product, line: OrderLine) -> frozenset[str]:
    """The codes a unit of this order line may carry; empty when the order recorded none."""
    if product.category in SERIALISED:
        return frozenset(line.serial_numbers)
    return frozenset({line.barcode}) if line.barcode else frozenset()


@dataclass(frozen=True)
class UnitAnswer:
    """What the courier answered for one unit: ticks, the scanned code, its own photos."""

    checks: dict[str, bool]
    code: str | None = None
    photo_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitResult:
    """One unit as inspected: taken, or refused with the checks it failed (only those)."""

    order_line_id: str
    sku: str
    unit: int  # 1-based within its line
    checks: dict[str, bool]
    code: str | None
    photo_ids: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def taken(self) -> bool:
        return not self.failed


def judge_unit(
    product: Product,
    line: OrderLine,
    unit: int,
    answer: UnitAnswer,
    *,
    shared_photos: bool,
    codes_seen: set[str],
) -> UnitResult:
    """Check the answers are complete, decide the code check from the order line, and list
    what failed. ``shared_photos``: the inspection's own photos may stand for this unit."""
    checks = checklist_for(product)
    keys = {c.key for c in checks}
    coded = identity_check(product)
    wanted = expected_codes(product, line)
    answered = dict(answer.checks)
    if wanted:
        # The order line knows the code: the scan decides, not the courier's tick.
        answered.pop(coded, None)
    need = keys - ({coded} if wanted else set())
    missing, unknown = need - set(answered), set(answered) - need
    if missing or unknown:
        raise InvalidInput(
            "checklist_incomplete",
            "Answer every checklist item of this item, and only those.",
            "请完整填写该商品的验货清单。",
            order_line_id=line.line_id,
            unit=unit,
            missing=sorted(missing),
            unknown=sorted(unknown),
        )
    code = answer.code.strip() if answer.code else None
    if code is not None and _CODE.fullmatch(code) is None:
        raise InvalidInput(
            "unit_code_format",
            "A barcode or serial number is 4-40 letters, digits or '-'.",
            "条码或序列号为 4-40 位字母、数字或“-”。",
            order_line_id=line.line_id,
            unit=unit,
        )
    if wanted:
        if code is None:
            raise InvalidInput(
                "unit_code_required",
                "Scan the barcode or serial number of every unit of this item.",
                "请扫描该商品每一件的条码或序列号。",
                order_line_id=line.line_id,
                unit=unit,
            )
        # A serial number identifies one unit: the same one scanned twice is not two units.
        answered[coded] = code in wanted and (coded != "serial_matches" or code not in codes_seen)
        codes_seen.add(code)
    failed = tuple(c.key for c in checks if not answered[c.key])
    needs_photo = bool(failed) or any(c.photo for c in checks)
    if needs_photo and not answer.photo_ids and not shared_photos:
        raise InvalidInput(
            "unit_photo_required",
            "This unit needs a photo of what was checked.",
            "该件商品需要拍摄验货照片。",
            order_line_id=line.line_id,
            unit=unit,
            checks=[c.key for c in checks if c.photo] or list(failed),
        )
    return UnitResult(line.line_id, line.sku, unit, answered, code, tuple(answer.photo_ids), failed)


def weight_off(verified_g: int, expected_g: int) -> bool:
    """A parcel whose weight is far from what its items weigh: more than a quarter off and
    more than 200 g (packing material alone is within that)."""
    gap = abs(verified_g - expected_g)
    return gap > 200 and gap * 4 > expected_g


def refusal_reason(units: tuple[UnitResult, ...]) -> str | None:
    """What failed, over every refused unit, as comma-separated check codes (None: nothing)."""
    failed = sorted({key for u in units for key in u.failed})
    return ",".join(failed) or None


def taken_per_line(units: tuple[UnitResult, ...]) -> dict[str, int]:
    """How many units of each order line the courier takes."""
    out: dict[str, int] = {}
    for u in units:
        out[u.order_line_id] = out.get(u.order_line_id, 0) + (1 if u.taken else 0)
    return out
