"""A local payment provider: a ledger in the process that honours idempotency keys like a real
one (same key, same answer, paid once). Used by the demo and the tests; a real provider adapter
keeps the same contract over HTTP with a timeout and retries."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from doorstep.services.ports import PaymentResult


@dataclass
class LocalPayments:
    """Pays into an in-memory ledger; ``fail_next`` simulates provider outages in tests."""

    paid: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Negative adjustments (clawbacks of express refunds), by their own keys.
    clawed: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Charges (an exchange's price difference), by their own keys.
    collected: dict[str, tuple[str, int]] = field(default_factory=dict)
    fail_next: int = 0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refund(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        with self._lock:
            self.calls += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")
            if idempotency_key in self.paid:
                ref, _amount = self.paid[idempotency_key]
                return PaymentResult(ref, succeeded=True)
            ref = f"LP{len(self.paid) + 1:08d}"
            self.paid[idempotency_key] = (ref, amount_fen)
            return PaymentResult(ref, succeeded=True)

    def clawback(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        return self._take(self.clawed, "LC", idempotency_key, amount_fen)

    def collect(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        """Charge the buyer once per key (a second call answers with the first charge)."""
        return self._take(self.collected, "LX", idempotency_key, amount_fen)

    def _take(
        self, ledger: dict[str, tuple[str, int]], prefix: str, key: str, amount_fen: int
    ) -> PaymentResult:
        with self._lock:
            self.calls += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")
            if key not in ledger:
                ledger[key] = (f"{prefix}{len(ledger) + 1:08d}", amount_fen)
            return PaymentResult(ledger[key][0], succeeded=True)

    @property
    def total_clawed_fen(self) -> int:
        return sum(amount for _ref, amount in self.clawed.values())

    @property
    def total_paid_fen(self) -> int:
        return sum(amount for _ref, amount in self.paid.values())
