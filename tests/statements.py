"""Counting the SQL statements an engine sends, e.g. while one HTTP request is served."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """The statements ``engine`` executes while the ``with`` block runs, in order.

    Listens to ``before_cursor_execute``, so an ``executemany`` (one INSERT of many event
    rows) counts once: it is one round trip.
    """
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
