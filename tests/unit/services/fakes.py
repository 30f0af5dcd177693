"""In-memory fakes of every service port, with the semantics of the SQL adapters.

``FakeStore`` is the committed state (the "database"); each ``FakeUnitOfWork`` keeps its own
working copy of what it wrote and only publishes it on ``commit``, so:

- changes are visible to other units of work only after ``commit()``; leaving the ``with``
  block without committing (or raising) throws the working copy away;
- every load is a deep copy, so editing a loaded aggregate changes nothing until it is saved
  and committed;
- ``returns`` and ``appointments`` carry an optimistic ``version``: ``add`` sets 1, ``save``
  against a stale version raises ``Conflict("stale_write")`` (checked at save time against
  what this unit of work sees, and again at commit time against what others committed);
- aggregates loaded or added through a repository are tracked, and ``commit()`` writes their
  pending events to the shared event log before publishing (``FakeStore.events``);
- ``get_for_update`` is ``get``: the fakes run one unit of work at a time, so there is nothing
  to lock (the SQL adapters take a row lock; tests/integration/test_races.py checks them);
- ``slots.take`` is a conditional increment (``booked < capacity``), creating the row with
  the default capacity first, like ``INSERT … ON CONFLICT DO NOTHING`` + ``UPDATE … WHERE``.

Other ports: ``FixedClock`` (from the adapters), ``CountingIds``, ``FakePayments`` (honours
idempotency keys, can be told to time out), ``FakeImageCleaner``, ``PlainPasswords``,
``FakeTokens``, ``FakeThrottle``, ``FakeCalendar``. ``make_world`` wires them into a real ``Services`` and
``seed_demo`` loads ``doorstep.adapters.demo.demo_dataset(now)`` straight into the store.
"""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from types import TracebackType
from typing import Any, Generic, TypeVar

from doorstep.adapters.db.codec import to_plain
from doorstep.adapters.demo import DemoDataset, demo_dataset
from doorstep.adapters.ids import FixedClock
from doorstep.domain.calendar import DayInfo, DayKind
from doorstep.domain.carrier_order import OPEN as CARRIER_OPEN
from doorstep.domain.carrier_order import PickupOrder
from doorstep.domain.catalog import Product
from doorstep.domain.clock import local
from doorstep.domain.coverage import ServiceArea, SlotTemplate
from doorstep.domain.disruption import Disruption
from doorstep.domain.errors import Conflict, InvalidInput, StaleWrite, Unauthorized
from doorstep.domain.events import Event, EventRecorder
from doorstep.domain.figures import Tally, tallies
from doorstep.domain.fleet import Carrier, Courier
from doorstep.domain.order import Buyer, Order
from doorstep.domain.outbox import OPEN, Delivery, DeliveryStatus, StoredEvent
from doorstep.domain.pickup import ACTIVE, Appointment, BookingRules, SlotRef
from doorstep.domain.policy import Policy
from doorstep.domain.refund import Refund, RefundStatus
from doorstep.domain.refund_lead_time import WaitCount
from doorstep.domain.refund_timing import owed
from doorstep.domain.returns import ReturnRequest
from doorstep.domain.route import CourierRoute, route_id
from doorstep.planning import HaversineTravel
from doorstep.services.context import RefundRules, Services
from doorstep.services.offering import FixedCapacityOffering
from doorstep.services.ports import (
    PaymentResult,
    Recorded,
    SendResult,
    SentMessage,
    SlotLoad,
    StoredPhoto,
    StoredUser,
)

# 09:00 in Shanghai on Wednesday 25 November 2026: same-day windows are still bookable.
T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)

V = TypeVar("V")
_ABSENT = object()  # a write that expects no committed row (an INSERT)
_ANY = object()  # a write that does not care (an upsert)


