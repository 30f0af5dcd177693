"""Persistence on SQLAlchemy Core: SQLite embedded by default, PostgreSQL by URL."""
