"""Courier companies and the couriers who knock on doors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True)
class Carrier:
    """A courier company (快递公司) with its waybill prefix and slot template."""

    carrier_id: str
    name_zh: str
    name_en: str
    waybill_prefix: str
    template_id: str
    own_fleet: bool = True
    # The most a company insures one parcel for (保价上限), in fen; a pickup order declares
    # the goods' worth up to it. None: the company takes any declared value.
    max_insured_fen: int | None = None

    def __post_init__(self) -> None:
        if self.max_insured_fen is not None and self.max_insured_fen <= 0:
            raise ValueError("a maximum insured value is positive")


@dataclass(frozen=True)
class Courier:
    """A courier (快递员) working from a depot (网点) with a shift and a vehicle."""

    courier_id: str
    name: str
    phone: str
    carrier_id: str
    depot_adcode: str
    depot_lat: float
    depot_lon: float
    shift_start: time = time(9, 0)
    shift_end: time = time(19, 0)
    capacity_weight_g: int = 150_000
    capacity_volume_cm3: int = 1_500_000

    def __post_init__(self) -> None:
        if self.shift_start >= self.shift_end:
            raise ValueError("a shift ends after it starts")
        if self.capacity_weight_g <= 0 or self.capacity_volume_cm3 <= 0:
            raise ValueError("vehicle capacity must be positive")
