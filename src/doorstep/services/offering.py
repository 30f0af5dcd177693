"""Slot offering behind a port: which windows a buyer is shown, in which order.

``FixedCapacityOffering`` is what courier companies do today (a fixed count per window);
route-aware offering from the plan plugs in through the same ``SlotOffering`` port.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from doorstep.domain.address import Address
from doorstep.domain.calendar import HolidayCalendar, capacity_pct
from doorstep.domain.coverage import ServiceArea, SlotTemplate
from doorstep.domain.disruption import Disruption, disrupted_pct
from doorstep.domain.pickup import BookingRules, SlotRef, closes_at, open_slots
from doorstep.services.ports import UnitOfWork


@dataclass(frozen=True)
class OfferedSlot:
    """A window the buyer may book, with what is left and why it is ranked where it is."""

    slot: SlotRef
    capacity: int
    remaining: int
    closes_at: datetime
    rank: int
    incentive_fen: int = 0
    note_en: str = ""
    note_zh: str = ""


class SlotOffering(Protocol):
    """Chooses and orders the windows to show for a pickup at an address. A route-aware
    offering promises only what a courier route can keep, so booking must find a route.
    ``wanted``: when the buyer said suits them (local day and time of day, checked by
    ``domain.pickup.check_wanted``), None when they said nothing."""

    route_aware: bool

    def offer(
        self,
        uow: UnitOfWork,
        calendar: HolidayCalendar,
        area: ServiceArea,
        address: Address,
        now: datetime,
        rules: BookingRules,
        wanted: datetime | None = None,
    ) -> list[OfferedSlot]: ...


def template_for(uow: UnitOfWork, area: ServiceArea, carrier_id: str) -> SlotTemplate | None:
    """The slot template a carrier runs in an area: the carrier's own, else the area's.
    A write that counts against its figure reads the area FOR SHARE first: template and
    area edits lock the area before moving its counters (services/catalog.py)."""
    carrier = uow.carriers.get(carrier_id)
    template_id = carrier.template_id if carrier else area.template_id
    return uow.templates.get(template_id)


def slot_capacity(area: ServiceArea, template: SlotTemplate) -> int:
    """The nominal capacity of one window in an area, before calendars and disruptions."""
    return area.capacity_override if area.capacity_override is not None else template.capacity


def effective_capacity(
    uow: UnitOfWork,
    calendar: HolidayCalendar,
    area: ServiceArea,
    template: SlotTemplate,
    slot: SlotRef,
) -> int:
    """What a window can really take: nominal × holiday share × the harshest disruption."""
    disruptions = uow.disruptions.overlapping(slot.starts_at, slot.ends_at)
    return capacity_under(calendar, area, template, slot, disruptions)


def capacity_under(
    calendar: HolidayCalendar,
    area: ServiceArea,
    template: SlotTemplate,
    slot: SlotRef,
    disruptions: Sequence[Disruption],
) -> int:
    """``effective_capacity`` with the disruptions already loaded."""
    day_pct = capacity_pct(calendar.day(slot.day), template.holiday_capacity_pct)
    # Floor division: a reduced window never promises more than the share allows.
    return slot_capacity(area, template) * day_pct * disrupted_pct(slot, disruptions) // 10_000


class FixedCapacityOffering:
    """Every open window with capacity left, earliest first."""

    route_aware = False

    def offer(
        self,
        uow: UnitOfWork,
        calendar: HolidayCalendar,
        area: ServiceArea,
        address: Address,
        now: datetime,
        rules: BookingRules,
        wanted: datetime | None = None,
    ) -> list[OfferedSlot]:
        """Every window with room, earliest first; ``wanted`` changes nothing here (a buyer
        picks their wanted window from the full list)."""
        out: list[OfferedSlot] = []
        for carrier_id in area.carrier_ids:
            template = template_for(uow, area, carrier_id)
            if template is None:
                continue
            slots = open_slots(area.adcode, carrier_id, template, now, rules)
            if not slots:
                continue
            loads = uow.slots.loads(slots, slot_capacity(area, template))
            disruptions = uow.disruptions.overlapping(slots[0].starts_at, slots[-1].ends_at)
            for slot in slots:
                capacity = min(
                    loads[slot].capacity,
                    capacity_under(calendar, area, template, slot, disruptions),
                )
                remaining = capacity - loads[slot].booked
                if remaining > 0:
                    out.append(OfferedSlot(slot, capacity, remaining, closes_at(slot, rules), 0))
        out.sort(key=lambda o: (o.slot.starts_at, o.slot.carrier_id))
        return [
            OfferedSlot(o.slot, o.capacity, o.remaining, o.closes_at, i) for i, o in enumerate(out)
        ]
