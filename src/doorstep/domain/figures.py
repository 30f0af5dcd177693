"""Day-by-day counts for the ops console, derived from domain events as they are stored.

The console's charts must not read every return to count them: each stored event adds to a
small table of (day, figure, key) counts in the same transaction, so a chart reads a number
of rows fixed by the days it shows, however many returns there are. Days are Shanghai days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from doorstep.domain.clock import local
from doorstep.domain.events import Event

# Returns filed, by the reason of their first line.
FILED = "filed"
# Rules that held, restricted or refused a return, as ``rule/reason``: the automatic audit's
# findings once per return, and a reviewer's refusal.
HELD_BY = "held_by"
_DECISIONS = frozenset({"return.approved", "return.held_for_review", "return.rejected"})
KEY_MAX = 64


@dataclass(frozen=True)
class Tally:
    """``n`` more of ``figure`` under ``key`` on ``day``."""

    day: date
    figure: str
    key: str
    n: int = 1


def tallies(events: Iterable[Event]) -> list[Tally]:
    """What these events add to the day-by-day counts (the same keys summed)."""
    summed: dict[tuple[date, str, str], int] = {}
    for e in events:
        for figure, key in _keys(e):
            at = (local(e.occurred_at).date(), figure, key[:KEY_MAX])
            summed[at] = summed.get(at, 0) + 1
    return [Tally(day, figure, key, n) for (day, figure, key), n in summed.items()]


def _keys(e: Event) -> list[tuple[str, str]]:
    if e.name == "return.submitted":
        lines = e.data.get("lines") or []
        return [(FILED, str(lines[0]["reason"]))] if lines else []
    if e.name in _DECISIONS:
        return [(HELD_BY, str(k)) for k in e.data.get("held_by", ())]
    return []
