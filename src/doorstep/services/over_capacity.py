"""Windows left holding more visits than their capacity, for ops to act on."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain.capacity_edit import OverWindow
from doorstep.domain.clock import local
from doorstep.services.context import Services


@dataclass(frozen=True)
class OverCapacity:
    """The soonest windows over capacity, and how many there are in all."""

    shown: list[OverWindow]
    total: int


def over_capacity(svc: Services, limit: int = 100) -> OverCapacity:
    """The ``limit`` soonest windows not started (Asia/Shanghai) holding more visits than
    their capacity, and the count of all: two indexed reads, whatever the number of counters."""
    now = local(svc.clock.now())
    # A window starting this minute has started (as a capacity edit leaves it alone).
    after = (now.date(), now.time().replace(second=0, microsecond=0))
    with svc.uow() as uow:
        shown = [
            OverWindow(adcode, carrier_id, day, start, load.capacity, load.booked)
            for (adcode, carrier_id, day, start), load in uow.slots.over_capacity(after, limit)
        ]
        return OverCapacity(shown, uow.slots.count_over_capacity(after))
