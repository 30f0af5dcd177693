"""Repositories over one SQLAlchemy connection; the unit of work owns the transaction."""

from __future__ import annotations

import builtins
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.codec import from_doc, to_doc
from doorstep.domain.clock import local
from doorstep.domain.disruption import Disruption
from doorstep.domain.errors import Conflict, StaleWrite
from doorstep.domain.events import Event, EventRecorder
from doorstep.domain.figures import Tally, tallies
from doorstep.domain.fleet import Carrier
from doorstep.domain.order import Order
from doorstep.domain.pickup import ACTIVE, Appointment, SlotRef
from doorstep.domain.policy import Policy
from doorstep.domain.refund import Refund, RefundStatus
from doorstep.domain.refund_lead_time import WaitCount
from doorstep.domain.refund_timing import owed
from doorstep.domain.returns import ReturnRequest
from doorstep.services.ports import CounterKey, SlotLoad, StoredPhoto, StoredUser

V = TypeVar("V")


class Tracker:
    """Aggregates loaded or added in this unit of work, so their events get stored."""

    def __init__(self) -> None:
        self.seen: list[EventRecorder] = []

    def track(self, item: Any) -> None:
        if isinstance(item, EventRecorder) and all(item is not s for s in self.seen):
            self.seen.append(item)


class DocRepository(Generic[V]):
    """Key → JSON document; upsert by key."""

    def __init__(
        self,
        conn: Connection,
        table: Table,
        cls: type[V],
        key: Callable[[V], str],
        columns: Callable[[V], dict[str, Any]] = lambda _: {},
    ) -> None:
        self.conn, self.table, self.cls, self.key, self.columns = conn, table, cls, key, columns
        self.pk = next(iter(table.primary_key.columns))

    def get(self, key: str) -> V | None:
        row = self.conn.execute(select(self.table.c.doc).where(self.pk == key)).first()
        return from_doc(self.cls, row.doc) if row else None

    def get_for_update(self, key: str) -> V | None:
        """The document, its row locked until commit (FOR UPDATE on PostgreSQL; SQLite's
        BEGIN IMMEDIATE already serialises writers)."""
        stmt = select(self.table.c.doc).where(self.pk == key).with_for_update()
        row = self.conn.execute(stmt).first()
        return from_doc(self.cls, row.doc) if row else None

    def get_many_for_update(self, keys: Iterable[str]) -> builtins.list[V]:
        """The documents of ``keys``, locked in key order (PostgreSQL locks the rows as the
        sort returns them), in one query."""
        wanted = sorted(set(keys))
        if not wanted:
            return []
        stmt = (
            select(self.table.c.doc).where(self.pk.in_(wanted)).order_by(self.pk).with_for_update()
        )
        return [from_doc(self.cls, r.doc) for r in self.conn.execute(stmt)]

    def get_for_share(self, key: str) -> V | None:
        """The document, its row kept from change until commit (FOR SHARE on PostgreSQL)."""
        stmt = select(self.table.c.doc).where(self.pk == key).with_for_update(read=True)
        row = self.conn.execute(stmt).first()
        return from_doc(self.cls, row.doc) if row else None

    def get_many_for_share(self, keys: Iterable[str]) -> builtins.list[V]:
        """The documents of ``keys`` that exist, each kept from change until commit, in key
        order and one query (as ``get_many_for_update`` locks them)."""
        wanted = sorted(set(keys))
        if not wanted:
            return []
        stmt = (
            select(self.table.c.doc)
            .where(self.pk.in_(wanted))
            .order_by(self.pk)
            .with_for_update(read=True)
        )
        return [from_doc(self.cls, r.doc) for r in self.conn.execute(stmt)]

    def put(self, item: V) -> None:
        values = {self.pk.name: self.key(item), "doc": to_doc(item), **self.columns(item)}
        stmt = _upsert(self.conn, self.table, values, [self.pk.name])
        self.conn.execute(stmt)

    def remove(self, key: str) -> None:
        self.conn.execute(delete(self.table).where(self.pk == key))

    def list(self) -> builtins.list[V]:
        rows = self.conn.execute(select(self.table.c.doc).order_by(self.pk)).all()
        return [from_doc(self.cls, r.doc) for r in rows]

    def get_many(self, keys: Iterable[str]) -> builtins.list[V]:
        """The documents of ``keys`` that exist, in one query (missing keys are left out)."""
        wanted = builtins.list(dict.fromkeys(keys))
        return self.where(self.pk.in_(wanted)) if wanted else []

    def where(self, *conditions: Any) -> builtins.list[V]:
        rows = self.conn.execute(select(self.table.c.doc).where(*conditions).order_by(self.pk))
        return [from_doc(self.cls, r.doc) for r in rows]


