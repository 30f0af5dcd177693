"""Pickup orders at courier companies, the inbox of their events, and the exchange journal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.repositories import VersionedRepository
from doorstep.domain.carrier_order import OPEN, CarrierStatus, PickupOrder
from doorstep.services.ports import CarrierExchange

log = structlog.get_logger("doorstep.carriers")


class PickupOrderRepo(VersionedRepository[PickupOrder]):
    table, cls, key_name = t.pickup_orders, PickupOrder, "out_order_no"

    def _columns(self, item: PickupOrder) -> dict[str, Any]:
        return {
            "carrier_id": item.carrier_id,
            "appointment_id": item.appointment_id,
            "status": item.status.value,
            "next_send_at": item.next_send_at if item.pending_op is not None else None,
            "last_heard_at": item.last_heard_at or item.created_at,
            "waybill_no": item.waybill_no,
            "cancel_refused": item.cancel_refused,
            "awaits_ops_since": item.needs_ops_at if item.awaits_ops else None,
        }

    def for_appointments(self, appointment_ids: Sequence[str]) -> list[PickupOrder]:
        wanted = list(dict.fromkeys(appointment_ids))
        if not wanted:
            return []
        return self._query(t.pickup_orders.c.appointment_id.in_(wanted))

    def due_to_send(self, now: datetime, limit: int) -> list[str]:
        c = t.pickup_orders.c
        rows = self.conn.execute(
            select(c.out_order_no)
            .where(c.next_send_at.is_not(None), c.next_send_at <= now)
            .order_by(c.next_send_at)
            .limit(limit)
        )
        return [r.out_order_no for r in rows]

    def quiet(self, heard_before: datetime, limit: int) -> list[str]:
        c = t.pickup_orders.c
        rows = self.conn.execute(
            select(c.out_order_no)
            .where(
                or_(
                    c.status.in_([s.value for s in OPEN]),
                    # A cancel the company refused: its order there is still live.
                    and_(c.status == CarrierStatus.CANCELLED.value, c.cancel_refused),
                ),
                c.last_heard_at < heard_before,
            )
            .order_by(c.last_heard_at)
            .limit(limit)
        )
        return [r.out_order_no for r in rows]

    def awaiting_ops(self, limit: int) -> list[PickupOrder]:
        c = t.pickup_orders.c
        return self._query(
            c.awaits_ops_since.is_not(None),
            order=(c.awaits_ops_since, c.out_order_no),
            limit=limit,
        )

    def count_awaiting_ops(self) -> int:
        c = t.pickup_orders.c
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(t.pickup_orders)
                .where(c.awaits_ops_since.is_not(None))
            ).scalar_one()
        )


class CarrierInboxRepo:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: of parallel duplicates exactly one inserts."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def take(
        self, carrier_id: str, event_id: str, out_order_no: str, kind: str, at: datetime
    ) -> bool:
        maker = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        result = self.conn.execute(
            maker(t.carrier_inbox)
            .values(
                carrier_id=carrier_id,
                event_id=event_id,
                out_order_no=out_order_no,
                kind=kind,
                received_at=at,
            )
            .on_conflict_do_nothing()
            # RETURNING, not rowcount: psycopg reports no count for a skipped conflict.
            .returning(t.carrier_inbox.c.event_id)
        )
        return result.first() is not None


class SqlExchangeJournal:
    """Writes each exchange in a short transaction of its own: support records must survive
    the business transaction rolling back, and must never hold its locks."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, exchange: CarrierExchange) -> None:
        try:
            self._insert(exchange)
        except SQLAlchemyError:
            # A support record must never fail the exchange it describes (a callback already
            # applied would be answered 500 and sent again).
            log.warning(
                "carrier_exchange_not_recorded",
                carrier_id=exchange.carrier_id,
                operation=exchange.operation,
                out_order_no=exchange.out_order_no,
            )

    def _insert(self, exchange: CarrierExchange) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.carrier_exchanges).values(
                    carrier_id=exchange.carrier_id,
                    out_order_no=exchange.out_order_no,
                    operation=exchange.operation,
                    direction=exchange.direction,
                    status_code=exchange.status_code,
                    outcome=exchange.outcome,
                    duration_ms=exchange.duration_ms,
                    at=exchange.at,
                    request=exchange.request,
                    response=exchange.response,
                )
            )

    def recent(
        self, carrier_id: str | None = None, out_order_no: str | None = None, limit: int = 50
    ) -> list[CarrierExchange]:
        c = t.carrier_exchanges.c
        stmt = select(t.carrier_exchanges).order_by(c.seq.desc()).limit(limit)
        if carrier_id is not None:
            stmt = stmt.where(c.carrier_id == carrier_id)
        if out_order_no is not None:
            stmt = stmt.where(c.out_order_no == out_order_no)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            CarrierExchange(
                r.carrier_id,
                r.out_order_no,
                r.operation,
                r.direction,
                r.status_code,
                r.outcome,
                r.duration_ms,
                r.at,
                r.request,
                r.response,
            )
            for r in rows
        ]
