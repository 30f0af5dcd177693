"""The ports services depend on; adapters implement them, tests fake them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import TracebackType
from typing import Protocol, TypeVar

from doorstep.domain.carrier_order import Answered, CarrierUpdate, PickupOrder, UnifiedOrder
from doorstep.domain.catalog import Product
from doorstep.domain.claim import Claim, LedgerEntry
from doorstep.domain.coverage import ServiceArea, SlotTemplate
from doorstep.domain.dispute import Dispute
from doorstep.domain.disruption import Disruption
from doorstep.domain.events import Event
from doorstep.domain.exchange import Exchange
from doorstep.domain.fleet import Carrier, Courier
from doorstep.domain.order import Buyer, Order
from doorstep.domain.outbox import Delivery, DeliveryStatus, StoredEvent
from doorstep.domain.pickup import Appointment, SlotRef
from doorstep.domain.policy import Policy
from doorstep.domain.refund import Refund
from doorstep.domain.refund_lead_time import WaitCount
from doorstep.domain.retention import PersonalValues
from doorstep.domain.returns import ReturnRequest
from doorstep.domain.route import CourierRoute
from doorstep.domain.transfer import Transfer, TransferStatus
from doorstep.domain.trust import BuyerHistory
from doorstep.services.ports_after_sales import (
    CustomsRepository,
    ExchangeRepository,
    PlaceRepository,
    StockRepository,
)


class Clock(Protocol):
    def now(self) -> datetime: ...


class Ids(Protocol):
    def new(self, prefix: str) -> str: ...


@dataclass(frozen=True)
class StoredUser:
    user_id: str
    username: str
    password_hash: str
    role: str
    actor_id: str
    active: bool = True
    # Raised on password change, disabling and "sign out everywhere": tokens carry the value
    # they were issued under, and one from an older generation is refused.
    session_generation: int = 0


@dataclass(frozen=True)
class StoredPhoto:
    photo_id: str
    owner: str
    media_type: str
    sha256: str
    width: int
    height: int
    created_at: datetime
    content: bytes

    @property
    def erased(self) -> bool:
        """The image was erased (``PhotoRepository.erase``): a sanitised image is never
        empty, so no bytes is the mark, and the row needs no column of its own."""
        return not self.content


@dataclass(frozen=True)
class SlotLoad:
    """Capacity and bookings of one slot."""

    capacity: int
    booked: int

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.booked)


# A counter's key as stored: area, carrier, day and window start.
CounterKey = tuple[str, str, date, time]

K = TypeVar("K", contravariant=True)
V = TypeVar("V")


class KeyedRepository(Protocol[K, V]):
    def get(self, key: K) -> V | None: ...
    def get_many(self, keys: Iterable[K]) -> list[V]:
        """The items of ``keys`` that exist, in one read."""
        ...

    def put(self, item: V) -> None: ...
    def list(self) -> list[V]: ...


class LockableRepository(KeyedRepository[K, V], Protocol[K, V]):
    def get_for_update(self, key: K) -> V | None:
        """The item, locked until commit: writers that derive state from it go one at a time."""
        ...

    def get_many_for_update(self, keys: Iterable[K]) -> list[V]:
        """The items of ``keys`` that exist, locked in key order (as one-by-one lockers
        take them, so the two never wait on each other), in one read."""
        ...


class FleetRepository(LockableRepository[str, Courier], Protocol):
    def remove(self, courier_id: str) -> None:
        """Take the courier out of the fleet (their last account was deleted)."""
        ...


class ShareableRepository(KeyedRepository[K, V], Protocol[K, V]):
    def get_for_share(self, key: K) -> V | None:
        """The item, kept from change until commit (readers do not block each other): a
        booking that counts against an area's figure commits before the area (or a template
        it runs) changes, or reads the changed one."""
        ...

    def get_many_for_share(self, keys: Iterable[K]) -> list[V]:
        """The items of ``keys`` that exist, each kept from change until commit, in key
        order and one read."""
        ...


class GuardedRepository(LockableRepository[K, V], ShareableRepository[K, V], Protocol[K, V]):
    """Locked by writers that derive state from an item, shared by those that read it."""


class OrderRepository(Protocol):
    def get(self, order_id: str) -> Order | None: ...
    def get_many(self, order_ids: Iterable[str]) -> list[Order]:
        """The orders of ``order_ids`` that exist, in one read."""
        ...

    def get_for_update(self, order_id: str) -> Order | None:
        """The order, locked until commit: claims on its lines are counted one at a time."""
        ...

    def put(self, order: Order) -> None: ...
    def for_buyer(self, buyer_id: str) -> list[Order]: ...


class ReturnRepository(Protocol):
    def get(self, return_id: str) -> ReturnRequest | None: ...
    def get_many(self, return_ids: Iterable[str]) -> list[ReturnRequest]:
        """The returns of ``return_ids`` that exist, in one read."""
        ...

    def get_for_update(self, return_id: str) -> ReturnRequest | None:
        """The return, locked until commit (starting its refund happens once)."""
        ...

    def get_many_for_update(self, return_ids: Iterable[str]) -> list[ReturnRequest]:
        """The returns that exist, locked until commit in key order (one statement)."""
        ...

    def add(self, request: ReturnRequest) -> None: ...
    def status_counts_for_buyers(self, buyer_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """Buyer id → return status → how many of the buyer's returns are in it, in one read
        (the review queue shows each held buyer's history)."""
        ...

    def save(self, request: ReturnRequest) -> None: ...
    def for_buyer(self, buyer_id: str) -> list[ReturnRequest]: ...
    def for_order(self, order_id: str) -> list[ReturnRequest]: ...
    def with_status(self, status: str, limit: int = 100) -> list[ReturnRequest]: ...
    def owed_before(
        self, cutoff: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[ReturnRequest]:
        """Returns still owing a standard refund whose parcel was received before ``cutoff``,
        oldest receipt first (then by id), after the key (received_at, return_id) ``after``;
        at most ``limit``: one indexed read, whatever the number owed."""
        ...

    def count_owed_before(self, cutoff: datetime) -> int:
        """How many returns ``owed_before`` would find in all (one count)."""
        ...

    def express_owed(self, limit: int) -> list[str]:
        """Ids of returns still waiting for their express-refund decision
        (``ReturnRequest.express_owed_since``), longest waiting first; at most ``limit``: one
        indexed read, whatever the number of returns."""
        ...

    def status_counts(self) -> dict[str, int]:
        """How many returns are in each status (one grouped count)."""
        ...

    def by_waybill(self, waybill_no: str) -> list[ReturnRequest]:
        """The returns that left the door under this waybill (one visit may send several)."""
        ...

    def by_dropoff_code(self, code: str, *, lock: bool = False) -> ReturnRequest | None:
        """The return whose drop-off code is ``code`` (codes are unique), locked until
        commit with ``lock`` (a station redeems it once)."""
        ...


class AppointmentRepository(Protocol):
    def get(self, appointment_id: str) -> Appointment | None: ...
    def add(self, appointment: Appointment) -> None: ...
    def save(self, appointment: Appointment) -> None: ...
    def active_for_buyer(
        self, buyer_id: str, adcode: str | None = None, from_day: date | None = None
    ) -> list[Appointment]: ...
    def for_courier(self, courier_id: str, day: date) -> list[Appointment]: ...
    def open_for_courier(self, courier_id: str) -> list[Appointment]:
        """Every visit of the courier not yet made or failed (booked, assigned, arrived)."""
        ...

    def for_area_day(self, adcode: str, day: date) -> list[Appointment]: ...
    def for_carrier_day(self, carrier_id: str, day: date) -> list[Appointment]: ...
    def busy_carrier_days(self, days: Sequence[date]) -> set[tuple[str, date]]: ...
    def astray_carrier_days(
        self, days: Sequence[date], now: datetime | None = None
    ) -> dict[tuple[str, date], bool]:
        """Every (carrier, day) among ``days`` with an open visit, mapped to whether one of
        its open visits is off every route (no courier, or ``unserved_reason`` set; visits
        the company serves itself left out; with ``now``, those of ``now``'s day whose window
        has closed too). One statement, whatever the number of days."""
        ...

    def reviews_due(self, now: datetime, limit: int) -> list[Appointment]:
        """Contactless pickups still unanswered at ``now`` past their limit, oldest first."""
        ...

    def disputed_reviews(self, limit: int) -> list[Appointment]:
        """Disputed contactless pickups waiting for ops, oldest first."""
        ...


class RouteRepository(Protocol):
    """Courier day-routes: many read at once, one locked to change it."""

    written: set[str]
    """Ids of the routes this unit of work created or changed, not committed yet."""

    def versions(self, carrier_id: str, days: Sequence[date]) -> dict[str, int]: ...
    def get_many(self, route_ids: Iterable[str]) -> list[CourierRoute]: ...
    def get(self, courier_id: str, day: date) -> CourierRoute | None: ...
    def get_in_fleet(self, courier_id: str, day: date) -> CourierRoute | None:
        """The route, or None when it or its courier's fleet entry is gone (one read, so a
        move that re-reads a changed route also learns whether the courier left)."""
        ...

    def for_carrier_day(self, carrier_id: str, day: date) -> list[CourierRoute]: ...
    def lock(self, courier_id: str, carrier_id: str, day: date) -> int: ...
    def save(self, route: CourierRoute) -> None: ...
    def track(self, route: CourierRoute) -> None: ...


class PolicyRepository(Protocol):
    def current(self) -> Policy | None: ...
    def get(self, version: int) -> Policy | None: ...
    def add(self, policy: Policy) -> None: ...
    def history(self) -> list[Policy]: ...


class SlotCapacityRepository(Protocol):
    def loads(self, slots: Sequence[SlotRef], default_capacity: int) -> dict[SlotRef, SlotLoad]: ...
    def take(self, slot: SlotRef, default_capacity: int) -> bool: ...
    def take_over(self, slot: SlotRef, default_capacity: int) -> SlotLoad:
        """Count one more visit even past capacity (a company's fact); the load after it."""
        ...

    def release(self, slot: SlotRef) -> None: ...
    def load_for_update(self, slot: SlotRef) -> SlotLoad | None:
        """The window's counter (None if it has none), locked until commit."""
        ...

    def set_capacity(self, slot: SlotRef, capacity: int) -> None: ...
    def counted_for_update(
        self, adcodes: Sequence[str], first_day: date
    ) -> list[tuple[CounterKey, SlotLoad]]:
        """Every counter of these areas from ``first_day`` on, locked until commit, in key
        order; one read."""
        ...

    def set_capacities(self, changes: Sequence[tuple[SlotRef, int]]) -> None:
        """Give existing counters new capacities (bookings untouched), in one statement."""
        ...

    def over_capacity(
        self, after: tuple[date, time], limit: int
    ) -> list[tuple[CounterKey, SlotLoad]]:
        """The first ``limit`` counters holding more visits than their capacity whose window
        starts after ``after`` (Shanghai day, wall time), soonest first; one indexed read."""
        ...

    def count_over_capacity(self, after: tuple[date, time]) -> int:
        """How many counters ``over_capacity`` would list without a limit; one indexed read."""
        ...


class RefundRepository(Protocol):
    def get(self, refund_id: str) -> Refund | None: ...
    def get_for_update(self, refund_id: str) -> Refund | None:
        """The refund, locked until commit (settling a provider answer happens once)."""
        ...

    def by_key(self, idempotency_key: str) -> Refund | None: ...
    def add(self, refund: Refund) -> None: ...
    def save(self, refund: Refund) -> None: ...
    def pending(self) -> list[Refund]: ...
    def count_waits(self, counts: Sequence[WaitCount]) -> None:
        """Add a refund's waits to the tally, in the transaction that settles it."""
        ...

    def waits(self, first: date, last: date) -> list[WaitCount]:
        """The tally of waits of the refunds paid from Shanghai day ``first`` to ``last``,
        per (day, kind, measure, bucket), summed over its shards."""
        ...

    def for_returns(self, return_ids: Sequence[str]) -> list[Refund]:
        """The refunds of these returns, in one read."""
        ...


class TransferRepository(Protocol):
    """Transfers (exchange differences, customs tax, clawbacks, claim compensations); the
    idempotency key is unique."""

    def get(self, transfer_id: str) -> Transfer | None: ...
    def get_for_update(self, transfer_id: str) -> Transfer | None: ...
    def by_key(self, idempotency_key: str) -> Transfer | None: ...
    def add(self, transfer: Transfer) -> None: ...
    def save(self, transfer: Transfer) -> None: ...
    def pending(self, limit: int = 200) -> list[Transfer]: ...
    def for_subjects(self, subject_ids: Sequence[str]) -> list[Transfer]: ...
    def unsettled_payouts(self, buyer_id: str, limit: int) -> list[Transfer]:
        """Payments to the buyer (not collections) pending or failed, oldest first."""
        ...

    def in_status(self, status: TransferStatus, limit: int, offset: int = 0) -> list[Transfer]:
        """Transfers in ``status``, oldest first (ties by id), ``limit`` from ``offset``."""
        ...

    def counts(self) -> dict[str, int]:
        """How many transfers are in each status (statuses with none are left out)."""
        ...


class DisputeRepository(Protocol):
    def get(self, dispute_id: str) -> Dispute | None: ...
    def get_for_update(self, dispute_id: str) -> Dispute | None: ...
    def add(self, dispute: Dispute) -> None: ...
    def save(self, dispute: Dispute) -> None: ...
    def queue(self, limit: int = 100, offset: int = 0) -> list[Dispute]:
        """Open disputes, oldest answer time first, from the ``offset``-th on."""
        ...

    def open_count(self) -> int:
        """How many disputes are open."""
        ...


class ClaimRepository(Protocol):
    def get(self, claim_id: str) -> Claim | None: ...
    def get_for_update(self, claim_id: str) -> Claim | None: ...
    def by_dedupe(self, dedupe_key: str) -> Claim | None: ...
    def add(self, claim: Claim) -> None: ...
    def save(self, claim: Claim) -> None: ...
    def queue(self, statuses: Sequence[str], limit: int = 100, offset: int = 0) -> list[Claim]:
        """Claims in ``statuses``, oldest first, from the ``offset``-th on."""
        ...

    def count_in(self, statuses: Sequence[str]) -> int:
        """How many claims are in ``statuses``."""
        ...

    def lapsing(self, now: datetime, limit: int = 200) -> list[str]:
        """Ids of claims still awaiting a merchant whose answer time is over."""
        ...

    def approved(self, limit: int = 200) -> list[str]:
        """Ids of approved claims whose compensation has not been settled yet."""
        ...

    def for_buyer(self, buyer_id: str, limit: int = 100) -> list[Claim]: ...
    def for_order(self, order_id: str) -> list[Claim]:
        """Every claim on the order, whatever its kind and status."""
        ...


class LedgerRepository(Protocol):
    """Per carrier settlement: at most one entry per claim (a unique key)."""

    def charge(self, entry: LedgerEntry) -> bool:
        """Insert the entry; False (nothing written) when its claim is already charged."""
        ...

    def for_carrier(self, carrier_id: str, limit: int = 200) -> list[LedgerEntry]: ...
    def totals(self) -> dict[str, tuple[int, int]]:
        """Per carrier: what it is charged, and the loss above that doorstep bore."""
        ...


class HistoryRepository(Protocol):
    def of_buyer(self, buyer_id: str) -> BuyerHistory:
        """The buyer's outcomes, counted in a fixed number of queries."""
        ...


class UserRepository(Protocol):
    def by_username(self, username: str) -> StoredUser | None: ...
    def get(self, user_id: str) -> StoredUser | None: ...
    def get_for_update(self, user_id: str) -> StoredUser | None:
        """The account, locked until commit (changes to one account go one at a time)."""
        ...

    def add(self, user: StoredUser) -> None: ...
    def remove(self, user_id: str) -> None: ...
    def acting_as_for_update(self, role: str, actor_id: str) -> list[StoredUser]:
        """Every account acting as this party, locked in user id order (so two deletions
        of accounts of one party go one after the other and see each other's)."""
        ...

    def session(self, user_id: str, token_id: str) -> tuple[StoredUser, bool] | None:
        """The user and whether this token was revoked (one cheap read per request)."""
        ...

    def revoke(self, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
        """Refuse this token from now on; revocations of expired tokens may be forgotten."""
        ...


class PhotoRepository(Protocol):
    def get(self, photo_id: str) -> StoredPhoto | None: ...
    def add(self, photo: StoredPhoto) -> None: ...

    def erase(
        self,
        photo_ids: Collection[str],
        *,
        owners: Collection[str] = (),
        keep: Collection[str] = (),
    ) -> None:
        """Delete the images of ``photo_ids`` and of every photo ``owners`` uploaded but
        those in ``keep``, in one write whatever their number; each row stays (id, owner,
        digest, size, date) for the records that name it, its image gone
        (``StoredPhoto.erased``)."""
        ...


class EventLog(Protocol):
    def append(self, events: Iterable[Event]) -> None:
        """Store the events and add what they count to the day-by-day figures."""
        ...

    def for_aggregates(self, ids: Sequence[str]) -> list[Event]: ...
    def first_at(self, aggregate_id: str, name: str) -> datetime | None:
        """When the first event ``name`` of this aggregate happened (None: never)."""
        ...

    def count_named(self, names: Sequence[str]) -> dict[str, int]: ...
    def daily(self, figure: str, first: date, last: date) -> dict[tuple[date, str], int]:
        """A figure's counts (domain/figures.py) per (day, key), ``first`` to ``last``."""
        ...

    def totals(self, figure: str) -> dict[str, int]:
        """A figure's counts per key over every day."""
        ...


class DisruptionRepository(Protocol):
    def get(self, disruption_id: str) -> Disruption | None: ...
    def put(self, disruption: Disruption) -> None: ...
    def overlapping(self, start: datetime, end: datetime) -> list[Disruption]: ...
    def recent(self, limit: int = 50) -> list[Disruption]: ...


@dataclass(frozen=True)
class SentMessage:
    """A text or e-mail as the development sink kept it (what the ops console lists)."""

    message_id: str
    channel: str
    recipient: str
    subject: str
    body: str
    sent_at: datetime


@dataclass(frozen=True)
class Recorded:
    """A delivery attempt's outcome to store; ``next_attempt_at`` None with a failure means
    dead-lettered."""

    event_seq: int
    receiver: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = None
    last_error: str = ""
    delivered_at: datetime | None = None


class OutboxStore(Protocol):
    """The outbox's tables: events waiting to be fanned out and deliveries per receiver.

    Several dispatchers may run at once; the claiming methods make sure each row is worked
    by one of them at a time.
    """

    def take_unpublished(self, limit: int) -> list[StoredEvent] | None:
        """Up to ``limit`` events not fanned out yet, oldest first, held by this transaction;
        None when another dispatcher is fanning out right now (so order is kept)."""
        ...

    def mark_published(self, seqs: Sequence[int], at: datetime) -> None: ...
    def return_parties(self, return_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """``return_id -> (buyer_id, shop_id)`` for the returns that exist, in one read."""
        ...

    def appointment_parties(
        self, appointment_ids: Iterable[str]
    ) -> dict[str, tuple[str, list[str]]]:
        """``appointment_id -> (buyer_id, return_ids)``, in one read."""
        ...

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> None: ...
    def claim_due(
        self, now: datetime, limit: int, owner: str, lease_until: datetime
    ) -> list[Delivery]:
        """Up to ``limit`` deliveries due at ``now`` that are first in line for their
        receiver and order key (no earlier one pending or retrying), leased to ``owner``."""
        ...

    def record(self, owner: str, outcome: Recorded) -> bool:
        """Store an attempt's outcome; a failure only while ``owner`` still holds the lease,
        a success whenever the delivery is still open. False when nothing changed."""
        ...

    def redrive(self, event_seq: int, receiver: str, now: datetime) -> bool:
        """A dead delivery goes back to pending with its tries counted afresh."""
        ...

    def get(self, event_seq: int, receiver: str) -> Delivery | None: ...
    def listing(self, status: DeliveryStatus | None, limit: int, offset: int = 0) -> list[Delivery]:
        """The newest deliveries (of one status), newest first, ``limit`` from ``offset``."""
        ...

    def counts(self) -> dict[str, int]:
        """How many deliveries are in each status."""
        ...

    def sent_messages(self, limit: int, offset: int = 0) -> list[SentMessage]:
        """The newest messages the development sink kept, ``limit`` from ``offset``."""
        ...

    def sent_count(self) -> int:
        """How many messages the development sink kept."""
        ...


class PickupOrderRepository(Protocol):
    """Pickup orders placed with courier companies (domain/carrier_order.py)."""

    def get(self, out_order_no: str) -> PickupOrder | None: ...
    def get_for_update(self, out_order_no: str) -> PickupOrder | None:
        """The order, locked until commit: company events for it are applied one at a time."""
        ...

    def for_appointments(self, appointment_ids: Sequence[str]) -> list[PickupOrder]: ...
    def add(self, order: PickupOrder) -> None: ...
    def save(self, order: PickupOrder) -> None: ...
    def due_to_send(self, now: datetime, limit: int) -> list[str]:
        """Orders with a create, cancel or reschedule to (re)send by ``now``."""
        ...

    def quiet(self, heard_before: datetime, limit: int) -> list[str]:
        """Open orders (and cancelled ones whose cancel the company refused) not heard of
        since ``heard_before``: the worker asks the company."""
        ...

    def awaiting_ops(self, limit: int) -> list[PickupOrder]:
        """Orders whose overtaking pickup left returns for ops (``PickupOrder.awaits_ops``),
        longest waiting first; one indexed read."""
        ...

    def count_awaiting_ops(self) -> int:
        """How many orders ``awaiting_ops`` would list without a limit."""
        ...


class CarrierInbox(Protocol):
    """Company events already taken, by (carrier, event id)."""

    def take(
        self, carrier_id: str, event_id: str, out_order_no: str, kind: str, at: datetime
    ) -> bool:
        """Note the event; False when it was taken before (a duplicate)."""
        ...


@dataclass
class BuyerFile:
    """Everything of one departed buyer that the retention sweep weighs and erases, read for
    many buyers at once (``RetentionStore.files_for_update``)."""

    buyer: Buyer
    accounts: int  # accounts acting as this buyer now
    orders: list[Order]
    returns: list[ReturnRequest]
    refunds: list[Refund]
    appointments: list[Appointment]
    pickup_orders: list[PickupOrder]
    exchanges: list[Exchange]
    claims: list[Claim]
    disputes: list[Dispute]
    transfers: list[Transfer]


@dataclass(frozen=True)
class RetentionSummary:
    """The ops view of retention: buyers due now, erased so far, the next due moment."""

    due: int
    erased: int
    next_due: datetime | None


class RetentionStore(Protocol):
    """Departed buyers' records: found by when they are due, read and erased in batches
    (one statement per table, whatever the batch holds)."""

    def due(self, now: datetime, limit: int) -> list[str]:
        """Buyer ids whose ``erase_due`` has come, soonest first (one indexed read)."""
        ...

    def files_for_update(self, buyer_ids: Sequence[str]) -> list[BuyerFile]:
        """The files of these buyers, each buyer row locked (in id order) until commit."""
        ...

    def store(self, files: Sequence[BuyerFile], erased: Mapping[str, PersonalValues]) -> None:
        """Write every file's buyer record; for the buyers in ``erased`` also their orders,
        returns, visits, pickup orders, claims and disputes as they are now, and their personal values
        replaced in the copies kept as JSON or text: event payloads, deliveries to them,
        messages sent to them, the courier companies' exchanges about their parcels."""
        ...

    def summary(self, now: datetime) -> RetentionSummary: ...


class WaveHistory(Protocol):
    """Grouped counts the return wave learns from and forecasts with (domain/return_wave.py):
    one statement each, whatever the number of orders and returns. Days are Shanghai days,
    ``first`` to ``last`` inclusive; a district is the order's shipping address's."""

    def signed(self, first: date, last: date) -> dict[tuple[str, date], int]:
        """Orders signed for per (district, day)."""
        ...

    def return_lags(self, first: date, last: date) -> dict[tuple[str, int], int]:
        """Requests per (district, days from signing to the request) of the orders signed
        ``first`` to ``last``."""
        ...

    def opened(self, first: date, last: date) -> dict[tuple[str, date], int]:
        """Requests opened per district and Shanghai day from ``first`` to ``last``."""
        ...

    def booking_leads(self, first: date, last: date) -> dict[int, int]:
        """Requests opened ``first`` to ``last`` that are booked on a pickup, per days from
        the request's day to the day of the window it is booked on."""
        ...

    def booked(self, first: date, last: date) -> dict[tuple[str, str, str], int]:
        """Visits the window counters hold per (district, carrier, start ``HH:MM``) over the
        days ``first`` to ``last``."""
        ...


class UnitOfWork(Protocol):
    """One transaction: nothing is kept unless ``commit`` is called."""

    products: KeyedRepository[str, Product]
    buyers: LockableRepository[str, Buyer]
    orders: OrderRepository
    areas: GuardedRepository[str, ServiceArea]
    templates: GuardedRepository[str, SlotTemplate]
    carriers: GuardedRepository[str, Carrier]
    couriers: FleetRepository
    policies: PolicyRepository
    returns: ReturnRepository
    appointments: AppointmentRepository
    routes: RouteRepository
    slots: SlotCapacityRepository
    refunds: RefundRepository
    users: UserRepository
    photos: PhotoRepository
    events: EventLog
    disruptions: DisruptionRepository
    transfers: TransferRepository
    disputes: DisputeRepository
    claims: ClaimRepository
    ledger: LedgerRepository
    histories: HistoryRepository
    outbox: OutboxStore
    # Exchanges, customs returns, drop-off and self-ship (issue 9 §6-8).
    stock: StockRepository
    exchanges: ExchangeRepository
    customs: CustomsRepository
    places: PlaceRepository
    pickup_orders: PickupOrderRepository
    carrier_inbox: CarrierInbox
    retention: RetentionStore
    wave: WaveHistory

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


@dataclass(frozen=True)
class PaymentResult:
    provider_ref: str
    succeeded: bool
    retryable: bool = False
    reason: str = ""


class PaymentGateway(Protocol):
    """Pays money back; the same ``idempotency_key`` must never pay twice."""

    def refund(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult: ...

    def clawback(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        """Take ``amount_fen`` back from the buyer (a negative adjustment), once per key.

        Raises nothing for a provider answer; a timeout may raise ``TimeoutError``, after
        which the caller asks again with the same key."""
        ...

    def collect(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        """Take ``amount_fen`` from the buyer (an exchange's price difference), once per key."""
        ...


class CleanImage(Protocol):
    @property
    def content(self) -> bytes: ...
    @property
    def media_type(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def sha256(self) -> str: ...


class ImageCleaner(Protocol):
    """Decodes an untrusted upload and re-encodes it without metadata, or raises."""

    def __call__(self, data: bytes) -> CleanImage: ...


class Passwords(Protocol):
    def hash(self, plain: str) -> str: ...
    def verify(self, plain: str, hashed: str) -> bool: ...
    def needs_rehash(self, hashed: str) -> bool:
        """The hash was made with other parameters than the current ones."""
        ...


class TokenClaims(Protocol):
    """What a verified token says (signature and expiry already checked)."""

    @property
    def subject(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def actor_id(self) -> str: ...
    @property
    def token_id(self) -> str: ...
    @property
    def generation(self) -> int: ...
    @property
    def expires_at(self) -> datetime: ...


class TokenIssuer(Protocol):
    def issue(self, subject: str, role: str, *, actor_id: str, generation: int) -> str: ...
    def verify(self, token: str) -> TokenClaims:
        """The claims of a well-signed, unexpired token, or ``Unauthorized``."""
        ...


class Throttle(Protocol):
    """Counts attempts per rule and key; shared by every API process when scaled out.

    Rules are named by the services (``sign_in.account``, ``pickup_code``, ...) and given
    their limits by the wiring.
    """

    def check(self, rule: str, key: str) -> int | None:
        """Seconds until ``key`` may try again under ``rule``, or None if it may now."""
        ...

    def hit(self, rule: str, key: str) -> int | None:
        """Count one attempt: None if it fits the limit, else seconds to wait (not counted)."""
        ...

    def clear(self, rule: str, key: str) -> None: ...
    def remember(self, rule: str, key: str) -> None:
        """Note ``key`` for the rule's retention (e.g. an address that signed in)."""
        ...

    def remembers(self, rule: str, key: str) -> bool: ...
    def forget_expired(self) -> int:
        """Drop kept counts that no longer count anything (a storage without native expiry);
        returns how many."""
        ...


class Telemetry(Protocol):
    """How long the heavy steps of use cases took, for operators; an adapter turns the
    figures into metrics, so services never import a metrics library."""

    def planner_run(self, seconds: float) -> None:
        """One carrier-day planned (solved or re-planned) in ``seconds``."""
        ...


@dataclass(frozen=True)
class SendResult:
    """What a receiver answered; ``detail`` says why it failed (status, timeout), for ops."""

    ok: bool
    detail: str = ""


class Messenger(Protocol):
    """Texts and e-mails to buyers; ``message_id`` repeats when a send is retried, so the
    provider (or sink) can drop the repeat."""

    def send_sms(self, message_id: str, phone: str, text: str) -> SendResult: ...
    def send_email(self, message_id: str, address: str, subject: str, text: str) -> SendResult: ...


class WebhookSender(Protocol):
    """Posts one signed event to a merchant's endpoint, with a timeout; never raises for
    network trouble (that is a failed ``SendResult``)."""

    def post(
        self, url: str, secret: str, event_id: str, body: bytes, now: datetime
    ) -> SendResult: ...


class Texts(Protocol):
    """Translated message texts (the Babel catalogues), by language and English id."""

    def gettext(self, lang: str, message: str) -> str: ...


@dataclass(frozen=True)
class CarrierAck:
    """A courier company's answer to a create: its own id for our ``out_order_no``, and
    what it says the order holds (its window and its own time of it), when it says."""

    carrier_order_id: str
    answered: Answered = field(default_factory=Answered)


class CourierCompany(Protocol):
    """One courier company, spoken to in the unified pickup order (RULES.md §6).

    ``create`` is idempotent by ``out_order_no`` (a repeat returns the same order). Failures
    are domain errors: ``Unavailable`` (``carrier_unavailable``) may be retried later,
    ``Conflict`` (``carrier_refused``) will not succeed by repeating."""

    def create(self, order: UnifiedOrder) -> CarrierAck: ...
    def cancel(self, out_order_no: str, reason: str) -> None:
        """Withdraw an order the courier has not picked up yet."""
        ...

    def reschedule(self, out_order_no: str, day: date, start: time, end: time) -> Answered:
        """Move an order not picked up yet; what the answer says the order now holds (an
        empty ``Answered`` when it says nothing)."""
        ...

    def query(self, out_order_no: str) -> list[CarrierUpdate]:
        """What the company reports of the order now, as updates (the stage it reached, then
        its settlement); empty when it has no such order."""
        ...

    def parse_callback(self, body: bytes) -> CarrierUpdate:
        """A callback body in this company's format, mapped (pure: no I/O); ``InvalidInput``
        when it is not one."""
        ...


@dataclass(frozen=True)
class CarrierExchange:
    """One request to or callback from a courier company, masked, for support."""

    carrier_id: str
    out_order_no: str | None
    operation: str  # create | cancel | reschedule | query | callback
    direction: str  # out | in
    status_code: int | None
    outcome: str  # ok | refused | unavailable | duplicate | late | invalid | ...
    duration_ms: int
    at: datetime
    request: dict[str, object]
    response: dict[str, object] | None = None


class ExchangeJournal(Protocol):
    """Where carrier exchanges are kept for support; written outside business transactions."""

    def record(self, exchange: CarrierExchange) -> None: ...
    def recent(
        self, carrier_id: str | None = None, out_order_no: str | None = None, limit: int = 50
    ) -> list[CarrierExchange]: ...
