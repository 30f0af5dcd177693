"""The outbox over HTTP: ops see deliveries (webhooks, texts, e-mails), re-drive dead letters
and read what the development sink kept; a buyer sets the language and e-mail address their
notifications use."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from doorstep.domain.outbox import Delivery, DeliveryStatus, event_id
from doorstep.entrypoints.api.deps import BuyerActor, OpsActor, Svc
from doorstep.entrypoints.api.schemas import In, Out
from doorstep.services import outbox, preferences

router = APIRouter()

# Bounded like every other code: ASCII only, short.
EventId = Annotated[str, StringConstraints(pattern=r"^evt_[0-9]{1,18}$")]
Receiver = Annotated[
    str, StringConstraints(pattern=r"^(buyer:sms|buyer:email|merchant:[A-Za-z0-9_.:-]{1,64})$")
]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="How many of the newest to skip")]


class DeliveryOut(Out):
    """One receiver's copy of one event and where its delivery stands."""

    event_id: str
    event_name: str
    receiver: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str


class RedriveIn(In):
    event_id: EventId
    receiver: Receiver


class SentMessageOut(Out):
    """A text or e-mail as the development sink kept it."""

    message_id: str
    channel: str
    recipient: str
    subject: str
    body: str
    sent_at: datetime


def delivery_out(d: Delivery) -> DeliveryOut:
    """The API view of a delivery (its payload stays inside: it may hold a phone number)."""
    return DeliveryOut(
        event_id=event_id(d.event_seq),
        event_name=d.event_name,
        receiver=d.receiver,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
        last_error=d.last_error,
    )


@router.get(
    "/ops/deliveries",
    tags=["ops"],
    response_model=list[DeliveryOut],
    summary="Outbox deliveries, newest first (status=dead for the dead letters)",
)
def list_deliveries(
    svc: Svc,
    _: OpsActor,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[DeliveryOut]:
    return [delivery_out(d) for d in outbox.deliveries(svc, status, limit, offset)]


@router.post(
    "/ops/deliveries/redrive",
    tags=["ops"],
    response_model=DeliveryOut,
    summary="Send a dead-lettered delivery again from its first try",
)
def redrive_delivery(svc: Svc, me: OpsActor, body: RedriveIn) -> DeliveryOut:
    return delivery_out(outbox.redrive(svc, body.event_id, body.receiver, me.actor_id))


@router.get(
    "/ops/messages",
    tags=["ops"],
    response_model=list[SentMessageOut],
    summary="Texts and e-mails the development sink kept, newest first",
)
def list_messages(
    svc: Svc, _: OpsActor, limit: Limit = 50, offset: Offset = 0
) -> list[SentMessageOut]:
    return [SentMessageOut.model_validate(m) for m in outbox.sent_messages(svc, limit, offset)]


class NotificationsIn(In):
    lang: Literal["zh_CN", "en"]
    email: Annotated[str, StringConstraints(max_length=255)] = ""


class NotificationsOut(Out):
    lang: str
    email: str


@router.put(
    "/me/notifications",
    response_model=NotificationsOut,
    tags=["buyer"],
    summary="The language of my texts and e-mails, and my e-mail address (empty: none)",
)
def set_notifications(svc: Svc, me: BuyerActor, body: NotificationsIn) -> NotificationsOut:
    buyer = preferences.set_preferences(svc, me.actor_id, body.lang, body.email)
    return NotificationsOut(lang=buyer.lang, email=buyer.email)
