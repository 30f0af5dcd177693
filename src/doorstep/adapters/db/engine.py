"""Engines for SQLite (embedded) and PostgreSQL with the settings each needs under load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from doorstep.adapters.db.codec import json_text, json_value


@dataclass(frozen=True)
class PoolSizing:
    """How many PostgreSQL connections one process keeps, and how long it waits for one.

    ``size`` connections stay open for the life of the process. ``overflow`` extra ones are
    opened when all are busy and closed as soon as they are returned, so any overflow used
    under steady load is connection churn (a fork on the server per request): the default is
    none, and requests beyond ``size`` wait up to ``timeout_s`` for a free connection instead.
    """

    size: int = 10
    overflow: int = 0
    timeout_s: float = 30.0
    connect_timeout_s: int = 5
    recycle_s: int = 1800
    # A row lock waited on longer than this gives up (a 409 the caller may repeat,
    # adapters/db/conflicts.py) instead of holding a pooled connection behind a stuck
    # transaction for ever.
    lock_timeout_s: int = 60


def make_engine(url: str, *, echo: bool = False, pool: PoolSizing | None = None) -> Engine:
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
            json_serializer=json_text,
            json_deserializer=json_value,
        )
        _sqlite_write_locks(engine, wal=not memory)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    pool = pool or PoolSizing()
    return create_engine(
        url,
        echo=echo,
        # A connection the server dropped (restart, idle timeout) is replaced before use
        # instead of failing the request that drew it.
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout_s,
        pool_recycle=pool.recycle_s,
        # LIFO keeps the few connections a quiet process needs warm and lets the rest idle.
        pool_use_lifo=True,
        connect_args={
            "connect_timeout": pool.connect_timeout_s,
            "options": f"-c lock_timeout={pool.lock_timeout_s * 1000}",
        },
        # msgspec reads and writes the documents' JSON text several times faster than json.
        json_serializer=json_text,
        json_deserializer=json_value,
    )


def database_ready(engine: Engine) -> bool:
    """Whether the database answers one trivial query now (for a readiness probe)."""
    driver_error = engine.dialect.loaded_dbapi.Error
    try:
        # The DBAPI connection, not a SQLAlchemy one: that would open a transaction, which on
        # SQLite is BEGIN IMMEDIATE (the write lock) and a probe must not queue behind writers.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            cursor.close()
        finally:
            raw.close()
    except (SQLAlchemyError, driver_error):
        return False
    return True


def connection_budget(engine: Engine) -> int | None:
    """How many connections ordinary roles may open on this PostgreSQL server (None: SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        total = int(conn.exec_driver_sql("SHOW max_connections").scalar_one())
        reserved = int(conn.exec_driver_sql("SHOW superuser_reserved_connections").scalar_one())
    return total - reserved


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
