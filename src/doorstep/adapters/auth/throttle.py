"""Attempt limits (the ``Throttle`` port) on the ``limits`` library.

Moving windows: a rule of "5/5minutes" admits five attempts in any five minutes, and the
wait it reports is until the oldest of them leaves the window, never a whole fixed period.
``memory://`` keeps the counts in this process (the embedded default); ``redis://...``
keeps them in one Redis that every API process shares, and ``database://`` in the
application's PostgreSQL (adapters/auth/sql_limits.py), so the limits hold however many
processes serve (see docs/architecture.md, "Abuse limits").
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from doorstep.adapters.auth.sql_limits import SqlLimitsStorage
from doorstep.domain.errors import Unavailable

REDIS_TIMEOUT_S = 2.0
"""Seconds one Redis command (or connecting) may take before the attempt fails closed."""


@contextmanager
def _storage_errors() -> Iterator[None]:
    # Fail closed: with the shared counts out of reach, an attempt cannot be counted, and
    # letting it through would let an attacker switch the limits off by overloading Redis.
    try:
        yield
    except StorageError as exc:
        raise Unavailable(
            "limits_unavailable",
            "The service cannot check attempt limits right now. Please retry shortly.",
            "暂时无法校验尝试次数限制，请稍后重试。",
            retry_after_s=5,
        ) from exc


class LimitsThrottle:
    """Named rules, each one or more limits, counted per key."""

    def __init__(
        self,
        storage_uri: str | Storage,
        rules: Mapping[str, str],
        *,
        remember_s: Mapping[str, int] | None = None,
        namespace: str = "doorstep",
    ) -> None:
        if isinstance(storage_uri, Storage):
            storage: object = storage_uri
        else:
            # redis-py waits forever by default: a Redis that accepts and never answers would
            # hold every sign-in; with these bounds it fails closed (limits_unavailable) instead.
            options = (
                {"socket_timeout": REDIS_TIMEOUT_S, "socket_connect_timeout": REDIS_TIMEOUT_S}
                if storage_uri.startswith(("redis://", "rediss://", "redis+"))
                else {}
            )
            storage = storage_from_string(storage_uri, wrap_exceptions=True, **options)
        if not isinstance(storage, Storage):
            raise ValueError(f"{storage_uri!r} names an asyncio storage; use memory:// or redis://")
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._rules: dict[str, list[RateLimitItem]] = {
            name: parse_many(text) for name, text in rules.items()
        }
        self._remember_s = dict(remember_s or {})
        self._namespace = namespace

    def check(self, rule: str, key: str) -> int | None:
        """Seconds until ``key`` may try again under ``rule``, or None if it may now."""
        with _storage_errors():
            waits = [
                self._wait(item, rule, key)
                for item in self._rules[rule]
                if not self._limiter.test(item, self._namespace, rule, key)
            ]
        return max(waits) if waits else None

    def hit(self, rule: str, key: str) -> int | None:
        """Count one attempt: None if it fits every limit of ``rule``, else seconds to wait."""
        with _storage_errors():
            for item in self._rules[rule]:
                if not self._limiter.hit(item, self._namespace, rule, key):
                    return self._wait(item, rule, key)
        return None

    def clear(self, rule: str, key: str) -> None:
        """Forget the attempts ``key`` made under ``rule``."""
        with _storage_errors():
            for item in self._rules[rule]:
                self._limiter.clear(item, self._namespace, rule, key)

    def remember(self, rule: str, key: str) -> None:
        """Note ``key`` under ``rule`` for the rule's retention (renewed by each call)."""
        seconds = self._remember_s[rule]
        if seconds > 0:
            with _storage_errors():
                self._storage.clear(self._memo_key(rule, key))
                self._storage.incr(self._memo_key(rule, key), seconds)

    def remembers(self, rule: str, key: str) -> bool:
        """Whether ``key`` was noted under ``rule`` within its retention."""
        with _storage_errors():
            return self._storage.get(self._memo_key(rule, key)) > 0

    def forget_expired(self) -> int:
        """Rows of the database storage that count nothing any more; memory and Redis expire
        their keys themselves (0)."""
        if not isinstance(self._storage, SqlLimitsStorage):
            return 0
        with _storage_errors():
            return self._storage.purge_expired()

    def _memo_key(self, rule: str, key: str) -> str:
        return f"{self._namespace}/memo/{rule}/{key}"

    def _wait(self, item: RateLimitItem, rule: str, key: str) -> int:
        reset = self._limiter.get_window_stats(item, self._namespace, rule, key).reset_time
        return max(1, math.ceil(reset - time.time()))
