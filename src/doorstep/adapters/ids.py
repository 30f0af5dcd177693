"""Identifiers and time: the two things every use case asks the outside world for."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


class RandomIds:
    """Short, unguessable, sortable-enough ids such as ``R-20261125-7f3a9c1e``."""

    def new(self, prefix: str) -> str:
        return f"{prefix}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(5)}"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stays where tests put it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("naive datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)
