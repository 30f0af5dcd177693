"""The return wave's grouped reads (adapters/db/wave.py) count by Shanghai calendar day on
SQLite and PostgreSQL alike: a parcel signed for at 23:30 in Shanghai (15:30 UTC) is that
day's, one signed at 00:30 (16:30 UTC, still the day before in UTC) is the next day's, and
a request opened ten minutes after a late signing is a day after it, not the same day; the
booking lead counts from the request's Shanghai day to its window's day (a request at 00:10
that books that morning is lead 0, where the UTC day would say 1)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

AREA = "310104"
BUYER = "buyer-001"
SKU = "KR-SERUM-50ML"
HOME = Address(AREA, "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")


def _shanghai(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def _order(signed_at: datetime) -> Order:
    return Order(
        f"WB-{uuid.uuid4().hex[:10]}",
        BUYER,
        "shop-kr-beauty",
        Channel.DOMESTIC,
        signed_at - timedelta(days=2),
        HOME,
        (OrderLine("L1", SKU, 1, 9_900),),
        signed_at=signed_at,
    )


def _open(app: App, clock: FixedClock, order: Order, at: datetime, book: date) -> None:
    """Open a return at ``at`` and book its pickup on the first window offered on ``book``."""
    clock.advance(seconds=(at - clock.now()).total_seconds())
    opened = returns.open_return(
        app.services,
        OpenReturn(
            BUYER, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
        ),
    )
    offered = pickup.pickup_options(app.services, app.offering, BUYER, opened.return_id).slots
    slot = next(o.slot for o in offered if o.slot.day == book)
    pickup.book_pickup(
        app.services,
        BUYER,
        opened.return_id,
        pickup.SlotChoice(slot.carrier_id, slot.day, slot.window.start),
    )


Counts = tuple[Counter[Any], Counter[Any], Counter[Any], Counter[Any], Counter[Any], Counter[Any]]


def _counts(app: App, day: date) -> Counts:
    """Signings of ``day`` and the next, requests by lag of each day's signings, requests
    opened on each day, per district; booking leads of the requests opened on the next."""
    with app.services.uow() as uow:
        nxt = day + timedelta(days=1)
        return (
            Counter(uow.wave.signed(day, nxt)),
            Counter(uow.wave.return_lags(day, day)),
            Counter(uow.wave.return_lags(nxt, nxt)),
            Counter(uow.wave.opened(day, day)),
            Counter(uow.wave.opened(nxt, nxt)),
            Counter(uow.wave.booking_leads(nxt, nxt)),
        )


def test_signings_and_requests_fall_on_their_shanghai_day_on_both_backends(
    wired: App, clock: FixedClock
) -> None:
    day = local(clock.now()).date() - timedelta(days=20)
    nxt = day + timedelta(days=1)
    late = _order(_shanghai(day, 23, 30))
    early = _order(_shanghai(nxt, 0, 30))
    assert late.signed_at is not None and early.signed_at is not None
    # The UTC calendar puts both on ``day``: only a Shanghai day tells them apart.
    assert late.signed_at.astimezone(UTC).date() == early.signed_at.astimezone(UTC).date() == day
    before = _counts(wired, day)
    catalog.import_orders(wired.services, [late, early], None)
    now = clock.now()
    # Ten minutes past midnight in Shanghai (16:10 UTC of ``day``): a day after the signing;
    # its pickup that morning is lead 0.
    _open(wired, clock, late, _shanghai(nxt, 0, 10), nxt)
    # 23:50 in Shanghai (15:50 UTC of ``nxt``): the day of the 00:30 signing; its pickup
    # the day after is lead 1.
    _open(wired, clock, early, _shanghai(nxt, 23, 50), nxt + timedelta(days=1))
    clock.advance(seconds=(now - clock.now()).total_seconds())
    after = _counts(wired, day)
    signed, lags_day, lags_next, opened_day, opened_next, leads = (
        a - b for a, b in zip(after, before, strict=True)
    )
    assert signed == Counter({(AREA, day): 1, (AREA, nxt): 1}), signed
    assert lags_day == Counter({(AREA, 1): 1}), lags_day
    assert lags_next == Counter({(AREA, 0): 1}), lags_next
    assert opened_day == Counter(), opened_day
    assert opened_next == Counter({(AREA, nxt): 2}), opened_next
    assert leads == Counter({0: 1, 1: 1}), leads
