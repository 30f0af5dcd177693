"""The return wave's grouped reads (services/ports.py ``WaveHistory``): counts per district
and Shanghai day, one GROUP BY each, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Date, Integer, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from doorstep.adapters.db import tables as t
from doorstep.domain.clock import start_of_day


class local_day(FunctionElement[date]):
    """The Shanghai calendar day of a stored UTC moment."""

    type = Date()
    name = "local_day"
    inherit_cache = True


# SQLite keeps UTC text: Shanghai has had no daylight saving since 1991, so its day is the
# UTC moment eight hours on.
@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(local_day, "postgresql")
def _local_day_pg(element: local_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('Asia/Shanghai', {compiler.process(element.clauses, **kw)}) AS DATE)"


class lead_days(FunctionElement[int]):
    """Calendar days from a stored UTC moment's Shanghai day to a calendar day (a stored
    one, or another moment's ``local_day``)."""

    type = Integer()
    name = "lead_days"
    inherit_cache = True


@compiles(lead_days, "sqlite")
def _lead_days_sqlite(element: lead_days, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({b}) - julianday(date({a}, '+8 hours')) AS INTEGER)"


@compiles(lead_days, "postgresql")
def _lead_days_pg(element: lead_days, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"({b} - CAST(timezone('Asia/Shanghai', {a}) AS DATE))"


def _span(first: date, last: date) -> tuple[Any, Any]:
    return start_of_day(first), start_of_day(last + timedelta(days=1))


def _day(value: Any) -> date:
    # SQLite hands the date back as text when the expression's type is not applied.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class SqlWaveHistory:
    """Counts for the return wave, read by indexed ranges and grouped in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def signed(self, first: date, last: date) -> dict[tuple[str, date], int]:
        o = t.orders.c
        since, until = _span(first, last)
        day = local_day(o.signed_at)
        stmt = (
            select(o.adcode, day.label("day"), func.count())
            .where(o.signed_at >= since, o.signed_at < until, o.adcode.is_not(None))
            .group_by(o.adcode, day)
        )
        return {(a, _day(d)): n for a, d, n in self.conn.execute(stmt)}

    def return_lags(self, first: date, last: date) -> dict[tuple[str, int], int]:
        o, r = t.orders.c, t.returns.c
        since, until = _span(first, last)
        lag = lead_days(o.signed_at, local_day(r.created_at))
        stmt = (
            select(o.adcode, lag.label("lag"), func.count())
            .select_from(t.orders.join(t.returns, r.order_id == o.order_id))
            .where(o.signed_at >= since, o.signed_at < until, o.adcode.is_not(None))
            .group_by(o.adcode, lag)
        )
        return {(a, int(k)): n for a, k, n in self.conn.execute(stmt)}

    def opened(self, first: date, last: date) -> dict[tuple[str, date], int]:
        o, r = t.orders.c, t.returns.c
        since, until = _span(first, last)
        day = local_day(r.created_at)
        stmt = (
            select(o.adcode, day.label("day"), func.count())
            .select_from(t.returns.join(t.orders, r.order_id == o.order_id))
            .where(and_(r.created_at >= since, r.created_at < until), o.adcode.is_not(None))
            .group_by(o.adcode, day)
        )
        return {(a, _day(d)): n for a, d, n in self.conn.execute(stmt)}

    def booking_leads(self, first: date, last: date) -> dict[int, int]:
        r, a = t.returns.c, t.appointments.c
        since, until = _span(first, last)
        lead = lead_days(r.created_at, a.day)
        stmt = (
            select(lead.label("lead"), func.count())
            .select_from(t.returns.join(t.appointments, a.appointment_id == r.appointment_id))
            .where(r.created_at >= since, r.created_at < until)
            .group_by(lead)
        )
        return {int(j): n for j, n in self.conn.execute(stmt)}

    def booked(self, first: date, last: date) -> dict[tuple[str, str, str], int]:
        s = t.slot_capacity.c
        stmt = (
            select(s.adcode, s.carrier_id, s.start, func.sum(s.booked))
            .where(s.day >= first, s.day <= last)
            .group_by(s.adcode, s.carrier_id, s.start)
        )
        return {(a, c, start): int(n or 0) for a, c, start, n in self.conn.execute(stmt)}
