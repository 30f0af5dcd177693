"""The migrations at head and the tables the code uses agree, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from doorstep.adapters.db.engine import make_engine
from doorstep.adapters.db.tables import metadata


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    # database_url is a copy of a database migrated from empty to head in this session.
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