class _Deleted:
    """The item of a deleted row (survives the copies rows go through)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Deleted:
        return self


_DELETED = _Deleted()


class DuplicateKey(Exception):
    """What a unique constraint violation is in the SQL store (an IntegrityError)."""


class ClosedUnitOfWork(RuntimeError):
    """A repository was used outside its ``with`` block (the SQL connection is closed)."""


def _stale() -> Conflict:
    return StaleWrite()


def _copy(item: V) -> V:
    """A detached deep copy; a stored or loaded aggregate carries no pending events."""
    clone = copy.deepcopy(item)
    if isinstance(clone, EventRecorder):
        clone._pending = []
    return clone


def _slot_key(slot: SlotRef) -> tuple[str, str, date, str]:
    return (slot.adcode, slot.carrier_id, slot.day, slot.window.start.strftime("%H:%M"))


# --- the committed store ----------------------------------------------------------------------


@dataclass
class Row:
    version: int
    item: Any


TABLES = (
    "products",
    "buyers",
    "orders",
    "areas",
    "templates",
    "carriers",
    "couriers",
    "returns",
    "appointments",
    "routes",
    "policies",
    "refunds",
    "refund_waits",
    "users",
    "revoked_tokens",
    "photos",
    "disruptions",
    "transfers",
    "disputes",
    "claims",
    "ledger",
    # issue 9 §6-8 (fakes_after_sales.py)
    "stock",
    "exchanges",
    "customs_returns",
    "customs_quota",
    "stations",
    "return_warehouses",
    "pickup_orders",
    "carrier_inbox",
)


@dataclass
class OutboxRow:
    """A delivery and its lease, as the SQL ``deliveries`` row holds them."""

    delivery: Delivery
    lease_owner: str | None = None
    lease_until: datetime | None = None


@dataclass
class FakeStore:
    """The committed state every unit of work reads from and publishes to."""

    tables: dict[str, dict[Any, Row]] = field(default_factory=lambda: {name: {} for name in TABLES})
    slots: dict[tuple[str, str, date, str], SlotLoad] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    commits: int = 0
    # The outbox: events[i] has sequence number i + 1, as the SQL events table numbers them.
    published: dict[int, datetime] = field(default_factory=dict)
    deliveries: dict[tuple[int, str], OutboxRow] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)

    # --- helpers for tests: read the committed state directly ------------------------------
    def item(self, table: str, key: Any) -> Any:
        row = self.tables[table].get(key)
        return None if row is None else _copy(row.item)

    def items(self, table: str) -> list[Any]:
        return [_copy(r.item) for _, r in sorted(self.tables[table].items())]

    def version(self, table: str, key: Any) -> int | None:
        row = self.tables[table].get(key)
        return None if row is None else row.version

    def put(self, table: str, key: Any, item: Any, version: int = 1) -> None:
        """Seed a committed row (no events, no unit of work)."""
        self.tables[table][key] = Row(version, _copy(item))

    def slot(self, slot: SlotRef) -> SlotLoad | None:
        return self.slots.get(_slot_key(slot))

    def set_slot(self, slot: SlotRef, capacity: int, booked: int = 0) -> None:
        self.slots[_slot_key(slot)] = SlotLoad(capacity, booked)

    def event_names(self, aggregate_id: str | None = None) -> list[str]:
        return [e.name for e in self.events if aggregate_id in (None, e.aggregate_id)]

    def events_named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]


# --- the working copy of one unit of work -----------------------------------------------------


@dataclass
class _Write:
    expected: Any  # _ABSENT, _ANY or the committed version this write was based on
    row: Row


class _TxTable:
    """One table as a unit of work sees it: its own writes over the committed rows."""

    def __init__(self, store: FakeStore, name: str, uow: FakeUnitOfWork) -> None:
        self.store, self.name, self.uow = store, name, uow
        self.writes: dict[Any, _Write] = {}

    @property
    def committed(self) -> dict[Any, Row]:
        return self.store.tables[self.name]

    def row(self, key: Any) -> Row | None:
        self.uow._require_open()
        if key in self.writes:
            row = self.writes[key].row
            return None if row.item is _DELETED else row
        return self.committed.get(key)

    def rows(self) -> list[tuple[Any, Row]]:
        self.uow._require_open()
        merged = dict(self.committed)
        merged.update({k: w.row for k, w in self.writes.items()})
        live = {k: r for k, r in merged.items() if r.item is not _DELETED}
        return sorted(live.items(), key=lambda kv: str(kv[0]))

    def write(self, key: Any, version: int, item: Any, expected: Any) -> None:
        self.uow._require_open()
        if key in self.writes:
            expected = self.writes[key].expected  # the first base is what commit checks
        self.writes[key] = _Write(expected, Row(version, _copy(item)))

    def validate(self) -> None:
        for key, w in self.writes.items():
            current = self.committed.get(key)
            if w.expected is _ABSENT and current is not None:
                raise DuplicateKey(f"{self.name}: {key!r} exists")
            if w.expected not in (_ABSENT, _ANY) and (
                current is None or current.version != w.expected
            ):
                raise _stale()

    def publish(self) -> None:
        for key, w in self.writes.items():
            if w.row.item is _DELETED:
                self.committed.pop(key, None)
            else:
                self.committed[key] = Row(w.row.version, _copy(w.row.item))
        self.writes.clear()


class Tracker:
    """Aggregates loaded or added in this unit of work, so their events get stored."""

    def __init__(self) -> None:
        self.seen: list[EventRecorder] = []

    def track(self, item: Any) -> Any:
        if isinstance(item, EventRecorder) and all(item is not s for s in self.seen):
            self.seen.append(item)
        return item


# --- repositories -----------------------------------------------------------------------------


class FakeDocRepository(Generic[V]):
    """Key → document; ``put`` upserts (last writer wins, like the SQL upsert)."""

    def __init__(self, table: _TxTable, key: Callable[[V], str]) -> None:
        self.table, self.key = table, key

    def get(self, key: str) -> V | None:
        row = self.table.row(key)
        return None if row is None else _copy(row.item)

    def get_many(self, keys: Iterable[str]) -> list[V]:
        return [item for key in sorted(set(keys)) if (item := self.get(key)) is not None]

    def get_for_update(self, key: str) -> V | None:
        return self.get(key)  # one thread at a time here: the row lock is a no-op

    def get_many_for_update(self, keys: Iterable[str]) -> list[V]:
        return self.get_many(keys)

    def get_for_share(self, key: str) -> V | None:
        return self.get(key)

    def get_many_for_share(self, keys: Iterable[str]) -> list[V]:
        return self.get_many(keys)

    def put(self, item: V) -> None:
        self.table.write(self.key(item), 1, item, _ANY)

    def remove(self, key: str) -> None:
        self.table.write(key, 1, _DELETED, _ANY)

    def list(self) -> list[V]:
        return [_copy(r.item) for _, r in self.table.rows()]


class FakeOrderRepository(FakeDocRepository[Order]):
    def __init__(self, table: _TxTable) -> None:
        super().__init__(table, lambda o: o.order_id)

    def for_buyer(self, buyer_id: str) -> list[Order]:
        return [o for o in self.list() if o.buyer_id == buyer_id]

    def get_for_update(self, order_id: str) -> Order | None:
        return self.get(order_id)  # one thread at a time here: the row lock is a no-op


class FakeVersionedRepository(Generic[V]):
    """Optimistic concurrency: ``add`` sets version 1, a stale ``save`` is refused."""

    key_name: str

    def __init__(self, table: _TxTable, tracker: Tracker) -> None:
        self.table, self.tracker = table, tracker

    def _load(self, row: Row) -> Any:
        item = _copy(row.item)
        item.version = row.version
        return self.tracker.track(item)

    def _all(self) -> list[Any]:
        return [self._load(r) for _, r in self.table.rows()]

    def get(self, key: str) -> Any:
        row = self.table.row(key)
        return None if row is None else self._load(row)

    def get_for_update(self, key: str) -> Any:
        return self.get(key)  # one thread at a time here: the row lock is a no-op

    def get_many(self, keys: Iterable[str]) -> list[Any]:
        return [item for key in sorted(set(keys)) if (item := self.get(key)) is not None]

    def get_many_for_update(self, keys: Iterable[str]) -> list[Any]:
        return self.get_many(keys)  # one thread at a time here: the row locks are no-ops

    def add(self, item: Any) -> None:
        key = getattr(item, self.key_name)
        if self.table.row(key) is not None:
            raise DuplicateKey(f"{self.table.name}: {key!r} exists")
        item.version = 1
        self.table.write(key, 1, item, _ABSENT)
        self.tracker.track(item)

    def save(self, item: Any) -> None:
        key = getattr(item, self.key_name)
        current = self.table.row(key)
        if current is None or current.version != item.version:
            raise _stale()
        self.table.write(key, item.version + 1, item, item.version)
        item.version += 1
        self.tracker.track(item)


class FakeReturnRepository(FakeVersionedRepository[ReturnRequest]):
    key_name = "return_id"

    def for_buyer(self, buyer_id: str) -> list[ReturnRequest]:
        found = [r for r in self._all() if r.buyer_id == buyer_id]
        return sorted(found, key=lambda r: r.created_at, reverse=True)

    def for_order(self, order_id: str) -> list[ReturnRequest]:
        return [r for r in self._all() if r.order_id == order_id]

    def owed_before(
        self, cutoff: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[ReturnRequest]:
        found = sorted(
            (
                r
                for r in self._owed(cutoff)
                if after is None or (r.received_at, r.return_id) > after
            ),
            key=lambda r: (r.received_at, r.return_id),
        )
        return found[:limit]

    def count_owed_before(self, cutoff: datetime) -> int:
        return len(self._owed(cutoff))

    def _owed(self, cutoff: datetime) -> list[ReturnRequest]:
        """As the SQL: owed, received before the cutoff, no succeeded refund (committed)."""
        paid = {
            row.item.return_id
            for row in self.table.store.tables["refunds"].values()
            if row.item.status is RefundStatus.SUCCEEDED
        }
        return [
            r
            for r in self._all()
            if owed(r)
            and r.received_at is not None
            and r.received_at < cutoff
            and r.return_id not in paid
        ]

    def express_owed(self, limit: int) -> list[str]:
        owed = [(r.express_owed_since, r.return_id) for r in self._all() if r.express_owed_since]
        return [return_id for _since, return_id in sorted(owed)[:limit]]

    def with_status(self, status: str, limit: int = 100) -> list[ReturnRequest]:
        found = [r for r in self._all() if r.status.value == status]
        return sorted(found, key=lambda r: r.created_at)[:limit] if limit else found

    def status_counts(self) -> dict[str, int]:
        return dict(Counter(r.status.value for r in self._all()))

    def status_counts_for_buyers(self, buyer_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {b: {} for b in set(buyer_ids)}
        for r in self._all():
            if r.buyer_id in out:
                out[r.buyer_id][r.status.value] = out[r.buyer_id].get(r.status.value, 0) + 1
        return out

    def by_waybill(self, waybill_no: str) -> list[ReturnRequest]:
        return [r for r in self._all() if r.waybill_no == waybill_no]

    def by_dropoff_code(self, code: str, *, lock: bool = False) -> ReturnRequest | None:
        return next((r for r in self._all() if r.dropoff and r.dropoff.code == code), None)


class FakePickupOrderRepository(FakeVersionedRepository[PickupOrder]):
    key_name = "out_order_no"

    def for_appointments(self, appointment_ids: Sequence[str]) -> list[PickupOrder]:
        wanted = set(appointment_ids)
        return [po for po in self._all() if po.appointment_id in wanted]

    def due_to_send(self, now: datetime, limit: int) -> list[str]:
        due = [
            po
            for po in self._all()
            if po.pending_op is not None and po.next_send_at is not None and po.next_send_at <= now
        ]
        return [po.out_order_no for po in sorted(due, key=lambda po: po.next_send_at)][:limit]

    def quiet(self, heard_before: datetime, limit: int) -> list[str]:
        found = [
            po
            for po in self._all()
            if (po.status in CARRIER_OPEN or po.cancel_refused)
            and (po.last_heard_at or po.created_at) < heard_before
        ]
        return [po.out_order_no for po in found][:limit]

    def awaiting_ops(self, limit: int) -> list[PickupOrder]:
        found = [po for po in self._all() if po.awaits_ops]
        return sorted(found, key=lambda po: (po.needs_ops_at, po.out_order_no))[:limit]

    def count_awaiting_ops(self) -> int:
        return sum(1 for po in self._all() if po.awaits_ops)


class FakeCarrierInbox:
    def __init__(self, table: _TxTable) -> None:
        self.table = table

    def take(
        self, carrier_id: str, event_id: str, out_order_no: str, kind: str, at: datetime
    ) -> bool:
        key = (carrier_id, event_id)
        if self.table.row(key) is not None:
            return False
        self.table.write(key, 1, (out_order_no, kind, at), _ABSENT)
        return True


class FakeAppointmentRepository(FakeVersionedRepository[Appointment]):
    key_name = "appointment_id"

    def active_for_buyer(
        self, buyer_id: str, adcode: str | None = None, from_day: date | None = None
    ) -> list[Appointment]:
        return [
            a
            for a in self._all()
            if a.buyer_id == buyer_id
            and a.status in ACTIVE
            and adcode in (None, a.slot.adcode)
            and (from_day is None or a.slot.day >= from_day)
        ]

    def for_courier(self, courier_id: str, day: date) -> list[Appointment]:
        return [a for a in self._all() if a.courier_id == courier_id and a.slot.day == day]

    def open_for_courier(self, courier_id: str) -> list[Appointment]:
        return [a for a in self._all() if a.courier_id == courier_id and a.status in ACTIVE]

    def for_area_day(self, adcode: str, day: date) -> list[Appointment]:
        return [a for a in self._all() if a.slot.adcode == adcode and a.slot.day == day]

    def for_carrier_day(self, carrier_id: str, day: date) -> list[Appointment]:
        return [a for a in self._all() if a.slot.carrier_id == carrier_id and a.slot.day == day]

    def busy_carrier_days(self, days: Sequence[date]) -> set[tuple[str, date]]:
        return {
            (a.slot.carrier_id, a.slot.day)
            for a in self._all()
            if a.slot.day in days and a.status in ACTIVE
        }

    def astray_carrier_days(
        self, days: Sequence[date], now: datetime | None = None
    ) -> dict[tuple[str, date], bool]:
        out: dict[tuple[str, date], bool] = {}
        for a in self._all():
            if a.slot.day in days and a.status in ACTIVE:
                key = (a.slot.carrier_id, a.slot.day)
                off = a.courier_id is None or a.unserved_reason is not None
                if now is not None and a.slot.ends_at <= now:
                    off = False  # its window has closed: no plan can keep it
                out[key] = out.get(key, False) or (off and not a.served_by_company)
        return out

    def _reviews(self, status: str) -> list[Appointment]:
        found = [a for a in self._all() if a.review and a.review.status.value == status]
        return sorted(found, key=lambda a: a.review.due_at)  # type: ignore[union-attr]

    def reviews_due(self, now: datetime, limit: int) -> list[Appointment]:
        return [a for a in self._reviews("pending") if a.review.due_at <= now][:limit]  # type: ignore[union-attr]

    def disputed_reviews(self, limit: int) -> list[Appointment]:
        return self._reviews("disputed")[:limit]


class FakeRouteRepository:
    """Courier day-routes keyed by route id; ``lock`` creates an empty route like the SQL one."""

    def __init__(self, table: _TxTable, tracker: Tracker, fleet: _TxTable) -> None:
        self.table, self.tracker, self.fleet = table, tracker, fleet
        self.written: set[str] = set()

    def _load(self, row: Row) -> CourierRoute:
        route: CourierRoute = _copy(row.item)
        route.version = row.version
        return self.tracker.track(route)

    def versions(self, carrier_id: str, days: Sequence[date]) -> dict[str, int]:
        return {
            key: r.version
            for key, r in self.table.rows()
            if r.item.carrier_id == carrier_id and r.item.day in days
        }

    def get_many(self, route_ids: Iterable[str]) -> list[CourierRoute]:
        return [self._load(r) for key in route_ids if (r := self.table.row(key)) is not None]

    def get(self, courier_id: str, day: date) -> CourierRoute | None:
        found = self.get_many([route_id(courier_id, day)])
        return found[0] if found else None

    def get_in_fleet(self, courier_id: str, day: date) -> CourierRoute | None:
        if self.fleet.row(courier_id) is None:
            return None
        return self.get(courier_id, day)

    def for_carrier_day(self, carrier_id: str, day: date) -> list[CourierRoute]:
        return [
            self._load(r)
            for _, r in self.table.rows()
            if r.item.carrier_id == carrier_id and r.item.day == day
        ]

    def lock(self, courier_id: str, carrier_id: str, day: date) -> int:
        key = route_id(courier_id, day)
        row = self.table.row(key)
        if row is None:
            self.table.write(key, 1, CourierRoute(courier_id, carrier_id, day), _ABSENT)
            self.written.add(key)
            return 1
        return row.version

    def save(self, route: CourierRoute) -> None:
        current = self.table.row(route.route_id)
        if route.version == 0 and current is None:
            self.table.write(route.route_id, 1, route, _ABSENT)
        elif current is None or current.version != route.version:
            raise _stale()
        else:
            self.table.write(route.route_id, route.version + 1, route, route.version)
        route.version += 1
        self.written.add(route.route_id)
        self.tracker.track(route)

    def track(self, route: CourierRoute) -> None:
        self.tracker.track(route)


class FakePolicyRepository:
    def __init__(self, table: _TxTable) -> None:
        self.table = table

    def current(self) -> Policy | None:
        rows = self.table.rows()
        if not rows:
            return None
        return _copy(max((r.item for _, r in rows), key=lambda p: p.version))

    def get(self, version: int) -> Policy | None:
        row = self.table.row(version)
        return None if row is None else _copy(row.item)

    def add(self, policy: Policy) -> None:
        if self.table.row(policy.version) is not None:
            raise DuplicateKey(f"policy version {policy.version} exists")
        self.table.write(policy.version, 1, policy, _ABSENT)

    def history(self) -> list[Policy]:
        return sorted((_copy(r.item) for _, r in self.table.rows()), key=lambda p: -p.version)


class FakeRefundRepository:
    """Refunds by id, with the idempotency key unique like the SQL column."""

    def __init__(self, table: _TxTable, tracker: Tracker, waits: _TxTable) -> None:
        self.table, self.tracker, self.waits_table = table, tracker, waits

    def _load(self, row: Row | None) -> Refund | None:
        return None if row is None else self.tracker.track(_copy(row.item))

    def get(self, refund_id: str) -> Refund | None:
        return self._load(self.table.row(refund_id))

    def get_for_update(self, refund_id: str) -> Refund | None:
        return self.get(refund_id)  # one thread at a time here: the row lock is a no-op

    def by_key(self, idempotency_key: str) -> Refund | None:
        found = [r for _, r in self.table.rows() if r.item.idempotency_key == idempotency_key]
        return self._load(found[0] if found else None)

    def add(self, refund: Refund) -> None:
        if self.table.row(refund.refund_id) is not None or any(
            r.item.idempotency_key == refund.idempotency_key for _, r in self.table.rows()
        ):
            raise DuplicateKey(f"refund {refund.refund_id} / {refund.idempotency_key}")
        self.table.write(refund.refund_id, 1, refund, _ABSENT)
        self.tracker.track(refund)

    def save(self, refund: Refund) -> None:
        if self.table.row(refund.refund_id) is not None:  # UPDATE … WHERE id: 0 rows is a no-op
            self.table.write(refund.refund_id, 1, refund, _ANY)
        self.tracker.track(refund)

    def pending(self) -> list[Refund]:
        rows = [r for _, r in self.table.rows() if r.item.status is RefundStatus.PENDING]
        return [self.tracker.track(_copy(r.item)) for r in rows]

    def count_waits(self, counts: Sequence[WaitCount]) -> None:
        # One entry per count call: a second count of the same waits in one unit of work
        # is kept apart, so a test sees it rather than having it merged.
        self.waits_table.write(len(self.waits_table.rows()), 1, list(counts), _ABSENT)

    def waits(self, first: date, last: date) -> list[WaitCount]:
        summed: Counter[tuple[date, str, str, int]] = Counter()
        for _, row in self.waits_table.rows():
            for c in row.item:
                if first <= c.day <= last:
                    summed[(c.day, c.kind, c.measure, c.bucket)] += c.n
        return [WaitCount(*key, n) for key, n in summed.items()]

    def for_returns(self, return_ids: Sequence[str]) -> list[Refund]:
        rows = [r for _, r in self.table.rows() if r.item.return_id in set(return_ids)]
        return [self.tracker.track(_copy(r.item)) for r in rows]


class FakeUserRepository:
    def __init__(self, table: _TxTable, revoked: _TxTable) -> None:
        self.table, self.revoked = table, revoked

    def by_username(self, username: str) -> StoredUser | None:
        found = [r.item for _, r in self.table.rows() if r.item.username == username]
        return found[0] if found else None

    def get(self, user_id: str) -> StoredUser | None:
        row = self.table.row(user_id)
        return None if row is None else _copy(row.item)

    def get_for_update(self, user_id: str) -> StoredUser | None:
        return self.get(user_id)  # one thread at a time here: the row lock is a no-op

    def add(self, user: StoredUser) -> None:
        clash = self.by_username(user.username)
        if clash is not None and clash.user_id != user.user_id:
            raise DuplicateKey(f"username {user.username!r} taken")
        self.table.write(user.user_id, 1, user, _ANY)  # upsert by user id

    def remove(self, user_id: str) -> None:
        self.table.write(user_id, 1, _DELETED, _ANY)

    def acting_as_for_update(self, role: str, actor_id: str) -> list[StoredUser]:
        return sorted(
            (
                _copy(r.item)
                for _, r in self.table.rows()
                if r.item.role == role and r.item.actor_id == actor_id
            ),
            key=lambda u: u.user_id,
        )

    def session(self, user_id: str, token_id: str) -> tuple[StoredUser, bool] | None:
        user = self.get(user_id)
        if user is None:
            return None
        revoked = self.revoked.row(token_id)
        return user, revoked is not None and revoked.item[0] == user_id

    def revoke(self, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
        for key, row in self.revoked.rows():
            if row.item[1] < now:
                self.revoked.write(key, 1, _DELETED, _ANY)
        self.revoked.write(token_id, 1, (user_id, expires_at), _ANY)


class FakePhotoRepository:
    def __init__(self, table: _TxTable) -> None:
        self.table = table

    def get(self, photo_id: str) -> StoredPhoto | None:
        row = self.table.row(photo_id)
        return None if row is None else row.item

    def add(self, photo: StoredPhoto) -> None:
        if self.table.row(photo.photo_id) is not None:
            raise DuplicateKey(f"photo {photo.photo_id}")
        self.table.write(photo.photo_id, 1, photo, _ABSENT)

    def erase(
        self,
        photo_ids: Collection[str],
        *,
        owners: Collection[str] = (),
        keep: Collection[str] = (),
    ) -> None:
        for key, row in self.table.rows():
            photo = row.item
            if key in photo_ids or (photo.owner in owners and key not in keep):
                self.table.write(key, row.version, replace(photo, content=b""), _ANY)


class FakeDisruptionRepository:
    def __init__(self, table: _TxTable, tracker: Tracker) -> None:
        self.table, self.tracker = table, tracker

    def _load(self, rows: Iterable[Row]) -> list[Disruption]:
        return [self.tracker.track(_copy(r.item)) for r in rows]

    def get(self, disruption_id: str) -> Disruption | None:
        row = self.table.row(disruption_id)
        return None if row is None else self._load([row])[0]

    def put(self, d: Disruption) -> None:
        self.table.write(d.disruption_id, 1, d, _ANY)
        self.tracker.track(d)

    def overlapping(self, start: datetime, end: datetime) -> list[Disruption]:
        rows = [
            r
            for _, r in self.table.rows()
            if r.item.active and r.item.starts_at < end and r.item.ends_at > start
        ]
        return self._load(sorted(rows, key=lambda r: r.item.starts_at))

    def recent(self, limit: int = 50) -> list[Disruption]:
        rows = sorted((r for _, r in self.table.rows()), key=lambda r: r.item.starts_at)
        return self._load(list(reversed(rows))[:limit])


class FakeSlotCapacityRepository:
    """Counters per (area, carrier, day, window start); ``take`` never goes past capacity."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[tuple[str, str, date, str], SlotLoad] = {}
        self.ops: list[tuple[str, tuple[str, str, date, str], int]] = []

    def _row(self, key: tuple[str, str, date, str]) -> SlotLoad | None:
        self.uow._require_open()
        return self.rows.get(key, self.uow.store.slots.get(key))

    def loads(self, slots: Sequence[SlotRef], default_capacity: int) -> dict[SlotRef, SlotLoad]:
        return {s: self._row(_slot_key(s)) or SlotLoad(default_capacity, 0) for s in slots}

    def take(self, slot: SlotRef, default_capacity: int) -> bool:
        key = _slot_key(slot)
        took = apply_slot_op(self.rows, self.uow.store.slots, "take", key, default_capacity)
        self.ops.append(("take" if took else "ensure", key, default_capacity))
        return took

    def take_over(self, slot: SlotRef, default_capacity: int) -> SlotLoad:
        key = _slot_key(slot)
        self.ops.append(("take_over", key, default_capacity))
        apply_slot_op(self.rows, self.uow.store.slots, "take_over", key, default_capacity)
        return self.rows[key]

    def release(self, slot: SlotRef) -> None:
        key = _slot_key(slot)
        self.ops.append(("release", key, 0))
        apply_slot_op(self.rows, self.uow.store.slots, "release", key, 0)

    def load_for_update(self, slot: SlotRef) -> SlotLoad | None:
        return self._row(_slot_key(slot))

    def set_capacity(self, slot: SlotRef, capacity: int) -> None:
        key = _slot_key(slot)
        self.ops.append(("set_capacity", key, capacity))
        apply_slot_op(self.rows, self.uow.store.slots, "set_capacity", key, capacity)

    def counted_for_update(
        self, adcodes: Sequence[str], first_day: date
    ) -> list[tuple[tuple[str, str, date, time], SlotLoad]]:
        self.uow._require_open()
        wanted = set(adcodes)
        merged = {**self.uow.store.slots, **self.rows}
        return [
            ((a, c, d, time.fromisoformat(start)), load)
            for (a, c, d, start), load in sorted(merged.items())
            if a in wanted and d >= first_day
        ]

    def set_capacities(self, changes: Sequence[tuple[SlotRef, int]]) -> None:
        for slot, capacity in changes:
            self.set_capacity(slot, capacity)

    def over_capacity(
        self, after: tuple[date, time], limit: int
    ) -> list[tuple[tuple[str, str, date, time], SlotLoad]]:
        self.uow._require_open()
        merged = {**self.uow.store.slots, **self.rows}
        found = sorted(
            ((d, time.fromisoformat(start), a, c), load)
            for (a, c, d, start), load in merged.items()
            if load.booked > load.capacity and (d, time.fromisoformat(start)) > after
        )
        return [((a, c, d, start), load) for (d, start, a, c), load in found[:limit]]

    def count_over_capacity(self, after: tuple[date, time]) -> int:
        return len(self.over_capacity(after, len(self.uow.store.slots) + len(self.rows)))


