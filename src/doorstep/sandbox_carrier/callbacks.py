"""The sandbox's callback sender: signs, delays, duplicates, reorders, drops or forges.

One thread sends callbacks in the order they were made, as one company endpoint does; each
is retried up to three times when doorstep does not answer 2xx (SF retries three times).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from doorstep.domain.signature import signed_headers

SEND_TRIES = 3


@dataclass
class Faults:
    """What goes wrong, as settings (``PUT /sandbox/faults``, or the command's options)."""

    delay_s: float = 0.0  # each callback waits this long before it is sent
    duplicate: bool = False  # each callback is sent twice
    reorder: bool = False  # each callback is held back and sent after the next one
    drop: bool = False  # callbacks are not sent at all: only polling finds the state
    fail_create: str = "none"  # none | transient (503) | permanent (400)
    forge: bool = False  # callbacks are signed with a secret doorstep does not know

    def __post_init__(self) -> None:
        if not 0 <= self.delay_s <= 30:
            raise ValueError("delay_s must be 0–30")
        if self.fail_create not in ("none", "transient", "permanent"):
            raise ValueError("fail_create is none, transient or permanent")


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver a callback, as the sandbox saw it (``GET /sandbox/deliveries``)."""

    event_id: str
    event_type: str
    out_order_no: str
    status_code: int | None
    at: str
    # What went over the wire, so that a test can replay it byte for byte.
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class CallbackSender:
    """Queues callbacks and delivers them from one thread."""

    secret: str
    faults: Faults = field(default_factory=Faults)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    timeout_s: float = 5.0
    deliveries: list[Delivery] = field(default_factory=list)
    _queue: queue.Queue[tuple[str, dict[str, Any]] | None] = field(default_factory=queue.Queue)
    _held: tuple[str, dict[str, Any]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-callbacks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def emit(self, url: str, event: dict[str, Any]) -> None:
        """Send ``event`` to ``url`` as the fault settings say."""
        faults = self.faults
        if faults.drop:
            self._record(event, None)
            return
        with self._lock:
            if faults.reorder and self._held is None:
                self._held = (url, event)
                return
            held, self._held = self._held, None
        self._queue.put((url, event))
        if held is not None:
            self._queue.put(held)  # the older event goes after the newer one

    def flush_held(self) -> None:
        """Send a callback still held back for reordering (nothing newer came)."""
        with self._lock:
            held, self._held = self._held, None
        if held is not None:
            self._queue.put(held)

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    url, event = item
                    if self.faults.delay_s:
                        time.sleep(self.faults.delay_s)
                    copies = 2 if self.faults.duplicate else 1
                    for _ in range(copies):
                        self._deliver(client, url, event)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, url: str, event: dict[str, Any]) -> None:
        body = json.dumps(event, ensure_ascii=False).encode()
        secret = "forged-" + self.secret if self.faults.forge else self.secret
        for attempt in range(SEND_TRIES):
            headers = {"Content-Type": "application/json"}
            headers |= signed_headers(secret, self.clock(), body)
            try:
                status: int | None = client.post(url, content=body, headers=headers).status_code
            except httpx.HTTPError:
                status = None
            self._record(event, status, body.decode(), headers)
            if status is not None and (200 <= status < 300 or 400 <= status < 500):
                return  # taken, or refused for good: repeating the same bytes changes nothing
            time.sleep(0.2 * 2**attempt)

    def _record(
        self,
        event: dict[str, Any],
        status: int | None,
        body: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.deliveries.append(
            Delivery(
                event["eventId"],
                event["eventType"],
                event["order"]["outOrderNo"],
                status,
                self.clock().isoformat(),
                body,
                headers or {},
            )
        )

    def faults_dict(self) -> dict[str, Any]:
        return asdict(self.faults)
