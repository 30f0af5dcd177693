"""The console's day-by-day counts (domain/figures.py) kept in the transaction that stores
their events: returns filed at once all counted, once each, on SQLite and PostgreSQL; the
counts a migration backfills equal those counted live; the dashboard reads them."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from alembic import command
from sqlalchemy import text
from tests.integration.races import race  # type: ignore[import-not-found]
from tests.integration.test_migration_transfers import _alembic  # type: ignore[import-not-found]
from tests.integration.test_races import (  # type: ignore[import-not-found]
    RACERS,
    _claim,
    _orders,
)

from doorstep.bootstrap import App
from doorstep.domain.returns import ReturnKind
from doorstep.entrypoints.web import dashboard

BEFORE = "ed3fc69fe2d5"


def _counts(app: App) -> dict[tuple[str, str, str], int]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT day, figure, key, SUM(n) FROM daily_counts GROUP BY day, figure, key")
        )
        return {(str(day), figure, key): int(n) for day, figure, key, n in rows}


def _binding(app: App) -> int:
    """Findings that held, restricted or refused a return, in the stored documents."""
    with app.engine.connect() as conn:
        docs = [d if isinstance(d, dict) else json.loads(d) for (d,) in conn.execute(
            text("SELECT doc FROM returns"))]  # fmt: skip
    return sum(
        f["verdict"] in ("reject", "review", "restrict")
        for doc in docs
        for f in (doc.get("decision") or {}).get("findings", ())
    )


def _sql_invariants(app: App) -> None:
    counts = _counts(app)
    with app.engine.connect() as conn:
        filed = conn.execute(text("SELECT COUNT(*) FROM returns")).scalar_one()
    assert sum(n for (_, figure, _), n in counts.items() if figure == "filed") == filed
    assert sum(n for (_, figure, _), n in counts.items() if figure == "held_by") == _binding(app)


def test_returns_filed_at_once_are_each_counted_once(wired: App) -> None:
    # Each racer files its own order (all count) and all of them also race for one unit of a
    # shared order (one counts); half are refund-only above the instant limit (held).
    before = dashboard.figures(wired.services)
    own = _orders(wired, RACERS)
    shared = _orders(wired, 1)[0]
    held = _orders(wired, RACERS, price=9_900, signed=False)
    calls: list[Any] = []
    for i in range(RACERS):
        calls.append(lambda o=own[i]: _claim(wired, o))
        calls.append(lambda: _claim(wired, shared))
        calls.append(lambda o=held[i]: _claim(wired, o, ReturnKind.REFUND_ONLY))
    out = race(calls)
    assert len(out.won) == 2 * RACERS + 1, out.codes
    _sql_invariants(wired)

    seen = dashboard.figures(wired.services)
    with wired.engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, COUNT(*) FROM returns GROUP BY 1")).all())
    assert dict(seen.by_status) == {k: int(v) for k, v in statuses.items()}
    reasons = Counter(dict(seen.reasons))
    reasons.subtract(dict(before.reasons))
    assert +reasons == {"refund_only_above_instant_limit": RACERS}
    assert seen.reason_rule["refund_only_above_instant_limit"] == "refund_only_limits"


def test_the_migration_counts_what_was_stored_as_the_live_path_does(
    wired: App, database_url: str
) -> None:
    for order in _orders(wired, 5):
        _claim(wired, order)
    for order in _orders(wired, 3, price=9_900, signed=False):
        _claim(wired, order, ReturnKind.REFUND_ONLY)
    live = _counts(wired)
    assert Counter(figure for _, figure, _ in live) >= Counter({"filed": 1, "held_by": 1})
    wired.engine.dispose()
    cfg = _alembic(database_url)
    command.downgrade(cfg, BEFORE)
    command.upgrade(cfg, "head")
    assert _counts(wired) == live
    _sql_invariants(wired)
