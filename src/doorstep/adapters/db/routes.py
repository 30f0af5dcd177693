"""Courier day-routes: read many in one query, lock one row to change it.

The stops are stored as parallel lists of numbers (one list per field) rather than a list
of objects: a 300-stop route is then a handful of JSON arrays that decode in C, which keeps
the booking path's cost flat as a day fills up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.repositories import Tracker
from doorstep.domain.errors import StaleWrite
from doorstep.domain.route import CourierRoute, RouteStop, StopState, route_id

DOC_VERSION = 1
_FIELDS = (
    ("id", "appointment_id"),
    ("lat", "lat"),
    ("lon", "lon"),
    ("e", "earliest_s"),
    ("l", "latest_s"),
    ("svc", "service_s"),
    ("w", "weight_g"),
    ("vol", "volume_cm3"),
    ("leg", "leg_s"),
    ("st", "state"),
    ("done", "done_s"),
)


def encode_route(route: CourierRoute) -> dict[str, Any]:
    """The stored document of a route: one list per stop field."""
    doc: dict[str, Any] = {"v": DOC_VERSION, "return_leg_s": route.return_leg_s}
    for key, name in _FIELDS:
        doc[key] = [getattr(s, name) for s in route.stops]
    doc["st"] = [s.state.value for s in route.stops]
    return doc


def decode_route(courier_id: str, carrier_id: str, day: date, doc: dict[str, Any]) -> CourierRoute:
    """The route from its stored document (documents without ``v`` are empty routes)."""
    if doc.get("v", DOC_VERSION) != DOC_VERSION:
        raise ValueError(f"unknown route document version {doc.get('v')!r}")
    columns = [doc.get(key, []) for key, _ in _FIELDS]
    states = {s.value: s for s in StopState}
    stops = [
        RouteStop(a, la, lo, e, lt, sv, w, vo, lg, states[st], dn)
        for a, la, lo, e, lt, sv, w, vo, lg, st, dn in zip(*columns, strict=True)
    ]
    return CourierRoute(courier_id, carrier_id, day, stops, int(doc.get("return_leg_s", 0)))


class RouteRepo:
    """Routes by courier and day; ``lock`` serialises writers on one route's row."""

    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self.conn, self.tracker = conn, tracker
        # Routes this transaction created or changed: their versions are nobody's yet (a
        # rollback gives them to other content), so the shared cache must not keep them.
        self.written: set[str] = set()

    def versions(self, carrier_id: str, days: Sequence[date]) -> dict[str, int]:
        """Route id → version of every stored route of a carrier on these days: one query,
        no documents, so callers can reuse what they already decoded."""
        c = t.routes.c
        rows = self.conn.execute(
            select(c.route_id, c.version).where(c.carrier_id == carrier_id, c.day.in_(days))
        )
        return {r.route_id: r.version for r in rows}

    def get_many(self, route_ids: Iterable[str]) -> list[CourierRoute]:
        wanted = list(route_ids)
        if not wanted:
            return []
        c = t.routes.c
        rows = self.conn.execute(
            select(c.courier_id, c.carrier_id, c.day, c.version, c.doc).where(
                c.route_id.in_(wanted)
            )
        )
        return [self._load(r) for r in rows]

    def get(self, courier_id: str, day: date) -> CourierRoute | None:
        found = self.get_many([route_id(courier_id, day)])
        return found[0] if found else None

    def get_in_fleet(self, courier_id: str, day: date) -> CourierRoute | None:
        c = t.routes.c
        row = self.conn.execute(
            select(c.courier_id, c.carrier_id, c.day, c.version, c.doc)
            .join(t.couriers, t.couriers.c.courier_id == c.courier_id)
            .where(c.route_id == route_id(courier_id, day))
        ).first()
        return self._load(row) if row is not None else None

    def for_carrier_day(self, carrier_id: str, day: date) -> list[CourierRoute]:
        c = t.routes.c
        rows = self.conn.execute(
            select(c.courier_id, c.carrier_id, c.day, c.version, c.doc)
            .where(c.carrier_id == carrier_id, c.day == day)
            .order_by(c.route_id)
        )
        return [self._load(r) for r in rows]

    def lock(self, courier_id: str, carrier_id: str, day: date) -> int:
        """Take the route's row lock for this transaction (creating an empty route if there
        is none) and return its version. On SQLite the write lock is already held."""
        key = route_id(courier_id, day)
        maker = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        created = self.conn.execute(
            maker(t.routes)
            .values(
                route_id=key,
                courier_id=courier_id,
                carrier_id=carrier_id,
                day=day,
                version=1,
                doc={"v": DOC_VERSION, "return_leg_s": 0},
            )
            .on_conflict_do_nothing()
        )
        if created.rowcount:
            self.written.add(key)
        c = t.routes.c
        version = self.conn.execute(
            select(c.version).where(c.route_id == key).with_for_update()
        ).scalar_one()
        return int(version)

    def save(self, route: CourierRoute) -> None:
        """Store a changed route; it must still be at the version it was read at."""
        c = t.routes.c
        values = {"doc": encode_route(route), "version": route.version + 1}
        if route.version == 0:
            self.conn.execute(
                insert(t.routes).values(
                    route_id=route.route_id,
                    courier_id=route.courier_id,
                    carrier_id=route.carrier_id,
                    day=route.day,
                    **values,
                )
            )
        else:
            result = self.conn.execute(
                update(t.routes)
                .where(c.route_id == route.route_id, c.version == route.version)
                .values(**values)
            )
            if result.rowcount != 1:
                raise StaleWrite(route_id=route.route_id)
        route.version += 1
        self.written.add(route.route_id)
        self.tracker.track(route)

    def track(self, route: CourierRoute) -> None:
        """Have the unit of work store this route's events (for a copy taken from a cache)."""
        self.tracker.track(route)

    def _load(self, row: Any) -> CourierRoute:
        route = decode_route(row.courier_id, row.carrier_id, row.day, row.doc)
        route.version = row.version
        self.tracker.track(route)
        return route