def apply_slot_op(
    rows: dict[tuple[str, str, date, str], SlotLoad],
    base: dict[tuple[str, str, date, str], SlotLoad],
    op: str,
    key: tuple[str, str, date, str],
    value: int,
) -> bool:
    """One slot statement against ``rows`` (falling back to ``base``); True if a row changed."""
    row = rows.get(key, base.get(key))
    if op == "release":
        if row is not None and row.booked > 0:
            rows[key] = SlotLoad(row.capacity, row.booked - 1)
            return True
        return False
    if row is None:  # INSERT … ON CONFLICT DO NOTHING
        row = rows[key] = SlotLoad(value, 0)
    if op == "ensure":
        return False
    if op == "set_capacity":
        rows[key] = SlotLoad(value, row.booked)
        return True
    # take: UPDATE … SET booked = booked + 1 WHERE booked < cap; take_over: without the WHERE
    if op == "take_over" or row.booked < row.capacity:
        rows[key] = SlotLoad(row.capacity, row.booked + 1)
        return True
    return False


class FakeEventLog:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.pending: list[Event] = []

    def append(self, events: Iterable[Event]) -> None:
        self.uow._require_open()
        for e in events:
            # Stored as JSON in SQL: the data comes back with lists and ISO strings.
            self.pending.append(replace(e, data=to_plain(e.data)))

    def for_aggregates(self, ids: Sequence[str]) -> list[Event]:
        self.uow._require_open()
        wanted = set(ids)
        seen = [*self.uow.store.events, *self.pending]
        ordered = sorted(enumerate(seen), key=lambda ie: (ie[1].occurred_at, ie[0]))
        return [copy.deepcopy(e) for _, e in ordered if e.aggregate_id in wanted]

    def first_at(self, aggregate_id: str, name: str) -> datetime | None:
        self.uow._require_open()
        seen = [*self.uow.store.events, *self.pending]
        return min(
            (e.occurred_at for e in seen if e.aggregate_id == aggregate_id and e.name == name),
            default=None,
        )

    def count_named(self, names: Sequence[str]) -> dict[str, int]:
        self.uow._require_open()
        found = Counter(e.name for e in [*self.uow.store.events, *self.pending])
        return {n: found[n] for n in names if found[n]}

    def _tallies(self, figure: str) -> list[Tally]:
        self.uow._require_open()
        return [x for x in tallies([*self.uow.store.events, *self.pending]) if x.figure == figure]

    def daily(self, figure: str, first: date, last: date) -> dict[tuple[date, str], int]:
        out: Counter[tuple[date, str]] = Counter()
        for x in self._tallies(figure):
            if first <= x.day <= last:
                out[(x.day, x.key)] += x.n
        return dict(out)

    def totals(self, figure: str) -> dict[str, int]:
        out: Counter[str] = Counter()
        for x in self._tallies(figure):
            out[x.key] += x.n
        return dict(out)


