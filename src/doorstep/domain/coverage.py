"""Where door pickup is offered: service areas by adcode and their slot templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from itertools import pairwise

from doorstep.domain.address import is_adcode
from doorstep.domain.errors import InvalidInput


@dataclass(frozen=True)
class Window:
    """A pickup window on the wall clock, e.g. 09:00–11:00."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise InvalidInput(
                "window_inverted",
                "A window must end after it starts.",
                "时段结束时间必须晚于开始时间。",
            )

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def hourly_windows(first: int, last: int, hours: int) -> tuple[Window, ...]:
    """Back-to-back windows of ``hours`` from ``first``:00 to ``last``:00."""
    if not 0 <= first < last <= 24 or hours <= 0 or (last - first) % hours:
        raise ValueError("windows must tile the day range exactly")
    return tuple(
        Window(time(h), time(h + hours) if h + hours < 24 else time.max)
        for h in range(first, last, hours)
    )


@dataclass(frozen=True)
class SlotTemplate:
    """A carrier's set of windows with a default capacity per window."""

    template_id: str
    name: str
    windows: tuple[Window, ...]
    capacity: int = 10
    holiday_capacity_pct: int = 50  # statutory holidays run on reduced capacity

    def __post_init__(self) -> None:
        if not self.windows:
            raise InvalidInput(
                "template_without_windows",
                "A template needs windows.",
                "时段模板至少需要一个时段。",
            )
        if not 0 <= self.capacity <= 10_000 or not 0 <= self.holiday_capacity_pct <= 100:
            raise InvalidInput(
                "template_capacity_out_of_range",
                "Capacity must be 0–10000 and holiday share 0–100 %.",
                "容量须在 0–10000 之间，节假日比例在 0–100% 之间。",
            )
        ordered = sorted(self.windows, key=lambda w: w.start)
        for before, after in pairwise(ordered):
            if after.start < before.end:
                raise InvalidInput(
                    "template_windows_overlap",
                    "Windows in a template must not overlap.",
                    "同一模板中的时段不能重叠。",
                )

    def window(self, start: time) -> Window | None:
        return next((w for w in self.windows if w.start == start), None)


GENERIC_TWO_HOUR = SlotTemplate("generic-2h", "09–19 two-hour windows", hourly_windows(9, 19, 2))
SF_ONE_HOUR = SlotTemplate("sf-1h", "SF 09–22 one-hour windows", hourly_windows(9, 22, 1), 4)


@dataclass(frozen=True)
class ServiceArea:
    """A district (adcode) and whether and how pickup is served there."""

    adcode: str
    name_zh: str
    name_en: str
    pickup_supported: bool = True
    remote: bool = False
    carrier_ids: tuple[str, ...] = ()
    template_id: str = GENERIC_TWO_HOUR.template_id
    capacity_override: int | None = None
    lat: float | None = None
    lon: float | None = None
    depot: str | None = field(default=None)
    # Carriers (of ``carrier_ids``) whose own couriers serve this area: doorstep sends them a
    # pickup order at booking instead of planning its couriers' routes.
    company_carriers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not is_adcode(self.adcode):
            raise InvalidInput(
                "adcode_invalid", "An adcode has 6 digits.", "行政区划代码应为 6 位数字。"
            )
        if not set(self.company_carriers) <= set(self.carrier_ids):
            raise InvalidInput(
                "company_carrier_not_in_area",
                "A company serving an area must be one of its carriers.",
                "由快递公司服务的承运商必须属于该地区的快递公司。",
            )
        if self.capacity_override is not None and not 0 <= self.capacity_override <= 10_000:
            raise InvalidInput(
                "capacity_out_of_range", "Capacity must be 0–10000.", "容量须在 0–10000 之间。"
            )

    def served_by_company(self, carrier_id: str) -> bool:
        """Whether ``carrier_id`` serves here with its own couriers (a pickup order)."""
        return carrier_id in self.company_carriers

    @property
    def serves_pickup(self) -> bool:
        return self.pickup_supported and not self.remote and bool(self.carrier_ids)
