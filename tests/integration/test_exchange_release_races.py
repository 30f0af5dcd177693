"""Exchanges released while racing, on SQLite and PostgreSQL: the buyer withdraws, review
refuses and the buyer takes a refund instead, all at once, on exchanges whose dearer
variant's difference was collected at filing. Whichever releases the exchange, the units go
back once and the collected difference is paid back once, for what was collected
(``races.transfer_violations``: collected == paid back for every released exchange)."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from itertools import cycle

import pytest
from PIL import Image
from sqlalchemy import bindparam, text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    transfer_violations,
    violations,
)

from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.exchange import StockLevel
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import (
    catalog,
    courier,
    disputes,
    exchanges,
    photos,
    pickup,
    refunds,
    returns,
    transfers,
    warehouse,
)
from doorstep.services.ports import PaymentResult
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-003"
HOME = Address("310112", "上海市", "上海市", "闵行区", "莘松路958弄12号", "王浩然", "13800001003")
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
WH = "wh-sh-bonded"


class Payments(RecordingPayments):
    """The recording provider whose charges (``collect``) time out while ``collect_down``."""

    collect_down = False

    def collect(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        if self.collect_down:
            return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")
        return super().collect(idempotency_key, buyer_id, amount_fen, reference)


@pytest.fixture
def payments() -> Payments:
    return Payments()


def _orders(app: App, n: int) -> list[Order]:
    placed = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:8]
    orders = [
        Order(
            f"XL-{batch}-{i:03d}",
            BUYER,
            "shop-test",
            Channel.DOMESTIC,
            placed,
            HOME,
            (OrderLine("L1", LIP_1, 1, 32_000),),
            signed_at=placed + timedelta(days=3),
        )
        for i in range(n)
    ]
    catalog.import_orders(app.services, orders, None)
    return orders


def _exchange(app: App, order: Order, reason: Reason) -> str:
    request = returns.open_return(
        app.services,
        OpenReturn(
            BUYER,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, reason),),
            replacements={"L1": LIP_2},
        ),
    )
    return request.return_id


def _held_exchanges(app: App, n: int) -> list[str]:
    """``n`` exchanges for the dearer lipstick held for review (a quality reason without a
    photo), each with its 2,000 fen difference collected."""
    filed = [_exchange(app, order, Reason.QUALITY) for order in _orders(app, n)]
    assert all(returns.get_return(app.services, r).status is ReturnStatus.IN_REVIEW for r in filed)
    return filed


def test_withdraw_reject_and_refund_instead_at_once_pay_back_once(
    wired: App, payments: LocalPayments
) -> None:
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", 34_000, 50)])
    filed = _held_exchanges(wired, RACERS // 3)
    assert {f"exchange-diff:{r}" for r in filed} <= payments.collected.keys()
    calls = []
    for rid in filed:
        calls += [
            lambda r=rid: returns.cancel_return(svc, BUYER, r, "changed my mind"),
            lambda r=rid: returns.review_return(svc, r, approve=False, reviewer="ops", note=""),
            lambda r=rid: exchanges.refund_instead(svc, BUYER, r),
        ]
    outcome = race(calls)
    assert len(outcome.won) >= len(filed)  # at least the first of each three
    with wired.engine.connect() as conn:
        reserved = conn.execute(
            text("SELECT reserved FROM stock WHERE sku = :s"), {"s": LIP_2}
        ).scalar()
        released = conn.execute(
            text(
                "SELECT aggregate_id, COUNT(*) FROM events WHERE name = 'exchange.released'"
                " AND aggregate_id IN :ids GROUP BY aggregate_id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": filed},
        ).all()
        paybacks = conn.execute(
            text(
                "SELECT subject_id, COUNT(*), SUM(amount_fen) FROM transfers"
                " WHERE purpose = 'exchange_payback' AND status = 'succeeded'"
                " AND subject_id IN :ids GROUP BY subject_id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": filed},
        ).all()
    assert reserved == 0
    assert {r: n for r, n in released} == dict.fromkeys(filed, 1)
    assert {r: (n, total) for r, n, total in paybacks} == {r: (1, 2_000) for r in filed}
    back = {f"exchange-diff-back:{r}": 2_000 for r in filed}
    assert {k: v[1] for k, v in payments.paid.items() if k in back} == back
    assert transfer_violations(wired.engine, payments) == []


def test_refunds_instead_of_inspected_exchanges_raced_pay_once(
    wired: App, payments: Payments
) -> None:
    """Exchanges whose collection was unanswered when the old item passed QC (so nothing
    shipped); the buyer asks for a refund instead three times at once while the sweeps run:
    one conversion, one refund of the goods, one payback of the difference each."""
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", 34_000, 50)])
    payments.collect_down = True
    filed = []
    for i, order in enumerate(_orders(wired, RACERS // 4)):
        rid = _exchange(wired, order, Reason.NO_REASON)
        returns.choose_self_send(svc, BUYER, rid, ReturnMethod.SELF_SHIP)
        returns.register_shipment(svc, BUYER, rid, f"SF{1_234_567_900_000 + i}", "sf")
        warehouse.receive(svc, WH, rid)
        assert warehouse.grade(svc, WH, rid, Grade.A, "ok").status is ReturnStatus.INSPECTED
        filed.append(rid)
    payments.collect_down = False
    calls = [lambda r=r: exchanges.refund_instead(svc, BUYER, r) for r in filed] * 3
    calls += [lambda: refunds.retry_pending_refunds(svc), lambda: transfers.retry_pending(svc)] * (
        (RACERS - len(calls)) // 2
    )
    outcome = race(calls)
    assert len(outcome.won) >= RACERS - 2 * len(filed)
    refunds.retry_pending_refunds(svc)
    transfers.retry_pending(svc)
    for rid in filed:
        done = returns.get_return(svc, rid)
        assert (done.kind, done.status) == (ReturnKind.REFUND, ReturnStatus.REFUNDED)
        assert payments.log_for(rid) and {a for _, a in payments.log_for(rid)} == {32_000}
    assert {k: v[1] for k, v in payments.paid.items() if k.startswith("exchange-diff-back:")} == {
        f"exchange-diff-back:{r}": 2_000 for r in filed
    }
    assert violations(wired, payments) == []


# --- partial pickup carried into the exchange ---------------------------------------------------

TRUSTED = "buyer-001"
TRUSTED_HOME = Address(
    "310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111"
)
PILLOW = "CN-LATEX-PILLOW"
BARCODE = "6901234567892"
TOMORROW = date(2026, 11, 26)


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (40, 40, 180)).save(buf, "JPEG")
    return buf.getvalue()


def _three_at_the_door(
    app: App, buyer: str, home: Address, sku: str, price: int, to: str, slot: pickup.SlotChoice
) -> tuple[Order, str, str, str, str]:
    """An exchange of three units inspected at the door, the second refused for a scratch:
    (order, return, visit, courier, code)."""
    svc = app.services
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    order = Order(
        f"XP-{uuid.uuid4().hex[:10]}",
        buyer,
        "shop-test",
        Channel.DOMESTIC,
        placed,
        home,
        (OrderLine("L1", sku, 3, price, barcode=BARCODE),),
        signed_at=placed + timedelta(days=1),
    )
    catalog.import_orders(svc, [order], None)
    rid = returns.open_return(
        svc,
        OpenReturn(
            buyer,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 3, Reason.NO_REASON),),
            replacements={"L1": to},
        ),
    ).return_id
    appt = pickup.book_pickup(svc, buyer, rid, slot)
    cid = appt.courier_id
    assert cid is not None
    courier.arrive(svc, cid, appt.appointment_id)
    (lines,) = courier.visit_checklists(svc, cid, appt.appointment_id)
    keys = [c.key for c in lines.checks if c.key != "barcode_matches"]
    shots = [photos.upload_photo(svc, cid, _jpeg()).photo_id for _ in range(3)]
    units = tuple(
        UnitAnswer({k: n != 1 or k != keys[0] for k in keys}, BARCODE, (shots[n],))
        for n in range(3)
    )
    weight = 3 * catalog_weight(app, sku)
    courier.inspect(
        svc,
        cid,
        appt.appointment_id,
        courier.InspectionInput(rid, {}, (), weight, "", (courier.LineAnswer("L1", units),)),
    )
    return order, rid, appt.appointment_id, cid, appt.pickup_code


def catalog_weight(app: App, sku: str) -> int:
    with app.engine.connect() as conn:
        doc = conn.execute(text("SELECT doc FROM products WHERE sku = :s"), {"s": sku}).scalar()
    body = doc if isinstance(doc, dict) else json.loads(doc)
    return int(body["weight_g"])


def _new_exchange(app: App, buyer: str, order: Order, to: str) -> ReturnRequest:
    return returns.open_return(
        app.services,
        OpenReturn(
            buyer,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, Reason.NO_REASON),),
            replacements={"L1": to},
        ),
    )


def _units(app: App, return_id: str) -> int:
    return sum(exchanges.get_exchange(app.services, return_id).units.values())


def test_partial_pickups_of_exchanges_raced_ship_what_left_the_door(
    wired: App, payments: Payments
) -> None:
    """A trusted buyer's exchange of three pillows, two taken at the door; the pickup sent
    twice, the replacement shipped by hand and by the sweep, and a new exchange filed for the
    refused unit, all at once: two replacements leave stock, the third unit is free again
    (at most the new exchange holds it), in SQL stock reserved = units reserved exchanges
    promise."""
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(PILLOW, "latex-pillow", 39_900, 100)])
    for hour in (10, 12, 14):
        before = _stock(wired, PILLOW)
        order, rid, aid, cid, code = _three_at_the_door(
            wired,
            TRUSTED,
            TRUSTED_HOME,
            PILLOW,
            39_900,
            PILLOW,
            pickup.SlotChoice("sf", TOMORROW, time(hour)),
        )
        calls = cycle(
            [
                lambda c=cid, a=aid, k=code: courier.pick_up(svc, c, a, k),
                lambda r=rid: exchanges.ship_if_due(svc, r),
                lambda: exchanges.advance_exchanges(svc),
                lambda o=order: _new_exchange(wired, TRUSTED, o, PILLOW),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        assert set(out.codes) <= LOST, out.codes
        exchanges.ship_if_due(svc, rid)
        assert exchanges.get_exchange(svc, rid).units == {PILLOW: 2}
        new = [w for w in out.won if isinstance(w, ReturnRequest)]
        assert len(new) <= 1
        on_hand, reserved = _stock(wired, PILLOW)
        assert on_hand == before[0] - 2 and reserved == before[1] + len(new)
    assert violations(wired, payments) == []


def test_partial_pickups_of_dearer_exchanges_raced_pay_the_left_unit_back_once(
    wired: App, payments: Payments
) -> None:
    """The same for a buyer whose replacement waits for receipt, exchanging for the dearer
    variant: the 2,000 fen collected for the unit left behind is paid back once, whoever
    noticed the pickup first, and the exchange holds two units."""
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", 34_000, 100)])
    for hour in (9, 11):
        before = _stock(wired, LIP_2)
        _, rid, aid, cid, code = _three_at_the_door(
            wired, BUYER, HOME, LIP_1, 32_000, LIP_2, pickup.SlotChoice("yto", TOMORROW, time(hour))
        )
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
        assert exchanges.get_exchange(svc, rid).units == {LIP_2: 2}
        assert payments.paid[f"exchange-diff-part:{rid}"][1] == 2_000
        assert _stock(wired, LIP_2) == (before[0], before[1] + 2)
    assert violations(wired, payments) == []


# Losing a duplicate pickup (the visit moved on, the other saved first), a claim for the
# refused unit filed twice, a ship racing the pickup's own.
LOST = {
    "illegal_transition",
    "stale_write",
    "not_arrived",
    "nothing_to_pick_up",
    "quantity_already_claimed",
}


def _stock(app: App, sku: str) -> tuple[int, int]:
    with app.engine.connect() as conn:
        row = conn.execute(
            text("SELECT on_hand, reserved FROM stock WHERE sku = :s"), {"s": sku}
        ).one()
    return int(row[0]), int(row[1])


# --- a replacement shipped, the old item failed QC ----------------------------------------------


def test_lost_disputes_over_shipped_replacements_raced_charge_once(
    wired: App, payments: Payments
) -> None:
    """Replacements shipped at receipt whose old items then failed QC; ops decide each
    dispute three times at once against the buyer while the transfer sweep runs: one
    decision, one charge of the replacement's value (39,900 fen) each, collected once."""
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(PILLOW, "latex-pillow", 39_900, 100)])
    placed = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:8]
    orders = [
        Order(
            f"XQ-{batch}-{i:03d}",
            BUYER,
            "shop-test",
            Channel.DOMESTIC,
            placed,
            HOME,
            (OrderLine("L1", PILLOW, 1, 39_900),),
            signed_at=placed + timedelta(days=3),
        )
        for i in range(RACERS // 4)
    ]
    catalog.import_orders(svc, orders, None)
    filed = []
    for i, order in enumerate(orders):
        rid = _new_exchange(wired, BUYER, order, PILLOW).return_id
        returns.choose_self_send(svc, BUYER, rid, ReturnMethod.SELF_SHIP)
        returns.register_shipment(svc, BUYER, rid, f"SF{1_234_567_950_000 + i}", "sf")
        warehouse.receive(svc, WH, rid)
        assert warehouse.grade(svc, WH, rid, Grade.C, "stained").status is ReturnStatus.DISPUTED
        filed.append(rid)
    calls = [
        lambda r=r: disputes.decide_dispute(svc, "ops-001", r, buyer_upheld=False, note="x")
        for r in filed
    ] * 3
    calls += [lambda: transfers.retry_pending(svc)] * (RACERS - len(calls))
    outcome = race(calls)
    assert set(outcome.codes) <= {"illegal_transition", "stale_write"}, outcome.codes
    transfers.retry_pending(svc)
    charged = {f"exchange-recover:{r}": 39_900 for r in filed}
    assert {k: v[1] for k, v in payments.collected.items() if k in charged} == charged
    with wired.engine.connect() as conn:
        statuses = conn.execute(
            text(
                "SELECT status, COUNT(*) FROM exchanges WHERE return_id IN :ids GROUP BY status"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": filed},
        ).all()
    assert dict(statuses) == {"charged": len(filed)}
    assert violations(wired, payments) == []