class FakeOutbox:
    """The outbox store: writes are kept until commit, like the SQL unit of work's."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.published: dict[int, datetime] = {}
        self.writes: dict[tuple[int, str], OutboxRow] = {}

    def _rows(self) -> dict[tuple[int, str], OutboxRow]:
        self.uow._require_open()
        merged = {k: copy.deepcopy(v) for k, v in self.uow.store.deliveries.items()}
        merged.update({k: copy.deepcopy(v) for k, v in self.writes.items()})
        return merged

    def take_unpublished(self, limit: int) -> list[StoredEvent] | None:
        store = self.uow.store
        self.uow._require_open()
        free = [
            StoredEvent(i + 1, e)
            for i, e in enumerate(store.events)
            if i + 1 not in store.published and i + 1 not in self.published
        ]
        return free[:limit]

    def mark_published(self, seqs: Sequence[int], at: datetime) -> None:
        self.uow._require_open()
        self.published.update(dict.fromkeys(seqs, at))

    def return_parties(self, return_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        out = {}
        for rid in set(return_ids):
            request = self.uow.returns.get(rid)
            order = None if request is None else self.uow.orders.get(request.order_id)
            if request is not None and order is not None:
                out[rid] = (request.buyer_id, order.shop_id)
        return out

    def appointment_parties(
        self, appointment_ids: Iterable[str]
    ) -> dict[str, tuple[str, list[str]]]:
        out = {}
        for aid in set(appointment_ids):
            appt = self.uow.appointments.get(aid)
            if appt is not None:
                out[aid] = (appt.buyer_id, list(appt.return_ids))
        return out

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        rows = self._rows()
        for d in deliveries:
            key = (d.event_seq, d.receiver)
            if key in rows:
                raise DuplicateKey(f"deliveries: {key!r} exists")
            self.writes[key] = OutboxRow(d)

    def claim_due(
        self, now: datetime, limit: int, owner: str, lease_until: datetime
    ) -> list[Delivery]:
        rows = self._rows()
        open_ = [(k, r) for k, r in sorted(rows.items()) if r.delivery.status in OPEN]
        heads: dict[tuple[str, str], tuple[int, str]] = {}
        for key, row in open_:
            heads.setdefault((row.delivery.receiver, row.delivery.order_key), key)
        claimed = []
        for key, row in open_:
            d = row.delivery
            due = d.next_attempt_at <= now and (row.lease_until is None or row.lease_until <= now)
            if due and heads[(d.receiver, d.order_key)] == key and len(claimed) < limit:
                self.writes[key] = OutboxRow(d, owner, lease_until)
                claimed.append(d)
        return claimed

    def record(self, owner: str, outcome: Recorded) -> bool:
        key = (outcome.event_seq, outcome.receiver)
        row = self._rows().get(key)
        if row is None or row.delivery.status not in OPEN:
            return False
        if outcome.status is not DeliveryStatus.DELIVERED and row.lease_owner != owner:
            return False
        d = row.delivery
        self.writes[key] = OutboxRow(
            replace(
                d,
                status=outcome.status,
                attempts=outcome.attempts,
                last_error=outcome.last_error[:500],
                next_attempt_at=outcome.next_attempt_at or d.next_attempt_at,
                delivered_at=outcome.delivered_at or d.delivered_at,
            )
        )
        return True

    def redrive(self, event_seq: int, receiver: str, now: datetime) -> bool:
        key = (event_seq, receiver)
        row = self._rows().get(key)
        if row is None or row.delivery.status is not DeliveryStatus.DEAD:
            return False
        self.writes[key] = OutboxRow(
            replace(row.delivery, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now)
        )
        return True

    def get(self, event_seq: int, receiver: str) -> Delivery | None:
        row = self._rows().get((event_seq, receiver))
        return None if row is None else row.delivery

    def listing(self, status: DeliveryStatus | None, limit: int, offset: int = 0) -> list[Delivery]:
        rows = sorted(self._rows().items(), key=lambda kv: (-kv[0][0], kv[0][1]))
        found = [r.delivery for _, r in rows if status in (None, r.delivery.status)]
        return found[offset : offset + limit]

    def counts(self) -> dict[str, int]:
        return dict(Counter(r.delivery.status.value for r in self._rows().values()))

    def sent_messages(self, limit: int, offset: int = 0) -> list[SentMessage]:
        self.uow._require_open()
        by_id = sorted(self.uow.store.sent, key=lambda m: m.message_id)
        newest = sorted(by_id, key=lambda m: m.sent_at, reverse=True)
        return newest[offset : offset + limit]

    def sent_count(self) -> int:
        self.uow._require_open()
        return len(self.uow.store.sent)

    def publish(self) -> None:
        self.uow.store.published.update(self.published)
        self.uow.store.deliveries.update(self.writes)
        self.discard()

    def discard(self) -> None:
        self.published.clear()
        self.writes.clear()


# --- the unit of work -------------------------------------------------------------------------


class FakeWaveHistory:
    """The return wave's grouped counts, counted over the fake's orders, returns and
    counters (adapters/db/wave.py groups them in SQL)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def signed(self, first: date, last: date) -> dict[tuple[str, date], int]:
        found: Counter[tuple[str, date]] = Counter()
        for o in self.uow.orders.list():
            if o.signed_at is not None and first <= local(o.signed_at).date() <= last:
                found[o.shipping_address.adcode, local(o.signed_at).date()] += 1
        return dict(found)

    def return_lags(self, first: date, last: date) -> dict[tuple[str, int], int]:
        orders = {o.order_id: o for o in self.uow.orders.list()}
        found: Counter[tuple[str, int]] = Counter()
        for r in self.uow.returns._all():
            o = orders.get(r.order_id)
            if o is None or o.signed_at is None:
                continue
            signed = local(o.signed_at).date()
            if first <= signed <= last:
                found[o.shipping_address.adcode, (local(r.created_at).date() - signed).days] += 1
        return dict(found)

    def opened(self, first: date, last: date) -> dict[tuple[str, date], int]:
        orders = {o.order_id: o for o in self.uow.orders.list()}
        found: Counter[tuple[str, date]] = Counter()
        for r in self.uow.returns._all():
            day = local(r.created_at).date()
            if (o := orders.get(r.order_id)) and first <= day <= last:
                found[o.shipping_address.adcode, day] += 1
        return dict(found)

    def booking_leads(self, first: date, last: date) -> dict[int, int]:
        found: Counter[int] = Counter()
        for r in self.uow.returns._all():
            opened = local(r.created_at).date()
            if r.appointment_id is None or not first <= opened <= last:
                continue
            if (a := self.uow.appointments.get(r.appointment_id)) is not None:
                found[(a.slot.day - opened).days] += 1
        return dict(found)

    def booked(self, first: date, last: date) -> dict[tuple[str, str, str], int]:
        self.uow._require_open()
        merged = {**self.uow.store.slots, **self.uow.slots.rows}
        found: Counter[tuple[str, str, str]] = Counter()
        for (a, c, d, start), load in merged.items():
            if first <= d <= last:
                found[a, c, start] += load.booked
        return dict(found)


