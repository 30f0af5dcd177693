"""Where a return parcel goes when nobody comes to the door: drop-off stations and lockers near
the buyer, and the return warehouse (the bonded-zone one for cross-border goods, RULES.md §2:
the goods must come back to the original customs site or special supervision zone)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from doorstep.domain.address import Address
from doorstep.domain.errors import NotFound
from doorstep.domain.order import Channel

EARTH_RADIUS_KM = 6371.0


class StationKind(StrEnum):
    STATION = "station"  # 驿站 / 网点: a staffed counter
    LOCKER = "locker"  # 快递柜: a parcel locker


@dataclass(frozen=True)
class Station:
    """A drop-off point of one courier company, with coordinates for "near me".

    ``operator_id`` is who runs it: a 驿站 franchisee often runs several stations with one
    staff, who may take parcels at any of them. A station run on its own is its own operator
    (left empty, it becomes ``station_id``), so one-station staff accounts name the station.
    """

    station_id: str
    kind: StationKind
    carrier_id: str
    name_zh: str
    name_en: str
    address: Address
    lat: float
    lon: float
    hours: str = "09:00-21:00"
    operator_id: str = ""

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError("coordinates out of range")
        if not self.operator_id:
            object.__setattr__(self, "operator_id", self.station_id)


@dataclass(frozen=True)
class ReturnWarehouse:
    """Where returns are received; ``bonded`` ones sit inside a special customs zone."""

    warehouse_id: str
    name_zh: str
    name_en: str
    address: Address
    bonded: bool = False


@dataclass(frozen=True)
class NearbyStation:
    station: Station
    distance_m: int


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Great-circle distance in whole metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_KM * 1000 * math.asin(math.sqrt(a)))


def box_around(lat: float, lon: float, radius_m: int) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lon, max lon) of a box holding the circle: what a database
    index can narrow down before the exact distance is taken."""
    dlat = math.degrees(radius_m / (EARTH_RADIUS_KM * 1000))
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def nearest(
    stations: Iterable[Station], lat: float, lon: float, *, radius_m: int, limit: int
) -> list[NearbyStation]:
    """The stations within ``radius_m``, nearest first, at most ``limit``."""
    near = [NearbyStation(s, distance_m(lat, lon, s.lat, s.lon)) for s in stations]
    inside = [n for n in near if n.distance_m <= radius_m]
    return sorted(inside, key=lambda n: (n.distance_m, n.station.station_id))[:limit]


def warehouse_for(channel: Channel, warehouses: Sequence[ReturnWarehouse]) -> ReturnWarehouse:
    """Cross-border goods go back to the bonded-zone return warehouse; domestic ones to an
    ordinary one (a bonded one only when there is no other)."""
    bonded = [w for w in warehouses if w.bonded]
    plain = [w for w in warehouses if not w.bonded]
    pool = bonded if channel.cross_border else (plain or bonded)
    if not pool:
        raise NotFound("return_warehouse", "bonded" if channel.cross_border else "domestic")
    return min(pool, key=lambda w: w.warehouse_id)


@dataclass(frozen=True)
class DropoffTicket:
    """The code the buyer shows (or the QR the station scans) to hand the parcel in."""

    code: str
    station_id: str
    issued_at: datetime
    expires_at: datetime

    def __post_init__(self) -> None:
        if not (len(self.code) == 8 and self.code.isascii() and self.code.isdigit()):
            raise ValueError("a drop-off code is 8 ASCII digits")
        if self.expires_at <= self.issued_at:
            raise ValueError("a drop-off code expires after it is issued")
