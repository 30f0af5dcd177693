"""A ``limits`` storage in the application's own database (table ``rate_limits``), so that
the attempt limits need no shared state besides the database (``rate_limit_storage =
database://``).

``limits`` ships no SQL storage but takes any subclass of its ``Storage`` (here with
``MovingWindowSupport``, the strategy adapters/auth/throttle.py uses). One row per limit key:
a moving window keeps its newest hits (epoch seconds, newest first, at most the limit) in
``hits``; a plain counter (what ``Throttle.remember`` notes) keeps ``counter``. A hit is one
transaction of two statements: an upsert that creates or locks the key's row and returns its
hits, then the update that adds the hit when the window has room. Two hits on one key queue
on that row, so the count never passes the limit, whatever the number of processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Connection, Engine, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from doorstep.adapters.db.tables import rate_limits

_INSERTS: dict[str, Callable[..., Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


class SqlLimitsStorage(Storage, MovingWindowSupport):
    """Moving windows and counters per key in the ``rate_limits`` table of ``engine``."""

    # Built by the wiring with an engine, never from a URI (limits' registry stays untouched).
    STORAGE_SCHEME = None

    def __init__(self, engine: Engine, *, wrap_exceptions: bool = True) -> None:
        super().__init__(None, wrap_exceptions=wrap_exceptions)
        self._engine = engine
        self._insert = _INSERTS[engine.dialect.name]

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    # --- moving windows ---------------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Add ``amount`` hits at now when the window of ``expiry`` seconds has room."""
        if amount > limit:
            return False
        with self._engine.begin() as conn:
            hits = self._locked_hits(conn, key)
            now = time.time()  # read once the row is ours, so hits on one key stay in order
            live = [t for t in hits if t >= now - expiry]
            if len(live) + amount > limit:
                return False
            kept = [now] * amount + live[: limit - amount]
            conn.execute(
                update(rate_limits)
                .where(rate_limits.c.key == key)
                .values(hits=kept, expires_at=now + expiry)
            )
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(the oldest hit still in the window, how many hits are in it); (now, 0) if none."""
        with self._engine.connect() as conn:
            hits = conn.execute(select(rate_limits.c.hits).where(rate_limits.c.key == key))
            found = hits.scalar_one_or_none() or []
        now = time.time()
        live = [t for t in found if t >= now - expiry]
        return (live[-1], len(live)) if live else (now, 0)

    def _locked_hits(self, conn: Connection, key: str) -> list[float]:
        # An upsert that always touches the row: it creates the key's row or waits for and
        # locks the existing one (PostgreSQL: ON CONFLICT DO UPDATE locks the row it updates;
        # SQLite: the transaction already holds the write lock), and returns the hits.
        statement = (
            self._insert(rate_limits)
            .values(key=key, hits=[], counter=0, expires_at=0.0)
            .on_conflict_do_update(index_elements=[rate_limits.c.key], set_={"key": key})
            .returning(rate_limits.c.hits)
        )
        hits: list[float] = conn.execute(statement).scalar_one()
        return hits

    # --- counters ---------------------------------------------------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the key's counter, starting again at 0 once it expired."""
        now = time.time()
        expired = rate_limits.c.expires_at <= now
        statement = (
            self._insert(rate_limits)
            .values(key=key, hits=[], counter=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[rate_limits.c.key],
                set_={
                    "counter": case((expired, amount), else_=rate_limits.c.counter + amount),
                    "expires_at": case((expired, now + expiry), else_=rate_limits.c.expires_at),
                },
            )
            .returning(rate_limits.c.counter)
        )
        with self._engine.begin() as conn:
            counter: int = conn.execute(statement).scalar_one()
        return counter

    def get(self, key: str) -> int:
        """The key's counter, 0 once it expired."""
        with self._engine.connect() as conn:
            found = conn.execute(
                select(rate_limits.c.counter).where(
                    rate_limits.c.key == key, rate_limits.c.expires_at > time.time()
                )
            ).scalar_one_or_none()
        return int(found or 0)

    def get_expiry(self, key: str) -> float:
        """When the key's row stops counting (epoch seconds; now when there is none)."""
        with self._engine.connect() as conn:
            found = conn.execute(
                select(rate_limits.c.expires_at).where(rate_limits.c.key == key)
            ).scalar_one_or_none()
        return float(found) if found is not None else time.time()

    def clear(self, key: str) -> None:
        """Forget the key (its window and its counter)."""
        with self._engine.begin() as conn:
            conn.execute(delete(rate_limits).where(rate_limits.c.key == key))

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with self._engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every key; returns how many rows went."""
        with self._engine.begin() as conn:
            return conn.execute(delete(rate_limits)).rowcount

    def purge_expired(self, now: float | None = None) -> int:
        """Delete the rows that no longer count anything (a window's newest hit left it, a
        counter expired); returns how many. Expired rows are already read as empty, so this
        only keeps the table small."""
        with self._engine.begin() as conn:
            moment = time.time() if now is None else now
            return conn.execute(
                delete(rate_limits).where(rate_limits.c.expires_at <= moment)
            ).rowcount
