"""The sandbox courier company's HTTP API (FastAPI).

Company API (what doorstep's adapter calls, ``X-Api-Key`` required):
    POST /api/orders                      create, idempotent by outOrderNo
    GET  /api/orders/{outOrderNo}         the order as it stands (for polling)
    POST /api/orders/{outOrderNo}/cancel  only before pickup
    POST /api/orders/{outOrderNo}/reschedule
Sandbox controls (what the company's courier does, and the fault settings):
    POST /sandbox/orders/{outOrderNo}/advance   {"to": "PICKED_UP", ...}
    GET/PUT /sandbox/faults, GET /sandbox/deliveries, POST /sandbox/flush
"""

from __future__ import annotations

import hmac
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from doorstep.sandbox_carrier.callbacks import CallbackSender, Faults

COURIERS = (("张师傅", "13812345678"), ("李师傅", "13987654321"), ("王师傅", "13700001111"))
FailReason = Literal[
    "BAD_PHONE",
    "CUSTOMER_UNREACHABLE",
    "NO_ACCESS",
    "TIME_CHANGED_BY_CUSTOMER",
    "WEATHER",
    "TRAFFIC",
    "GOODS_NOT_ACCEPTED",
]
STAGES = ("CREATED", "ACCEPTED", "COURIER_ASSIGNED", "PICKED_UP", "IN_TRANSIT", "DELIVERED")
BEFORE_PICKUP = ("CREATED", "ACCEPTED", "COURIER_ASSIGNED")
ENDED = ("PICKUP_FAILED", "CANCELLED")


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PartyIn(Model):
    name: Annotated[str, Field(max_length=50)]
    mobile: Annotated[str, Field(max_length=20)]
    province: Annotated[str, Field(max_length=50)] = ""
    city: Annotated[str, Field(max_length=50)] = ""
    district: Annotated[str, Field(max_length=50)] = ""
    address: Annotated[str, Field(max_length=200)] = ""
    adcode: Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class CargoIn(Model):
    name: Annotated[str, Field(max_length=100)]
    count: Annotated[int, Field(ge=1, le=10_000)]
    weightG: Annotated[int, Field(ge=1, le=1_000_000)]


PickupDate = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
PickupTime = Annotated[str, Field(pattern=r"^[0-9]{2}:[0-9]{2}$")]
# An order number as doorstep sends it (``OrderIn.outOrderNo``): nothing longer is ever kept.
OrderNumber = Annotated[str, Path(min_length=1, max_length=80)]


class OrderIn(Model):
    outOrderNo: Annotated[str, Field(min_length=1, max_length=80)]
    sender: PartyIn
    receiver: PartyIn
    cargo: CargoIn
    pickupDate: PickupDate
    pickupStart: PickupTime
    pickupEnd: PickupTime
    callbackUrl: Annotated[str, Field(max_length=300, pattern=r"^https?://")]


class RescheduleIn(Model):
    pickupDate: PickupDate
    pickupStart: PickupTime
    pickupEnd: PickupTime


class AdvanceIn(Model):
    to: Literal[
        "ACCEPTED",
        "COURIER_ASSIGNED",
        "RESCHEDULED",
        "PICKED_UP",
        "IN_TRANSIT",
        "DELIVERED",
        "PICKUP_FAILED",
        "SETTLED",
        "CANCELLED",
    ]
    reason: FailReason = "CUSTOMER_UNREACHABLE"
    weightG: Annotated[int, Field(ge=1, le=1_000_000)] = 1200
    freightFen: Annotated[int, Field(ge=0, le=1_000_000)] = 1200
    pickupDate: PickupDate | None = None
    pickupStart: PickupTime | None = None
    pickupEnd: PickupTime | None = None


class FaultsIn(Model):
    delay_s: Annotated[float, Field(ge=0, le=30)] = 0.0
    duplicate: bool = False
    reorder: bool = False
    drop: bool = False
    fail_create: Literal["none", "transient", "permanent"] = "none"
    forge: bool = False


