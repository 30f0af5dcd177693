"""Courier companies: their signed status callbacks, and what ops see of their orders."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request, Response

from doorstep.domain.errors import NotFound
from doorstep.domain.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import BuyerActor, OpsActor, Svc
from doorstep.entrypoints.api.schemas import (
    CallbackOut,
    CarrierExchangeOut,
    CarrierOrderOut,
    Id,
    OvertakenCaseOut,
    SettleIn,
)
from doorstep.services import cancel_overtaken, carrier_callbacks, carrier_orders

router = APIRouter(tags=["carriers"])

# Header values are bounded before anything parses them.
HeaderValue = Annotated[str | None, Header(max_length=200)]


@router.post(
    "/carriers/{carrier_id}/callbacks",
    response_model=CallbackOut,
    summary="A courier company's status callback, signed with HMAC-SHA256",
    description=(
        f"Signed over `{{timestamp}}.{{raw body}}` with the carrier's secret: headers "
        f"`{TIMESTAMP_HEADER}` (Unix seconds, at most 5 minutes off) and `{SIGNATURE_HEADER}: "
        "sha256=<hex>`. A repeated event id is acknowledged and ignored; an event for a stage "
        "already passed is recorded and changes nothing."
    ),
)
async def callback(
    request: Request,
    svc: Svc,
    carrier_id: Id,
    x_doorstep_timestamp: HeaderValue = None,
    x_doorstep_signature: HeaderValue = None,
) -> CallbackOut:
    # Read no more than the service accepts: one byte over is enough to refuse, and a
    # many-megabyte body is neither buffered nor journaled whole.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > carrier_callbacks.MAX_BODY_BYTES:
            break
    outcome = await anyio.to_thread.run_sync(
        carrier_callbacks.receive_callback,
        svc,
        carrier_id,
        x_doorstep_timestamp,
        x_doorstep_signature,
        bytes(body[: carrier_callbacks.MAX_BODY_BYTES + 1]),
    )
    return CallbackOut(outcome=outcome)


# Before the order's own path, which would take ``overtaken`` for an order number.
@router.get(
    "/ops/carrier-orders/overtaken",
    response_model=list[OvertakenCaseOut],
    tags=["ops"],
    summary="Orders whose pickup overtook our cancel and left returns for ops, longest "
    "waiting first; the total in X-Total-Count",
)
def overtaken_cancels(
    svc: Svc,
    _: OpsActor,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OvertakenCaseOut]:
    """The company's courier took the parcel before our cancel reached it, and the buyer
    withdrew, re-booked or self-sent some of its returns meanwhile."""
    found = cancel_overtaken.awaiting(svc, limit)
    response.headers["X-Total-Count"] = str(found.total)
    return [views.overtaken_case_out(case) for case in found.shown]


@router.get(
    "/ops/carrier-orders/{out_order_no}",
    response_model=CarrierOrderOut,
    tags=["ops"],
    summary="A pickup order at a courier company",
)
def get_carrier_order(svc: Svc, _: OpsActor, out_order_no: Id) -> CarrierOrderOut:
    po = carrier_orders.get_order(svc, out_order_no)
    if po is None:
        raise NotFound("carrier_order", out_order_no)
    return views.carrier_order_out(po)


@router.post(
    "/ops/carrier-orders/{out_order_no}/settle",
    response_model=CarrierOrderOut,
    tags=["ops"],
    summary="Ops have dealt with the returns an overtaking pickup left behind",
)
def settle_overtaken(svc: Svc, me: OpsActor, out_order_no: Id, body: SettleIn) -> CarrierOrderOut:
    """Once: a second settle is answered 409 ``ops_case_settled``."""
    return views.carrier_order_out(
        cancel_overtaken.settle(svc, me.actor_id, out_order_no, body.note)
    )


@router.get(
    "/ops/carrier-exchanges",
    response_model=list[CarrierExchangeOut],
    tags=["ops"],
    summary="Requests to and callbacks from courier companies, masked, newest first",
)
def carrier_exchanges(
    svc: Svc,
    _: OpsActor,
    carrier_id: Id | None = None,
    out_order_no: Id | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CarrierExchangeOut]:
    found = svc.exchanges.recent(carrier_id, out_order_no, limit)
    return [views.carrier_exchange_out(x) for x in found]


@router.get(
    "/appointments/{appointment_id}/carrier",
    response_model=CarrierOrderOut,
    tags=["pickup"],
    summary="For a visit served by a courier company: its courier (masked mobile) and times",
)
def visit_carrier(svc: Svc, me: BuyerActor, appointment_id: Id) -> CarrierOrderOut:
    return views.carrier_order_out(carrier_orders.visit_order(svc, appointment_id, me.actor_id))
