"""Stored documents on SQLite and PostgreSQL: today's rows load, older versions upgrade."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, delete, insert, select

from doorstep.adapters.db import codec
from doorstep.adapters.db import tables as t
from doorstep.adapters.db.codec import VERSION_KEY
from doorstep.bootstrap import App
from doorstep.domain.order import Order

LEGACY = json.loads((Path(__file__).parents[1] / "data" / "legacy_documents.json").read_text())


def _store(app: App, table: Table, key: str, row: dict[str, Any]) -> None:
    with app.engine.begin() as conn:
        conn.execute(delete(table).where(table.c[key] == row[key]))
        conn.execute(insert(table).values(**row))


def _stored_doc(app: App, table: Table, key: str, value: object) -> Any:
    with app.engine.connect() as conn:
        return conn.execute(select(table.c.doc).where(table.c[key] == value)).scalar_one()


def _legacy_rows(app: App) -> None:
    """The four documents as the hand-written codec stored them, with their query columns."""
    r, a, o, p = (LEGACY[k] for k in ("ReturnRequest", "Appointment", "Order", "Policy"))
    created = app.services.clock.now()
    _store(
        app,
        t.orders,
        "order_id",
        {"order_id": o["order_id"], "buyer_id": o["buyer_id"], "shop_id": o["shop_id"], "doc": o},
    )
    _store(app, t.policies, "version", {"version": p["version"], "created_at": created, "doc": p})
    _store(
        app,
        t.returns,
        "return_id",
        {
            "return_id": r["return_id"],
            "buyer_id": r["buyer_id"],
            "order_id": r["order_id"],
            "status": r["status"],
            "version": 2,
            "created_at": created,
            "updated_at": created,
            "doc": r,
        },
    )
    _store(
        app,
        t.appointments,
        "appointment_id",
        {
            "appointment_id": a["appointment_id"],
            "buyer_id": a["buyer_id"],
            "courier_id": a["courier_id"],
            "adcode": a["slot"]["adcode"],
            "carrier_id": a["slot"]["carrier_id"],
            "day": date.fromisoformat(a["slot"]["day"]),
            "status": a["status"],
            "version": 1,
            "doc": a,
        },
    )


def test_documents_stored_before_versions_load_and_save(wired: App) -> None:
    _legacy_rows(wired)
    r, a = LEGACY["ReturnRequest"], LEGACY["Appointment"]
    with wired.services.uow() as uow:
        request = uow.returns.get(r["return_id"])
        appt = uow.appointments.get(a["appointment_id"])
        order = uow.orders.get(r["order_id"])
        policy = uow.policies.get(LEGACY["Policy"]["version"])
        assert request is not None and appt is not None and order is not None
        assert policy is not None and policy.rules
        assert request.decision is not None and request.decision.findings
        assert request.appointment_id == appt.appointment_id
        assert [ln.sku for ln in request.lines] == [ln.sku for ln in order.lines]
        assert appt.slot.day.isoformat() == a["slot"]["day"]
        assert request.version == 2 and appt.version == 1
        uow.returns.save(request)
        uow.appointments.save(appt)
        uow.commit()
    saved = _stored_doc(wired, t.returns, "return_id", r["return_id"])
    assert saved[VERSION_KEY] == 1
    assert saved.keys() - {VERSION_KEY} == r.keys()
    with wired.services.uow() as uow:
        again = uow.returns.get(r["return_id"])
        assert again is not None and again.version == 3
        assert again.decision == request.decision and again.lines == request.lines


def test_an_older_version_upgrades_on_read(wired: App, monkeypatch: pytest.MonkeyPatch) -> None:
    # Suppose version 2 of the order document renamed "customs_declaration" to
    # "declaration_no": a row written as version 1 must load, and a save writes version 2.
    def rename(doc: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in doc.items() if k != "customs_declaration"}
        return {**out, "declaration_no": doc.get("customs_declaration")}

    monkeypatch.setitem(codec.UPGRADES, Order, (rename,))
    old = {k: v for k, v in LEGACY["Order"].items() if k != "declaration_no"}
    old |= {VERSION_KEY: 1, "customs_declaration": "DEC-0001"}
    order_id = old["order_id"]
    _store(
        wired,
        t.orders,
        "order_id",
        {"order_id": order_id, "buyer_id": old["buyer_id"], "shop_id": old["shop_id"], "doc": old},
    )
    with wired.services.uow() as uow:
        order = uow.orders.get(order_id)
        assert order is not None and order.declaration_no == "DEC-0001"
        assert [o.order_id for o in uow.orders.for_buyer(old["buyer_id"])].count(order_id) == 1
        uow.orders.put(order)
        uow.commit()
    stored = _stored_doc(wired, t.orders, "order_id", order_id)
    assert stored[VERSION_KEY] == 2 and stored["declaration_no"] == "DEC-0001"
    assert "customs_declaration" not in stored
