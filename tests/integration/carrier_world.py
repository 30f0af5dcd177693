"""doorstep and the sandbox courier company, both served on loopback, talking real HTTP.

The two share one clock the test moves (signatures, replay windows and quiet periods depend
on it); everything else is as in production: the HTTP adapter, signed callbacks, the inbox.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from doorstep.adapters.ids import FixedClock
from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App, build
from doorstep.config import CarrierGateway, Settings
from doorstep.domain.address import Address
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.domain.signature import signed_headers
from doorstep.entrypoints.api.app import create_app
from doorstep.sandbox_carrier.app import create_app as create_sandbox
from doorstep.services import catalog, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"  # trust 850: express refund at pickup
FENGXIAN = Address(
    "310120", "上海市", "上海市", "奉贤区", "南桥镇解放东路88号", "林晓雯", "13800001111"
)
TOMORROW = date(2026, 11, 26)
API_KEY = "sandbox-test-api-key-" + "k" * 20
SECRET = "sandbox-test-callback-secret-" + "s" * 20
T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(app: FastAPI, port: int, *, lifespan: str) -> Iterator[str]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan=lifespan,
        ws="none",
        http="h11",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


# A callback is sent once and again up to 3 times, as SF retries one (RULES.md §6).
CALLBACK_TRIES = 4


@dataclass
class World:
    app: App
    clock: FixedClock
    doorstep: str
    sandbox: httpx.Client
    # The company's books clock: what a callback written by a test is dated with.
    company_now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Callbacks answered 503 database_busy and sent again (``post_callback``).
    busy_answers: int = 0

    # --- the sandbox company's side ---------------------------------------------------------
    def faults(self, **faults: Any) -> None:
        self.sandbox.put("/sandbox/faults", json=faults).raise_for_status()

    def advance(self, out_order_no: str, to: str, **extra: Any) -> dict[str, Any]:
        answer = self.sandbox.post(
            f"/sandbox/orders/{out_order_no}/advance", json={"to": to, **extra}
        )
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def deliveries(self) -> list[dict[str, Any]]:
        """Every callback attempt so far, once the sender has nothing left to send."""
        deadline = time.monotonic() + 30
        while True:
            body = self.sandbox.get("/sandbox/deliveries").json()
            if body["idle"] or time.monotonic() > deadline:
                found: list[dict[str, Any]] = body["deliveries"]
                return found
            time.sleep(0.05)

    def company_orders(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.sandbox.get("/sandbox/orders").json()
        return found

    def post_callback(self, body: bytes) -> str:
        """Post one callback as the company signs it; doorstep's outcome (200 expected).

        As a company does (SF retries a callback 3 times), a 503 ``database_busy`` (every
        pooled connection taken: 20 and more callbacks at once against a pool of 10 on a
        loaded machine) is sent again after its Retry-After; anything else must be a 200."""
        for attempt in range(CALLBACK_TRIES):
            headers = {"Content-Type": "application/json"}
            headers |= signed_headers(SECRET, self.clock.now(), body)
            answer = httpx.post(
                f"{self.doorstep}/carriers/sbx/callbacks", content=body, headers=headers, timeout=60
            )
            busy = answer.status_code == 503 and answer.json()["code"] == "database_busy"
            if not busy or attempt == CALLBACK_TRIES - 1:
                break
            self.busy_answers += 1
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        assert answer.status_code == 200, answer.text
        outcome: str = answer.json()["outcome"]
        return outcome

    # --- doorstep's side --------------------------------------------------------------------
    def approved_return(self) -> str:
        """A fresh order in the company-served district and its approved return."""
        placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
        order = Order(
            f"SBX-{uuid.uuid4().hex[:10]}",
            BUYER,
            "shop-cn-home",
            Channel.DOMESTIC,
            placed,
            FENGXIAN,
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, 4_900),),
            signed_at=placed + timedelta(days=1),
        )
        catalog.import_orders(self.app.services, [order], None)
        request = returns.open_return(
            self.app.services,
            OpenReturn(
                BUYER, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
            ),
        )
        assert request.status is ReturnStatus.APPROVED, request.decision
        return request.return_id

    def join(self, return_id: str, out_order_no: str) -> None:
        """Put another approved return on the visit of ``out_order_no``."""
        appointment_id = out_order_no.rsplit("-", 1)[0]
        pickup.join_pickup(self.app.services, BUYER, return_id, appointment_id)

    def book(self, return_id: str, hour: int = 9) -> str:
        """Book the sandbox company's window; the out_order_no of its pickup order."""
        from datetime import time as wall

        appt = pickup.book_pickup(
            self.app.services, BUYER, return_id, pickup.SlotChoice("sbx", TOMORROW, wall(hour))
        )
        assert appt.served_by_company and appt.courier_id is None
        return f"{appt.appointment_id}-1"


@contextmanager
def carrier_world(
    database_url: str,
    payments: LocalPayments | None = None,
    company_skew: timedelta = timedelta(0),
) -> Iterator[World]:
    """doorstep and the sandbox company on loopback; ``payments`` to record what is paid;
    ``company_skew``: how far the company's books (its events' and orders' times) run from
    doorstep's clock (its signatures keep doorstep's time, or they would be refused). The
    company's books clock also runs on, a millisecond a reading, as a real one does: on
    the test's frozen clock a company move made after our send would bear its very time,
    and which came first could not be told (``PickupOrder._superseded``)."""
    clock = FixedClock(T0)
    ticks = itertools.count()

    def books_clock() -> datetime:
        return clock.now() + company_skew + timedelta(milliseconds=next(ticks))

    sandbox_port, doorstep_port = free_port(), free_port()
    settings = Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-" + "x" * 40,
        public_url=f"http://127.0.0.1:{doorstep_port}",
        carrier_gateways={
            "sbx": CarrierGateway(
                url=f"http://127.0.0.1:{sandbox_port}", api_key=API_KEY, callback_secret=SECRET
            )
        },
        carrier_timeout_s=30,  # a loaded CI machine, not a fault under test
        carrier_attempts=3,
    )
    paying = payments if payments is not None else LocalPayments()
    app = build(settings, clock=clock, payments=paying, run_migrations=False)
    # A loaded machine can take seconds to answer a callback (an error's traceback is
    # rendered on the server's loop): the company's patience is not what these tests test.
    sandbox_app = create_sandbox(
        api_key=API_KEY,
        callback_secret=SECRET,
        clock=clock.now,
        callback_timeout_s=60,
        books_clock=books_clock,
    )
    # The engine is disposed only after both servers have stopped, the company first: its
    # sender delivers what it has queued to a doorstep still serving, and doorstep's server
    # then waits for the requests in flight. Disposed earlier, a callback being answered
    # returned its connection to a closed pool, and the connection surfaced in a later test.
    try:
        with (
            served(create_app(app), doorstep_port, lifespan="off") as doorstep_url,
            served(sandbox_app, sandbox_port, lifespan="on") as sandbox_url,
            httpx.Client(base_url=sandbox_url, timeout=60) as sandbox,
        ):
            yield World(app, clock, doorstep_url, sandbox, books_clock)
    finally:
        for company in app.services.carriers.values():
            company.close()  # type: ignore[attr-defined]
        app.engine.dispose()
