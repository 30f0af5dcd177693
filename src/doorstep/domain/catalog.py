"""Products (SKUs) and what about them matters to returns and pickup."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """Product categories that carry different return rules."""

    COSMETICS = "cosmetics"
    INFANT_FORMULA = "infant_formula"
    SUPPLEMENTS = "supplements"
    FOOD = "food"
    FRESH = "fresh"
    MEDICAL = "medical"
    ELECTRONICS = "electronics"
    APPAREL = "apparel"
    SHOES = "shoes"
    LUGGAGE = "luggage"
    HOME = "home"
    TOYS = "toys"
    BOOKS = "books"
    PERIODICALS = "periodicals"
    DIGITAL = "digital"
    OTHER = "other"


class Accessory(StrEnum):
    """What may come in the box and must come back with it (RULES.md §5)."""

    WARRANTY_CARD = "warranty_card"
    MANUAL = "manual"
    BATTERY = "battery"
    POWER_CORD = "power_cord"
    CHARGER = "charger"
    TAG = "tag"


@dataclass(frozen=True)
class Dimensions:
    """Outer size of the packed item in millimetres."""

    length_mm: int
    width_mm: int
    height_mm: int

    def __post_init__(self) -> None:
        if min(self.length_mm, self.width_mm, self.height_mm) <= 0:
            raise ValueError("dimensions must be positive")

    @property
    def longest_side_mm(self) -> int:
        return max(self.length_mm, self.width_mm, self.height_mm)

    @property
    def girth_sum_mm(self) -> int:
        """Sum of the three sides, the measure couriers use for oversize."""
        return self.length_mm + self.width_mm + self.height_mm

    @property
    def volume_cm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm // 1000


@dataclass(frozen=True)
class Product:
    """A SKU with the facts that return rules read."""

    sku: str
    name_zh: str
    name_en: str
    category: Category
    weight_g: int
    dimensions: Dimensions
    customised: bool = False
    perishable: bool = False
    digital: bool = False
    seal_sensitive: bool = False
    # The shop marked the SKU "not returnable without reason"; binding only where the buyer
    # confirmed it at checkout (Interim Measures art. 7), which the order line records.
    not_returnable_at_checkout: bool = False
    shop_id: str = "default"
    # What comes in the box and must come back (warranty card, manual, battery, power cord,
    # charger, tag): each one is a door check of its own.
    accessories: tuple[Accessory, ...] = ()

    def __post_init__(self) -> None:
        if not self.sku.strip():
            raise ValueError("sku must not be empty")
        if self.weight_g <= 0:
            raise ValueError("weight must be positive")
        if len(set(self.accessories)) != len(self.accessories):
            raise ValueError("accessories are listed once each")