class FakeUnitOfWork:
    """Rolls back unless committed; ``commit`` first writes every tracked aggregate's events."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._open = False
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        self._open = True
        self._tracker = Tracker()
        self._tables = {name: _TxTable(self.store, name, self) for name in TABLES}
        t = self._tables
        self.products: FakeDocRepository[Product] = FakeDocRepository(t["products"], _sku)
        self.buyers: FakeDocRepository[Buyer] = FakeDocRepository(t["buyers"], _buyer_id)
        self.orders = FakeOrderRepository(t["orders"])
        self.areas: FakeDocRepository[ServiceArea] = FakeDocRepository(t["areas"], _adcode)
        self.templates: FakeDocRepository[SlotTemplate] = FakeDocRepository(
            t["templates"], _template_id
        )
        self.carriers: FakeDocRepository[Carrier] = FakeDocRepository(t["carriers"], _carrier_id)
        self.couriers: FakeDocRepository[Courier] = FakeDocRepository(t["couriers"], _courier_id)
        self.policies = FakePolicyRepository(t["policies"])
        self.returns = FakeReturnRepository(t["returns"], self._tracker)
        self.appointments = FakeAppointmentRepository(t["appointments"], self._tracker)
        self.routes = FakeRouteRepository(t["routes"], self._tracker, t["couriers"])
        self.slots = FakeSlotCapacityRepository(self)
        self.refunds = FakeRefundRepository(t["refunds"], self._tracker, t["refund_waits"])
        self.users = FakeUserRepository(t["users"], t["revoked_tokens"])
        self.photos = FakePhotoRepository(t["photos"])
        self.events = FakeEventLog(self)
        self.disruptions = FakeDisruptionRepository(t["disruptions"], self._tracker)
        # Imported here: fakes_money builds on this module's classes.
        from tests.unit.services.fakes_money import (
            FakeClaimRepository,
            FakeDisputeRepository,
            FakeHistoryRepository,
            FakeLedgerRepository,
            FakeTransferRepository,
        )

        self.transfers = FakeTransferRepository(t["transfers"], self._tracker)
        self.disputes = FakeDisputeRepository(t["disputes"], self._tracker)
        self.claims = FakeClaimRepository(t["claims"], self._tracker)
        self.ledger = FakeLedgerRepository(t["ledger"])
        self.histories = FakeHistoryRepository(self)
        self.outbox = FakeOutbox(self)
        from tests.unit.services import fakes_after_sales  # type: ignore[import-not-found]

        fakes_after_sales.attach(self, t, self._tracker)
        self.pickup_orders = FakePickupOrderRepository(t["pickup_orders"], self._tracker)
        self.carrier_inbox = FakeCarrierInbox(t["carrier_inbox"])
        self.retention = FakeRetention(self)
        self.wave = FakeWaveHistory(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._discard()
        finally:
            self._open = False

    def _require_open(self) -> None:
        if not self._open:
            raise ClosedUnitOfWork("the unit of work is closed")

    def commit(self) -> None:
        self._require_open()
        for aggregate in self._tracker.seen:
            self.events.append(aggregate.take_events())
        try:
            for table in self._tables.values():
                table.validate()
            slots = dict(self.store.slots)
            for op, key, value in self.slots.ops:
                changed = apply_slot_op(slots, slots, op, key, value)
                if op == "take" and not changed:
                    # Someone else took the last unit after this one did; in SQL the second
                    # UPDATE would have waited and found the slot full.
                    raise _stale()
        except Exception:
            self._discard()
            raise
        for table in self._tables.values():
            table.publish()
        self.store.slots = slots
        self.store.events.extend(self.events.pending)
        self.outbox.publish()
        self.store.commits += 1
        self.committed = True
        self._discard()

    def rollback(self) -> None:
        self._require_open()
        self._discard()

    def _discard(self) -> None:
        for table in getattr(self, "_tables", {}).values():
            table.writes.clear()
        if hasattr(self, "slots"):
            self.slots.rows.clear()
            self.slots.ops.clear()
        if hasattr(self, "events"):
            self.events.pending.clear()
        if hasattr(self, "outbox"):
            self.outbox.discard()


def _sku(p: Product) -> str:
    return p.sku


def _buyer_id(b: Buyer) -> str:
    return b.buyer_id


def _adcode(a: ServiceArea) -> str:
    return a.adcode


def _template_id(t: SlotTemplate) -> str:
    return t.template_id


def _carrier_id(c: Carrier) -> str:
    return c.carrier_id


def _courier_id(c: Courier) -> str:
    return c.courier_id


# --- the other ports --------------------------------------------------------------------------


class FakeMessenger:
    """Texts and e-mails kept in the store, a repeated message id kept once (as the sink)."""

    def __init__(self, store: FakeStore, clock: FixedClock) -> None:
        self.store, self.clock = store, clock
        self.down = False

    def send_sms(self, message_id: str, phone: str, text: str) -> SendResult:
        return self._keep(message_id, "sms", phone, "", text)

    def send_email(self, message_id: str, address: str, subject: str, text: str) -> SendResult:
        return self._keep(message_id, "email", address, subject, text)

    def _keep(self, mid: str, channel: str, to: str, subject: str, body: str) -> SendResult:
        if self.down:
            return SendResult(False, "gateway down")
        if all(m.message_id != mid for m in self.store.sent):
            self.store.sent.append(SentMessage(mid, channel, to, subject, body, self.clock.now()))
        return SendResult(True)


class CountingIds:
    """``R-000001``, ``A-000002``, …: one counter for all prefixes, so ids never clash."""

    def __init__(self) -> None:
        self.n = 0

    def new(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n:06d}"


@dataclass(frozen=True)
class PaymentCall:
    idempotency_key: str
    buyer_id: str
    amount_fen: int
    reference: str


@dataclass
class FakePayments:
    """A provider that honours idempotency keys: one key is paid once, whatever is retried.

    ``timeouts`` makes the next so many calls time out (retryable, nothing paid);
    ``lose_answers`` makes them time out *after* paying, as a real network loss would.
    ``decline`` makes the next call fail for good (not retryable).
    """

    timeouts: int = 0
    lose_answers: int = 0
    decline: int = 0
    calls: list[PaymentCall] = field(default_factory=list)
    paid: dict[str, tuple[str, int]] = field(default_factory=dict)
    clawed: dict[str, tuple[str, int]] = field(default_factory=dict)
    collected: dict[str, tuple[str, int]] = field(default_factory=dict)

    def refund(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        return self._move(self.paid, "PAY", idempotency_key, buyer_id, amount_fen, reference)

    def clawback(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        return self._move(self.clawed, "CLW", idempotency_key, buyer_id, amount_fen, reference)

    def _move(
        self,
        book: dict[str, tuple[str, int]],
        prefix: str,
        idempotency_key: str,
        buyer_id: str,
        amount_fen: int,
        reference: str,
    ) -> PaymentResult:
        self.calls.append(PaymentCall(idempotency_key, buyer_id, amount_fen, reference))
        if self.timeouts > 0:
            self.timeouts -= 1
            return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")
        if self.decline > 0:
            self.decline -= 1
            return PaymentResult("", succeeded=False, retryable=False, reason="account_closed")
        if idempotency_key not in book:
            book[idempotency_key] = (f"{prefix}{len(book) + 1:06d}", amount_fen)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")
        return PaymentResult(book[idempotency_key][0], succeeded=True)

    def collect(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        """Charges (an exchange's difference): the same fault switches, their own ledger."""
        return self._move(self.collected, "COL", idempotency_key, buyer_id, amount_fen, reference)

    def calls_for(self, idempotency_key: str) -> list[PaymentCall]:
        return [c for c in self.calls if c.idempotency_key == idempotency_key]

    @property
    def total_paid_fen(self) -> int:
        return sum(amount for _ref, amount in self.paid.values())


@dataclass(frozen=True)
class FakeCleanImage:
    content: bytes
    media_type: str
    width: int
    height: int
    sha256: str


class FakeImageCleaner:
    """Accepts anything but the empty upload; returns the same small clean JPEG stand-in."""

    def __call__(self, data: bytes) -> FakeCleanImage:
        if not data:
            raise InvalidInput("image_empty", "The upload is empty.", "上传内容为空。")
        content = b"clean:" + hashlib.sha256(data).digest()[:8]
        return FakeCleanImage(content, "image/jpeg", 4, 3, hashlib.sha256(content).hexdigest())


class PlainPasswords:
    def __init__(self) -> None:
        self.hashed = 0

    def hash(self, plain: str) -> str:
        self.hashed += 1
        return "h:" + plain

    def verify(self, plain: str, hashed: str) -> bool:
        return hashed == "h:" + plain

    def needs_rehash(self, hashed: str) -> bool:
        return not hashed.startswith("h:")


@dataclass(frozen=True)
class FakeClaims:
    subject: str
    role: str
    actor_id: str
    token_id: str
    generation: int
    expires_at: datetime


class FakeTokens:
    """Tokens are ``token:<n>``; the claims of each are kept here, none ever expires."""

    def __init__(self) -> None:
        self.issued: list[tuple[str, str, str]] = []
        self.claims: dict[str, FakeClaims] = {}

    def issue(self, subject: str, role: str, *, actor_id: str, generation: int = 0) -> str:
        self.issued.append((subject, role, actor_id))
        token = f"token:{len(self.claims) + 1}"
        self.claims[token] = FakeClaims(
            subject, role, actor_id, token, generation, datetime(2099, 1, 1, tzinfo=UTC)
        )
        return token

    def verify(self, token: str) -> FakeClaims:
        if token not in self.claims:
            raise Unauthorized("token_invalid", "Invalid token.", "访问令牌无效。")
        return self.claims[token]


class FakeThrottle:
    """Counts without a clock: ``limits`` maps a rule to the attempts it admits (default 5);
    ``wait_s`` is what every refusal reports. ``pass_time()`` forgets all counts."""

    def __init__(self, limits: dict[str, int] | None = None, wait_s: int = 60) -> None:
        self.limits = dict(limits or {})
        self.wait_s = wait_s
        self.counts: dict[tuple[str, str], int] = {}
        self.memory: set[tuple[str, str]] = set()

    def _limit(self, rule: str) -> int:
        return self.limits.get(rule, 5)

    def check(self, rule: str, key: str) -> int | None:
        return self.wait_s if self.counts.get((rule, key), 0) >= self._limit(rule) else None

    def hit(self, rule: str, key: str) -> int | None:
        if self.check(rule, key) is not None:
            return self.wait_s
        self.counts[rule, key] = self.counts.get((rule, key), 0) + 1
        return None

    def clear(self, rule: str, key: str) -> None:
        self.counts.pop((rule, key), None)

    def remember(self, rule: str, key: str) -> None:
        self.memory.add((rule, key))

    def remembers(self, rule: str, key: str) -> bool:
        return (rule, key) in self.memory

    def forget_expired(self) -> int:
        return 0  # without a clock nothing expires (pass_time() forgets everything)

    def pass_time(self) -> None:
        self.counts.clear()


@dataclass
class FakeCalendar:
    """Every day a working day, except the holidays it is given."""

    holidays: dict[date, str] = field(default_factory=dict)

    def day(self, day: date) -> DayInfo:
        if day in self.holidays:
            return DayInfo(day, DayKind.HOLIDAY, self.holidays[day])
        return DayInfo(day, DayKind.WORKDAY)


@dataclass
class RecordingTelemetry:
    """Keeps every timing the services report."""

    planner_runs: list[float] = field(default_factory=list)

    def planner_run(self, seconds: float) -> None:
        self.planner_runs.append(seconds)


# --- wiring -----------------------------------------------------------------------------------


@dataclass
class World:
    """The services under test and handles on every fake behind them."""

    svc: Services
    store: FakeStore
    clock: FixedClock
    ids: CountingIds
    payments: FakePayments
    calendar: FakeCalendar
    tokens: FakeTokens
    data: DemoDataset | None = None

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)


