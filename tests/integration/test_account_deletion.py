"""Deleting an account leaves no visit behind (docs/next.md, visit lifecycle (d)), on SQLite
and PostgreSQL: a courier's last account takes the courier out of the fleet and puts the
visits they had not made back in the pool (windows still held); a buyer's last account
withdraws the returns not handed over yet, cancelling their visits, and is refused while
goods are on their way back unrefunded or a courier is at one of their doors. Raced (24 at
once) with bookings, cancellations and plans of the same windows; checked in SQL
(``races.violations``) and by the route referee.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    TALLY,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.claim import ClaimKind
from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.domain.pickup import AppointmentStatus, SlotRef
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.domain.transfer import TransferPurpose
from doorstep.entrypoints import jobs
from doorstep.services import (
    catalog,
    claims,
    courier,
    identity,
    photos,
    pickup,
    returns,
    routing,
    transfers,
)
from doorstep.services.claims import FileClaim
from doorstep.services.returns import LineRequest, OpenReturn

TOMORROW = date(2026, 11, 26)
STARTS = (time(9), time(11), time(13), time(15))
JINSHAN_COURIER, JINSHAN_ACCOUNT = "courier-yto-03", "courier7"
# A booking loses to a full or no longer kept window, to its return withdrawn by the
# deletion (not bookable) or changed meanwhile (stale), or to routes moving; a withdrawal
# to the deletion's (illegal transition);
# a cancel to its visit changed; a plan to bookings moving the routes under it.
LOSSES = {
    "not_bookable",
    "illegal_transition",
    "stale_write",
    "slot_full",
    "slot_not_offered",
    "route_busy",
    "busy",
}


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _buyer(app: App) -> tuple[str, str]:
    """A fresh buyer with one account: (buyer id, username)."""
    tag = uuid.uuid4().hex[:6]
    buyer_id, username = f"buyer-del-{tag}", f"leaver{tag}"
    catalog.upsert_buyers(app.services, [Buyer(buyer_id, "离开者", "13800003333")])
    identity.add_user(app.services, f"U-{tag}", username, "leaver-pass-1", "buyer", buyer_id)
    return buyer_id, username


def _returns(app: App, buyer_id: str, points: list[tuple[float, float]]) -> list[str]:
    """Approved returns of ``buyer_id`` with doors at these coordinates in Jinshan."""
    signed = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:6]
    orders = [
        Order(
            f"DL-{batch}-{i}",
            buyer_id,
            "shop-cn-home",
            Channel.DOMESTIC,
            signed,
            Address(
                "310116",
                "上海市",
                "上海市",
                "金山区",
                f"卫零路{i}号",
                "测试",
                "13800003333",
                lat,
                lon,
            ),
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),),
            signed_at=signed,
        )
        for i, (lat, lon) in enumerate(points)
    ]
    catalog.import_orders(app.services, orders, None)
    return [
        returns.open_return(
            app.services,
            OpenReturn(
                buyer_id, o.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
            ),
        ).return_id
        for o in orders
    ]


def _choice(i: int) -> pickup.SlotChoice:
    return pickup.SlotChoice("yto", TOMORROW, STARTS[i % len(STARTS)])


def _booked(app: App) -> dict[SlotRef, int]:
    with app.services.uow() as uow:
        slots = [
            SlotRef("310116", "yto", TOMORROW, w)
            for w in uow.templates.get("generic-2h").windows  # type: ignore[union-attr]
        ]
        return {s: load.booked for s, load in uow.slots.loads(slots, 0).items()}


def _open_stops(app: App, courier_id: str) -> list[str]:
    with app.services.uow() as uow:
        route = uow.routes.get(courier_id, TOMORROW)
    return [s.appointment_id for s in route.open] if route else []


def test_a_deleted_courier_s_visits_go_back_to_the_pool(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    buyer_id, _ = _buyer(wired)
    ids = _returns(wired, buyer_id, _spread(4))
    visits = [pickup.book_pickup(svc, buyer_id, r, _choice(i)) for i, r in enumerate(ids)]
    assert {v.courier_id for v in visits} == {JINSHAN_COURIER}
    held = _booked(wired)

    identity.delete_user(svc, JINSHAN_ACCOUNT)

    for v in visits:
        after = pickup.get_appointment(svc, v.appointment_id)
        assert after.status is AppointmentStatus.BOOKED and after.courier_id is None
        assert after.eta is None and after.route_position is None
    assert _open_stops(wired, JINSHAN_COURIER) == []
    assert _booked(wired) == held  # the buyer's window stays promised
    with svc.uow() as uow:
        assert uow.couriers.get(JINSHAN_COURIER) is None
        names = [e.name for e in uow.events.for_aggregates([v.appointment_id for v in visits])]
        assert names.count("appointment.courier_unassigned") == len(visits)
    # The next plan serves them with the couriers left (far from Jinshan: maybe none can),
    # and new bookings go to those couriers or are refused: never to the one who left.
    jobs.plan_carrier_day(wired, "yto", TOMORROW.isoformat())
    later = []
    for i, r in enumerate(_returns(wired, buyer_id, _spread(6)[4:])):
        try:
            later.append(pickup.book_pickup(svc, buyer_id, r, _choice(i)))
        except Conflict as refused:
            assert refused.code == "slot_not_offered"
    for v in visits + later:
        assert pickup.get_appointment(svc, v.appointment_id).courier_id != JINSHAN_COURIER
    assert _open_stops(wired, JINSHAN_COURIER) == []
    assert routing.check_routes(svc, "yto", TOMORROW) == []
    assert violations(wired, payments) == []


def test_a_courier_at_the_door_is_deleted_only_after_the_visit(wired: App) -> None:
    svc = wired.services
    buyer_id, _ = _buyer(wired)
    [return_id] = _returns(wired, buyer_id, _spread(1))
    visit = pickup.book_pickup(svc, buyer_id, return_id, _choice(0))
    courier.arrive(svc, JINSHAN_COURIER, visit.appointment_id)

    with pytest.raises(Conflict) as refused:
        identity.delete_user(svc, JINSHAN_ACCOUNT)
    assert refused.value.code == "courier_at_door"
    assert refused.value.details["appointment_ids"] == [visit.appointment_id]
    with svc.uow() as uow:
        assert uow.users.by_username(JINSHAN_ACCOUNT) is not None
        assert uow.couriers.get(JINSHAN_COURIER) is not None
    assert pickup.get_appointment(svc, visit.appointment_id).status is AppointmentStatus.ARRIVED


def test_a_second_account_of_the_courier_keeps_the_visits(wired: App) -> None:
    svc = wired.services
    buyer_id, _ = _buyer(wired)
    [return_id] = _returns(wired, buyer_id, _spread(1))
    visit = pickup.book_pickup(svc, buyer_id, return_id, _choice(0))
    identity.add_user(svc, "U-relief", "relief7", "relief-pass-1", "courier", JINSHAN_COURIER)

    identity.delete_user(svc, JINSHAN_ACCOUNT)

    assert pickup.get_appointment(svc, visit.appointment_id).courier_id == JINSHAN_COURIER
    assert _open_stops(wired, JINSHAN_COURIER) == [visit.appointment_id]


def test_a_deleted_buyer_s_visits_are_cancelled_and_their_windows_freed(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    buyer_id, username = _buyer(wired)
    ids = _returns(wired, buyer_id, _spread(4))
    before = _booked(wired)
    visits = [pickup.book_pickup(svc, buyer_id, r, _choice(i)) for i, r in enumerate(ids[:3])]

    identity.delete_user(svc, username)

    for v in visits:
        assert pickup.get_appointment(svc, v.appointment_id).status is AppointmentStatus.CANCELLED
    for return_id in ids:  # booked or still choosing: nobody is left to send them
        assert returns.get_return(svc, return_id).status is ReturnStatus.CANCELLED
    assert _booked(wired) == before
    assert _open_stops(wired, JINSHAN_COURIER) == []
    assert violations(wired, payments) == []


def test_a_buyer_owed_a_refund_is_not_deleted(wired: App) -> None:
    svc = wired.services
    buyer_id, username = _buyer(wired)
    [gone, waiting] = _returns(wired, buyer_id, _spread(2))
    visit = pickup.book_pickup(svc, buyer_id, gone, _choice(0))
    booked = pickup.book_pickup(svc, buyer_id, waiting, _choice(1))
    with svc.uow() as uow:  # the parcel left with the courier; its refund waits for the QC
        request = uow.returns.get(gone)
        assert request is not None
        request.status = ReturnStatus.IN_TRANSIT
        uow.returns.save(request)
        uow.commit()

    with pytest.raises(Conflict) as refused:
        identity.delete_user(svc, username)
    assert refused.value.code == "account_has_returns_in_flight"
    assert refused.value.details["return_ids"] == [gone]
    assert pickup.get_appointment(svc, booked.appointment_id).active
    assert visit.appointment_id
    with svc.uow() as uow:
        assert uow.users.by_username(username) is not None


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


def test_a_buyer_with_a_claim_not_yet_paid_is_not_deleted(wired: App) -> None:
    svc = wired.services
    buyer_id, username = _buyer(wired)
    [waiting] = _returns(wired, buyer_id, _spread(1))
    booked = pickup.book_pickup(svc, buyer_id, waiting, _choice(0))
    signed = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # damage claims are open for 72 hours
    order = Order(
        f"DLC-{uuid.uuid4().hex[:6]}",
        buyer_id,
        "shop-cn-home",
        Channel.DOMESTIC,
        signed,
        Address("310116", "上海市", "上海市", "金山区", "卫零路9号", "测试", "13800003333"),
        (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),),
        signed_at=signed,
    )
    catalog.import_orders(svc, [order], None)
    shot = photos.upload_photo(svc, buyer_id, _jpeg()).photo_id
    claim = claims.file_claim(
        svc,
        FileClaim(
            buyer_id, order.order_id, ClaimKind.DAMAGE_ON_ARRIVAL, (("L1", 1),), "crushed", (shot,)
        ),
    )

    with pytest.raises(Conflict) as refused:  # the merchant has not answered: money may be owed
        identity.delete_user(svc, username)
    assert refused.value.code == "account_has_money_owed"
    assert refused.value.details["claim_ids"] == [claim.claim_id]
    assert pickup.get_appointment(svc, booked.appointment_id).active

    claims.answer_claim(svc, claim.claim_id, accept=False, text="not damaged", shop_id=None)
    with pytest.raises(Conflict) as refused:  # the platform has yet to decide it
        identity.delete_user(svc, username)
    assert refused.value.code == "account_has_money_owed"
    claims.decide_claim(svc, "ops-1", claim.claim_id, approve=False, note="no damage seen")
    identity.delete_user(svc, username)  # nothing owed once the claim is decided against
    assert returns.get_return(svc, waiting).status is ReturnStatus.CANCELLED


def test_a_buyer_owed_an_exchange_difference_is_not_deleted(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    buyer_id, username = _buyer(wired)
    [waiting] = _returns(wired, buyer_id, _spread(1))
    with svc.uow() as uow:  # a cheaper variant's difference, asked of the provider, unanswered
        owed = transfers.request_transfer(
            svc, uow, TransferPurpose.EXCHANGE_REFUND, waiting, buyer_id, 3_000
        )
        uow.commit()

    with pytest.raises(Conflict) as refused:
        identity.delete_user(svc, username)
    assert refused.value.code == "account_has_money_owed"
    assert refused.value.details["transfer_ids"] == [owed.transfer_id]
    assert returns.get_return(svc, waiting).status is not ReturnStatus.CANCELLED

    transfers.pay_transfer(svc, owed.transfer_id)
    identity.delete_user(svc, username)
    assert returns.get_return(svc, waiting).status is ReturnStatus.CANCELLED
    assert violations(wired, payments) == []


def test_deletions_raced_with_bookings_cancels_and_plans_leave_no_visit(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    points = _spread(23)
    stays, _ = _buyer(wired)  # another buyer of the same windows, not deleted
    leaver, leaver_name = _buyer(wired)
    kept = _returns(wired, stays, points[:15])
    mine = _returns(wired, leaver, points[15:23])
    stays_booked = [pickup.book_pickup(svc, stays, r, _choice(i)) for i, r in enumerate(kept[:5])]
    for i, r in enumerate(mine[:4]):
        pickup.book_pickup(svc, leaver, r, _choice(i))

    def book(buyer_id: str, return_id: str, i: int) -> Callable[[], Any]:
        return lambda: pickup.book_pickup(svc, buyer_id, return_id, _choice(i))

    calls: list[Callable[[], Any]] = [
        lambda: identity.delete_user(svc, JINSHAN_ACCOUNT),
        lambda: identity.delete_user(svc, leaver_name),
    ]
    calls += [book(stays, r, i) for i, r in enumerate(kept[5:])]  # 10
    calls += [book(leaver, r, i) for i, r in enumerate(mine[4:])]  # 4
    calls += [
        lambda a=v.appointment_id: pickup.cancel_pickup(svc, stays, a) for v in stays_booked[:3]
    ]
    calls += [
        lambda r=r: returns.cancel_return(svc, leaver, r, "changed my mind") for r in mine[:2]
    ]
    calls += [lambda: jobs.plan_carrier_day(wired, "yto", TOMORROW.isoformat())] * 3
    assert len(calls) == RACERS
    out = race(calls)
    assert set(out.codes) <= LOSSES, out.codes

    assert violations(wired, payments) == []
    # A deletion may lose to a visit changed under it (stale, after its retries): the
    # invariants hold either way, and it goes through when asked again.
    for username in (JINSHAN_ACCOUNT, leaver_name):
        with svc.uow() as uow:
            still = uow.users.by_username(username) is not None
        if still:
            identity.delete_user(svc, username)
    with svc.uow() as uow:
        assert uow.couriers.get(JINSHAN_COURIER) is None
    with wired.engine.connect() as conn:
        a = t.appointments.c
        live = conn.execute(
            select(a.appointment_id, a.buyer_id, a.courier_id).where(
                a.status.in_(["booked", "assigned", "arrived"])
            )
        ).all()
    assert [row for row in live if row.buyer_id == leaver] == []
    assert [row for row in live if row.courier_id == JINSHAN_COURIER] == []
    assert _open_stops(wired, JINSHAN_COURIER) == []
    # The leaving courier's visits went back to the pool, unassigned: the worker's next day
    # plan puts them on the routes left (a plan raced above may have run before the
    # deletion committed, and then every such visit is rightly reported missing_stop).
    jobs.plan_carrier_day(wired, "yto", TOMORROW.isoformat())
    assert routing.check_routes(svc, "yto", TOMORROW) == []
    assert violations(wired, payments) == []


def test_deleting_an_unknown_account_is_not_found(wired: App) -> None:
    with pytest.raises(NotFound):
        identity.delete_user(wired.services, "nobody-here")


def test_the_sql_invariants_name_a_visit_left_behind(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    buyer_id, username = _buyer(wired)
    first, second = _returns(wired, buyer_id, _spread(2))
    courier_visit = pickup.book_pickup(svc, buyer_id, first, _choice(0))
    buyer_visit = pickup.book_pickup(svc, buyer_id, second, _choice(1))
    identity.delete_user(svc, JINSHAN_ACCOUNT)
    identity.delete_user(svc, username)
    assert violations(wired, payments) == []
    with svc.uow() as uow:  # what deletion before the fix left: both visits still live
        for appointment_id in (courier_visit.appointment_id, buyer_visit.appointment_id):
            appt = uow.appointments.get(appointment_id)
            assert appt is not None
            appt.status, appt.courier_id = AppointmentStatus.ASSIGNED, JINSHAN_COURIER
            uow.appointments.save(appt)
        uow.commit()
    found = violations(wired, payments)
    TALLY.violations -= len(found)  # planted here on purpose: not a race's finding
    assert any(v.startswith("live visit of a courier who left the fleet") for v in found), found
    assert any(v.startswith("live visit of a buyer whose last account") for v in found), found
