"""The outbox's SQL: fanning events out to deliveries, claiming due deliveries, recording.

PostgreSQL: several dispatchers claim with ``FOR UPDATE SKIP LOCKED`` and a lease column, so
a row is sent by one of them at a time and a dispatcher that dies only delays its rows until
the lease runs out. Fanning out takes a transaction-scoped advisory lock, so events become
deliveries in sequence order even with many dispatchers. SQLite has one writer at a time
(``BEGIN IMMEDIATE``), which serialises both steps already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, text, tuple_, update

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.codec import from_doc
from doorstep.domain.events import Event
from doorstep.domain.outbox import OPEN, Delivery, DeliveryStatus, StoredEvent
from doorstep.domain.pickup import Appointment
from doorstep.services.ports import Recorded, SentMessage

# Any constant works; it only has to be the same for every dispatcher of one database.
_FAN_OUT_LOCK = 0x0D0025_0001
_OPEN = [s.value for s in OPEN]


class OutboxRepo:
    """Implements ``services.ports.OutboxStore`` on one connection (one unit of work)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def take_unpublished(self, limit: int) -> list[StoredEvent] | None:
        if self.postgres:
            got = self.conn.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _FAN_OUT_LOCK}
            ).scalar_one()
            if not got:
                return None
        c = t.events.c
        rows = self.conn.execute(
            select(t.events).where(c.published_at.is_(None)).order_by(c.seq).limit(limit)
        )
        return [
            StoredEvent(
                r.seq, Event(r.name, r.aggregate_type, r.aggregate_id, r.occurred_at, r.data)
            )
            for r in rows
        ]

    def mark_published(self, seqs: Sequence[int], at: datetime) -> None:
        if seqs:
            self.conn.execute(
                update(t.events).where(t.events.c.seq.in_(list(seqs))).values(published_at=at)
            )

    def return_parties(self, return_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        ids = sorted(set(return_ids))
        if not ids:
            return {}
        r, o = t.returns.c, t.orders.c
        rows = self.conn.execute(
            select(r.return_id, r.buyer_id, o.shop_id)
            .join_from(t.returns, t.orders, r.order_id == o.order_id)
            .where(r.return_id.in_(ids))
        )
        return {rid: (buyer, shop) for rid, buyer, shop in rows}

    def appointment_parties(
        self, appointment_ids: Iterable[str]
    ) -> dict[str, tuple[str, list[str]]]:
        ids = sorted(set(appointment_ids))
        if not ids:
            return {}
        a = t.appointments.c
        rows = self.conn.execute(select(a.doc).where(a.appointment_id.in_(ids)))
        out = {}
        for (doc,) in rows:
            appt = from_doc(Appointment, doc)
            out[appt.appointment_id] = (appt.buyer_id, list(appt.return_ids))
        return out

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        rows = [
            {
                "event_seq": d.event_seq,
                "receiver": d.receiver,
                "order_key": d.order_key,
                "event_name": d.event_name,
                "status": d.status.value,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "lease_until": None,
                "lease_owner": None,
                "last_error": d.last_error,
                "created_at": d.created_at,
                "delivered_at": d.delivered_at,
                "payload": d.payload,
            }
            for d in deliveries
        ]
        if rows:
            self.conn.execute(insert(t.deliveries), rows)

    def claim_due(
        self, now: datetime, limit: int, owner: str, lease_until: datetime
    ) -> list[Delivery]:
        d = t.deliveries.alias("d")
        e = t.deliveries.alias("e")
        earlier_open = (
            select(e.c.event_seq)
            .where(
                e.c.receiver == d.c.receiver,
                e.c.order_key == d.c.order_key,
                e.c.event_seq < d.c.event_seq,
                e.c.status.in_(_OPEN),
            )
            .exists()
        )
        due = (
            select(d.c.event_seq, d.c.receiver)
            .where(
                d.c.status.in_(_OPEN),
                d.c.next_attempt_at <= now,
                or_(d.c.lease_until.is_(None), d.c.lease_until <= now),
                ~earlier_open,
            )
            .order_by(d.c.event_seq, d.c.receiver)
            .limit(limit)
            .with_for_update(skip_locked=True, of=d)
        )
        keys = [(seq, receiver) for seq, receiver in self.conn.execute(due)]
        if not keys:
            return []
        c = t.deliveries.c
        self.conn.execute(
            update(t.deliveries)
            .where(tuple_(c.event_seq, c.receiver).in_(keys))
            .values(lease_owner=owner, lease_until=lease_until)
        )
        rows = self.conn.execute(
            select(t.deliveries)
            .where(tuple_(c.event_seq, c.receiver).in_(keys))
            .order_by(c.event_seq, c.receiver)
        )
        return [_delivery(r) for r in rows]

    def record(self, owner: str, outcome: Recorded) -> bool:
        c = t.deliveries.c
        where = [
            c.event_seq == outcome.event_seq,
            c.receiver == outcome.receiver,
            c.status.in_(_OPEN),
        ]
        if outcome.status is not DeliveryStatus.DELIVERED:
            # A dispatcher whose lease ran out must not overwrite the one now holding it.
            where.append(c.lease_owner == owner)
        values: dict[str, Any] = {
            "status": outcome.status.value,
            "attempts": outcome.attempts,
            "last_error": outcome.last_error[:500],
            "lease_owner": None,
            "lease_until": None,
        }
        if outcome.next_attempt_at is not None:
            values["next_attempt_at"] = outcome.next_attempt_at
        if outcome.delivered_at is not None:
            values["delivered_at"] = outcome.delivered_at
        result = self.conn.execute(update(t.deliveries).where(and_(*where)).values(**values))
        return bool(result.rowcount)

    def redrive(self, event_seq: int, receiver: str, now: datetime) -> bool:
        c = t.deliveries.c
        result = self.conn.execute(
            update(t.deliveries)
            .where(
                c.event_seq == event_seq,
                c.receiver == receiver,
                c.status == DeliveryStatus.DEAD.value,
            )
            .values(
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                lease_owner=None,
                lease_until=None,
            )
        )
        return bool(result.rowcount)

    def get(self, event_seq: int, receiver: str) -> Delivery | None:
        c = t.deliveries.c
        row = self.conn.execute(
            select(t.deliveries).where(c.event_seq == event_seq, c.receiver == receiver)
        ).first()
        return None if row is None else _delivery(row)

    def listing(self, status: DeliveryStatus | None, limit: int, offset: int = 0) -> list[Delivery]:
        c = t.deliveries.c
        query = (
            select(t.deliveries)
            .order_by(c.event_seq.desc(), c.receiver)
            .limit(limit)
            .offset(offset)
        )
        if status is not None:
            query = query.where(c.status == status.value)
        return [_delivery(r) for r in self.conn.execute(query)]

    def counts(self) -> dict[str, int]:
        c = t.deliveries.c
        rows = self.conn.execute(select(c.status, func.count()).group_by(c.status))
        return {status: int(n) for status, n in rows}

    def sent_messages(self, limit: int, offset: int = 0) -> list[SentMessage]:
        c = t.sent_messages.c
        rows = self.conn.execute(
            select(t.sent_messages)
            .order_by(c.sent_at.desc(), c.message_id)
            .limit(limit)
            .offset(offset)
        )
        return [
            SentMessage(r.message_id, r.channel, r.recipient, r.subject, r.body, r.sent_at)
            for r in rows
        ]

    def sent_count(self) -> int:
        return int(
            self.conn.execute(select(func.count()).select_from(t.sent_messages)).scalar_one()
        )


def _delivery(r: Any) -> Delivery:
    return Delivery(
        event_seq=int(r.event_seq),
        receiver=r.receiver,
        order_key=r.order_key,
        status=DeliveryStatus(r.status),
        attempts=int(r.attempts),
        next_attempt_at=r.next_attempt_at,
        created_at=r.created_at,
        last_error=r.last_error,
        delivered_at=r.delivered_at,
        event_name=r.event_name,
        payload=dict(r.payload),
    )
