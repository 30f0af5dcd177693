"""Erasing a departed buyer's personal information after the retention period
(services/retention.py), on SQLite and PostgreSQL: nothing before the period is over,
every copy after it (found by value in every table), the transaction facts kept, one
``buyer.erased`` event, a second sweep changing nothing; a buyer who came back, or bought
again, or has something unsettled, is not erased."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.integration.races import (  # type: ignore[import-not-found]
    RecordingPayments,
    violations,
)
from tests.integration.retention_world import (  # type: ignore[import-not-found]
    after_years,
    found,
    leaver,
    snapshot,
)
from tests.statements import counting_statements  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.retention import SqlRetention
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.dispute import dispute_id
from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.domain.retention import ERASED, ERASED_PHONE, RetentionRule
from doorstep.domain.returns import ReturnStatus
from doorstep.domain.route import RouteStop, StopState, route_id
from doorstep.entrypoints import jobs
from doorstep.services import catalog, identity, photos, retention


def _sweep(app: App) -> int:
    return jobs.SWEEPS["retention"](app)["buyers_erased"]


def _buyer(app: App, buyer_id: str) -> Buyer:
    with app.services.uow() as uow:
        found_buyer = uow.buyers.get(buyer_id)
    assert found_buyer is not None
    return found_buyer


def _erased_events(app: App, buyer_id: str) -> list[dict[str, object]]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(t.events.c.data).where(
                t.events.c.aggregate_id == buyer_id, t.events.c.name == "buyer.erased"
            )
        )
        return [r.data for r in rows]


def test_a_departed_buyer_is_erased_once_the_period_is_over_and_only_once(
    wired: App, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = wired.services
    gone = leaver(wired, claim=True)
    kept = leaver(wired, depart=False)  # has an account: never weighed
    copied = {hit.split(":")[0] for hit in found(wired.engine, gone.personal)}
    assert copied >= {
        "buyers",
        "orders",
        "returns",
        "appointments",
        "pickup_orders",
        "claims",
        "deliveries",
        "sent_messages",
        "carrier_exchanges",
    }, copied
    with wired.engine.connect() as conn:
        facts_before = conn.execute(
            select(t.orders.c.order_id, t.orders.c.buyer_id, t.orders.c.shop_id).where(
                t.orders.c.buyer_id == gone.buyer_id
            )
        ).all()
        events_before = conn.execute(select(func.count()).select_from(t.events)).scalar_one()
    # A visit made leaves its stop, at the door's coordinates, on the courier's stored route.
    with svc.uow() as uow:
        [visit] = uow.appointments.get_many(gone.appointment_ids)
        assert visit.courier_id is not None
        route = uow.routes.get(visit.courier_id, visit.slot.day)
        assert route is not None
        route.stops.append(
            RouteStop(
                visit.appointment_id, 30.741234, 121.341234, 0, 0, 0, 0, 0, 0, StopState.DONE, 0
            )
        )
        uow.routes.save(route)
        uow.commit()
    # Departed: weighed at the next pass, which finds the period not over.
    assert retention.summary(svc).due == 1
    assert _sweep(wired) == 0
    due = RetentionRule().due(_buyer(wired, gone.buyer_id).departed_at or clock.now())
    assert _buyer(wired, gone.buyer_id).erase_due == due
    seen = retention.summary(svc)
    assert (seen.due, seen.erased, seen.next_due) == (0, 0, due)

    clock.at = due - timedelta(minutes=1)
    assert _sweep(wired) == 0
    clock.at = due
    # The coarsened route's version moves in the erasing transaction: it is named among the
    # routes that transaction wrote, which the shared route cache neither serves nor keeps.
    written: set[str] = set()
    store = SqlRetention.store

    def storing(self: SqlRetention, *args: Any) -> None:
        store(self, *args)
        written.update(self.routes.written)

    monkeypatch.setattr(SqlRetention, "store", storing)
    assert _sweep(wired) == 1
    assert written == {route_id(visit.courier_id, visit.slot.day)}

    assert found(wired.engine, gone.personal) == []
    assert found(wired.engine, kept.personal), "another buyer keeps theirs"
    buyer = _buyer(wired, gone.buyer_id)
    assert (buyer.name, buyer.phone, buyer.email, buyer.addresses) == (
        ERASED,
        ERASED_PHONE,
        "",
        [],
    )
    assert buyer.erased_at == due and buyer.erase_due is None
    with wired.services.uow() as uow:
        orders = uow.orders.for_buyer(gone.buyer_id)
        requests = uow.returns.get_many(gone.return_ids)
        visits = uow.appointments.get_many(gone.appointment_ids)
        company = uow.pickup_orders.for_appointments(gone.appointment_ids)
    # The transaction facts stay: ids, lines, amounts, dates, statuses, the district.
    assert {(o.order_id, o.buyer_id, o.shop_id) for o in orders} == set(facts_before)
    assert all(o.lines[0].unit_price_fen == 19_900 and o.signed_at for o in orders)
    assert all(o.shipping_address.adcode == "310116" for o in orders)
    assert all(o.shipping_address.detail == ERASED for o in orders)
    assert [r.status for r in requests] == [ReturnStatus.CANCELLED] * 2
    assert all(r.address is None or r.address.contact_name == ERASED for r in requests)
    assert [v.address.adcode for v in visits] == ["310116"]
    assert [v.slot.day for v in visits] and visits[0].address.lat is None
    assert [p.order.sender.name for p in company] == [ERASED]
    with wired.services.uow() as uow:
        route = uow.routes.get(visit.courier_id, visit.slot.day)
    assert route is not None
    assert [(s.lat, s.lon) for s in route.stops if s.appointment_id == visit.appointment_id] == [
        (30.74, 121.34)
    ]
    assert [p.order.cargo.insured_value_fen for p in company] == [19_900]
    [event] = _erased_events(wired, gone.buyer_id)
    assert event["orders"] == 3 and event["returns"] == 2 and event["retention_years"] == 3
    with wired.engine.connect() as conn:
        events_after = conn.execute(select(func.count()).select_from(t.events)).scalar_one()
    assert events_after == events_before + 1  # events are kept, scrubbed, not deleted
    assert retention.summary(svc).erased == 1

    # Run twice = once.
    before = snapshot(wired.engine)
    assert _sweep(wired) == 0
    clock.advance(days=400)
    assert _sweep(wired) == 0
    assert snapshot(wired.engine) == before

    # The id is retired: no account, order or buyer record joins personal data to it again.
    for attempt in (
        lambda: identity.add_user(svc, "U-back", "back1", "back-pass-1", "buyer", gone.buyer_id),
        lambda: catalog.import_orders(svc, [_order(gone.buyer_id, clock, "RT-again")], None),
        lambda: catalog.upsert_buyers(svc, [Buyer(gone.buyer_id, "回来了", "13900000000")]),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "buyer_erased"
    assert snapshot(wired.engine) == before


def _order(buyer_id: str, clock: FixedClock, order_id: str) -> Order:
    from doorstep.domain.address import Address

    return Order(
        order_id,
        buyer_id,
        "shop-cn-home",
        Channel.DOMESTIC,
        clock.now() - timedelta(days=1),
        Address("310116", "上海市", "上海市", "金山区", "新地址 1 号", "新名字", "13700000000"),
        (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19_900),),
    )


def test_a_buyer_who_came_back_is_not_erased(wired: App, clock: FixedClock) -> None:
    svc = wired.services
    gone = leaver(wired, book=False)
    identity.add_user(svc, "U-back", "back1", "back-pass-1", "buyer", gone.buyer_id)
    back = _buyer(wired, gone.buyer_id)
    assert back.departed_at is None and back.erase_due is None
    after_years(clock, 4)
    assert _sweep(wired) == 0
    assert found(wired.engine, gone.personal)
    assert _erased_events(wired, gone.buyer_id) == []


def test_a_new_order_inside_the_period_moves_the_erasure_on(wired: App, clock: FixedClock) -> None:
    gone = leaver(wired, book=False)
    assert _sweep(wired) == 0
    first_due = _buyer(wired, gone.buyer_id).erase_due
    assert first_due is not None
    clock.at = first_due - timedelta(days=30)
    fresh = _order(gone.buyer_id, clock, f"RT-new-{gone.buyer_id}")
    catalog.import_orders(wired.services, [fresh], None)
    clock.at = first_due
    assert _sweep(wired) == 0
    assert _buyer(wired, gone.buyer_id).erase_due == RetentionRule().due(fresh.placed_at)
    assert found(wired.engine, gone.personal)
    clock.at = RetentionRule().due(fresh.placed_at)
    assert _sweep(wired) == 1
    assert found(wired.engine, (*gone.personal, "新名字", "13700000000", "新地址")) == []


def test_a_departed_buyer_with_something_unsettled_is_not_erased(
    wired: App, clock: FixedClock
) -> None:
    gone = leaver(wired, book=False)
    with wired.services.uow() as uow:  # e.g. ops reopened it: goods on their way, unrefunded
        request = uow.returns.get(gone.return_ids[0])
        assert request is not None
        request.status = ReturnStatus.IN_TRANSIT
        uow.returns.save(request)
        uow.commit()
    after_years(clock, 4)
    assert _sweep(wired) == 0
    assert _buyer(wired, gone.buyer_id).erase_due == clock.now() + retention.RECHECK
    assert found(wired.engine, gone.personal)
    clock.advance(days=1)
    assert _sweep(wired) == 0  # looked at again, still waiting
    assert _erased_events(wired, gone.buyer_id) == []


def test_the_sweep_and_the_ops_read_send_as_many_statements_however_many_buyers(
    wired: App, clock: FixedClock
) -> None:
    """One indexed read when nothing is due; a pass over one due buyer sends as many
    statements as a pass over five (each with a visit, a company's order, texts sent)."""
    svc = wired.services

    def counted(call: Callable[[], object]) -> list[str]:
        with counting_statements(wired.engine) as statements:
            call()
        return [s for s in statements if not s.startswith("BEGIN")]

    idle = counted(lambda: _sweep(wired))
    assert len(idle) == 1 and idle[0].startswith("SELECT")
    empty_read = counted(lambda: retention.summary(svc))
    start = clock.now()

    erased: list[int] = []

    def erased_pass(count: int) -> int:
        clock.at = start
        for _ in range(count):
            leaver(wired, evidence=True)
        after_years(clock, 3)
        statements = counted(lambda: erased.append(_sweep(wired)))
        assert erased[-1] == count
        return len(statements)

    one = erased_pass(1)
    five = erased_pass(5)
    assert five == one, (one, five)
    assert len(counted(lambda: retention.summary(svc))) == len(empty_read) == 1


def _images(app: App, photo_ids: tuple[str, ...]) -> dict[str, int]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(t.photos.c.photo_id, func.length(t.photos.c.content)).where(
                t.photos.c.photo_id.in_(photo_ids)
            )
        )
        return {r[0]: int(r[1]) for r in rows}


