"""The one place doorstep talks HTTP to a courier company.

Every call has a timeout. Calls that are safe to repeat are retried with exponential backoff
(stamina): create (the company de-duplicates by ``out_order_no``), cancel (cancelling a
cancelled order changes nothing) and query. Reschedule is sent once: a repeat after a lost
answer could move the window a second time after the buyer moved it again. Every attempt,
with its answer, goes to the exchange journal with secrets and phone numbers masked.
"""

from __future__ import annotations

import time as monotonic_clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import httpx
import msgspec
import stamina

from doorstep.adapters.carriers import sandbox_mapping as mapping
from doorstep.adapters.carriers.redact import redact
from doorstep.domain.carrier_order import Answered, CarrierUpdate, UnifiedOrder
from doorstep.domain.errors import Conflict, Unavailable
from doorstep.services.ports import CarrierAck, CarrierExchange, Clock, ExchangeJournal

API_KEY_HEADER = "X-Api-Key"


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retries of one company's API (settings)."""

    timeout_s: float = 5.0
    attempts: int = 3
    wait_initial_s: float = 0.2
    wait_max_s: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.timeout_s <= 60 or not 1 <= self.attempts <= 10:
            raise ValueError("timeout must be in (0, 60] s and attempts 1–10")


class _Retryable(Exception):
    """An attempt that may succeed when repeated (timeout, connection, 5xx, 429)."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class HttpCourierCompany:
    """``CourierCompany`` over HTTP for the sandbox's wire format (``sandbox_mapping``)."""

    def __init__(
        self,
        carrier_id: str,
        base_url: str,
        api_key: str,
        journal: ExchangeJournal,
        clock: Clock,
        policy: HttpPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.carrier_id = carrier_id
        self.policy = policy or HttpPolicy()
        self.journal, self.clock = journal, clock
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(self.policy.timeout_s),
            headers={API_KEY_HEADER: api_key},
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    # --- the port -----------------------------------------------------------------------
    def create(self, order: UnifiedOrder) -> CarrierAck:
        body = mapping.order_payload(order)
        answer = self._send("create", order.out_order_no, "POST", "/api/orders", body, retry=True)
        try:
            return mapping.ack(answer)
        except Conflict:
            raise
        except Exception:
            raise _unavailable("create", None, "unreadable answer") from None

    def cancel(self, out_order_no: str, reason: str) -> None:
        path = f"/api/orders/{out_order_no}/cancel"
        self._send("cancel", out_order_no, "POST", path, {"reason": reason}, retry=True)

    def reschedule(self, out_order_no: str, day: date, start: time, end: time) -> Answered:
        path = f"/api/orders/{out_order_no}/reschedule"
        body = mapping.reschedule_payload(day, start, end)
        answer = self._send("reschedule", out_order_no, "POST", path, body, retry=False)
        return mapping.answered(answer)

    def query(self, out_order_no: str) -> list[CarrierUpdate]:
        path = f"/api/orders/{out_order_no}"
        answer = self._send("query", out_order_no, "GET", path, None, retry=True, missing_ok=True)
        if answer is None:
            return []
        return mapping.updates_from_snapshot(answer, self.clock.now())

    def parse_callback(self, body: bytes) -> CarrierUpdate:
        return mapping.update_from_callback(body)

    # --- I/O ----------------------------------------------------------------------------
    def _send(
        self,
        operation: str,
        out_order_no: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        retry: bool,
        missing_ok: bool = False,
    ) -> Any:
        attempt: Callable[[], Any] = lambda: self._once(  # noqa: E731
            operation, out_order_no, method, path, body, missing_ok
        )
        try:
            if not retry:
                return attempt()
            for step in stamina.retry_context(
                on=_Retryable,
                attempts=self.policy.attempts,
                timeout=None,
                wait_initial=self.policy.wait_initial_s,
                wait_max=self.policy.wait_max_s,
            ):
                with step:
                    return attempt()
        except _Retryable as exc:
            raise _unavailable(operation, exc.status, str(exc)) from None
        raise AssertionError("unreachable: stamina re-raises the last failure")

    def _once(
        self,
        operation: str,
        out_order_no: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        missing_ok: bool,
    ) -> Any:
        started = monotonic_clock.monotonic()
        request_record: dict[str, object] = {"method": method, "path": path}
        if body is not None:
            request_record["body"] = redact(body)
        status: int | None = None
        answer: Any = None
        outcome = "ok"
        try:
            response = self.client.request(method, path, json=body)
            status = response.status_code
            answer = _json(response.content)
            if status == 404 and missing_ok:
                outcome, answer_out = "missing", None
                return answer_out
            if status >= 500 or status == 429:
                outcome = "unavailable"
                raise _Retryable(status, f"HTTP {status}")
            if status >= 400:
                outcome = "refused"
                code = mapping.error_code(answer)
                raise Conflict(
                    "carrier_refused",
                    f"The courier company refused the {operation}: {code}.",
                    f"快递公司拒绝了该请求：{code}。",
                    carrier_id=self.carrier_id,
                    carrier_code=code,
                )
            return answer
        except httpx.HTTPError as exc:
            outcome = "unavailable"
            raise _Retryable(None, type(exc).__name__) from None
        finally:
            self.journal.record(
                CarrierExchange(
                    carrier_id=self.carrier_id,
                    out_order_no=out_order_no,
                    operation=operation,
                    direction="out",
                    status_code=status,
                    outcome=outcome,
                    duration_ms=int((monotonic_clock.monotonic() - started) * 1000),
                    at=self.clock.now(),
                    request=request_record,
                    response=redact(answer) if isinstance(answer, dict) else None,
                )
            )


def _json(content: bytes) -> Any:
    try:
        return msgspec.json.decode(content) if content else None
    except msgspec.DecodeError:
        return {"unreadable": content[:200].decode("utf-8", "replace")}


def _unavailable(operation: str, status: int | None, detail: str) -> Unavailable:
    return Unavailable(
        "carrier_unavailable",
        f"The courier company did not answer the {operation}; it will be retried.",
        "快递公司暂时无法响应，系统将稍后重试。",
        operation=operation,
        status=status,
        detail=detail[:100],
    )


def now_iso(clock: Clock) -> str:
    """The clock's time as the sandbox's ISO text (for callers building test payloads)."""
    moment: datetime = clock.now()
    return moment.isoformat()
