"""Departed buyers' files for the retention sweep (services/retention.py): read and written in
batches, one statement per table whatever the batch holds, so a pass costs the same for one
buyer as for a hundred."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, func, select, update

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.after_sales import ExchangeRepo
from doorstep.adapters.db.carrier_orders import PickupOrderRepo
from doorstep.adapters.db.codec import to_doc
from doorstep.adapters.db.money import ClaimRepo, DisputeRepo
from doorstep.adapters.db.repositories import (
    AppointmentRepo,
    DocRepository,
    OrderRepo,
    RefundRepo,
    ReturnRepo,
)
from doorstep.adapters.db.routes import RouteRepo, decode_route, encode_route
from doorstep.adapters.db.transfers import TransferRepo
from doorstep.domain.order import Buyer
from doorstep.domain.pickup import Appointment
from doorstep.domain.retention import ERASED, PersonalValues, coarse
from doorstep.domain.route import route_id
from doorstep.services.ports import BuyerFile, RetentionSummary


class SqlRetention:
    """The ``RetentionStore`` over the unit of work's connection and repositories."""

    def __init__(
        self,
        conn: Connection,
        buyers: DocRepository[Buyer],
        orders: OrderRepo,
        returns: ReturnRepo,
        refunds: RefundRepo,
        appointments: AppointmentRepo,
        pickup_orders: PickupOrderRepo,
        claims: ClaimRepo,
        transfers: TransferRepo,
        exchanges: ExchangeRepo,
        disputes: DisputeRepo,
        routes: RouteRepo,
    ) -> None:
        self.conn = conn
        self.routes = routes
        self.buyers, self.orders, self.returns, self.refunds = buyers, orders, returns, refunds
        self.appointments, self.pickup_orders = appointments, pickup_orders
        self.claims, self.transfers, self.exchanges = claims, transfers, exchanges
        self.disputes = disputes

    def due(self, now: datetime, limit: int) -> list[str]:
        c = t.buyers.c
        stmt = (
            select(c.buyer_id)
            .where(c.erase_due.is_not(None), c.erase_due <= now)
            .order_by(c.erase_due, c.buyer_id)
            .limit(limit)
        )
        return [r.buyer_id for r in self.conn.execute(stmt)]

    def files_for_update(self, buyer_ids: Sequence[str]) -> list[BuyerFile]:
        # The buyer rows first, in id order: an account created or an order imported for
        # one of them waits here (identity.add_user, catalog.import_orders lock the row too).
        buyers = self.buyers.get_many_for_update(buyer_ids)
        ids = [b.buyer_id for b in buyers]
        if not ids:
            return []
        u = t.users.c
        accounts: dict[str, int] = dict(
            self.conn.execute(
                select(u.actor_id, func.count())
                .where(u.role == "buyer", u.actor_id.in_(ids))
                .group_by(u.actor_id)
            ).all()
        )
        orders = self.orders.where(t.orders.c.buyer_id.in_(ids))
        returns = self.returns._load(
            self.conn.execute(_locked(t.returns, t.returns.c.buyer_id, ids))
        )
        refunds = self.refunds.for_returns([r.return_id for r in returns])
        appointments = self.appointments._load(
            self.conn.execute(_locked(t.appointments, t.appointments.c.buyer_id, ids))
        )
        pickup_orders = self.pickup_orders._load(
            self.conn.execute(
                _locked(
                    t.pickup_orders,
                    t.pickup_orders.c.appointment_id,
                    [a.appointment_id for a in appointments],
                )
            )
        )
        exchanges = self.exchanges.get_many(r.return_id for r in returns)
        claims = self.claims._load(self.conn.execute(_locked(t.claims, t.claims.c.buyer_id, ids)))
        disputes = self.disputes._load(
            self.conn.execute(_locked(t.disputes, t.disputes.c.buyer_id, ids))
        )
        transfers = self.transfers._many(t.transfers.c.buyer_id.in_(ids))
        by_return = {r.return_id: r.buyer_id for r in returns}
        by_appt = {a.appointment_id: a.buyer_id for a in appointments}
        return [
            BuyerFile(
                buyer=b,
                accounts=int(accounts.get(b.buyer_id, 0)),
                orders=[o for o in orders if o.buyer_id == b.buyer_id],
                returns=[r for r in returns if r.buyer_id == b.buyer_id],
                refunds=[x for x in refunds if by_return.get(x.return_id) == b.buyer_id],
                appointments=[a for a in appointments if a.buyer_id == b.buyer_id],
                pickup_orders=[
                    p for p in pickup_orders if by_appt.get(p.appointment_id) == b.buyer_id
                ],
                exchanges=[x for x in exchanges if x.buyer_id == b.buyer_id],
                claims=[c for c in claims if c.buyer_id == b.buyer_id],
                disputes=[d for d in disputes if d.buyer_id == b.buyer_id],
                transfers=[x for x in transfers if x.buyer_id == b.buyer_id],
            )
            for b in buyers
        ]

    def store(self, files: Sequence[BuyerFile], erased: Mapping[str, PersonalValues]) -> None:
        _many(
            self.conn,
            update(t.buyers)
            .where(t.buyers.c.buyer_id == bindparam("b_id"))
            .values(
                doc=bindparam("b_doc"), erase_due=bindparam("b_due"), erased_at=bindparam("b_at")
            ),
            [
                {
                    "b_id": f.buyer.buyer_id,
                    "b_doc": to_doc(f.buyer),
                    "b_due": f.buyer.erase_due,
                    "b_at": f.buyer.erased_at,
                }
                for f in files
            ],
        )
        gone = [f for f in files if f.buyer.buyer_id in erased]
        if not gone:
            return
        _many(
            self.conn,
            update(t.orders)
            .where(t.orders.c.order_id == bindparam("b_id"))
            .values(doc=bindparam("b_doc")),
            [{"b_id": o.order_id, "b_doc": to_doc(o)} for f in gone for o in f.orders],
        )
        for table, key, items in (
            (t.returns, "return_id", [r for f in gone for r in f.returns]),
            (t.appointments, "appointment_id", [a for f in gone for a in f.appointments]),
            (t.pickup_orders, "out_order_no", [p for f in gone for p in f.pickup_orders]),
            (t.claims, "claim_id", [c for f in gone for c in f.claims]),
            (t.disputes, "dispute_id", [d for f in gone for d in f.disputes]),
        ):
            _versioned(self.conn, table, key, items)
        # Their versions move in this transaction: the shared route cache must not keep them.
        self.routes.written.update(
            _coarsen_routes(self.conn, [a for f in gone for a in f.appointments])
        )
        values = PersonalValues(frozenset().union(*(erased[f.buyer.buyer_id].values for f in gone)))
        self._scrub_copies(gone, values)

    def _scrub_copies(self, gone: Sequence[BuyerFile], values: PersonalValues) -> None:
        """The personal values replaced where they were copied as JSON or text."""
        subjects = sorted(
            {f.buyer.buyer_id for f in gone}
            | {o.order_id for f in gone for o in f.orders}
            | {r.return_id for f in gone for r in f.returns}
            | {a.appointment_id for f in gone for a in f.appointments}
            | {p.out_order_no for f in gone for p in f.pickup_orders}
            | {c.claim_id for f in gone for c in f.claims}
            | {d.dispute_id for f in gone for d in f.disputes}
            | {x.transfer_id for f in gone for x in f.transfers}
        )
        e = t.events.c
        rows = self.conn.execute(select(e.seq, e.data).where(e.aggregate_id.in_(subjects)))
        changed = {p["b_id"]: p for p in _changed(rows, values, "data")}
        for p in _account_events(self.conn, [f.buyer.buyer_id for f in gone], values):
            changed[p["b_id"]] = p
        _many(
            self.conn,
            update(t.events).where(e.seq == bindparam("b_id")).values(data=bindparam("b_doc")),
            [changed[seq] for seq in sorted(changed)],
        )
        d = t.deliveries.c
        rows = self.conn.execute(
            select(d.event_seq, d.receiver, d.payload).where(
                d.order_key.in_([f.buyer.buyer_id for f in gone])
            )
        )
        _many(
            self.conn,
            update(t.deliveries)
            .where(d.event_seq == bindparam("b_id"), d.receiver == bindparam("b_receiver"))
            .values(payload=bindparam("b_doc")),
            [
                {"b_id": r.event_seq, "b_receiver": r.receiver, "b_doc": scrubbed}
                for r in rows
                if (scrubbed := values.scrub(r.payload)) != r.payload
            ],
        )
        m = t.sent_messages.c
        rows = self.conn.execute(
            select(m.message_id, m.body).where(m.recipient.in_(sorted(values.values)))
        )
        _many(
            self.conn,
            update(t.sent_messages)
            .where(m.message_id == bindparam("b_id"))
            .values(recipient=ERASED, body=bindparam("b_doc")),
            [{"b_id": r.message_id, "b_doc": values.scrub(r.body)} for r in rows],
        )
        x = t.carrier_exchanges.c
        numbers = sorted({p.out_order_no for f in gone for p in f.pickup_orders})
        rows = self.conn.execute(
            select(x.seq, x.request, x.response).where(x.out_order_no.in_(numbers))
        )
        _many(
            self.conn,
            update(t.carrier_exchanges)
            .where(x.seq == bindparam("b_id"))
            .values(request=bindparam("b_doc"), response=bindparam("b_response")),
            [
                {
                    "b_id": r.seq,
                    "b_doc": values.scrub(r.request),
                    "b_response": values.scrub(r.response),
                }
                for r in rows
                if values.scrub(r.request) != r.request or values.scrub(r.response) != r.response
            ],
        )

    def summary(self, now: datetime) -> RetentionSummary:
        c = t.buyers.c
        due = select(func.count()).where(c.erase_due <= now).scalar_subquery()
        erased = select(func.count()).where(c.erased_at.is_not(None)).scalar_subquery()
        upcoming = select(func.min(c.erase_due)).where(c.erase_due > now).scalar_subquery()
        row = self.conn.execute(select(due, erased, upcoming)).one()
        return RetentionSummary(int(row[0]), int(row[1]), row[2])


