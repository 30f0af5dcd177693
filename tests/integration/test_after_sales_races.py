"""Exchanges and customs returns raced on SQLite and PostgreSQL (issue 9 §6, §7), then the
invariants checked in SQL: stock never oversold (reserved <= on_hand, nothing negative), each
customs return settled once, its tax paid once, the buyer's annual quota restored exactly by
the settled returns' value; the transfers (differences, paybacks, tax) moved once each and a
payback never before its collection (``races.transfer_violations``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    race,
    transfer_violations,
)

from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.exchange import StockLevel
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Grade, Reason, ReturnKind
from doorstep.domain.transfer import TransferPurpose, transfer_key
from doorstep.services import catalog, customs, exchanges, returns, transfers, warehouse
from doorstep.services.ports import PaymentResult
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
WH = "wh-sh-bonded"


class CollectOutage(LocalPayments):
    """The local provider whose charges (``collect``) time out while ``collect_down``; pay-outs
    keep working, which is when paying back before collecting would show."""

    collect_down = False

    def collect(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        if self.collect_down:
            return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")
        return super().collect(idempotency_key, buyer_id, amount_fen, reference)


@pytest.fixture
def payments() -> CollectOutage:
    return CollectOutage()


def _orders(
    app: App, n: int, sku: str, *, bonded: bool = False, price: int = 79_900
) -> list[Order]:
    placed = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:8]
    made = [
        Order(
            f"XR-{batch}-{i:03d}",
            BUYER,
            "shop-test",
            Channel.BONDED if bonded else Channel.DOMESTIC,
            placed,
            HOME,
            (OrderLine("L1", sku, 1, price, 7_270 if bonded else 0),),
            signed_at=placed + timedelta(days=5),
            customs_released_at=placed + timedelta(days=1) if bonded else None,
            declaration_no=f"D-{batch}-{i:03d}" if bonded else None,
        )
        for i in range(n)
    ]
    catalog.import_orders(app.services, made, None)
    return made


def _file(app: App, order: Order, kind: ReturnKind, to: str | None = None) -> str:
    request = returns.open_return(
        app.services,
        OpenReturn(
            BUYER,
            order.order_id,
            kind,
            (LineRequest("L1", 1, Reason.NO_REASON),),
            replacements={"L1": to} if to else {},
        ),
    )
    return request.return_id


def _stock_violations(app: App) -> list[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT sku, on_hand, reserved FROM stock WHERE reserved > on_hand OR reserved < 0 OR on_hand < 0"
            )
        ).all()
    return [f"stock broken: {tuple(r)}" for r in rows]


def test_parallel_exchanges_for_the_last_units(wired: App) -> None:
    svc = wired.services
    sku, target = "JP-DOWN-JACKET-M", "JP-DOWN-JACKET-L"
    exchanges.upsert_stock(svc, [StockLevel(target, "down-jacket-hooded", 79_900, 5)])
    orders = _orders(wired, RACERS, sku)
    outcome = race([lambda o=o: _file(wired, o, ReturnKind.EXCHANGE, target) for o in orders])
    assert len(outcome.won) == 5 and outcome.codes == {"out_of_stock": RACERS - 5}
    assert _stock_violations(wired) == []
    with wired.engine.connect() as conn:
        reserved = conn.execute(
            text("SELECT reserved FROM stock WHERE sku = :s"), {"s": target}
        ).scalar()
        held = conn.execute(
            text("SELECT COUNT(*) FROM exchanges WHERE status = 'reserved'")
        ).scalar()
        filed = conn.execute(
            text("SELECT COUNT(*) FROM returns WHERE order_id LIKE 'XR-%'")
        ).scalar()
    assert reserved == 5 and held == 5 and filed == 5
    # Half the winners withdraw at once, the other half turn to a refund: all units return.
    won = list(outcome.won)
    calls = [lambda r=r: returns.cancel_return(svc, BUYER, r, "x") for r in won[:2]]
    calls += [lambda r=r: exchanges.refund_instead(svc, BUYER, r) for r in won[2:]]
    race(calls * 4)  # each asked four times: released once
    assert _stock_violations(wired) == []
    with wired.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT reserved FROM stock WHERE sku = :s"), {"s": target}).scalar()
            == 0
        )


def _arrived(app: App, return_id: str) -> None:
    svc = app.services
    returns.choose_self_send(svc, BUYER, return_id, ReturnMethod.SELF_SHIP)
    returns.register_shipment(svc, BUYER, return_id, "SF1234567890123", "sf")
    warehouse.receive(svc, WH, return_id)


def test_parallel_settlements_restore_the_quota_once_each(
    wired: App, payments: LocalPayments
) -> None:
    svc = wired.services
    orders = _orders(wired, RACERS, "JP-DOWN-JACKET-M", bonded=True)
    quota_before = customs.quota_of(svc, BUYER).used_fen
    ids = []
    for order in orders:
        return_id = _file(wired, order, ReturnKind.REFUND)
        (cr,) = [c for c in customs.queue(svc) if return_id in c.customs_return.return_ids]
        assert (
            customs.declare(svc, cr.customs_return.customs_return_id).status
            is CustomsStatus.ACCEPTED
        )
        _arrived(wired, return_id)
        ids.append(cr.customs_return.customs_return_id)
    # Two settlements per declaration at once (a sweep and a poll seeing success twice).
    race([lambda c=c: customs.settle(svc, c) for c in ids] * 2)
    with wired.engine.connect() as conn:
        statuses = dict(
            conn.execute(text("SELECT customs_return_id, status FROM customs_returns")).all()
        )
        settled_events = conn.execute(
            text(
                "SELECT aggregate_id, COUNT(*) FROM events WHERE name = 'customs.settled' GROUP BY aggregate_id"
            )
        ).all()
        moves = conn.execute(
            text(
                "SELECT idempotency_key, amount_fen, status FROM transfers WHERE purpose = 'customs_tax'"
            )
        ).all()
        negative = conn.execute(
            text("SELECT COUNT(*) FROM customs_quota WHERE restored_fen < 0")
        ).scalar()
    assert all(statuses[c] == CustomsStatus.SETTLED.value for c in ids)
    assert sorted(n for _, n in settled_events) == [1] * RACERS
    assert len(moves) == RACERS and {m.amount_fen for m in moves} == {7_270}
    assert all(m.status == "succeeded" for m in moves) and negative == 0
    paid = {k: v for k, v in payments.paid.items() if k.startswith("customs-tax:")}
    assert set(paid) == {transfer_key(TransferPurpose.CUSTOMS_TAX, c) for c in ids}
    # The year's total counted the 24 orders; settling took exactly their value back, once.
    assert customs.quota_of(svc, BUYER).used_fen == max(quota_before - RACERS * 79_900, 0)
    assert transfer_violations(wired.engine, payments) == []


def test_settlements_raced_with_grading_pay_the_tax_once(
    wired: App, payments: LocalPayments
) -> None:
    """A declaration settled while QC grades its return (the settlement pays the tax; so
    would the goods refund if it did not see the settlement): the buyer gets the goods and
    the tax once per order, whichever commits first."""
    svc = wired.services
    orders = _orders(wired, RACERS // 2, "JP-DOWN-JACKET-M", bonded=True)
    pairs = []
    for order in orders:
        return_id = _file(wired, order, ReturnKind.REFUND)
        (cr,) = [c for c in customs.queue(svc) if return_id in c.customs_return.return_ids]
        cr_id = cr.customs_return.customs_return_id
        assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED
        _arrived(wired, return_id)
        pairs.append((cr_id, return_id))
    calls = [lambda c=c: customs.settle(svc, c) for c, _ in pairs]
    calls += [lambda r=r: warehouse.grade(svc, WH, r, Grade.A, "ok") for _, r in pairs]
    outcome = race(calls)
    assert len(outcome.won) == RACERS
    with wired.engine.connect() as conn:
        paid = conn.execute(
            text(
                "SELECT l.customs_return_id,"
                " (SELECT COALESCE(SUM(f.amount_fen), 0) FROM refunds f"
                "   WHERE f.return_id = l.return_id AND f.status = 'succeeded'),"
                " (SELECT COALESCE(SUM(m.amount_fen), 0) FROM transfers m"
                "   WHERE m.purpose = 'customs_tax' AND m.subject_id = l.customs_return_id"
                "   AND m.status = 'succeeded')"
                " FROM customs_links l WHERE l.customs_return_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": [c for c, _ in pairs]},
        ).all()
        settled = conn.execute(
            text("SELECT COUNT(*) FROM customs_returns WHERE status = 'settled'")
        ).scalar()
    assert len(paid) == len(pairs) and settled == len(pairs)
    # Goods 79,900 and tax 7,270 per order, in whichever of the two payments carried the tax.
    assert {c: refund + tax for c, refund, tax in paid} == {c: 87_170 for c, _ in pairs}
    assert all(tax in (0, 7_270) for _, _, tax in paid)
    assert transfer_violations(wired.engine, payments) == []


def test_receipts_raced_ship_each_replacement_once(wired: App, payments: LocalPayments) -> None:
    """Each parcel received twice at once, by its return and by its waybill: one receipt wins,
    the replacement ships once from the reserved unit, and the cheaper variant's difference
    is paid back once, whichever scan won."""
    svc = wired.services
    sku, cheaper = "JP-DOWN-JACKET-M", "JP-DOWN-JACKET-S"
    n = RACERS // 2
    exchanges.upsert_stock(svc, [StockLevel(cheaper, "down-jacket-hooded", 69_900, n)])
    waybills = {}
    for i, order in enumerate(_orders(wired, n, sku)):
        return_id = _file(wired, order, ReturnKind.EXCHANGE, cheaper)
        returns.choose_self_send(svc, BUYER, return_id, ReturnMethod.SELF_SHIP)
        waybills[return_id] = f"SF{1_234_567_800_000 + i}"
        returns.register_shipment(svc, BUYER, return_id, waybills[return_id], "sf")
    calls = [lambda r=r: warehouse.receive(svc, WH, r) for r in waybills]
    calls += [lambda w=w: warehouse.receive_waybill(svc, WH, w) for w in waybills.values()]
    outcome = race(calls)
    assert len(outcome.won) == n and len(outcome.lost) == n
    assert _stock_violations(wired) == []
    with wired.engine.connect() as conn:
        stock = conn.execute(
            text("SELECT on_hand, reserved FROM stock WHERE sku = :s"), {"s": cheaper}
        ).one()
        shipped = conn.execute(
            text(
                "SELECT COUNT(*) FROM exchanges WHERE status = 'shipped' AND return_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(waybills)},
        ).scalar()
        paid_back = conn.execute(
            text(
                "SELECT subject_id, COUNT(*), SUM(amount_fen) FROM transfers"
                " WHERE purpose = 'exchange_refund' AND subject_id IN :ids GROUP BY subject_id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(waybills)},
        ).all()
    assert tuple(stock) == (0, 0) and shipped == n
    assert {r: (count, total) for r, count, total in paid_back} == {
        r: (1, 10_000) for r in waybills
    }
    assert transfer_violations(wired.engine, payments) == []


def test_payment_faults_on_the_difference_and_the_tax_pay_once(
    wired: App, payments: LocalPayments
) -> None:
    """Timeouts, an answer lost after paying, and success reported twice, on both backends:
    one charge per exchange difference, one tax refund per declaration."""
    svc = wired.services
    target = "KR-LIPSTICK-V02"
    exchanges.upsert_stock(svc, [StockLevel(target, "lipstick-velvet", 81_900, 50)])
    payments.fail_next = 3  # the filing's collection and the first retries time out
    orders = _orders(wired, 3, "KR-LIPSTICK-V01", price=79_900)
    filed = [_file(wired, o, ReturnKind.EXCHANGE, target) for o in orders]
    race([lambda: transfers.retry_pending(svc)] * RACERS)  # success seen many times
    transfers.retry_pending(svc)
    with wired.engine.connect() as conn:
        moves = conn.execute(
            text(
                "SELECT idempotency_key, status, amount_fen FROM transfers WHERE purpose = 'exchange_collect'"
            )
        ).all()
        events = conn.execute(
            text("SELECT COUNT(*) FROM events WHERE name = 'money.succeeded'")
        ).scalar()
    mine = {f"exchange-diff:{r}" for r in filed}
    assert {m.idempotency_key for m in moves} >= mine
    assert all(
        m.status == "succeeded" and m.amount_fen == 2_000
        for m in moves
        if m.idempotency_key in mine
    )
    assert {k for k in payments.collected if k in mine} == mine
    assert events is not None and events >= len(mine)
    with wired.engine.connect() as conn:
        twice = conn.execute(text("SELECT data FROM events WHERE name = 'money.succeeded'")).all()
    assert len(twice) == len({str(row[0]) for row in twice})  # no transfer settled twice
    assert transfer_violations(wired.engine, payments) == []


def test_paybacks_raced_with_the_sweep_wait_for_the_collection(
    wired: App, payments: CollectOutage
) -> None:
    """Buyers take a refund instead while their differences' collections time out, and the
    sweep runs at the same moment: nothing is paid back until the money came in, then each
    difference is paid back once, for what was collected."""
    svc = wired.services
    target = "KR-LIPSTICK-V02"
    exchanges.upsert_stock(svc, [StockLevel(target, "lipstick-velvet", 81_900, 50)])
    payments.collect_down = True
    filed = [
        _file(wired, o, ReturnKind.EXCHANGE, target)
        for o in _orders(wired, 4, "KR-LIPSTICK-V01", price=79_900)
    ]
    sweeps = [lambda: transfers.retry_pending(svc)] * (RACERS - len(filed))
    race([lambda r=r: exchanges.refund_instead(svc, BUYER, r) for r in filed] + sweeps)
    backs = {f"exchange-diff-back:{r}" for r in filed}
    assert not backs & payments.paid.keys()
    assert transfer_violations(wired.engine, payments) == []
    payments.collect_down = False
    race([lambda: transfers.retry_pending(svc)] * RACERS)
    transfers.retry_pending(svc)
    assert {k: v[1] for k, v in payments.paid.items() if k in backs} == dict.fromkeys(backs, 2_000)
    assert {k: v[1] for k, v in payments.collected.items() if k.endswith(tuple(filed))} == {
        f"exchange-diff:{r}": 2_000 for r in filed
    }
    with wired.engine.connect() as conn:
        open_ = conn.execute(
            text("SELECT COUNT(*) FROM transfers WHERE status = 'pending'")
        ).scalar()
    assert open_ == 0
    assert transfer_violations(wired.engine, payments) == []
