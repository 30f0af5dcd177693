"""Domain events: what happened, to which aggregate, when. Aggregates record them; the unit of
work stores them in the same transaction as the change (timeline, audit trail and outbox)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """One fact about an aggregate, with the data a reader of the timeline needs."""

    name: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("event times must be timezone-aware")


class EventRecorder:
    """Mixin for aggregates: collects events until the unit of work takes them."""

    def __init__(self) -> None:
        self._pending: list[Event] = []

    def record(self, event: Event) -> None:
        """Keep an event to be stored with the next commit."""
        self._pending.append(event)

    def take_events(self) -> list[Event]:
        """Hand over and forget the pending events."""
        taken, self._pending = self._pending, []
        return taken
