"""Disruptions (恶劣天气 / 道路封闭 / 节假日高峰): an area and a time range with less or no
capacity. Appointments inside are moved, and their SLA clocks pause."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.domain import bounds
from doorstep.domain.address import is_adcode
from doorstep.domain.errors import InvalidInput
from doorstep.domain.events import Event, EventRecorder
from doorstep.domain.pickup import SlotRef

MAX_LENGTH = timedelta(days=31)
"""Longest single disruption: a holiday peak; longer ones are declared again when known."""
MAX_AHEAD = timedelta(days=366)
"""Latest start: next year's peaks can be planned, nothing beyond."""
MAX_BEHIND = timedelta(days=7)
"""Earliest start: a storm under way since last week can still be recorded."""


class DisruptionKind(StrEnum):
    TYPHOON = "typhoon"
    RAINSTORM = "rainstorm"
    SNOW = "snow"
    ROAD_CLOSURE = "road_closure"
    PEAK = "peak"
    OTHER = "other"


@dataclass
class Disruption(EventRecorder):
    """Capacity in ``adcodes`` between ``starts_at`` and ``ends_at`` runs at ``capacity_pct``."""

    disruption_id: str
    kind: DisruptionKind
    adcodes: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    capacity_pct: int
    reason_en: str
    reason_zh: str
    declared_at: datetime
    declared_by: str
    lifted_at: datetime | None = None

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if not self.adcodes or not all(is_adcode(a) for a in self.adcodes):
            raise InvalidInput(
                "disruption_adcodes",
                "Name at least one valid adcode.",
                "请至少填写一个有效的行政区划代码。",
            )
        if self.ends_at <= self.starts_at:
            raise InvalidInput(
                "disruption_range",
                "A disruption must end after it starts.",
                "结束时间必须晚于开始时间。",
            )
        if not 0 <= self.capacity_pct <= 100:
            raise InvalidInput(
                "disruption_capacity",
                "Capacity share must be 0–100 %.",
                "运力比例须在 0–100% 之间。",
            )

    @classmethod
    def declare(
        cls,
        disruption_id: str,
        kind: DisruptionKind,
        adcodes: Iterable[str],
        starts_at: datetime,
        ends_at: datetime,
        capacity_pct: int,
        reason_en: str,
        reason_zh: str,
        at: datetime,
        by: str,
    ) -> Disruption:
        """Declare at ``at``; the range must lie within a sane horizon around it."""
        _check_horizon(starts_at, ends_at, at)
        d = cls(
            disruption_id,
            kind,
            tuple(sorted(set(adcodes))),
            starts_at,
            ends_at,
            capacity_pct,
            reason_en,
            reason_zh,
            at,
            by,
        )
        d.record(
            Event(
                "disruption.declared",
                "disruption",
                disruption_id,
                at,
                {
                    "kind": kind.value,
                    "adcodes": list(d.adcodes),
                    "starts_at": starts_at.isoformat(),
                    "ends_at": ends_at.isoformat(),
                    "capacity_pct": capacity_pct,
                    "by": by,
                },
            )
        )
        return d

    @property
    def active(self) -> bool:
        return self.lifted_at is None

    def covers(self, slot: SlotRef) -> bool:
        """Whether the window overlaps the disruption's areas and time, lifted or not."""
        return (
            slot.adcode in self.adcodes
            and slot.starts_at < self.ends_at
            and self.starts_at < slot.ends_at
        )

    def affects(self, slot: SlotRef) -> bool:
        """Whether the disruption is in force for the window."""
        return self.active and self.covers(slot)

    def lift(self, at: datetime, by: str) -> None:
        if self.lifted_at is None:
            self.lifted_at = at
            self.record(
                Event("disruption.lifted", "disruption", self.disruption_id, at, {"by": by})
            )


def _check_horizon(starts_at: datetime, ends_at: datetime, at: datetime) -> None:
    # Each covered day and window is rewritten when declaring: the range bounds that work too.
    bounds.check_in_calendar("starts_at", starts_at)
    bounds.check_in_calendar("ends_at", ends_at)
    if starts_at < at - MAX_BEHIND or starts_at > at + MAX_AHEAD:
        raise bounds.out_of_range(
            "starts_at",
            "must be at most 7 days ago and at most a year ahead.",
            "须在过去 7 天至未来一年之内。",
        )
    if ends_at <= at:
        raise bounds.out_of_range("ends_at", "must be in the future.", "须晚于当前时间。")
    if ends_at - starts_at > MAX_LENGTH:
        raise bounds.out_of_range(
            "ends_at",
            "a disruption lasts at most 31 days; declare a longer one in parts.",
            "单次运力中断最长 31 天，更长的请分段登记。",
        )


def disrupted_pct(slot: SlotRef, disruptions: Iterable[Disruption]) -> int:
    """The capacity share left for a window: the harshest disruption that covers it."""
    return min((d.capacity_pct for d in disruptions if d.affects(slot)), default=100)
