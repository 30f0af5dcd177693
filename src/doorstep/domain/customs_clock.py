"""The customs clocks of a cross-border return (RULES.md §2), reckoned in one place.

Both clocks run from the release of the declaration list (放行之日): the return must be applied
for by day ``application_days`` and the goods must be back by day ``arrival_days``. Each return
method stops earlier so the parcel can still arrive (design choice, policy parameters). The
pre-check, the audit, the refund amount and the customs return all ask this module, so they
cannot disagree on a deadline again (the pre-check once offered pickup on day 31-38, which the
audit rejected because the application deadline had passed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from doorstep.domain.clock import customs_deadline
from doorstep.domain.decision import ReturnMethod

CUTOFF_PARAMS = {
    ReturnMethod.PICKUP: "pickup_cutoff_day",
    ReturnMethod.DROPOFF: "dropoff_cutoff_day",
    ReturnMethod.SELF_SHIP: "self_ship_cutoff_day",
}
DEFAULT_DAYS = {
    "application_days": 30,
    "arrival_days": 45,
    "pickup_cutoff_day": 38,
    "dropoff_cutoff_day": 40,
    "self_ship_cutoff_day": 36,
}


@dataclass(frozen=True)
class CustomsClock:
    """Every deadline of one declaration list, as Shanghai end-of-day instants."""

    released_at: datetime
    application_by: datetime
    arrival_by: datetime
    method_cutoffs: Mapping[ReturnMethod, datetime]

    def can_apply(self, at: datetime) -> bool:
        """Whether a return filed at ``at`` is still declarable (day 30)."""
        return at <= self.application_by

    def method_open(self, method: ReturnMethod, *, filed_at: datetime, at: datetime) -> bool:
        """A method is usable when the return was (or is) filed in time and its cut-off is
        still ahead: the one rule the pre-check and the audit both apply."""
        return self.can_apply(filed_at) and at <= self.method_cutoffs[method]

    def arrived_in_time(self, arrived_at: datetime) -> bool:
        """Whether goods received at ``arrived_at`` count as back within day 45."""
        return arrived_at <= self.arrival_by

    def next_deadline(self, *, applied: bool, arrived: bool) -> tuple[str, datetime] | None:
        """The deadline still ahead of a customs return: applying, then arriving."""
        if not applied:
            return "application", self.application_by
        if not arrived:
            return "arrival", self.arrival_by
        return None


def customs_clock(released_at: datetime, days: Mapping[str, int] | None = None) -> CustomsClock:
    """The clock of a list released at ``released_at``; ``days`` are the policy's parameters
    of ``cross_border_deadline`` (defaults where a key is missing)."""
    wanted = {**DEFAULT_DAYS, **(days or {})}
    return CustomsClock(
        released_at,
        customs_deadline(released_at, wanted["application_days"]),
        customs_deadline(released_at, wanted["arrival_days"]),
        {m: customs_deadline(released_at, wanted[p]) for m, p in CUTOFF_PARAMS.items()},
    )


class HasParams(Protocol):
    """A policy rule's configuration (``policy.RuleConfig``)."""

    def param(self, name: str) -> Any: ...


def clock_days(cfg: HasParams | None) -> dict[str, int]:
    """The day counts a ``cross_border_deadline`` rule sets (the defaults when it is off)."""
    if cfg is None:
        return dict(DEFAULT_DAYS)
    return {name: int(cfg.param(name)) for name in DEFAULT_DAYS}
