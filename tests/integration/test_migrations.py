"""The migrations at head and the tables the code uses agree, on every backend."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from doorstep.adapters.db.engine import make_engine
from doorstep.adapters.db.tables import metadata


# SQLite's reflection cannot read an expression index (ix_events_user_actor) and says so;
# PostgreSQL reads and compares it. That SQLite has it is shown by the sweep's plan
# (tests/e2e/test_retention_http.py).
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
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
