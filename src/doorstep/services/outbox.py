"""The outbox dispatcher: stored events out to buyers (text, e-mail) and merchants (webhooks).

Events are stored in the same transaction as the change they describe (the unit of work);
nothing is sent from inside that transaction. This module runs afterwards, on a timer:

1. *Fan out*: events not yet published become one delivery per receiver, with the text or
   body fixed then, and are marked published, in one transaction. One dispatcher at a time
   fans out (the store's lock), so deliveries are created in event order.
2. *Send*: due deliveries are claimed with a lease (several dispatchers never send the same
   row at once), sent outside any transaction, and each outcome is stored right after its
   send: delivered, or tried again later with exponential backoff, or dead-lettered after
   the last try. A dispatcher killed mid-batch leaves leased rows that are sent again once
   the lease runs out: delivery is at least once, receivers de-duplicate by ``event_id``.
3. *Order*: only the first open delivery per receiver and buyer is ever claimed, so a later
   event of a return is not sent while an earlier one to the same receiver is pending or
   retrying. Ordering by buyer rather than by return because an appointment's events belong
   to several returns of one buyer; every return's own order is kept within it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.events import Event
from doorstep.domain.order import Buyer
from doorstep.domain.outbox import (
    EMAIL,
    MERCHANT_PREFIX,
    SMS,
    Delivery,
    DeliveryStatus,
    StoredEvent,
    event_id,
    event_seq,
    merchant,
)
from doorstep.services.context import Services
from doorstep.services.notifications import notice_for, render
from doorstep.services.ports import (
    KeyedRepository,
    OutboxStore,
    Recorded,
    SendResult,
    SentMessage,
)

DEFAULT_BATCH = 100


def dispatch_pending(svc: Services, now: datetime, limit: int = DEFAULT_BATCH) -> int:
    """Fan out new events, then send up to ``limit`` due deliveries; how many succeeded."""
    fan_out(svc, now, limit)
    owner = svc.ids.new("dispatch")
    delivered = tried = 0
    while tried < limit:
        with svc.uow() as uow:
            batch = uow.outbox.claim_due(now, limit - tried, owner, now + svc.outbox.lease)
            uow.commit()
        if not batch:
            break
        # Sent one after another, outcomes stored together: one commit per batch, not per
        # send (bench/outbox_dispatch.py). A crash in between re-sends the batch (at least
        # once), and nothing behind these rows is claimable before they are recorded.
        sent = [(d, _send(svc, d, now)) for d in batch]
        delivered += _store_outcomes(svc, owner, sent, now)
        tried += len(batch)
    return delivered


def fan_out(svc: Services, now: datetime, limit: int = DEFAULT_BATCH) -> int:
    """Turn up to ``limit`` unpublished events into deliveries; how many events were taken."""
    with svc.uow() as uow:
        events = uow.outbox.take_unpublished(limit)
        if not events:
            return 0
        deliveries = _deliveries(svc, uow.outbox, events, uow.buyers, now)
        uow.outbox.add_deliveries(deliveries)
        uow.outbox.mark_published([e.seq for e in events], now)
        uow.commit()
    return len(events)


def redrive(svc: Services, public_event_id: str, receiver: str, by: str) -> Delivery:
    """Send a dead-lettered delivery again from its first try (ops, console or API)."""
    seq = event_seq(public_event_id)
    if seq is None:
        raise NotFound("delivery", f"{public_event_id} {receiver}")
    now = svc.clock.now()
    with svc.uow() as uow:
        if not uow.outbox.redrive(seq, receiver, now):
            current = uow.outbox.get(seq, receiver)
            if current is None:
                raise NotFound("delivery", f"{public_event_id} {receiver}")
            raise Conflict(
                "delivery_not_dead",
                "Only a dead-lettered delivery can be sent again.",
                "只有已进入死信队列的投递可以重新发送。",
                status=current.status.value,
            )
        uow.events.append(
            [
                Event(
                    "outbox.redriven",
                    "outbox",
                    public_event_id,
                    now,
                    {"receiver": receiver, "by": by},
                )
            ]
        )
        again = uow.outbox.get(seq, receiver)
        uow.commit()
    assert again is not None
    return again


def deliveries(
    svc: Services, status: DeliveryStatus | None, limit: int, offset: int = 0
) -> list[Delivery]:
    """The newest deliveries, of one status or all, newest first, ``limit`` from ``offset``."""
    with svc.uow() as uow:
        return uow.outbox.listing(status, limit, offset)


def delivery_counts(svc: Services) -> dict[str, int]:
    """Deliveries per status, every status named (zero when none)."""
    with svc.uow() as uow:
        found = uow.outbox.counts()
    return {s.value: found.get(s.value, 0) for s in DeliveryStatus}


def sent_messages(svc: Services, limit: int, offset: int = 0) -> list[SentMessage]:
    """What the development sink sent, newest first, ``limit`` from ``offset``."""
    with svc.uow() as uow:
        return uow.outbox.sent_messages(limit, offset)


def sent_message_count(svc: Services) -> int:
    """How many messages the development sink kept (to page them)."""
    with svc.uow() as uow:
        return uow.outbox.sent_count()


# --- fan-out ------------------------------------------------------------------------------


def _deliveries(
    svc: Services,
    store: OutboxStore,
    events: list[StoredEvent],
    buyer_repo: KeyedRepository[str, Buyer],
    now: datetime,
) -> list[Delivery]:
    appointment_ids = [
        e.event.aggregate_id for e in events if e.event.aggregate_type == "appointment"
    ]
    appointments = store.appointment_parties(appointment_ids)
    returns_of = {e.seq: _returns_of(e.event, appointments) for e in events}
    parties = store.return_parties(r for rs in returns_of.values() for r in rs)
    buyer_of: dict[int, str] = {}
    for e in events:
        appt = (
            appointments.get(e.event.aggregate_id)
            if e.event.aggregate_type == "appointment"
            else None
        )
        owners = [parties[r][0] for r in returns_of[e.seq] if r in parties]
        owner = appt[0] if appt else (owners[0] if owners else None)
        if owner is not None:
            buyer_of[e.seq] = owner
    buyers: dict[str, Buyer] = {b.buyer_id: b for b in buyer_repo.get_many(set(buyer_of.values()))}
    out: list[Delivery] = []
    for e in events:
        buyer_id = buyer_of.get(e.seq)
        if buyer_id is None:
            continue  # not about a return (routes, disruptions, the outbox itself)
        shops: dict[str, list[str]] = {}
        for r in returns_of[e.seq]:
            if r in parties:
                shops.setdefault(parties[r][1], []).append(r)
        for shop, rids in sorted(shops.items()):
            if shop in svc.outbox.endpoints and svc.webhooks is not None:
                out.append(_new(e, merchant(shop), buyer_id, _webhook_body(e, rids), now))
        person = buyers.get(buyer_id)
        notice = notice_for(e.event)
        # An erased buyer (services/retention.py) has no phone or e-mail left to write to.
        if notice is None or person is None or person.erased_at or svc.messenger is None:
            continue
        text = render(notice, person.lang, svc.texts)
        if person.phone:
            out.append(_new(e, SMS, buyer_id, {"to": person.phone, **text}, now))
        if person.email:
            out.append(_new(e, EMAIL, buyer_id, {"to": person.email, **text}, now))
    return out


def _returns_of(event: Event, appointments: dict[str, tuple[str, list[str]]]) -> list[str]:
    if event.aggregate_type == "return_request":
        return [event.aggregate_id]
    if event.aggregate_type == "appointment":
        found = appointments.get(event.aggregate_id)
        return list(found[1]) if found else []
    # Refunds, claims, disputes, parcels: the events of every aggregate that belongs to one
    # return name it, so merchants hear of them without this list growing per area.
    rid = event.data.get("return_id")
    return [rid] if isinstance(rid, str) and rid else []


def _new(
    e: StoredEvent, receiver: str, order_key: str, payload: dict[str, Any], now: datetime
) -> Delivery:
    return Delivery(
        event_seq=e.seq,
        receiver=receiver,
        order_key=order_key,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        event_name=e.event.name,
        payload=payload,
    )


def _webhook_body(e: StoredEvent, return_ids: list[str]) -> dict[str, Any]:
    # An appointment may carry returns of other shops: a merchant hears only of its own.
    data = {k: v for k, v in e.event.data.items() if k != "returns"}
    return {
        "event_id": e.public_id,
        "type": e.event.name,
        "occurred_at": e.event.occurred_at.isoformat(),
        "aggregate": {"type": e.event.aggregate_type, "id": e.event.aggregate_id},
        "return_ids": sorted(return_ids),
        "data": data,
    }


def webhook_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes posted and signed: stable key order, UTF-8, no spaces."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- sending ------------------------------------------------------------------------------


def _send(svc: Services, d: Delivery, now: datetime) -> SendResult:
    public_id = event_id(d.event_seq)
    try:
        if d.receiver in (SMS, EMAIL):
            if svc.messenger is None:
                return SendResult(False, "no text or e-mail gateway is wired")
            message_id = f"{public_id}:{d.receiver.removeprefix('buyer:')}"
            if d.receiver == SMS:
                return svc.messenger.send_sms(message_id, d.payload["to"], d.payload["text"])
            return svc.messenger.send_email(
                message_id, d.payload["to"], d.payload["subject"], d.payload["text"]
            )
        shop = d.receiver.removeprefix(MERCHANT_PREFIX)
        endpoint = svc.outbox.endpoints.get(shop)
        if endpoint is None or svc.webhooks is None:
            return SendResult(False, "no webhook endpoint is configured for this merchant")
        return svc.webhooks.post(
            endpoint.url, endpoint.secret, public_id, webhook_bytes(d.payload), now
        )
    except Exception as exc:  # one receiver's fault must not stop the others
        return SendResult(False, f"{type(exc).__name__}: {exc}"[:500])


def _store_outcomes(
    svc: Services, owner: str, sent: list[tuple[Delivery, SendResult]], now: datetime
) -> int:
    with svc.uow() as uow:
        for d, result in sent:
            outcome = _outcome(svc, d, result, now)
            changed = uow.outbox.record(owner, outcome)
            if changed and outcome.status is DeliveryStatus.DEAD:
                uow.events.append(
                    [
                        Event(
                            "outbox.dead_lettered",
                            "outbox",
                            event_id(d.event_seq),
                            now,
                            {
                                "receiver": d.receiver,
                                "attempts": outcome.attempts,
                                "error": result.detail,
                            },
                        )
                    ]
                )
        uow.commit()
    return sum(1 for _, result in sent if result.ok)


def _outcome(svc: Services, d: Delivery, result: SendResult, now: datetime) -> Recorded:
    attempts = d.attempts + 1
    if result.ok:
        return Recorded(
            d.event_seq, d.receiver, DeliveryStatus.DELIVERED, attempts, delivered_at=now
        )
    again = svc.outbox.retry.after_failure(attempts, now)
    status = DeliveryStatus.DEAD if again is None else DeliveryStatus.RETRYING
    return Recorded(d.event_seq, d.receiver, status, attempts, again, last_error=result.detail)
