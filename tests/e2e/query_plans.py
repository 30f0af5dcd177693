"""The plan a database chooses for a query, to show that a read uses the index made for it."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.sql import Select


def query_plan(engine: Engine, query: Select) -> list[str]:  # type: ignore[type-arg]
    """The plan's lines for ``query`` (bound values inlined). PostgreSQL is told not to scan
    whole tables: a test's tables are tiny, and the question is what the plan *can* use."""
    sql = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            return [str(r[0]) for r in conn.execute(text(f"EXPLAIN {sql}"))]
        return [str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