def _upsert(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> Any:
    dialect = conn.dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = maker(table).values(**values)
    changes = {k: v for k, v in values.items() if k not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=changes)


class CarrierRepo(DocRepository[Carrier]):
    """Courier companies. A plain ``get`` reads the row once per unit of work: a company
    booking reads its carrier for the slot template and again for the value its pickup
    order may declare (``Carrier.max_insured_fen``), and the second read cost a statement.
    Locking reads always go to the database and are remembered; writes forget."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn, t.carriers, Carrier, lambda c: c.carrier_id)
        self._read: dict[str, Carrier | None] = {}

    def get(self, key: str) -> Carrier | None:
        if key not in self._read:
            self._read[key] = super().get(key)
        return self._read[key]

    def get_for_update(self, key: str) -> Carrier | None:
        self._read[key] = super().get_for_update(key)
        return self._read[key]

    def get_for_share(self, key: str) -> Carrier | None:
        self._read[key] = super().get_for_share(key)
        return self._read[key]

    def get_many_for_update(self, keys: Iterable[str]) -> builtins.list[Carrier]:
        wanted = list(keys)
        return self._remember(wanted, super().get_many_for_update(wanted))

    def get_many_for_share(self, keys: Iterable[str]) -> builtins.list[Carrier]:
        wanted = list(keys)
        return self._remember(wanted, super().get_many_for_share(wanted))

    def _remember(
        self, keys: Iterable[str], found: builtins.list[Carrier]
    ) -> builtins.list[Carrier]:
        # A locking read is the newest: a plain ``get`` after it answers what it read.
        for key in keys:
            self._read[key] = None
        self._read.update((c.carrier_id, c) for c in found)
        return found

    def put(self, item: Carrier) -> None:
        self._read.pop(self.key(item), None)
        super().put(item)

    def remove(self, key: str) -> None:
        self._read.pop(key, None)
        super().remove(key)


class OrderRepo(DocRepository[Order]):
    def __init__(self, conn: Connection) -> None:
        super().__init__(
            conn,
            t.orders,
            Order,
            lambda o: o.order_id,
            lambda o: {
                "buyer_id": o.buyer_id,
                "shop_id": o.shop_id,
                "signed_at": o.signed_at,
                "adcode": o.shipping_address.adcode,
            },
        )

    def for_buyer(self, buyer_id: str) -> list[Order]:
        return self.where(t.orders.c.buyer_id == buyer_id)

    def get_for_update(self, order_id: str) -> Order | None:
        # FOR UPDATE on PostgreSQL; SQLite leaves it out, its BEGIN IMMEDIATE already serialises.
        row = self.conn.execute(
            select(t.orders.c.doc).where(t.orders.c.order_id == order_id).with_for_update()
        ).first()
        return from_doc(Order, row.doc) if row else None


class VersionedRepository(Generic[V]):
    """Aggregates with optimistic concurrency: a save against a stale version is refused."""

    table: Table
    cls: type[Any]
    key_name: str

    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self.conn, self.tracker = conn, tracker

    def _columns(self, item: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _load(self, rows: Iterable[Any]) -> list[Any]:
        out = []
        for row in rows:
            item = from_doc(self.cls, row.doc)
            item.version = row.version
            self.tracker.track(item)
            out.append(item)
        return out

    def get(self, key: str) -> Any:
        return self._get(key, lock=False)

    def get_for_update(self, key: str) -> Any:
        return self._get(key, lock=True)

    def get_many(self, keys: Iterable[str]) -> list[Any]:
        """The aggregates of ``keys`` that exist, in one query (missing keys are left out)."""
        wanted = list(dict.fromkeys(keys))
        return self._query(self.table.c[self.key_name].in_(wanted)) if wanted else []

    def get_many_for_update(self, keys: Iterable[str]) -> list[Any]:
        """The aggregates of ``keys`` that exist, locked in key order (PostgreSQL locks the
        rows as the sort returns them) in one query, so two callers never deadlock."""
        wanted = sorted(set(keys))
        if not wanted:
            return []
        column = self.table.c[self.key_name]
        stmt = (
            select(self.table.c.doc, self.table.c.version)
            .where(column.in_(wanted))
            .order_by(column)
            .with_for_update()
        )
        return self._load(self.conn.execute(stmt))

    def _get(self, key: str, *, lock: bool) -> Any:
        stmt = select(self.table.c.doc, self.table.c.version).where(
            self.table.c[self.key_name] == key
        )
        found = self._load(self.conn.execute(stmt.with_for_update() if lock else stmt))
        return found[0] if found else None

    def _query(
        self, *conditions: Any, order: Any = None, limit: int | None = None, offset: int = 0
    ) -> list[Any]:
        stmt = select(self.table.c.doc, self.table.c.version).where(*conditions)
        order = order if order is not None else self.table.c[self.key_name]
        stmt = stmt.order_by(*order) if isinstance(order, tuple) else stmt.order_by(order)
        if limit:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        return self._load(self.conn.execute(stmt))

    def add(self, item: Any) -> None:
        item.version = 1
        self.conn.execute(
            insert(self.table).values(
                **{self.key_name: getattr(item, self.key_name)},
                doc=to_doc(item),
                version=1,
                **self._columns(item),
            )
        )
        self.tracker.track(item)

    def save(self, item: Any) -> None:
        result = self.conn.execute(
            update(self.table)
            .where(
                self.table.c[self.key_name] == getattr(item, self.key_name),
                self.table.c.version == item.version,
            )
            .values(doc=to_doc(item), version=item.version + 1, **self._columns(item))
        )
        if result.rowcount != 1:
            raise StaleWrite()
        item.version += 1
        self.tracker.track(item)


class ReturnRepo(VersionedRepository[ReturnRequest]):
    table, cls, key_name = t.returns, ReturnRequest, "return_id"

    def _columns(self, item: ReturnRequest) -> dict[str, Any]:
        cols = {
            "status": item.status.value,
            "updated_at": datetime.now(UTC),
            "waybill_no": item.waybill_no,
            "dropoff_code": item.dropoff.code if item.dropoff else None,
            "refund_owed_since": item.received_at if owed(item) else None,
            "express_owed_since": item.express_owed_since,
            "appointment_id": item.appointment_id,
        }
        if item.version == 1:
            cols |= {
                "buyer_id": item.buyer_id,
                "order_id": item.order_id,
                "created_at": item.created_at,
            }
        return cols

    def save(self, item: ReturnRequest) -> None:
        try:
            super().save(item)
        except IntegrityError as clash:
            # Two returns drew one drop-off code at the same moment (the draw checks, the
            # unique index decides): the loser asks again and draws another.
            if "dropoff_code" not in str(clash.orig):
                raise
            raise Conflict(
                "dropoff_code_unavailable",
                "No free drop-off code could be drawn; please try again.",
                "暂时无法生成寄件码，请稍后重试。",
            ) from clash

    def for_buyer(self, buyer_id: str) -> list[ReturnRequest]:
        return self._query(t.returns.c.buyer_id == buyer_id, order=t.returns.c.created_at.desc())

    def for_order(self, order_id: str) -> list[ReturnRequest]:
        return self._query(t.returns.c.order_id == order_id)

    def owed_before(
        self, cutoff: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[ReturnRequest]:
        c = t.returns.c
        conditions = [c.refund_owed_since < cutoff, self._not_paid()]
        if after is not None:
            since, return_id = after
            conditions.append(
                or_(
                    c.refund_owed_since > since,
                    and_(c.refund_owed_since == since, c.return_id > return_id),
                )
            )
        stmt = (
            select(c.doc, c.version)
            .where(*conditions)
            .order_by(c.refund_owed_since, c.return_id)
            .limit(limit)
        )
        return self._load(self.conn.execute(stmt))

    def express_owed(self, limit: int) -> list[str]:
        c = t.returns.c
        stmt = (
            select(c.return_id)
            .where(c.express_owed_since.is_not(None))
            .order_by(c.express_owed_since, c.return_id)
            .limit(limit)
        )
        return list(self.conn.execute(stmt).scalars())

    def count_owed_before(self, cutoff: datetime) -> int:
        c = t.returns.c
        stmt = (
            select(func.count())
            .select_from(t.returns)
            .where(c.refund_owed_since < cutoff, self._not_paid())
        )
        return int(self.conn.execute(stmt).scalar_one())

    @staticmethod
    def _not_paid() -> Any:
        """No refund of the return succeeded: an express refund paid at the door leaves the
        return received (owed by status) with its money already back."""
        f = t.refunds.c
        return ~(
            select(f.refund_id)
            .where(f.return_id == t.returns.c.return_id, f.status == "succeeded")
            .exists()
        )

    def with_status(self, status: str, limit: int = 100) -> list[ReturnRequest]:
        return self._query(t.returns.c.status == status, order=t.returns.c.created_at, limit=limit)

    def status_counts(self) -> dict[str, int]:
        c = t.returns.c
        rows = self.conn.execute(select(c.status, func.count()).group_by(c.status))
        return {status: int(n) for status, n in rows}

    def status_counts_for_buyers(self, buyer_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        wanted = sorted(set(buyer_ids))
        out: dict[str, dict[str, int]] = {b: {} for b in wanted}
        if not wanted:
            return out
        rows = self.conn.execute(
            select(t.returns.c.buyer_id, t.returns.c.status, func.count())
            .where(t.returns.c.buyer_id.in_(wanted))
            .group_by(t.returns.c.buyer_id, t.returns.c.status)
        )
        for buyer_id, status, n in rows:
            out[buyer_id][status] = int(n)
        return out

    def by_waybill(self, waybill_no: str) -> list[ReturnRequest]:
        return self._query(t.returns.c.waybill_no == waybill_no)

    def by_dropoff_code(self, code: str, *, lock: bool = False) -> ReturnRequest | None:
        stmt = select(t.returns.c.doc, t.returns.c.version).where(t.returns.c.dropoff_code == code)
        found = self._load(self.conn.execute(stmt.with_for_update() if lock else stmt))
        return found[0] if found else None


class AppointmentRepo(VersionedRepository[Appointment]):
    table, cls, key_name = t.appointments, Appointment, "appointment_id"

    def _columns(self, item: Appointment) -> dict[str, Any]:
        return {
            "buyer_id": item.buyer_id,
            "courier_id": item.courier_id,
            "adcode": item.slot.adcode,
            "carrier_id": item.slot.carrier_id,
            "day": item.slot.day,
            "status": item.status.value,
            "review_status": item.review.status.value if item.review else None,
            "review_due_at": item.review.due_at if item.review else None,
        }

    def reviews_due(self, now: datetime, limit: int) -> list[Appointment]:
        """Contactless pickups whose buyer said nothing before the limit, oldest first."""
        c = self.table.c
        return self._query(
            c.review_status == "pending", c.review_due_at <= now, order=c.review_due_at, limit=limit
        )

    def disputed_reviews(self, limit: int) -> list[Appointment]:
        """Disputed contactless pickups waiting for ops, oldest first."""
        c = self.table.c
        return self._query(c.review_status == "disputed", order=c.review_due_at, limit=limit)

    def active_for_buyer(
        self, buyer_id: str, adcode: str | None = None, from_day: date | None = None
    ) -> list[Appointment]:
        """Open visits of a buyer, optionally only in one area from a day on."""
        c = t.appointments.c
        where = [c.buyer_id == buyer_id, c.status.in_([s.value for s in ACTIVE])]
        if adcode is not None:
            where.append(c.adcode == adcode)
        if from_day is not None:
            where.append(c.day >= from_day)
        return self._query(*where)

    def for_courier(self, courier_id: str, day: date) -> list[Appointment]:
        return self._query(t.appointments.c.courier_id == courier_id, t.appointments.c.day == day)

    def open_for_courier(self, courier_id: str) -> list[Appointment]:
        c = t.appointments.c
        return self._query(c.courier_id == courier_id, c.status.in_([s.value for s in ACTIVE]))

    def for_area_day(self, adcode: str, day: date) -> list[Appointment]:
        return self._query(t.appointments.c.adcode == adcode, t.appointments.c.day == day)

    def for_carrier_day(self, carrier_id: str, day: date) -> list[Appointment]:
        c = t.appointments.c
        return self._query(c.carrier_id == carrier_id, c.day == day)

    def busy_carrier_days(self, days: Sequence[date]) -> set[tuple[str, date]]:
        """(carrier, day) pairs among ``days`` with at least one open visit."""
        c = t.appointments.c
        rows = self.conn.execute(
            select(c.carrier_id, c.day)
            .where(c.day.in_(list(days)), c.status.in_([s.value for s in ACTIVE]))
            .distinct()
        )
        return {(r.carrier_id, r.day) for r in rows}

    def astray_carrier_days(
        self, days: Sequence[date], now: datetime | None = None
    ) -> dict[tuple[str, date], bool]:
        """(carrier, day) pairs among ``days`` with at least one open visit, each with
        whether one of them is off every route: in the pool (no courier: its courier left,
        or nobody could take it) or marked unserved by a plan. With ``now``, a visit of
        ``now``'s day whose window has closed is not counted: no plan can keep it any more.
        One grouped query."""
        c = t.appointments.c
        company = func.coalesce(c.doc["served_by_company"].as_boolean(), false())
        astray = and_(
            or_(c.courier_id.is_(None), c.doc["unserved_reason"].as_string().is_not(None)),
            ~company,  # the company plans its own couriers' day
        )
        if now is not None:
            here = local(now)
            # Stored as ISO "HH:MM:SS", which orders as text the way the times do.
            ends = c.doc[("slot", "window", "end")].as_string()
            astray = and_(astray, or_(c.day != here.date(), ends > here.time().isoformat()))
        rows = self.conn.execute(
            select(c.carrier_id, c.day, func.max(case((astray, 1), else_=0)).label("astray"))
            .where(c.day.in_(list(days)), c.status.in_([s.value for s in ACTIVE]))
            .group_by(c.carrier_id, c.day)
        )
        return {(r.carrier_id, r.day): bool(r.astray) for r in rows}


class PolicyRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def current(self) -> Policy | None:
        row = self.conn.execute(
            select(t.policies.c.doc).order_by(t.policies.c.version.desc()).limit(1)
        ).first()
        return from_doc(Policy, row.doc) if row else None

    def get(self, version: int) -> Policy | None:
        row = self.conn.execute(
            select(t.policies.c.doc).where(t.policies.c.version == version)
        ).first()
        return from_doc(Policy, row.doc) if row else None

    def add(self, policy: Policy) -> None:
        self.conn.execute(
            insert(t.policies).values(
                version=policy.version, created_at=policy.created_at, doc=to_doc(policy)
            )
        )

    def history(self) -> list[Policy]:
        rows = self.conn.execute(select(t.policies.c.doc).order_by(t.policies.c.version.desc()))
        return [from_doc(Policy, r.doc) for r in rows]


class SlotCapacityRepo:
    """Capacity counters; ``take`` is one conditional UPDATE, so no two bookings overbook."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _where(slot: SlotRef) -> Any:
        c = t.slot_capacity.c
        return and_(
            c.adcode == slot.adcode,
            c.carrier_id == slot.carrier_id,
            c.day == slot.day,
            c.start == slot.window.start.strftime("%H:%M"),
        )

    def _ensure(self, slot: SlotRef, capacity: int) -> None:
        maker = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        self.conn.execute(
            maker(t.slot_capacity)
            .values(
                adcode=slot.adcode,
                carrier_id=slot.carrier_id,
                day=slot.day,
                start=slot.window.start.strftime("%H:%M"),
                capacity=capacity,
                booked=0,
            )
            .on_conflict_do_nothing()
        )

    def loads(self, slots: Sequence[SlotRef], default_capacity: int) -> dict[SlotRef, SlotLoad]:
        if not slots:
            return {}
        c = t.slot_capacity.c
        days = {s.day for s in slots}
        rows = self.conn.execute(
            select(c.adcode, c.carrier_id, c.day, c.start, c.capacity, c.booked).where(
                c.adcode.in_({s.adcode for s in slots}), c.day.in_(days)
            )
        )
        found = {
            (r.adcode, r.carrier_id, r.day, r.start): SlotLoad(r.capacity, r.booked) for r in rows
        }
        return {
            s: found.get(
                (s.adcode, s.carrier_id, s.day, s.window.start.strftime("%H:%M")),
                SlotLoad(default_capacity, 0),
            )
            for s in slots
        }

    def take(self, slot: SlotRef, default_capacity: int) -> bool:
        self._ensure(slot, default_capacity)
        c = t.slot_capacity.c
        result = self.conn.execute(
            update(t.slot_capacity)
            .where(self._where(slot), c.booked < c.capacity)
            .values(booked=c.booked + 1)
        )
        return result.rowcount == 1

    def load_for_update(self, slot: SlotRef) -> SlotLoad | None:
        c = t.slot_capacity.c
        row = self.conn.execute(
            select(c.capacity, c.booked).where(self._where(slot)).with_for_update()
        ).first()
        return SlotLoad(row.capacity, row.booked) if row else None

    def take_over(self, slot: SlotRef, default_capacity: int) -> SlotLoad:
        self._ensure(slot, default_capacity)
        c = t.slot_capacity.c
        # No capacity condition: a fact reported by a courier company is counted even past
        # our capacity, so the counter stays equal to the visits it stands for.
        row = self.conn.execute(
            update(t.slot_capacity)
            .where(self._where(slot))
            .values(booked=c.booked + 1)
            .returning(c.capacity, c.booked)
        ).one()
        return SlotLoad(row.capacity, row.booked)

    def release(self, slot: SlotRef) -> None:
        c = t.slot_capacity.c
        self.conn.execute(
            update(t.slot_capacity)
            .where(self._where(slot), c.booked > 0)
            .values(booked=c.booked - 1)
        )

    def set_capacity(self, slot: SlotRef, capacity: int) -> None:
        self._ensure(slot, capacity)
        self.conn.execute(
            update(t.slot_capacity).where(self._where(slot)).values(capacity=capacity)
        )

    def counted_for_update(
        self, adcodes: Sequence[str], first_day: date
    ) -> list[tuple[CounterKey, SlotLoad]]:
        wanted = sorted(set(adcodes))
        if not wanted:
            return []
        c = t.slot_capacity.c
        rows = self.conn.execute(
            select(c.adcode, c.carrier_id, c.day, c.start, c.capacity, c.booked)
            .where(c.adcode.in_(wanted), c.day >= first_day)
            .order_by(c.adcode, c.carrier_id, c.day, c.start)
            .with_for_update()
        )
        return [
            (
                (r.adcode, r.carrier_id, r.day, time.fromisoformat(r.start)),
                SlotLoad(r.capacity, r.booked),
            )
            for r in rows
        ]

    def set_capacities(self, changes: Sequence[tuple[SlotRef, int]]) -> None:
        if not changes:
            return
        c = t.slot_capacity.c
        # One executemany: the statement count of an edit does not grow with its windows.
        self.conn.execute(
            update(t.slot_capacity)
            .where(
                c.adcode == bindparam("k_adcode"),
                c.carrier_id == bindparam("k_carrier"),
                c.day == bindparam("k_day"),
                c.start == bindparam("k_start"),
            )
            .values(capacity=bindparam("k_capacity")),
            [
                {
                    "k_adcode": slot.adcode,
                    "k_carrier": slot.carrier_id,
                    "k_day": slot.day,
                    "k_start": slot.window.start.strftime("%H:%M"),
                    "k_capacity": capacity,
                }
                for slot, capacity in changes
            ],
        )

    def over_capacity(
        self, after: tuple[date, time], limit: int
    ) -> builtins.list[tuple[CounterKey, SlotLoad]]:
        rows = self.conn.execute(over_capacity_query(after, limit))
        return [
            (
                (r.adcode, r.carrier_id, r.day, time.fromisoformat(r.start)),
                SlotLoad(r.capacity, r.booked),
            )
            for r in rows
        ]

    def count_over_capacity(self, after: tuple[date, time]) -> int:
        stmt = select(func.count()).select_from(t.slot_capacity).where(*_over_after(after))
        return int(self.conn.execute(stmt).scalar_one())


def over_capacity_query(after: tuple[date, time], limit: int) -> Select[Any]:
    """The soonest ``limit`` counters over capacity whose window starts after ``after``."""
    c = t.slot_capacity.c
    return (
        select(c.adcode, c.carrier_id, c.day, c.start, c.capacity, c.booked)
        .where(*_over_after(after))
        .order_by(c.day, c.start, c.adcode, c.carrier_id)
        .limit(limit)
    )


def _over_after(after: tuple[date, time]) -> tuple[ColumnElement[bool], ...]:
    """Counters over capacity whose window starts after ``after``: the condition of the
    partial index ``ix_slot_capacity_over`` (booked > capacity) and a range on its keys."""
    c = t.slot_capacity.c
    day, start = after
    return (
        c.booked > c.capacity,
        c.day >= day,
        or_(c.day > day, c.start > start.strftime("%H:%M")),
    )


class RefundRepo:
    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self.conn, self.tracker = conn, tracker

    def _one(self, *where: Any, lock: bool = False) -> Refund | None:
        stmt = select(t.refunds.c.doc).where(*where)
        row = self.conn.execute(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            return None
        refund = from_doc(Refund, row.doc)
        self.tracker.track(refund)
        return refund

    def get(self, refund_id: str) -> Refund | None:
        return self._one(t.refunds.c.refund_id == refund_id)

    def get_for_update(self, refund_id: str) -> Refund | None:
        return self._one(t.refunds.c.refund_id == refund_id, lock=True)

    def by_key(self, idempotency_key: str) -> Refund | None:
        return self._one(t.refunds.c.idempotency_key == idempotency_key)

    def add(self, refund: Refund) -> None:
        self.conn.execute(
            insert(t.refunds).values(
                refund_id=refund.refund_id,
                return_id=refund.return_id,
                idempotency_key=refund.idempotency_key,
                amount_fen=refund.amount_fen,
                status=refund.status.value,
                created_at=refund.created_at,
                doc=to_doc(refund),
                settled_at=refund.settled_at,
            )
        )
        self.tracker.track(refund)

    def save(self, refund: Refund) -> None:
        self.conn.execute(
            update(t.refunds)
            .where(t.refunds.c.refund_id == refund.refund_id)
            .values(status=refund.status.value, doc=to_doc(refund), settled_at=refund.settled_at)
        )
        self.tracker.track(refund)

    def pending(self) -> list[Refund]:
        return self._many(t.refunds.c.status == RefundStatus.PENDING.value)

    def for_returns(self, return_ids: Sequence[str]) -> list[Refund]:
        return self._many(t.refunds.c.return_id.in_(list(return_ids))) if return_ids else []

    def count_waits(self, counts: Sequence[WaitCount]) -> None:
        _add_counts(
            self.conn,
            t.refund_waits,
            ("day", "kind", "measure", "bucket"),
            [{"day": c.day, "kind": c.kind, "measure": c.measure, "bucket": c.bucket, "n": c.n}
             for c in counts],
        )  # fmt: skip

    def waits(self, first: date, last: date) -> list[WaitCount]:
        c = t.refund_waits.c
        rows = self.conn.execute(
            select(c.day, c.kind, c.measure, c.bucket, func.sum(c.n))
            .where(c.day >= first, c.day <= last)
            .group_by(c.day, c.kind, c.measure, c.bucket)
        )
        return [WaitCount(day, kind, measure, int(b), int(n)) for day, kind, measure, b, n in rows]

    def _many(self, *where: Any) -> list[Refund]:
        rows = self.conn.execute(select(t.refunds.c.doc).where(*where))
        refunds = [from_doc(Refund, row.doc) for row in rows]
        for refund in refunds:
            self.tracker.track(refund)
        return refunds


class UserRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def by_username(self, username: str) -> StoredUser | None:
        row = self.conn.execute(select(t.users).where(t.users.c.username == username)).first()
        return StoredUser(**row._mapping) if row else None

    def get(self, user_id: str) -> StoredUser | None:
        row = self.conn.execute(select(t.users).where(t.users.c.user_id == user_id)).first()
        return StoredUser(**row._mapping) if row else None

    def get_for_update(self, user_id: str) -> StoredUser | None:
        stmt = select(t.users).where(t.users.c.user_id == user_id).with_for_update()
        row = self.conn.execute(stmt).first()
        return StoredUser(**row._mapping) if row else None

    def add(self, user: StoredUser) -> None:
        self.conn.execute(
            _upsert(
                self.conn,
                t.users,
                {
                    "user_id": user.user_id,
                    "username": user.username,
                    "password_hash": user.password_hash,
                    "role": user.role,
                    "actor_id": user.actor_id,
                    "active": user.active,
                    "session_generation": user.session_generation,
                },
                ["user_id"],
            )
        )

    def remove(self, user_id: str) -> None:
        self.conn.execute(delete(t.users).where(t.users.c.user_id == user_id))

    def acting_as_for_update(self, role: str, actor_id: str) -> list[StoredUser]:
        c = t.users.c
        stmt = (
            select(t.users)
            .where(c.role == role, c.actor_id == actor_id)
            .order_by(c.user_id)
            .with_for_update()
        )
        return [StoredUser(**row._mapping) for row in self.conn.execute(stmt)]

    def session(self, user_id: str, token_id: str) -> tuple[StoredUser, bool] | None:
        """The user and whether ``token_id`` is revoked, in one primary-key read."""
        revoked = t.revoked_tokens
        row = self.conn.execute(
            select(t.users, revoked.c.token_id.is_not(None).label("revoked"))
            .select_from(
                t.users.outerjoin(
                    revoked,
                    (revoked.c.token_id == token_id) & (revoked.c.user_id == t.users.c.user_id),
                )
            )
            .where(t.users.c.user_id == user_id)
        ).first()
        if row is None:
            return None
        fields = {k: v for k, v in row._mapping.items() if k != "revoked"}
        return StoredUser(**fields), bool(row.revoked)

    def revoke(self, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
        self.conn.execute(delete(t.revoked_tokens).where(t.revoked_tokens.c.expires_at < now))
        self.conn.execute(
            _upsert(
                self.conn,
                t.revoked_tokens,
                {"token_id": token_id, "user_id": user_id, "expires_at": expires_at},
                ["token_id"],
            )
        )


class PhotoRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, photo_id: str) -> StoredPhoto | None:
        row = self.conn.execute(select(t.photos).where(t.photos.c.photo_id == photo_id)).first()
        return StoredPhoto(**row._mapping) if row else None

    def add(self, photo: StoredPhoto) -> None:
        self.conn.execute(insert(t.photos).values(**photo.__dict__))

    def erase(
        self,
        photo_ids: Collection[str],
        *,
        owners: Collection[str] = (),
        keep: Collection[str] = (),
    ) -> None:
        c = t.photos.c
        found: list[ColumnElement[bool]] = []
        if photo_ids:
            found.append(c.photo_id.in_(sorted(set(photo_ids))))
        if owners:
            mine = c.owner.in_(sorted(set(owners)))
            found.append(and_(mine, c.photo_id.not_in(sorted(set(keep)))) if keep else mine)
        if not found:
            return
        # Empty bytes, not NULL: the column stays NOT NULL and the row keeps its digest.
        self.conn.execute(update(t.photos).where(or_(*found)).values(content=b""))


# Rows per day-by-day count (tables.daily_counts.shard).
SHARDS = 8


def _add_counts(
    conn: Connection, table: Table, keys: tuple[str, ...], rows: builtins.list[dict[str, Any]]
) -> None:
    """Add each row's ``n`` to its count (``keys`` plus a random shard of ``SHARDS``),
    creating the rows missing: the day-by-day counts and the refund waits."""
    if not rows:
        return
    shard = random.randrange(SHARDS)
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = maker(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[*keys, "shard"], set_={"n": table.c.n + stmt.excluded.n}
    )
    # One order for every writer, so two transactions never wait on each other's rows.
    ordered = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
    conn.execute(stmt, [{**r, "shard": shard} for r in ordered])


class EventStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, events: Iterable[Event]) -> None:
        stored = list(events)
        rows = [
            {
                "aggregate_type": e.aggregate_type,
                "aggregate_id": e.aggregate_id,
                "name": e.name,
                "occurred_at": e.occurred_at,
                "data": to_doc(e.data),
            }
            for e in stored
        ]
        if rows:
            self.conn.execute(insert(t.events), rows)
        self._count(tallies(stored))

    def _count(self, found: builtins.list[Tally]) -> None:
        _add_counts(
            self.conn,
            t.daily_counts,
            ("day", "figure", "key"),
            [{"day": x.day, "figure": x.figure, "key": x.key, "n": x.n} for x in found],
        )

    def first_at(self, aggregate_id: str, name: str) -> datetime | None:
        e = t.events.c
        at = self.conn.execute(
            select(func.min(e.occurred_at)).where(e.aggregate_id == aggregate_id, e.name == name)
        ).scalar_one()
        return t.AwareDateTime().process_result_value(at, self.conn.dialect)

    def daily(self, figure: str, first: date, last: date) -> dict[tuple[date, str], int]:
        c = t.daily_counts.c
        rows = self.conn.execute(
            select(c.day, c.key, func.sum(c.n))
            .where(c.figure == figure, c.day >= first, c.day <= last)
            .group_by(c.day, c.key)
        )
        return {(day, key): int(n) for day, key, n in rows}

    def totals(self, figure: str) -> dict[str, int]:
        c = t.daily_counts.c
        rows = self.conn.execute(
            select(c.key, func.sum(c.n)).where(c.figure == figure).group_by(c.key)
        )
        return {key: int(n) for key, n in rows}

    def for_aggregates(self, ids: Sequence[str]) -> list[Event]:
        rows = self.conn.execute(
            select(t.events)
            .where(t.events.c.aggregate_id.in_(list(ids)))
            .order_by(t.events.c.occurred_at, t.events.c.seq)
        )
        return [
            Event(r.name, r.aggregate_type, r.aggregate_id, r.occurred_at, r.data) for r in rows
        ]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.events)).scalar_one())

    def count_named(self, names: Sequence[str]) -> dict[str, int]:
        """How many events of each of these names were ever stored: one grouped query."""
        c = t.events.c
        rows = self.conn.execute(
            select(c.name, func.count()).where(c.name.in_(list(names))).group_by(c.name)
        )
        return {name: int(n) for name, n in rows}