def test_the_account_events_the_door_photos_and_the_dispute_words_go_the_goods_stay(
    wired: App, clock: FixedClock
) -> None:
    """The accounts' events (their username is the phone number) are found from the buyer;
    the photos of the door (a contactless handover, the buyer's photo disputing it, one
    never attached) lose their image and keep their row; the photos of the goods stay whole;
    the buyer's words in a QC dispute go, the dispute's decision stays."""
    svc = wired.services
    gone = leaver(wired, evidence=True)
    kept = leaver(wired, evidence=True, depart=False)
    with wired.engine.connect() as conn:
        accounts = conn.execute(
            select(t.events.c.name, t.events.c.data).where(t.events.c.aggregate_type == "user")
        ).all()
        photo_rows = conn.execute(
            select(t.photos.c.photo_id, t.photos.c.sha256, t.photos.c.created_at).where(
                t.photos.c.photo_id.in_(gone.door_photos)
            )
        ).all()
    assert [n for n, d in accounts if d["actor_id"] == gone.buyer_id] == ["user.deleted"]
    assert all(size > 0 for size in _images(wired, gone.door_photos + gone.goods_photos).values())

    after_years(clock, 4)
    assert _sweep(wired) == 1

    assert found(wired.engine, gone.personal) == []
    assert found(wired.engine, (kept.username,)), "another buyer's account events keep theirs"
    with wired.engine.connect() as conn:
        events = conn.execute(
            select(t.events.c.name, t.events.c.data).where(t.events.c.aggregate_type == "user")
        ).all()
        photo_rows_after = conn.execute(
            select(t.photos.c.photo_id, t.photos.c.sha256, t.photos.c.created_at).where(
                t.photos.c.photo_id.in_(gone.door_photos)
            )
        ).all()
    [deleted] = [d for n, d in events if d["actor_id"] == gone.buyer_id]
    assert deleted == {
        "username": ERASED,
        "role": "buyer",
        "actor_id": gone.buyer_id,
        "active": True,
    }
    # The door: no image left; the row (id, digest, date) stays for what refers to it.
    assert _images(wired, gone.door_photos) == dict.fromkeys(gone.door_photos, 0)
    assert sorted(photo_rows_after) == sorted(photo_rows)
    with pytest.raises(NotFound):
        photos.get_photo(svc, gone.door_photos[0])
    # The goods: kept whole, the transactions' facts.
    assert all(size > 0 for size in _images(wired, gone.goods_photos).values())
    assert all(size > 0 for size in _images(wired, kept.door_photos).values())
    with svc.uow() as uow:
        dispute = uow.disputes.get(dispute_id(gone.return_ids[1]))
        [visit] = uow.appointments.get_many(gone.appointment_ids)
    assert dispute is not None
    assert [(e.text, e.photo_ids) for e in dispute.evidence] == [(ERASED, (gone.goods_photos[1],))]
    assert dispute.decision is not None
    assert (dispute.status.value, dispute.grade, dispute.qc_note) == ("qc_upheld", "C", "scratched")
    assert (dispute.decision.note, dispute.decision.by) == ("QC stands", "ops-1")
    assert dispute.qc_photo_ids == (gone.goods_photos[2],)
    assert visit.review is not None
    assert visit.review.dispute_text == ERASED
    assert visit.review.outcome is not None and visit.review.resolution_note
    assert violations(wired, RecordingPayments()) == []
