"""What attempt limits kept in the database cost (rate_limit_storage = database://), against
the in-memory storage in the same run.

For each storage: the mean wall time of one ``hit`` and one ``check`` on the throttle, and
of the calls one sign-in makes (services/identity.py: remembers, three checks, two hits,
clear, remember), with the SQL statements each issues. The database storages run on a fresh
migrated SQLite file and, with ``--pg-url``, on a fresh PostgreSQL database (dropped after);
``--redis-url`` adds the Redis storage (a database the bench may flush).
One Argon2 verify with the default parameters is measured too: the work a sign-in does anyway.

    uv run python bench/throttle_storage.py [--pg-url postgresql://...] [--redis-url redis://...]
        [--hits 2000]

Prints one JSON line per storage, then a summary line with the ratios to memory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from doorstep.adapters.auth import Argon2Passwords, LimitsThrottle
from doorstep.adapters.auth.sql_limits import SqlLimitsStorage
from doorstep.adapters.db.engine import make_engine
from doorstep.bootstrap import migrate
from doorstep.config import Settings

RULES = {"rule": "5/minute", "known": "5/minute"}


class Statements:
    """Counts the statements an engine sends."""

    def __init__(self, engine: Engine | None) -> None:
        self.count = 0
        if engine is not None:
            event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


def _per_call(n: int, call: Callable[[int], object], statements: Statements) -> dict[str, float]:
    before = statements.count
    started = time.perf_counter()
    for i in range(n):
        call(i)
    elapsed = time.perf_counter() - started
    return {
        "us": round(elapsed / n * 1e6, 1),
        "statements": round((statements.count - before) / n, 2),
    }


def _sign_in_calls(throttle: LimitsThrottle, i: int) -> None:
    # The throttle calls of one successful sign-in from an address not seen before.
    pair, address, account = f"user{i}|10.0.{i % 250}.1", f"10.0.{i % 250}.1", f"user{i}"
    throttle.remembers("known", pair)
    throttle.check("rule", address)
    throttle.check("rule", pair)
    throttle.check("rule", account)
    throttle.hit("rule", pair)
    throttle.hit("rule", account)
    throttle.clear("rule", pair)
    throttle.remember("known", pair)


def measure(name: str, throttle: LimitsThrottle, engine: Engine | None, n: int) -> dict[str, Any]:
    """One storage's figures: per hit (new keys, admitted), per check, per sign-in."""
    statements = Statements(engine)
    throttle.hit("rule", "warm-up")  # connections opened, statements compiled
    return {
        "storage": name,
        "calls": n,
        "hit": _per_call(n, lambda i: throttle.hit("rule", f"h{i % 500}"), statements),
        "check": _per_call(n, lambda i: throttle.check("rule", f"h{i % 500}"), statements),
        "sign_in": _per_call(max(1, n // 8), lambda i: _sign_in_calls(throttle, i), statements),
    }


@contextmanager
def _pg_database(admin_url: str) -> Iterator[str]:
    name = f"doorstep_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _database(name: str, url: str, n: int) -> dict[str, Any]:
    migrate(url)
    engine = make_engine(url)
    try:
        storage = SqlLimitsStorage(engine)
        return measure(name, LimitsThrottle(storage, RULES, remember_s={"known": 60}), engine, n)
    finally:
        engine.dispose()


def _argon2_verify_us() -> float:
    settings = Settings(env="development")
    passwords = Argon2Passwords(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        concurrency=1,
        queue=1,
    )
    hashed = passwords.hash("a password of some length")
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        passwords.verify("a password of some length", hashed)
        runs.append(time.perf_counter() - started)
    return round(statistics.median(runs) * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--redis-url", default=None, help="also the Redis storage (flushed)")
    parser.add_argument("--hits", type=int, default=2000)
    args = parser.parse_args()
    rows = [
        measure(
            "memory",
            LimitsThrottle("memory://", RULES, remember_s={"known": 60}),
            None,
            args.hits,
        )
    ]
    if args.redis_url:
        redis = LimitsThrottle(args.redis_url, RULES, remember_s={"known": 60})
        redis._storage.reset()  # a fresh database: the bench's keys only
        rows.append(measure("redis", redis, None, args.hits))
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(_database("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.hits))
    if args.pg_url:
        with _pg_database(args.pg_url) as url:
            rows.append(_database("postgresql", url, args.hits))
    for row in rows:
        print(json.dumps(row))
    memory = rows[0]
    argon2 = _argon2_verify_us()
    print(
        json.dumps(
            {
                "figure": "throttle_storage",
                "baseline": "memory",
                "argon2_verify_us": argon2,
                "ratios": {
                    row["storage"]: {
                        op: round(row[op]["us"] / memory[op]["us"], 1)
                        for op in ("hit", "check", "sign_in")
                    }
                    for row in rows[1:]
                },
                "sign_in_share_of_argon2": {
                    row["storage"]: round(row["sign_in"]["us"] / argon2, 3) for row in rows
                },
            }
        )
    )


if __name__ == "__main__":
    main()
