"""A Redis that accepts connections and never answers does not hold sign-ins forever: the
attempt limits fail closed with ``limits_unavailable`` (503, zh and en) once the bounded
socket timeout passes (redis-py's default is to wait without end)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from doorstep.adapters.auth.throttle import LimitsThrottle
from doorstep.domain.errors import Unavailable


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A loopback port whose backlog completes the TCP handshake; nothing ever reads."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


def test_a_silent_redis_fails_closed_instead_of_hanging(silent_redis: str) -> None:
    throttle = LimitsThrottle(silent_redis, {"sign_in": "5/minute"})
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            throttle.hit("sign_in", "203.0.113.9")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    # A liveness bound, not a speed figure: without a socket timeout the call never returns.
    worker.join(timeout=120)
    assert not worker.is_alive(), "the throttle waited on a silent Redis without end"
    [error] = outcome
    assert isinstance(error, Unavailable) and error.code == "limits_unavailable"
    assert error.message_zh and error.message_en