class DisruptionRepo:
    """Disruptions; few and short-lived, so overlap is filtered on the time columns only."""

    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self.conn, self.tracker = conn, tracker

    def _track(self, rows: Iterable[Any]) -> list[Disruption]:
        out = []
        for row in rows:
            d = from_doc(Disruption, row.doc)
            self.tracker.track(d)
            out.append(d)
        return out

    def get(self, disruption_id: str) -> Disruption | None:
        found = self._track(
            self.conn.execute(
                select(t.disruptions.c.doc).where(t.disruptions.c.disruption_id == disruption_id)
            )
        )
        return found[0] if found else None

    def put(self, d: Disruption) -> None:
        self.conn.execute(
            _upsert(
                self.conn,
                t.disruptions,
                {
                    "disruption_id": d.disruption_id,
                    "doc": to_doc(d),
                    "starts_at": d.starts_at,
                    "ends_at": d.ends_at,
                    "active": d.active,
                },
                ["disruption_id"],
            )
        )
        self.tracker.track(d)

    def overlapping(self, start: datetime, end: datetime) -> list[Disruption]:
        c = t.disruptions.c
        return self._track(
            self.conn.execute(
                select(c.doc)
                .where(c.active.is_(True), c.starts_at < end, c.ends_at > start)
                .order_by(c.starts_at)
            )
        )

    def recent(self, limit: int = 50) -> list[Disruption]:
        c = t.disruptions.c
        return self._track(
            self.conn.execute(select(c.doc).order_by(c.starts_at.desc()).limit(limit))
        )
