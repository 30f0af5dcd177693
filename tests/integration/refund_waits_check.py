"""The tally of refund waits checked against the paid refunds in SQL (domain/refund_lead_time.py,
``refund_waits``): each paid refund's waits counted once, per Shanghai pay day, kind, measure
and 0.1-h bucket; part of ``races.violations``, so every race checks it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from doorstep.adapters.db import tables as t

SHANGHAI = ZoneInfo("Asia/Shanghai")


def paid_waits(conn: Connection) -> Counter[tuple[date, str, str, int]]:
    """The waits of every paid refund, recounted from the refunds, their returns and the
    pickup events: (Shanghai pay day, kind, measure, tenths of an hour rounded half up)."""
    f, r, e = t.refunds.c, t.returns.c, t.events.c
    picked = (
        select(func.min(e.occurred_at))
        .where(e.aggregate_id == f.return_id, e.name == "return.picked_up")
        .scalar_subquery()
    )
    rows = conn.execute(
        select(r.created_at, picked, f.settled_at, f.doc)
        .join(t.returns, r.return_id == f.return_id)
        .where(f.status == "succeeded")
    )
    aware = t.AwareDateTime().process_result_value
    step = 360_000_000  # 0.1 h in microseconds
    out: Counter[tuple[date, str, str, int]] = Counter()
    for requested, picked_at, paid, doc in rows:
        day = paid.astimezone(SHANGHAI).date()
        kind = (doc if isinstance(doc, dict) else json.loads(doc))["kind"]
        starts = [("request", requested), ("pickup", aware(picked_at, conn.dialect))]
        for measure, start in starts:
            if start is not None:
                us = max(0, (paid - start) // timedelta(microseconds=1))
                out[(day, kind, measure, (us + step // 2) // step)] += 1
    return out


def refund_wait_violations(conn: Connection) -> list[str]:
    """The tally of refund waits holds each paid refund's waits exactly once."""
    w = t.refund_waits.c
    tally: Counter[tuple[date, str, str, int]] = Counter()
    for day, kind, measure, b, n in conn.execute(
        select(w.day, w.kind, w.measure, w.bucket, func.sum(w.n)).group_by(
            w.day, w.kind, w.measure, w.bucket
        )
    ):
        tally[(day, kind, measure, int(b))] = int(n)
    expected = paid_waits(conn)
    return [
        f"refund waits tallied {tally[k]} times, paid {expected[k]}: {k}"
        for k in sorted(set(tally) | set(expected))
        if tally[k] != expected[k]
    ]
