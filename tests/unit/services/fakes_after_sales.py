"""In-memory fakes of the exchange, customs and place repositories (issue 9 §6-8),
with the same commit/rollback and version semantics as the other fakes (fakes.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from tests.unit.services.fakes import (  # type: ignore[import-not-found]
    _ANY,
    FakeVersionedRepository,
    Tracker,
    _TxTable,
)

from doorstep.domain.customs_return import CustomsReturn, CustomsStatus
from doorstep.domain.exchange import Exchange, ExchangeStatus, StockLevel
from doorstep.domain.places import ReturnWarehouse, Station

TABLES = (
    "stock",
    "exchanges",
    "customs_returns",
    "customs_quota",
    "stations",
    "return_warehouses",
)


class FakeStockRepository:
    def __init__(self, table: _TxTable) -> None:
        self.table = table

    def get_many(self, skus: Iterable[str]) -> list[StockLevel]:
        return [r.item for k in dict.fromkeys(skus) if (r := self.table.row(k)) is not None]

    def family(self, family: str) -> list[StockLevel]:
        return [r.item for _, r in self.table.rows() if r.item.family == family]

    def put(self, level: StockLevel) -> None:
        self.table.write(level.sku, 1, level, _ANY)

    def _change(self, sku: str, reserved: int, on_hand: int = 0) -> bool:
        row = self.table.row(sku)
        if row is None:
            return False
        level: StockLevel = row.item
        new_reserved, new_on_hand = level.reserved + reserved, level.on_hand + on_hand
        if not 0 <= new_reserved <= new_on_hand:
            return False
        self.table.write(sku, 1, replace(level, reserved=new_reserved, on_hand=new_on_hand), _ANY)
        return True

    def reserve(self, sku: str, quantity: int) -> bool:
        return self._change(sku, quantity)

    def release(self, sku: str, quantity: int) -> None:
        self._change(sku, -quantity)

    def ship(self, sku: str, quantity: int) -> bool:
        return self._change(sku, -quantity, -quantity)


class FakeExchangeRepository(FakeVersionedRepository[Exchange]):  # type: ignore[misc]
    key_name = "return_id"

    def waiting(self, limit: int = 100) -> list[Exchange]:
        live = (ExchangeStatus.RESERVED, ExchangeStatus.SHIPPED)
        return [e for e in self._all() if e.status in live][:limit]


class FakeCustomsRepository(FakeVersionedRepository[CustomsReturn]):  # type: ignore[misc]
    key_name = "customs_return_id"

    def __init__(self, table: _TxTable, quota: _TxTable, tracker: Tracker) -> None:
        super().__init__(table, tracker)
        self.quota_table = quota

    def open_for_list(self, declaration_no: str) -> CustomsReturn | None:
        found = [
            c
            for c in self._all()
            if c.declaration_no == declaration_no and c.status is CustomsStatus.OPEN
        ]
        return found[0] if found else None

    def for_returns(self, return_ids: Sequence[str]) -> list[CustomsReturn]:
        wanted = set(return_ids)
        return [c for c in self._all() if wanted & set(c.return_ids)]

    def live(self, limit: int = 200) -> list[CustomsReturn]:
        return [c for c in self._all() if c.status.live][:limit]

    def awaited_past(self, now: datetime, limit: int) -> list[CustomsReturn]:
        due = [
            c
            for c in self._all()
            if c.status is CustomsStatus.SETTLED and c.awaited and c.arrival_by < now
        ]
        return sorted(due, key=lambda c: (c.arrival_by, c.customs_return_id))[:limit]

    def restored_quota(self, buyer_id: str, year: int) -> int:
        row = self.quota_table.row((buyer_id, year))
        return 0 if row is None else int(row.item)

    def restore_quota(self, buyer_id: str, year: int, amount_fen: int) -> None:
        self.quota_table.write(
            (buyer_id, year), 1, self.restored_quota(buyer_id, year) + amount_fen, _ANY
        )


class FakePlaceRepository:
    def __init__(self, stations: _TxTable, warehouses: _TxTable) -> None:
        self.stations, self.houses = stations, warehouses

    def stations_in(
        self, min_lat: float, max_lat: float, min_lon: float, max_lon: float, limit: int
    ) -> list[Station]:
        inside = [
            r.item
            for _, r in self.stations.rows()
            if min_lat <= r.item.lat <= max_lat and min_lon <= r.item.lon <= max_lon
        ]
        return inside[:limit]

    def station(self, station_id: str) -> Station | None:
        row = self.stations.row(station_id)
        return None if row is None else row.item

    def stations_run_by(self, operator_id: str, limit: int) -> list[Station]:
        run = sorted(
            (r.item for _, r in self.stations.rows() if r.item.operator_id == operator_id),
            key=lambda s: s.station_id,
        )
        return run[:limit]

    def warehouses(self) -> list[ReturnWarehouse]:
        return [r.item for _, r in self.houses.rows()]

    def put_station(self, station: Station) -> None:
        self.stations.write(station.station_id, 1, station, _ANY)

    def put_warehouse(self, warehouse: ReturnWarehouse) -> None:
        self.houses.write(warehouse.warehouse_id, 1, warehouse, _ANY)


def attach(uow: Any, tables: dict[str, _TxTable], tracker: Tracker) -> None:
    """Give a fake unit of work the issue 9 §6-8 repositories."""
    uow.stock = FakeStockRepository(tables["stock"])
    uow.exchanges = FakeExchangeRepository(tables["exchanges"], tracker)
    uow.customs = FakeCustomsRepository(tables["customs_returns"], tables["customs_quota"], tracker)
    uow.places = FakePlaceRepository(tables["stations"], tables["return_warehouses"])
