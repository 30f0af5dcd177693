"""How a pickup window of a coming day is likely to end, so ops raise capacity before the wave.

The same window of the same weekday in past weeks is one forecast: what it ended with
(``expected``, the mean of its final counts) and how often it was full. Bookings stop at
capacity, so a window that was full turned buyers away that its count does not show: a mean
below capacity can hide a window that is regularly short, and ``weeks_full`` says so. The
return wave of orders already signed for (domain/return_wave.py) is the other: it sees a
spike with no precedent in past weeks (a first Double 11) before its returns come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# Same weekday, this many weeks back: a month of history, seasonal enough for a wave
# (Double 11 returns, a holiday's end) to show a week before it arrives.
WEEKS = 4


def same_weekdays(day: date, weeks: int = WEEKS) -> list[date]:
    """The same weekday of the ``weeks`` weeks before ``day``, latest first."""
    return [day - timedelta(days=7 * n) for n in range(1, weeks + 1)]


@dataclass(frozen=True)
class WindowOutlook:
    """One window of a coming day: booked now against its capacity and its past weeks."""

    label: str
    booked: int
    capacity: int
    past: tuple[tuple[int, int], ...]  # (booked, capacity) at close, latest week first
    # Bookings the return wave of orders already signed for expects (domain/return_wave.py);
    # None without history to learn it from.
    wave: float | None = None

    @property
    def expected(self) -> float:
        """Mean final bookings of the same window in past weeks (0 with no history)."""
        return sum(b for b, _ in self.past) / len(self.past) if self.past else 0.0

    @property
    def weeks_full(self) -> int:
        """Past weeks in which the window ended full (and so turned buyers away)."""
        return sum(1 for b, c in self.past if c > 0 and b >= c)

    @property
    def short(self) -> bool:
        """Likely to run out, not yet full (a full window is drawn full on the chart): full
        in at least half the past weeks, or expected to end with as many bookings as it has
        places, by past weeks or by the return wave."""
        if self.capacity <= 0 or self.booked >= self.capacity:
            return False
        return (
            (bool(self.past) and 2 * self.weeks_full >= len(self.past))
            or self.expected >= self.capacity
            or (self.wave is not None and self.wave >= self.capacity)
        )
