"""The SQL unit of work: one connection, one transaction, events stored with the change."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.after_sales import (
    CustomsRepo,
    ExchangeRepo,
    PlaceRepo,
    StockRepo,
)
from doorstep.adapters.db.carrier_orders import CarrierInboxRepo, PickupOrderRepo
from doorstep.adapters.db.money import ClaimRepo, DisputeRepo, HistoryRepo, LedgerRepo
from doorstep.adapters.db.outbox import OutboxRepo
from doorstep.adapters.db.repositories import (
    AppointmentRepo,
    CarrierRepo,
    DisruptionRepo,
    DocRepository,
    EventStore,
    OrderRepo,
    PhotoRepo,
    PolicyRepo,
    RefundRepo,
    ReturnRepo,
    SlotCapacityRepo,
    Tracker,
    UserRepo,
)
from doorstep.adapters.db.retention import SqlRetention
from doorstep.adapters.db.routes import RouteRepo
from doorstep.adapters.db.transfers import TransferRepo
from doorstep.adapters.db.wave import SqlWaveHistory
from doorstep.domain.catalog import Product
from doorstep.domain.coverage import ServiceArea, SlotTemplate
from doorstep.domain.fleet import Courier
from doorstep.domain.order import Buyer


class SqlUnitOfWork:
    """Rolls back unless committed; ``commit`` first writes every tracked aggregate's events."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        conn = self._conn = self.engine.connect()
        conn.begin()
        self._tracker = Tracker()
        self.products = DocRepository(
            conn, t.products, Product, lambda p: p.sku, lambda p: {"shop_id": p.shop_id}
        )
        self.buyers = DocRepository(
            conn,
            t.buyers,
            Buyer,
            lambda b: b.buyer_id,
            lambda b: {"erase_due": b.erase_due, "erased_at": b.erased_at},
        )
        self.orders = OrderRepo(conn)
        self.areas = DocRepository(conn, t.service_areas, ServiceArea, lambda a: a.adcode)
        self.templates = DocRepository(
            conn, t.slot_templates, SlotTemplate, lambda x: x.template_id
        )
        self.carriers = CarrierRepo(conn)
        self.couriers = DocRepository(
            conn,
            t.couriers,
            Courier,
            lambda c: c.courier_id,
            lambda c: {"carrier_id": c.carrier_id},
        )
        self.policies = PolicyRepo(conn)
        self.returns = ReturnRepo(conn, self._tracker)
        self.appointments = AppointmentRepo(conn, self._tracker)
        self.routes = RouteRepo(conn, self._tracker)
        self.slots = SlotCapacityRepo(conn)
        self.refunds = RefundRepo(conn, self._tracker)
        self.users = UserRepo(conn)
        self.photos = PhotoRepo(conn)
        self.events = EventStore(conn)
        self.disruptions = DisruptionRepo(conn, self._tracker)
        self.transfers = TransferRepo(conn, self._tracker)
        self.disputes = DisputeRepo(conn, self._tracker)
        self.claims = ClaimRepo(conn, self._tracker)
        self.ledger = LedgerRepo(conn)
        self.histories = HistoryRepo(conn)
        self.outbox = OutboxRepo(conn)
        self.stock = StockRepo(conn)
        self.exchanges = ExchangeRepo(conn, self._tracker)
        self.customs = CustomsRepo(conn, self._tracker)
        self.places = PlaceRepo(conn)
        self.pickup_orders = PickupOrderRepo(conn, self._tracker)
        self.carrier_inbox = CarrierInboxRepo(conn)
        self.wave = SqlWaveHistory(conn)
        self.retention = SqlRetention(
            conn,
            self.buyers,
            self.orders,
            self.returns,
            self.refunds,
            self.appointments,
            self.pickup_orders,
            self.claims,
            self.transfers,
            self.exchanges,
            self.disputes,
            self.routes,
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        for aggregate in self._tracker.seen:
            self.events.append(aggregate.take_events())
        # No eager BEGIN after the commit: the connection begins again only if the use case
        # goes on (autobegin), so a finished write does not take SQLite's write lock twice.
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()
