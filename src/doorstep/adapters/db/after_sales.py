"""Repositories of exchanges, stock, customs returns and places (issue 9 §6-8)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.codec import from_doc
from doorstep.adapters.db.repositories import DocRepository, VersionedRepository, _upsert
from doorstep.domain.customs_return import CustomsReturn, CustomsStatus
from doorstep.domain.exchange import Exchange, ExchangeStatus, StockLevel
from doorstep.domain.places import ReturnWarehouse, Station


class StockRepo:
    """Stock rows; reserve, release and ship are single conditional UPDATEs."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _level(row: Any) -> StockLevel:
        return StockLevel(row.sku, row.family, row.unit_price_fen, row.on_hand, row.reserved)

    def get_many(self, skus: Iterable[str]) -> list[StockLevel]:
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return []
        rows = self.conn.execute(select(t.stock).where(t.stock.c.sku.in_(wanted)))
        return [self._level(r) for r in rows]

    def family(self, family: str) -> list[StockLevel]:
        rows = self.conn.execute(
            select(t.stock).where(t.stock.c.family == family).order_by(t.stock.c.sku)
        )
        return [self._level(r) for r in rows]

    def put(self, level: StockLevel) -> None:
        values = {
            "sku": level.sku,
            "family": level.family,
            "unit_price_fen": level.unit_price_fen,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
        }
        self.conn.execute(_upsert(self.conn, t.stock, values, ["sku"]))

    def reserve(self, sku: str, quantity: int) -> bool:
        c = t.stock.c
        done = self.conn.execute(
            update(t.stock)
            .where(c.sku == sku, c.on_hand - c.reserved >= quantity)
            .values(reserved=c.reserved + quantity)
        )
        return done.rowcount == 1

    def release(self, sku: str, quantity: int) -> None:
        c = t.stock.c
        self.conn.execute(
            update(t.stock)
            .where(c.sku == sku, c.reserved >= quantity)
            .values(reserved=c.reserved - quantity)
        )

    def ship(self, sku: str, quantity: int) -> bool:
        c = t.stock.c
        done = self.conn.execute(
            update(t.stock)
            .where(c.sku == sku, c.reserved >= quantity)
            .values(reserved=c.reserved - quantity, on_hand=c.on_hand - quantity)
        )
        return done.rowcount == 1


class ExchangeRepo(VersionedRepository[Exchange]):
    table, cls, key_name = t.exchanges, Exchange, "return_id"

    def _columns(self, item: Exchange) -> dict[str, Any]:
        return {"buyer_id": item.buyer_id, "status": item.status.value}

    def waiting(self, limit: int = 100) -> list[Exchange]:
        live = [ExchangeStatus.RESERVED.value, ExchangeStatus.SHIPPED.value]
        return self._query(t.exchanges.c.status.in_(live), limit=limit)


_LIVE = [status.value for status in CustomsStatus if status.live]


class CustomsRepo(VersionedRepository[CustomsReturn]):
    table, cls, key_name = t.customs_returns, CustomsReturn, "customs_return_id"

    def _columns(self, item: CustomsReturn) -> dict[str, Any]:
        # Arrival is known to the service, not the row: the queue orders by the earlier one.
        due = item.next_deadline(arrived=False)
        return {
            "declaration_no": item.declaration_no,
            "status": item.status.value,
            "next_due": due[1] if due else None,
            "awaited_by": item.arrival_by if item.awaited else None,
        }

    def add(self, item: CustomsReturn) -> None:
        super().add(item)
        self._link(item)

    def save(self, item: CustomsReturn) -> None:
        super().save(item)
        self._link(item)

    def _link(self, item: CustomsReturn) -> None:
        known = {
            r.return_id
            for r in self.conn.execute(
                select(t.customs_links.c.return_id).where(
                    t.customs_links.c.customs_return_id == item.customs_return_id
                )
            )
        }
        fresh = [rid for rid in item.return_ids if rid not in known]
        if fresh:
            self.conn.execute(
                insert(t.customs_links),
                [{"return_id": rid, "customs_return_id": item.customs_return_id} for rid in fresh],
            )

    def open_for_list(self, declaration_no: str) -> CustomsReturn | None:
        c = t.customs_returns.c
        stmt = (
            select(c.doc, c.version)
            .where(c.declaration_no == declaration_no, c.status == CustomsStatus.OPEN.value)
            .with_for_update()
        )
        found = self._load(self.conn.execute(stmt))
        return found[0] if found else None

    def for_returns(self, return_ids: Sequence[str]) -> list[CustomsReturn]:
        if not return_ids:
            return []
        ids = select(t.customs_links.c.customs_return_id).where(
            t.customs_links.c.return_id.in_(list(return_ids))
        )
        return self._query(t.customs_returns.c.customs_return_id.in_(ids))

    def live(self, limit: int = 200) -> list[CustomsReturn]:
        c = t.customs_returns.c
        return self._query(c.status.in_(_LIVE), order=c.next_due, limit=limit)

    def awaited_past(self, now: datetime, limit: int) -> list[CustomsReturn]:
        c = t.customs_returns.c
        return self._query(
            c.awaited_by < now,
            order=c.awaited_by,
            limit=limit,
        )

    def restored_quota(self, buyer_id: str, year: int) -> int:
        q = t.customs_quota.c
        found = self.conn.execute(
            select(q.restored_fen).where(q.buyer_id == buyer_id, q.year == year)
        ).scalar()
        return int(found or 0)

    def restore_quota(self, buyer_id: str, year: int, amount_fen: int) -> None:
        q = t.customs_quota.c
        self.conn.execute(
            _insert_ignoring(self.conn)(t.customs_quota)
            .values(buyer_id=buyer_id, year=year, restored_fen=0)
            .on_conflict_do_nothing(index_elements=["buyer_id", "year"])
        )
        # One statement: settlements of one buyer at once each add their own amount.
        self.conn.execute(
            update(t.customs_quota)
            .where(q.buyer_id == buyer_id, q.year == year)
            .values(restored_fen=q.restored_fen + amount_fen)
        )


def _insert_ignoring(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


class PlaceRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._stations = DocRepository(
            conn,
            t.stations,
            Station,
            lambda s: s.station_id,
            lambda s: {"lat": s.lat, "lon": s.lon, "operator_id": s.operator_id},
        )
        self._warehouses = DocRepository(
            conn,
            t.return_warehouses,
            ReturnWarehouse,
            lambda w: w.warehouse_id,
            lambda w: {"bonded": w.bonded},
        )

    def stations_in(
        self, min_lat: float, max_lat: float, min_lon: float, max_lon: float, limit: int
    ) -> list[Station]:
        c = t.stations.c
        rows = self.conn.execute(
            select(c.doc)
            .where(c.lat.between(min_lat, max_lat), c.lon.between(min_lon, max_lon))
            .order_by(c.station_id)
            .limit(limit)
        )
        return [from_doc(Station, r.doc) for r in rows]

    def station(self, station_id: str) -> Station | None:
        return self._stations.get(station_id)

    def stations_run_by(self, operator_id: str, limit: int) -> list[Station]:
        c = t.stations.c
        rows = self.conn.execute(
            select(c.doc).where(c.operator_id == operator_id).order_by(c.station_id).limit(limit)
        )
        return [from_doc(Station, r.doc) for r in rows]

    def warehouses(self) -> list[ReturnWarehouse]:
        return self._warehouses.list()

    def put_station(self, station: Station) -> None:
        self._stations.put(station)

    def put_warehouse(self, warehouse: ReturnWarehouse) -> None:
        self._warehouses.put(warehouse)
