"""PostgreSQL's answer to transactions that wait on each other, as the domain's conflict.

When two units of work lock the same rows in opposite orders, PostgreSQL aborts one of them
(deadlock detected); under stricter isolation it may refuse a commit (serialization failure).
Neither is a bug in the request: it lost a race and may be repeated, exactly what a stale
write means. Translating them once here keeps every use case's losers on a 409 with a stable
code instead of a driver exception.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from doorstep.domain.errors import InvalidInput, StaleWrite

# SQLSTATE codes of a lost race (PostgreSQL appendix A, class 40 and 55P03).
_LOST_RACE = {
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
    "55P03": "lock_not_available",
}


def lost_races_as_conflicts(engine: Engine) -> None:
    """Make ``engine`` raise ``StaleWrite`` where PostgreSQL aborts a racing transaction."""

    @event.listens_for(engine, "handle_error")
    def _translate(ctx: ExceptionContext) -> None:
        state = getattr(ctx.original_exception, "sqlstate", None)
        if state in _LOST_RACE:
            raise StaleWrite(reason=_LOST_RACE[state]) from ctx.original_exception


def unstorable_text_as_invalid_input(engine: Engine) -> None:
    """Make ``engine`` refuse, as bad input (422, ``text_not_storable``), text PostgreSQL
    cannot hold: a NUL character, which SQLite stores and psycopg refuses before sending. It
    comes from a client (a form field, a JSON string), never from the request's own logic."""

    @event.listens_for(engine, "handle_error")
    def _translate(ctx: ExceptionContext) -> None:
        if "NUL (0x00)" in str(ctx.original_exception):
            raise InvalidInput(
                "text_not_storable",
                "Text may not contain NUL or other control characters.",
                "文本不能包含 NUL 等控制字符。",
            ) from ctx.original_exception