class Company:
    """The company's books: orders by outOrderNo, under one lock. Each order carries
    ``updatedAt``, the books' time of its last change (its create, reschedule or event), in
    every answer and callback, on the company's own clock."""

    def __init__(
        self, sender: CallbackSender, books_clock: Callable[[], datetime] | None = None
    ) -> None:
        self.sender = sender
        self.clock = books_clock or sender.clock
        self.orders: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._events = itertools.count(1)

    def create(self, body: OrderIn) -> tuple[dict[str, Any], bool]:
        with self.lock:
            found = self.orders.get(body.outOrderNo)
            if found is not None:
                return found, False
            n = next(self._numbers)
            order = {
                "updatedAt": self.clock().isoformat(),
                "orderId": f"SBX{n:08d}",
                "outOrderNo": body.outOrderNo,
                "status": "CREATED",
                "courier": None,
                "waybillNo": None,
                "failReason": None,
                "pickupDate": body.pickupDate,
                "pickupStart": body.pickupStart,
                "pickupEnd": body.pickupEnd,
                "weightG": None,
                "freightFen": None,
                "callbackUrl": body.callbackUrl,
                "sender": body.sender.model_dump(),
                "cargo": body.cargo.model_dump(),
                "n": n,
            }
            self.orders[body.outOrderNo] = order
        return order, True

    def advance(self, number: str, step: AdvanceIn) -> dict[str, Any]:
        """One thing the company's courier (or back office) does, then its callback."""
        with self.lock:
            order = self.orders.get(number)
            if order is None:
                raise HTTPException(404, {"error": {"code": "ORDER_NOT_FOUND"}})
            _check_step(order, step.to)
            if step.to == "COURIER_ASSIGNED":
                name, mobile = COURIERS[order["n"] % len(COURIERS)]
                order["courier"] = {"name": name, "mobile": mobile[:3] + "****" + mobile[-4:]}
            elif step.to == "PICKED_UP":
                day = self.clock().strftime("%y%m%d")
                order["waybillNo"] = f"SBX{day}{order['n']:08d}"
            elif step.to == "PICKUP_FAILED":
                order["failReason"] = step.reason
            elif step.to == "SETTLED":
                order["weightG"], order["freightFen"] = step.weightG, step.freightFen
            elif step.to == "RESCHEDULED":
                order["pickupDate"] = step.pickupDate or order["pickupDate"]
                order["pickupStart"] = step.pickupStart or order["pickupStart"]
                order["pickupEnd"] = step.pickupEnd or order["pickupEnd"]
            if step.to not in ("SETTLED", "RESCHEDULED"):
                order["status"] = step.to
            order["updatedAt"] = self.clock().isoformat()
            event = self._event(order, step.to)
        self.sender.emit(order["callbackUrl"], event)
        return snapshot(order)

    def _event(self, order: dict[str, Any], kind: str) -> dict[str, Any]:
        return {
            "eventId": f"EV{next(self._events):010d}",
            "eventType": kind,
            "occurredAt": order["updatedAt"],
            "order": snapshot(order),
        }


def _check_step(order: dict[str, Any], to: str) -> None:
    status = order["status"]
    if status in ENDED:
        raise HTTPException(409, {"error": {"code": "ORDER_CLOSED"}})
    if to in ("PICKUP_FAILED", "CANCELLED", "RESCHEDULED") and status not in BEFORE_PICKUP:
        raise HTTPException(409, {"error": {"code": "ALREADY_PICKED_UP"}})
    if to in STAGES and STAGES.index(to) <= STAGES.index(status):
        raise HTTPException(409, {"error": {"code": "STAGE_PASSED"}})


def snapshot(order: dict[str, Any]) -> dict[str, Any]:
    """What the company's API shows of an order."""
    return {k: v for k, v in order.items() if k not in ("callbackUrl", "sender", "cargo", "n")}


