"""Partial pickup moves quantities: raced against new claims and express refunds.

A courier takes two of three units (one refused at the door). At the same moment the same
pickup is sent again, the buyer files a new return for the unit that stays with them, and the
express refund is started by hand. Afterwards, in SQL: no order line is claimed past what was
bought (tests/integration/races.py), each return holds exactly the units its door inspection
took, and each refund is exactly the price of those units.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from itertools import cycle

import pytest
from PIL import Image
from sqlalchemy import Engine, select
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.adapters.db import tables as t
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.services import catalog, courier, photos, pickup, refunds, returns
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"  # trusted: express refund at pickup
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
TOMORROW = date(2026, 11, 26)
PRICE = 19_900
BARCODE = "6901234567892"
CHECKS = {k: True for k in courier.CHECKLIST if k != "barcode_matches"}
# Losing a duplicate pickup: the visit moved on, or the other one saved first; a different
# inspection or pickup of a visit already picked up (the same one is answered as the first).
PICKUP_LOST = {
    "illegal_transition",
    "stale_write",
    "not_arrived",
    "nothing_to_pick_up",
    "visit_already_picked_up",
}
CLAIM_LOST = {"quantity_already_claimed"}
REFUND_LOST = {"illegal_transition", "stale_write", "refund_not_due", "not_refundable"}


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (40, 40, 180)).save(buf, "JPEG")
    return buf.getvalue()


def _order(app: App) -> Order:
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    order = Order(
        f"PART-{uuid.uuid4().hex[:10]}",
        BUYER,
        "shop-cn-home",
        Channel.DOMESTIC,
        placed,
        HOME,
        (OrderLine("L1", "CN-LATEX-PILLOW", 3, PRICE, barcode=BARCODE),),
        signed_at=placed + timedelta(days=1),
    )
    catalog.import_orders(app.services, [order], None)
    return order


def _claim(app: App, order: Order, quantity: int) -> object:
    return returns.open_return(
        app.services,
        OpenReturn(
            BUYER,
            order.order_id,
            ReturnKind.REFUND,
            (LineRequest("L1", quantity, Reason.NO_REASON),),
        ),
    )


def _inspected(app: App, order: Order, hour: int) -> tuple[str, str, str, str]:
    """Three units at the door, the second refused for a scratch: (return, visit, courier,
    code)."""
    svc = app.services
    request = _claim(app, order, 3)
    rid = request.return_id  # type: ignore[attr-defined]
    appt = pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("sf", TOMORROW, time(hour)))
    cid = appt.courier_id
    assert cid is not None
    courier.arrive(svc, cid, appt.appointment_id)
    shots = [photos.upload_photo(svc, cid, _jpeg()).photo_id for _ in range(3)]
    units = tuple(
        UnitAnswer(CHECKS | {"appearance_ok": n != 1}, BARCODE, (shots[n],)) for n in range(3)
    )
    done = courier.inspect(
        svc,
        cid,
        appt.appointment_id,
        courier.InspectionInput(rid, {}, (), 3_000, "", (courier.LineAnswer("L1", units),)),
    )
    assert done.refusal_reason == "appearance_ok"
    return rid, appt.appointment_id, cid, appt.pickup_code


def _held_match_inspection(engine: Engine) -> list[str]:
    """Every picked-up return holds exactly the units its door inspection took, and its
    refund (when there is one) is exactly their price."""
    r, f = t.returns.c, t.refunds.c
    out = []
    with engine.connect() as conn:
        amounts = {
            row.return_id: (row.amount_fen, row.status)
            for row in conn.execute(select(f.return_id, f.amount_fen, f.status))
        }
        for row in conn.execute(select(r.return_id, r.doc).where(r.order_id.like("PART-%"))):
            doc = row.doc
            units = (doc.get("inspection") or {}).get("units") or []
            if doc["status"] not in ("picked_up", "in_transit", "received") or not units:
                continue
            taken = sum(1 for u in units if not u["failed"])
            held = sum(ln["quantity"] for ln in doc["lines"])
            if held != taken:
                out.append(f"holds {held} units but {taken} were taken: {row.return_id}")
            paid = amounts.get(row.return_id)
            if paid is None or paid[0] != taken * PRICE:
                out.append(f"refund {paid} for {taken} units taken: {row.return_id}")
        conn.rollback()
    return out


def test_partial_pickups_raced_with_new_claims_and_refunds(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    for hour in (10, 12, 14):
        order = _order(wired)
        rid, aid, cid, code = _inspected(wired, order, hour)
        calls = cycle(
            [
                lambda c=cid, a=aid, k=code: courier.pick_up(svc, c, a, k),
                lambda o=order: _claim(wired, o, 1),
                lambda r=rid: refunds.start_express_refund(svc, r),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        lost = set(out.codes)
        assert lost <= PICKUP_LOST | CLAIM_LOST | REFUND_LOST, out.codes
        after = returns.get_return(svc, rid)
        assert after.status is ReturnStatus.PICKED_UP
        assert [ln.quantity for ln in after.lines] == [2]
        # The refused unit went back to the buyer: at most one new return could take it.
        claims = [w for w in out.won if getattr(w, "order_id", None) == order.order_id]
        assert len(claims) <= 1
        if not claims:
            assert _claim(wired, order, 1).status is ReturnStatus.APPROVED  # type: ignore[attr-defined]
        assert payments.paid[f"refund:{rid}"][1] == 2 * PRICE
    assert violations(wired, payments) == []
    assert _held_match_inspection(wired.engine) == []
