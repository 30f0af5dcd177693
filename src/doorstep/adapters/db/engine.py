"""Engines for SQLite (embedded) and PostgreSQL with the settings each needs under load."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL and write transactions that lock up front."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 60, "check_same_thread": False},
            # A pool of one shared connection would serialise unrelated readers; NullPool keeps
            # each unit of work on its own connection, which SQLite opens in microseconds.
            poolclass=None if memory else NullPool,
        )
        _sqlite_write_locks(engine, wal=not memory)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_write_locks(engine: Engine, *, wal: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and upgrades locks mid-transaction, which
    # deadlocks concurrent writers; take the write lock at BEGIN instead (SQLAlchemy's recipe).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