def account_events_query(buyer_ids: Sequence[str]) -> Select[tuple[int, Any]]:
    """The account events (``user.*``) naming these buyers as ``actor_id``; written as the
    expression ``ix_events_user_actor`` indexes, so it is an index search on both dialects."""
    e = t.events.c
    return select(e.seq, e.data).where(
        e.aggregate_type == "user", e.data["actor_id"].as_string().in_(sorted(buyer_ids))
    )


def _account_events(
    conn: Connection, buyer_ids: Sequence[str], values: PersonalValues
) -> list[dict[str, Any]]:
    """The events of the accounts that acted as these buyers (``user.*``: the deletion,
    password changes, disabling), with the username erased and the personal values scrubbed.
    The accounts' rows are gone by now (deleted; one left means the buyer came back), so the
    events are found by the ``actor_id`` they name, in one statement (``aggregate_id`` is the
    account, so it is the index ``ix_events_user_actor`` that finds them by buyer)."""
    rows = conn.execute(account_events_query(buyer_ids))
    out = []
    for row in rows:
        data = dict(row.data)
        if data.get("role") != "buyer":
            continue
        after = values.scrub({**data, "username": ERASED} if "username" in data else data)
        if after != data:
            out.append({"b_id": row.seq, "b_doc": after})
    return out