def make_services(
    store: FakeStore,
    *,
    clock: FixedClock | None = None,
    ids: CountingIds | None = None,
    payments: FakePayments | None = None,
    calendar: FakeCalendar | None = None,
    tokens: FakeTokens | None = None,
    booking: BookingRules | None = None,
    refunds: RefundRules | None = None,
    throttle: FakeThrottle | None = None,
    telemetry: RecordingTelemetry | None = None,
) -> Services:
    """A real ``Services`` over the fakes (fixed-capacity offering, haversine travel)."""
    return Services(
        uow=lambda: FakeUnitOfWork(store),  # type: ignore[arg-type,return-value]
        clock=clock or FixedClock(T0),
        ids=ids or CountingIds(),
        payments=payments or FakePayments(),
        images=FakeImageCleaner(),
        passwords=PlainPasswords(),
        tokens=tokens or FakeTokens(),
        calendar=calendar or FakeCalendar(),
        throttle=throttle or FakeThrottle(),
        booking=booking or BookingRules(),
        refunds=refunds or RefundRules(),
        travel=HaversineTravel(),
        offering=FixedCapacityOffering(),
        telemetry=telemetry or RecordingTelemetry(),
    )


def make_world(now: datetime = T0, *, seed: bool = True, **overrides: Any) -> World:
    store = FakeStore()
    clock, ids, payments = FixedClock(now), CountingIds(), FakePayments()
    calendar, tokens = FakeCalendar(), FakeTokens()
    svc = make_services(
        store,
        clock=clock,
        ids=ids,
        payments=payments,
        calendar=calendar,
        tokens=tokens,
        **overrides,
    )
    world = World(svc, store, clock, ids, payments, calendar, tokens)
    if seed:
        world.data = seed_demo(store, now)
    return world


