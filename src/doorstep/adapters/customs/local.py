"""A local customs broker for development, demos and fault tests: it keeps declarations in
memory by idempotency key and answers as its ``mode`` says (a setting:
``DOORSTEP_CUSTOMS_BROKER_MODE``):

- ``accept``: every declaration is accepted;
- ``reject``: every declaration is refused (reason ``declaration_mismatch``);
- ``timeout``: no answer within the time limit (raises ``Unavailable``, nothing decided);
- ``pending``: received, no decision yet (a real broker answers days later).

A real broker adapter keeps the contract over HTTP with a timeout and the same keys.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from doorstep.domain.customs_return import BrokerVerdict
from doorstep.domain.errors import Unavailable
from doorstep.services.ports_after_sales import BrokerAnswer

MODES = ("accept", "reject", "timeout", "pending")


def broker_timeout() -> Unavailable:
    return Unavailable(
        "customs_broker_timeout",
        "The customs broker did not answer in time; the declaration is retried.",
        "报关行未及时响应，将自动重试申报。",
    )


@dataclass
class LocalCustomsBroker:
    """Declarations by key; ``mode`` may be changed at run time (tests, the demo console)."""

    mode: str = "accept"
    declarations: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, BrokerAnswer] = field(default_factory=dict)
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"customs broker mode must be one of {MODES}")

    def _decide(self, key: str) -> BrokerAnswer:
        ref = "CB" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()
        if self.mode == "timeout":
            raise broker_timeout()
        if self.mode == "pending":
            return BrokerAnswer(BrokerVerdict.PENDING, ref)
        if self.mode == "reject":
            return BrokerAnswer(BrokerVerdict.REJECTED, ref, "declaration_mismatch")
        return BrokerAnswer(BrokerVerdict.ACCEPTED, ref)

    def declare(self, key: str, declaration: Mapping[str, Any]) -> BrokerAnswer:
        """Receive a declaration once per key; a resent one gets the first final answer."""
        with self._lock:
            self.calls += 1
            self.declarations.setdefault(key, dict(declaration))
            return self._answer(key)

    def status(self, key: str) -> BrokerAnswer:
        """Where a declaration stands; unknown keys were never received."""
        with self._lock:
            self.calls += 1
            if key not in self.declarations:
                raise Unavailable(
                    "customs_declaration_unknown",
                    "The broker has no such declaration; it is sent again.",
                    "报关行没有该申报，将重新发送。",
                )
            return self._answer(key)

    def _answer(self, key: str) -> BrokerAnswer:
        if key in self.answers:
            return self.answers[key]
        answer = self._decide(key)
        if answer.verdict is not BrokerVerdict.PENDING:
            self.answers[key] = answer
        return answer
