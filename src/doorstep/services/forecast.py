"""Expected bookings per area and window: what the rest of the booking horizon will bring.

Slot pricing measures a window's insertion cost against what is booked now, so the first
buyer in an area that is still empty sees their window priced as a whole detour, although
more bookings for that area and window are on their way and will share it (Campbell &
Savelsbergh 2006; Yang, Strauss, Currie & Eglese 2016 price against the expected rest of the
day). A forecast gives the expected number of bookings a window ends up with; the offering
prices the insertion against it (``planned_offering.expected_cost``).

The live forecast (``HistoryForecast``) reads the same area, weekday and window of past
weeks; the simulator's (``simulation.forecast.ArrivalForecast``) takes its arrival process's
rate. Neither looks at the bookings still to come.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from datetime import date, time, timedelta
from typing import Protocol

from doorstep.domain.pickup import AppointmentStatus, SlotRef
from doorstep.services.ports import UnitOfWork


class DemandForecast(Protocol):
    """Expected bookings of one window once its booking closes (all of them, not only those
    still to come: the offering subtracts what is booked now)."""

    def expected_bookings(self, uow: UnitOfWork, slot: SlotRef) -> float: ...


class HistoryForecast:
    """Mean bookings of the same area, carrier, weekday and window over the last ``weeks``
    weeks (cancelled ones left out). Past days no longer change, so their counts are kept
    per process (at most ``max_days`` area-days): one read per area-day, ever."""

    def __init__(self, weeks: int = 4, max_days: int = 4096) -> None:
        if weeks < 1 or max_days < 1:
            raise ValueError("weeks and max_days must be >= 1")
        self.weeks = weeks
        self.max_days = max_days
        self._counts: OrderedDict[tuple[str, date], Counter[tuple[str, time]]] = OrderedDict()
        self._lock = threading.Lock()

    def expected_bookings(self, uow: UnitOfWork, slot: SlotRef) -> float:
        """Mean of the same window's bookings on the same weekday of past weeks."""
        total = 0
        for week in range(1, self.weeks + 1):
            counts = self._day(uow, slot.adcode, slot.day - timedelta(days=7 * week))
            total += counts[(slot.carrier_id, slot.window.start)]
        return total / self.weeks

    def _day(self, uow: UnitOfWork, adcode: str, day: date) -> Counter[tuple[str, time]]:
        key = (adcode, day)
        with self._lock:
            if key in self._counts:
                self._counts.move_to_end(key)
                return self._counts[key]
        counts: Counter[tuple[str, time]] = Counter(
            (a.slot.carrier_id, a.slot.window.start)
            for a in uow.appointments.for_area_day(adcode, day)
            if a.status is not AppointmentStatus.CANCELLED
        )
        with self._lock:
            self._counts[key] = counts
            while len(self._counts) > self.max_days:
                self._counts.popitem(last=False)
        return counts
