"""Mixed exchanges (a dearer and a cheaper line) whose partial pickup turns the net difference
from owed by the buyer to owed to the buyer, raced on SQLite and PostgreSQL: the pickup sent
again and again, the replacement shipped by hand and by the sweep, the transfer sweep, all at
once. The collection goes back once (``exchange-diff-part``), the cheaper side is refunded
once under its own key (``exchange-diff-refund``), and in SQL the buyer's money nets to the
difference of what left the door (``races``: "shipped exchange's money differs"). The other
way round (the cheaper line stays at the door), the rest is collected once before shipping."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from itertools import cycle

import pytest
from PIL import Image
from sqlalchemy import text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.exchange import ExchangeStatus, StockLevel
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.services import catalog, courier, exchanges, photos, pickup, returns, transfers
from doorstep.services.returns import LineRequest, OpenReturn

TRUSTED = "buyer-001"  # the replacement ships at pickup
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
TOMORROW = date(2026, 11, 26)
# L1: three V01 at 32,000 for V02 at 34,000 (+6,000); L2: one V02 bought at 37,000 for V01
# (-5,000): 1,000 collected at filing. One L1 unit refused: +4,000 - 5,000 = -1,000.
COLLECTED, OWED = 1_000, 1_000
# Losing a repeated pickup (the visit moved on, the other saved first), a ship racing the
# pickup's own.
LOST = {"illegal_transition", "stale_write", "not_arrived", "nothing_to_pick_up"}


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (180, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


def _weight(app: App, sku: str) -> int:
    with app.engine.connect() as conn:
        doc = conn.execute(text("SELECT doc FROM products WHERE sku = :s"), {"s": sku}).scalar()
    body = doc if isinstance(doc, dict) else json.loads(doc)
    return int(body["weight_g"])


def _at_the_door(
    app: App, hour: int, refused: tuple[str, int] = ("L1", 1)
) -> tuple[str, str, str, str]:
    """A mixed exchange inspected at the door, one unit (line, index) refused, by default the
    second L1 unit: (return, visit, courier, code)."""
    svc = app.services
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    order = Order(
        f"XM-{uuid.uuid4().hex[:10]}",
        TRUSTED,
        "shop-test",
        Channel.DOMESTIC,
        placed,
        HOME,
        (OrderLine("L1", LIP_1, 3, 32_000), OrderLine("L2", LIP_2, 1, 37_000)),
        signed_at=placed + timedelta(days=1),
    )
    catalog.import_orders(svc, [order], None)
    rid = returns.open_return(
        svc,
        OpenReturn(
            TRUSTED,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 3, Reason.NO_REASON), LineRequest("L2", 1, Reason.NO_REASON)),
            replacements={"L1": LIP_2, "L2": LIP_1},
        ),
    ).return_id
    appt = pickup.book_pickup(svc, TRUSTED, rid, pickup.SlotChoice("sf", TOMORROW, time(hour)))
    cid = appt.courier_id
    assert cid is not None
    courier.arrive(svc, cid, appt.appointment_id)
    answers = []
    for checklist in courier.visit_checklists(svc, cid, appt.appointment_id):
        keys = [c.key for c in checklist.checks]
        units = tuple(
            UnitAnswer(
                {k: (checklist.order_line_id, n) != refused or k != keys[0] for k in keys},
                None,
                (photos.upload_photo(svc, cid, _jpeg()).photo_id,),
            )
            for n in range(3 if checklist.order_line_id == "L1" else 1)
        )
        answers.append(courier.LineAnswer(checklist.order_line_id, units))
    weight = 3 * _weight(app, LIP_1) + _weight(app, LIP_2)
    courier.inspect(
        svc,
        cid,
        appt.appointment_id,
        courier.InspectionInput(rid, {}, (), weight, "", tuple(answers)),
    )
    return rid, appt.appointment_id, cid, appt.pickup_code


def test_mixed_exchanges_raced_after_a_partial_pickup_pay_the_buyer_the_net_once(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    exchanges.upsert_stock(
        svc,
        [
            StockLevel(LIP_1, "lipstick-velvet", 32_000, 100),
            StockLevel(LIP_2, "lipstick-velvet", 34_000, 100),
        ],
    )
    for hour in (10, 12):
        rid, aid, cid, code = _at_the_door(wired, hour)
        assert payments.collected[f"exchange-diff:{rid}"][1] == COLLECTED
        calls = cycle(
            [
                lambda c=cid, a=aid, k=code: courier.pick_up(svc, c, a, k),
                lambda r=rid: exchanges.ship_if_due(svc, r),
                lambda: exchanges.advance_exchanges(svc),
                lambda: transfers.retry_pending(svc),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        assert set(out.codes) <= LOST, out.codes
        exchanges.ship_if_due(svc, rid)
        transfers.retry_pending(svc)
        assert returns.get_return(svc, rid).status is ReturnStatus.PICKED_UP
        shipped = exchanges.get_exchange(svc, rid)
        assert shipped.status is ExchangeStatus.SHIPPED
        assert shipped.units == {LIP_2: 2, LIP_1: 1} and shipped.difference_fen == -OWED
        assert payments.paid[f"exchange-diff-part:{rid}"][1] == COLLECTED
        assert payments.paid[f"exchange-diff-refund:{rid}"][1] == OWED
        mine = [k for k in payments.paid.keys() | payments.collected.keys() if rid in k]
        assert sorted(mine) == sorted(
            f"{p}:{rid}" for p in ("exchange-diff", "exchange-diff-part", "exchange-diff-refund")
        )
        with wired.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT purpose, COUNT(*), SUM(amount_fen) FROM transfers"
                    " WHERE subject_id = :r AND status = 'succeeded' GROUP BY purpose"
                ),
                {"r": rid},
            ).all()
        assert {p: (n, a) for p, n, a in rows} == {
            "exchange_collect": (1, COLLECTED),
            "exchange_part": (1, COLLECTED),
            "exchange_refund": (1, OWED),
        }
    assert violations(wired, payments) == []


def test_mixed_exchanges_raced_after_the_cheaper_line_stayed_collect_the_rest_once(
    wired: App, payments: RecordingPayments
) -> None:
    """The other way round: the L2 unit (the cheaper side) is refused at the door, so the
    three L1 units owe 6,000 of which 1,000 was collected: the rest, 5,000, is collected once
    (``exchange-diff-more``) before the replacement ships, whoever noticed the pickup."""
    svc = wired.services
    exchanges.upsert_stock(
        svc,
        [
            StockLevel(LIP_1, "lipstick-velvet", 32_000, 100),
            StockLevel(LIP_2, "lipstick-velvet", 34_000, 100),
        ],
    )
    for hour in (10, 12):
        rid, aid, cid, code = _at_the_door(wired, hour, ("L2", 0))
        calls = cycle(
            [
                lambda c=cid, a=aid, k=code: courier.pick_up(svc, c, a, k),
                lambda r=rid: exchanges.ship_if_due(svc, r),
                lambda: exchanges.advance_exchanges(svc),
                lambda: transfers.retry_pending(svc),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        assert set(out.codes) <= LOST, out.codes
        transfers.retry_pending(svc)
        exchanges.ship_if_due(svc, rid)
        shipped = exchanges.get_exchange(svc, rid)
        assert shipped.status is ExchangeStatus.SHIPPED
        assert shipped.units == {LIP_2: 3} and shipped.difference_fen == 6_000
        assert payments.collected[f"exchange-diff-more:{rid}"][1] == 5_000
        assert not [k for k in payments.paid if rid in k]
        with wired.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT purpose, COUNT(*), SUM(amount_fen) FROM transfers"
                    " WHERE subject_id = :r AND status = 'succeeded' GROUP BY purpose"
                ),
                {"r": rid},
            ).all()
        assert {p: (n, a) for p, n, a in rows} == {
            "exchange_collect": (1, COLLECTED),
            "exchange_more": (1, 5_000),
        }
    assert violations(wired, payments) == []
