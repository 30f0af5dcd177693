"""Ports of exchanges, customs returns, drop-off and self-ship (issue 9 §6-8), kept apart from
``ports.py`` so that module stays small; the unit of work exposes them like the others."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from doorstep.domain.customs_return import BrokerVerdict, CustomsReturn
from doorstep.domain.exchange import Exchange, StockLevel
from doorstep.domain.places import ReturnWarehouse, Station


class StockRepository(Protocol):
    """Stock per SKU; every change is one conditional statement, so two requests for the
    last unit cannot both get it (the table also refuses reserved > on_hand or < 0)."""

    def get_many(self, skus: Iterable[str]) -> list[StockLevel]: ...
    def family(self, family: str) -> list[StockLevel]: ...
    def put(self, level: StockLevel) -> None: ...
    def reserve(self, sku: str, quantity: int) -> bool:
        """Hold ``quantity`` if that many are available; False (nothing held) otherwise."""
        ...

    def release(self, sku: str, quantity: int) -> None: ...
    def ship(self, sku: str, quantity: int) -> bool:
        """Take reserved units out of the warehouse; False if they were not reserved."""
        ...


class ExchangeRepository(Protocol):
    def get(self, return_id: str) -> Exchange | None: ...
    def get_for_update(self, return_id: str) -> Exchange | None: ...
    def get_many(self, return_ids: Iterable[str]) -> list[Exchange]: ...
    def add(self, exchange: Exchange) -> None: ...
    def save(self, exchange: Exchange) -> None: ...
    def waiting(self, limit: int = 100) -> list[Exchange]:
        """Reserved or shipped exchanges (what the sweep may move on)."""
        ...


@dataclass(frozen=True)
class Quota:
    """A buyer's cross-border annual total: what the limit is and how much is used."""

    buyer_id: str
    year: int
    limit_fen: int
    used_fen: int

    @property
    def left_fen(self) -> int:
        return max(self.limit_fen - self.used_fen, 0)


class CustomsRepository(Protocol):
    def get(self, customs_return_id: str) -> CustomsReturn | None: ...
    def get_for_update(self, customs_return_id: str) -> CustomsReturn | None: ...
    def open_for_list(self, declaration_no: str) -> CustomsReturn | None:
        """The list's declaration still collecting lines, locked."""
        ...

    def for_returns(self, return_ids: Sequence[str]) -> list[CustomsReturn]: ...
    def add(self, customs_return: CustomsReturn) -> None: ...
    def save(self, customs_return: CustomsReturn) -> None: ...
    def live(self, limit: int = 200) -> list[CustomsReturn]:
        """Declarations not settled or rejected, the nearest deadline first."""
        ...

    def awaited_past(self, now: datetime, limit: int) -> list[CustomsReturn]:
        """Settled declarations whose day 45 passed before ``now`` with returns they left out
        still awaited, the earliest first, at most ``limit``."""
        ...

    def restored_quota(self, buyer_id: str, year: int) -> int:
        """What settled customs returns gave back of the buyer's ``year`` total (0: none)."""
        ...

    def restore_quota(self, buyer_id: str, year: int, amount_fen: int) -> None:
        """Add ``amount_fen`` to what was given back, in one statement (the row is made on
        first use), so settlements of one buyer at once each count once."""
        ...


class PlaceRepository(Protocol):
    def stations_in(
        self, min_lat: float, max_lat: float, min_lon: float, max_lon: float, limit: int
    ) -> list[Station]: ...
    def station(self, station_id: str) -> Station | None: ...
    def stations_run_by(self, operator_id: str, limit: int) -> list[Station]:
        """The stations ``operator_id`` runs, by id, at most ``limit``."""
        ...

    def warehouses(self) -> list[ReturnWarehouse]: ...
    def put_station(self, station: Station) -> None: ...
    def put_warehouse(self, warehouse: ReturnWarehouse) -> None: ...


@dataclass(frozen=True)
class BrokerAnswer:
    verdict: BrokerVerdict
    ref: str
    reason: str = ""


class CustomsBroker(Protocol):
    """The customs broker (报关行) who declares returns for the seller's agent. Both calls
    take the declaration's idempotency key: a declaration resent after a timeout is the same
    declaration. Timeouts and outages raise ``domain.errors.Unavailable``."""

    def declare(self, key: str, declaration: Mapping[str, Any]) -> BrokerAnswer: ...
    def status(self, key: str) -> BrokerAnswer: ...


@dataclass(frozen=True)
class CustomsRules:
    """Settings of customs returns: when ops hear of a deadline, the annual limit."""

    alert_days_before: int = 3
    annual_quota_fen: int = 2_600_000
    broker_timeout_s: float = 5.0