def seed_demo(store: FakeStore, now: datetime) -> DemoDataset:
    """Put the demo dataset straight into the committed store (users with plain hashes)."""
    data = demo_dataset(now)
    for p in data.products:
        store.put("products", p.sku, p)
    for b in data.buyers:
        store.put("buyers", b.buyer_id, b)
    for o in data.orders:
        store.put("orders", o.order_id, o)
    for a in data.areas:
        store.put("areas", a.adcode, a)
    for t in data.templates:
        store.put("templates", t.template_id, t)
    for c in data.carriers:
        store.put("carriers", c.carrier_id, c)
    for c in data.couriers:
        store.put("couriers", c.courier_id, c)
    for st in data.stations:
        store.put("stations", st.station_id, st)
    for w in data.warehouses:
        store.put("return_warehouses", w.warehouse_id, w)
    for level in data.stock:
        store.put("stock", level.sku, level)
    hasher = PlainPasswords()
    for u in data.users:
        user = StoredUser(
            f"u-{u.username}", u.username, hasher.hash(u.password), u.role.value, u.actor_id
        )
        store.put("users", user.user_id, user)
    return data


class FakeRetention:
    """The retention store over the fake tables: the same answers as adapters/db/retention.py
    for the aggregates (the copies in JSON it scrubs by value are the SQL store's to test)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def due(self, now: datetime, limit: int) -> list[str]:
        due = [
            (b.erase_due, b.buyer_id)
            for b in self.uow.buyers.list()
            if b.erase_due is not None and b.erase_due <= now
        ]
        return [buyer_id for _, buyer_id in sorted(due)[:limit]]

    def files_for_update(self, buyer_ids: Sequence[str]) -> list[Any]:
        from doorstep.services.ports import BuyerFile

        u = self.uow
        files = []
        for buyer in u.buyers.get_many(buyer_ids):
            bid = buyer.buyer_id
            requests = u.returns.for_buyer(bid)
            visits = [
                a
                for _, r in u._tables["appointments"].rows()
                if (a := r.item) is not _DELETED and a.buyer_id == bid
            ]
            visits = [u.appointments.get(a.appointment_id) for a in visits]
            files.append(
                BuyerFile(
                    buyer=buyer,
                    accounts=sum(
                        1
                        for _, r in u._tables["users"].rows()
                        if r.item is not _DELETED
                        and r.item.role == "buyer"
                        and r.item.actor_id == bid
                    ),
                    orders=u.orders.for_buyer(bid),
                    returns=requests,
                    refunds=u.refunds.for_returns([r.return_id for r in requests]),
                    appointments=visits,
                    pickup_orders=u.pickup_orders.for_appointments(
                        [a.appointment_id for a in visits]
                    ),
                    exchanges=u.exchanges.get_many(r.return_id for r in requests),
                    claims=u.claims.for_buyer(bid),
                    disputes=[
                        r.item for _, r in u._tables["disputes"].rows() if r.item.buyer_id == bid
                    ],
                    transfers=[
                        r.item
                        for _, r in u._tables["transfers"].rows()
                        if r.item is not _DELETED and r.item.buyer_id == bid
                    ],
                )
            )
        return files

    def store(self, files: Sequence[Any], erased: Any) -> None:
        u = self.uow
        for f in files:
            u.buyers.put(f.buyer)
            if f.buyer.buyer_id not in erased:
                continue
            for o in f.orders:
                u.orders.put(o)
            for r in f.returns:
                u.returns.save(r)
            for a in f.appointments:
                u.appointments.save(a)
            for p in f.pickup_orders:
                u.pickup_orders.save(p)
            for c in f.claims:
                u.claims.save(c)
            for d in f.disputes:
                u.disputes.save(d)

    def summary(self, now: datetime) -> Any:
        from doorstep.services.ports import RetentionSummary

        buyers = self.uow.buyers.list()
        upcoming = [b.erase_due for b in buyers if b.erase_due is not None and b.erase_due > now]
        return RetentionSummary(
            sum(1 for b in buyers if b.erase_due is not None and b.erase_due <= now),
            sum(1 for b in buyers if b.erased_at is not None),
            min(upcoming) if upcoming else None,
        )
