"""A slot template's capacity edit on windows that already have a counter.

Counters are created on a window's first booking (or first disruption), with the capacity of
that moment. The lead's rule (2026-12-02): an edit applies to every counted window of the
template that has not started yet (Asia/Shanghai), in the edit's transaction. Raising opens
the new places at once; lowering never cancels a booking: the counter takes the new figure,
the places left are ``max(0, capacity - booked)``, and a window left over its capacity is
reported to ops. The figure a window gets is computed by the caller (template capacity, the
holiday share and the harshest live disruption), so an edit keeps a live disruption's cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from doorstep.domain.pickup import SlotRef


@dataclass(frozen=True)
class CounterMove:
    """One counted window under the edited template: its capacity before and after."""

    slot: SlotRef
    was: int
    capacity: int
    booked: int

    @property
    def changed(self) -> bool:
        return self.capacity != self.was

    @property
    def remaining(self) -> int:
        """Places still bookable: never negative, a lowered window just stops taking more."""
        return max(0, self.capacity - self.booked)

    @property
    def over(self) -> int:
        """Bookings beyond the capacity (kept: a lowering never cancels a visit)."""
        return max(0, self.booked - self.capacity)

    def as_data(self) -> dict[str, object]:
        """The plain record an event or a response carries."""
        return {
            "slot": self.slot.key,
            "adcode": self.slot.adcode,
            "carrier_id": self.slot.carrier_id,
            "day": self.slot.day.isoformat(),
            "start": self.slot.window.start.strftime("%H:%M"),
            "was": self.was,
            "capacity": self.capacity,
            "booked": self.booked,
            "over": self.over,
        }


def retarget(
    counted: Iterable[tuple[SlotRef, int, int]],
    capacity_of: Callable[[SlotRef], int],
    now: datetime,
) -> list[CounterMove]:
    """The new figure of every counted window (slot, capacity, booked) that has not started
    at ``now``; windows already under way keep theirs (their visits are being made)."""
    return [
        CounterMove(slot, capacity, capacity_of(slot), booked)
        for slot, capacity, booked in sorted(counted, key=lambda c: c[0].key)
        if slot.starts_at > now
    ]


@dataclass(frozen=True)
class OverWindow:
    """A window (not started) holding more visits than its capacity: an edit lowered it
    below its bookings, none of which was cancelled. Ops move or call the visits over."""

    adcode: str
    carrier_id: str
    day: date
    start: time
    capacity: int
    booked: int

    @property
    def over(self) -> int:
        """Visits beyond the capacity."""
        return self.booked - self.capacity
