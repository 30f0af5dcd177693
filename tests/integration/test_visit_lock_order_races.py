"""One lock order on the visit and return paths (docs/next.md, "Known design debts"), on SQLite
and PostgreSQL, 24 at once: every path that changes a return and what its visit holds locks
the return's row first, then the window, the route and the exchange. Raced here:

- a buyer's account deleted while the same returns are withdrawn, refused in review and
  turned into refunds (``erasure._buyer_leaves`` read them unlocked: it lost on
  ``stale_write``, or made the others lose on it);
- withdrawals and reschedules or cancels of the same visits (the withdrawal held the return
  and waited for the window; the move held the window and waited for the return: PostgreSQL
  aborted one after ``deadlock_timeout``, a ``stale_write``);
- bookings in an area without coordinates (``pickup._assign_by_load``) while one of its
  couriers' account is deleted (the booking read the fleet without the route locks and could
  assign the leaving courier: "live visit of a courier who left the fleet").

Losers answer only with what the winner did (``illegal_transition``, ``not_in_review``),
never ``stale_write``; the invariants are checked in SQL (``races.violations``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]
from tests.integration.test_routing import returns_at  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.exchange import ExchangeStatus, StockLevel
from doorstep.domain.fleet import Courier
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.domain.pickup import AppointmentStatus
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.services import catalog, exchanges, identity, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

TOMORROW = date(2026, 11, 26)
SONGJIANG = "310117"
STARTS = (time(9), time(11), time(13), time(15))
HOME = Address("310112", "上海市", "上海市", "闵行区", "莘松路958弄12号", "王浩然", "13800001003")
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
ROUNDS = 2


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _buyer(app: App) -> tuple[str, str]:
    """A fresh buyer with one account: (buyer id, username)."""
    tag = uuid.uuid4().hex[:6]
    buyer_id, username = f"buyer-lk-{tag}", f"locks{tag}"
    catalog.upsert_buyers(app.services, [Buyer(buyer_id, "锁序", "13800004444")])
    identity.add_user(app.services, f"U-{tag}", username, "locks-pass-1", "buyer", buyer_id)
    return buyer_id, username


def _held(app: App, buyer_id: str, n: int) -> list[str]:
    """``n`` exchanges of ``buyer_id`` for the dearer lipstick, held for review (a quality
    reason without a photo), their difference collected."""
    placed = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:8]
    orders = [
        Order(
            f"LK-{batch}-{i:03d}",
            buyer_id,
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
    filed = [
        returns.open_return(
            app.services,
            OpenReturn(
                buyer_id,
                o.order_id,
                ReturnKind.EXCHANGE,
                (LineRequest("L1", 1, Reason.QUALITY),),
                replacements={"L1": LIP_2},
            ),
        ).return_id
        for o in orders
    ]
    assert all(returns.get_return(app.services, r).status is ReturnStatus.IN_REVIEW for r in filed)
    return filed


# What a racer may lose to: the other's decision, or (the deletion) a payback in flight.
LOSSES = {"illegal_transition", "not_in_review", "account_has_money_owed"}


def test_a_buyer_deleted_while_their_returns_are_decided_loses_no_race_it_did_not_lose(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", 34_000, 500)])
    codes: Counter[str] = Counter()
    deleted = 0
    for _ in range(ROUNDS):
        buyers = [_buyer(wired) for _ in range(4)]
        filed = {buyer_id: _held(wired, buyer_id, 5) for buyer_id, _ in buyers}
        calls: list[Callable[[], Any]] = [
            lambda u=username: ("deleted", identity.delete_user(svc, u)) for _, username in buyers
        ]
        for buyer_id, ids in filed.items():
            for i, rid in enumerate(ids):
                calls.append(
                    [
                        lambda b=buyer_id, r=rid: (
                            "cancelled",
                            returns.cancel_return(svc, b, r, "changed"),
                        ),
                        lambda r=rid: (
                            "rejected",
                            returns.review_return(svc, r, approve=False, reviewer="ops", note=""),
                        ),
                        lambda b=buyer_id, r=rid: ("refund", exchanges.refund_instead(svc, b, r)),
                    ][i % 3]
                )
        assert len(calls) == RACERS
        out = race(calls)
        codes += out.codes
        deleted += sum(1 for what, _ in out.won if what == "deleted")
        print("deletion race losers:", dict(out.codes))
        assert set(out.codes) <= LOSSES, out.codes
        for _, username in buyers:
            # Refused while a refund instead's payback of the collected difference was owed
            # (account_has_money_owed, services/erasure.py): paid once the race is over.
            with svc.uow() as uow:
                left = uow.users.by_username(username) is not None
            if left:
                identity.delete_user(svc, username)
                deleted += 1
        for ids in filed.values():
            for rid in ids:
                done = returns.get_return(svc, rid)
                assert done.status in (ReturnStatus.CANCELLED, ReturnStatus.REJECTED), rid
                assert exchanges.get_exchange(svc, rid).status is ExchangeStatus.RELEASED
    # Every deletion went through (a few once the paybacks the race owed were paid): a
    # refund instead leaves the return in review, which the deletion then withdraws.
    assert deleted == 4 * ROUNDS, codes
    assert set(codes) <= LOSSES, codes
    assert violations(wired, payments) == []


def _choice(i: int) -> pickup.SlotChoice:
    return pickup.SlotChoice("yto", TOMORROW, STARTS[i % len(STARTS)])


def test_withdrawals_and_moves_or_cancels_of_the_same_visits_never_deadlock(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    codes: Counter[str] = Counter()
    for _ in range(ROUNDS):
        ids = returns_at(wired, _spread(RACERS // 2))
        visits = [pickup.book_pickup(svc, "buyer-001", r, _choice(i)) for i, r in enumerate(ids)]
        calls: list[Callable[[], Any]] = []
        for i, (rid, visit) in enumerate(zip(ids, visits, strict=True)):
            calls.append(
                lambda r=rid: ("withdrawn", returns.cancel_return(svc, "buyer-001", r, "changed"))
            )
            # Every third visit is cancelled instead of moved: it gives back the window
            # before it writes the returns, as a move does.
            calls.append(
                (
                    lambda a=visit.appointment_id: (
                        "cancelled",
                        pickup.cancel_pickup(svc, "buyer-001", a),
                    )
                )
                if i % 3 == 2
                else lambda a=visit.appointment_id, i=i: (
                    "moved",
                    pickup.reschedule_pickup(svc, "buyer-001", a, _choice(i + 1)),
                )
            )
        out = race(calls)
        codes += out.codes
        print("withdraw/reschedule race losers:", dict(out.codes))
        withdrawn = sum(1 for what, _ in out.won if what == "withdrawn")
        # A withdrawal never loses: the return is the buyer's to take back, moved or not.
        assert withdrawn == len(ids), codes
        for rid, visit in zip(ids, visits, strict=True):
            assert returns.get_return(svc, rid).status is ReturnStatus.CANCELLED
            after = pickup.get_appointment(svc, visit.appointment_id)
            assert after.status is AppointmentStatus.CANCELLED
        assert violations(wired, payments) == []
    # A move or a cancel loses only to the withdrawal before it (the visit is cancelled), a
    # move also to a window that cannot take it.
    assert set(codes) <= {"illegal_transition", "slot_full", "slot_not_offered"}, codes


def _uncharted(app: App) -> None:
    """Songjiang without coordinates: bookings there assign by load (no routes to cost)."""
    svc = app.services
    with svc.uow() as uow:
        area = uow.areas.get(SONGJIANG)
    assert area is not None
    catalog.upsert_area(svc, replace(area, lat=None, lon=None))


def _leaving_courier(app: App) -> tuple[str, str]:
    """A YTO courier based in Songjiang with one account: (courier id, username)."""
    tag = uuid.uuid4().hex[:6]
    courier_id, username = f"courier-sj-{tag}", f"sj{tag}"
    catalog.upsert_fleet(
        app.services,
        [],
        [Courier(courier_id, "松江", "13800005555", "yto", SONGJIANG, 31.03, 121.23)],
    )
    identity.add_user(app.services, f"U-{tag}", username, "leave-pass-1", "courier", courier_id)
    return courier_id, username


def _uncharted_returns(app: App, n: int) -> list[str]:
    """Approved returns of buyer-001 at doors in Songjiang without coordinates."""
    signed = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:6]
    orders = [
        Order(
            f"SJ-{batch}-{i}",
            "buyer-001",
            "shop-cn-home",
            Channel.DOMESTIC,
            signed,
            Address(
                SONGJIANG, "上海市", "上海市", "松江区", f"中山街道{i}号", "测试", "13800006666"
            ),
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),),
            signed_at=signed,
        )
        for i in range(n)
    ]
    catalog.import_orders(app.services, orders, None)
    return [
        returns.open_return(
            app.services,
            OpenReturn(
                "buyer-001",
                o.order_id,
                ReturnKind.REFUND,
                (LineRequest("L1", 1, Reason.NO_REASON),),
            ),
        ).return_id
        for o in orders
    ]


def test_bookings_by_load_raced_with_a_courier_leaving_never_assign_the_courier(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    _uncharted(wired)
    windows = (time(9), time(11), time(13), time(15), time(17))
    for round_ in range(ROUNDS):
        day = TOMORROW + timedelta(days=round_)
        courier_id, username = _leaving_courier(wired)
        ids = _uncharted_returns(wired, RACERS - 1)
        calls: list[Callable[[], Any]] = [lambda u=username: identity.delete_user(svc, u)]
        calls += [
            lambda r=rid, i=i, d=day: pickup.book_pickup(
                svc, "buyer-001", r, pickup.SlotChoice("yto", d, windows[i % len(windows)])
            )
            for i, rid in enumerate(ids)
        ]
        out = race(calls)
        assert out.codes == Counter(), out.codes
        with wired.engine.connect() as conn:
            a = t.appointments.c
            left_with = conn.execute(
                select(a.appointment_id).where(
                    a.courier_id == courier_id, a.status.in_(["booked", "assigned", "arrived"])
                )
            ).all()
        assert left_with == []
        assert violations(wired, payments) == []