def _coarsen_routes(conn: Connection, visits: Sequence[Appointment]) -> list[str]:
    """The stops of these visits on their couriers' stored routes keep the neighbourhood of
    the door, not the door (``retention.coarse``); the rest of each route as it was. Returns
    the ids of the routes rewritten."""
    ids = sorted({route_id(a.courier_id, a.slot.day) for a in visits if a.courier_id})
    if not ids:
        return []
    mine = {a.appointment_id for a in visits}
    r = t.routes.c
    rows = conn.execute(
        select(r.route_id, r.courier_id, r.carrier_id, r.day, r.doc)
        .where(r.route_id.in_(ids))
        .order_by(r.route_id)
        .with_for_update()
    ).all()
    changed = []
    for row in rows:
        route = decode_route(row.courier_id, row.carrier_id, row.day, row.doc)
        stops = [
            replace(s, lat=coarse(s.lat), lon=coarse(s.lon)) if s.appointment_id in mine else s
            for s in route.stops
        ]
        if stops != route.stops:
            route.stops = stops
            changed.append({"b_id": row.route_id, "b_doc": encode_route(route)})
    _many(
        conn,
        update(t.routes)
        .where(r.route_id == bindparam("b_id"))
        .values(doc=bindparam("b_doc"), version=r.version + 1),
        changed,
    )
    return [c["b_id"] for c in changed]


def _locked(table: Table, column: Any, keys: Iterable[str]) -> Any:
    """Rows of ``table`` whose ``column`` is one of ``keys``, locked in primary-key order."""
    pk = next(iter(table.primary_key.columns))
    return (
        select(table.c.doc, table.c.version)
        .where(column.in_(sorted(set(keys))))
        .order_by(pk)
        .with_for_update()
    )


def _versioned(conn: Connection, table: Table, key: str, items: Sequence[Any]) -> None:
    # Under the row locks taken by files_for_update: the version moves on, so a writer that
    # read before the lock loses with stale_write instead of writing the personal data back.
    _many(
        conn,
        update(table)
        .where(table.c[key] == bindparam("b_id"))
        .values(doc=bindparam("b_doc"), version=table.c.version + 1),
        [{"b_id": getattr(i, key), "b_doc": to_doc(i)} for i in items],
    )
    for item in items:
        item.version += 1


def _changed(rows: Iterable[Any], values: PersonalValues, column: str) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        before = getattr(row, column)
        after = values.scrub(before)
        if after != before:
            out.append({"b_id": row[0], "b_doc": after})
    return out


def _many(conn: Connection, stmt: Any, params: list[dict[str, Any]]) -> None:
    """One executemany, or nothing when there is nothing to write."""
    if params:
        conn.execute(stmt, params)