def create_app(
    *,
    api_key: str,
    callback_secret: str,
    faults: Faults | None = None,
    auto_advance_s: float = 0.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    callback_timeout_s: float = 5.0,
    books_clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The sandbox company; ``auto_advance_s`` > 0 walks every order through its stages;
    ``clock`` dates its events and signatures (tests share theirs with doorstep);
    ``callback_timeout_s`` is how long it waits for doorstep's answer to a callback;
    ``books_clock`` (default ``clock``) dates its orders and events only: a test runs it
    minutes off doorstep's to show no decision compares the two, while the signatures
    stay within doorstep's replay window."""
    sender = CallbackSender(
        callback_secret, faults or Faults(), clock=clock, timeout_s=callback_timeout_s
    )
    company = Company(sender, books_clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sender.start()
        stop = threading.Event()
        walker = None
        if auto_advance_s > 0:
            walker = threading.Thread(
                target=_walk, args=(company, auto_advance_s, stop), daemon=True
            )
            walker.start()
        yield
        stop.set()
        sender.stop()

    app = FastAPI(title="sandbox courier company", lifespan=lifespan)
    app.state.company = company

    def key(x_api_key: Annotated[str, Header(max_length=200)] = "") -> None:
        if not hmac.compare_digest(x_api_key.encode(), api_key.encode()):
            raise HTTPException(401, {"error": {"code": "BAD_API_KEY"}})

    keyed = [Depends(key)]

    @app.post("/api/orders", dependencies=keyed)
    def create(body: OrderIn) -> JSONResponse:
        mode = sender.faults.fail_create
        if mode == "transient":
            return JSONResponse({"error": {"code": "SYSTEM_BUSY"}}, status_code=503)
        if mode == "permanent":
            return JSONResponse({"error": {"code": "ADDRESS_NOT_SERVED"}}, status_code=400)
        order, new = company.create(body)
        if new:
            company.advance(body.outOrderNo, AdvanceIn(to="ACCEPTED"))
        return JSONResponse(
            snapshot(company.orders[body.outOrderNo]) | {"orderId": order["orderId"]}
        )

    @app.get("/api/orders/{number}", dependencies=keyed)
    def query(number: OrderNumber) -> dict[str, Any]:
        order = company.orders.get(number)
        if order is None:
            raise HTTPException(404, {"error": {"code": "ORDER_NOT_FOUND"}})
        return snapshot(order)

    @app.post("/api/orders/{number}/cancel", dependencies=keyed)
    def cancel(number: OrderNumber) -> dict[str, Any]:
        order = company.orders.get(number)
        if order is not None and order["status"] == "CANCELLED":
            return snapshot(order)  # cancelling twice changes nothing
        return company.advance(number, AdvanceIn(to="CANCELLED"))

    @app.post("/api/orders/{number}/reschedule", dependencies=keyed)
    def reschedule(number: OrderNumber, body: RescheduleIn) -> dict[str, Any]:
        return company.advance(number, AdvanceIn(to="RESCHEDULED", **body.model_dump()))

    @app.post("/sandbox/orders/{number}/advance")
    def advance(number: OrderNumber, body: AdvanceIn) -> dict[str, Any]:
        return company.advance(number, body)

    @app.get("/sandbox/orders")
    def orders() -> list[dict[str, Any]]:
        return [snapshot(o) for o in company.orders.values()]

    @app.get("/sandbox/faults")
    def get_faults() -> dict[str, Any]:
        return sender.faults_dict()

    @app.put("/sandbox/faults")
    def set_faults(body: FaultsIn) -> dict[str, Any]:
        sender.faults = Faults(**body.model_dump())
        return sender.faults_dict()

    @app.get("/sandbox/deliveries")
    def deliveries() -> dict[str, Any]:
        return {"idle": sender.idle(), "deliveries": [d.__dict__ for d in sender.deliveries]}

    @app.post("/sandbox/flush")
    def flush() -> dict[str, bool]:
        sender.flush_held()
        return {"ok": True}

    return app


def _walk(company: Company, every_s: float, stop: threading.Event) -> None:
    """Demo mode: each order takes its next step every ``every_s`` seconds."""
    steps = ("COURIER_ASSIGNED", "PICKED_UP", "IN_TRANSIT", "DELIVERED", "SETTLED")
    while not stop.wait(every_s):
        for number, order in list(company.orders.items()):
            if order["status"] in ENDED or order["weightG"] is not None:
                continue
            done = order["status"]
            nxt = next(
                (s for s in steps if s not in STAGES or STAGES.index(s) > STAGES.index(done)), None
            )
            if nxt is None:
                continue
            try:
                company.advance(number, AdvanceIn(to=nxt))
            except HTTPException:
                continue
        time.sleep(0)
