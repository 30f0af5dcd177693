"""The return wave on the ops outlook: a spike of orders signed yesterday shows as pickups
three days after signing (the lag history taught), in GET /ops/outlook and on the dashboard,
where the same weekday of past weeks shows nothing; requests already opened today are
counted, not only forecast, in the next day's wave; the inputs are bounded. On SQLite and
PostgreSQL (the ``wired`` fixture); the migration fills the new columns from the documents."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]
from tests.integration.test_migration_transfers import _alembic  # type: ignore[import-not-found]

from doorstep.adapters.db import tables
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.pickup import SlotRef
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, pickup, returns
from doorstep.services.offering import template_for
from doorstep.services.returns import LineRequest, OpenReturn

Login = Callable[[str], dict[str, str]]
AREA = "310104"
BUYER = "buyer-001"
SKU = "KR-SERUM-50ML"
HOME = Address(AREA, "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
LAG = 3  # every history return was asked for three days after signing
BEFORE_WAVE = "c8e2a5d41f07"


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def _signed(app: App, days: list[date]) -> list[Order]:
    """One order per entry of ``days``, signed for at 10:00 that day in Xuhui."""
    batch = uuid.uuid4().hex[:8]
    made = [
        Order(
            f"WV-{batch}-{i:04d}",
            BUYER,
            "shop-kr-beauty",
            Channel.DOMESTIC,
            _at(d, 10) - timedelta(days=2),
            HOME,
            (OrderLine("L1", SKU, 1, 9_900),),
            signed_at=_at(d, 10),
        )
        for i, d in enumerate(days)
    ]
    catalog.import_orders(app.services, made, None)
    return made


def _history(app: App, clock: FixedClock, today: date, lead: int = 0) -> None:
    """40 orders signed 16 to 41 days ago (their returns all in), every second one returned
    ``LAG`` days after signing, each request booking a pickup in YTO's first window (its
    counter only), or with ``lead`` booking a visit ``lead`` days after the request."""
    orders = _signed(app, [today - timedelta(days=16 + i % 26) for i in range(40)])
    now = clock.now()
    with app.services.uow() as uow:
        area = uow.areas.get(AREA)
        assert area is not None
        template = template_for(uow, area, "yto")
        assert template is not None
        first = template.windows[0]
    for order in orders[::2]:
        assert order.signed_at is not None
        opened = _at(local(order.signed_at).date() + timedelta(days=LAG), 12)
        clock.advance(seconds=(opened - clock.now()).total_seconds())
        request = returns.open_return(
            app.services,
            OpenReturn(
                BUYER, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
            ),
        )
        if lead:
            day = opened.date() + timedelta(days=lead)
            choice = pickup.SlotChoice("yto", day, first.start)
            pickup.book_pickup(app.services, BUYER, request.return_id, choice)
            continue
        with app.services.uow() as uow:
            assert uow.slots.take(SlotRef(AREA, "yto", opened.date(), first), 10)
            uow.commit()
    clock.advance(seconds=(now - clock.now()).total_seconds())


def _outlook(client: TestClient, login: Login) -> dict[str, Any]:
    r = client.get("/ops/outlook", headers=login("ops1"), params={"days": 7, "adcode": AREA})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _area(body: dict[str, Any], day: date) -> dict[str, Any]:
    [found] = [d for d in body["days"] if d["day"] == day.isoformat()]
    [area] = found["areas"]
    assert area["adcode"] == AREA
    return area  # type: ignore[no-any-return]


def test_a_spike_signed_yesterday_is_a_wave_three_days_after_that_past_weeks_do_not_see(
    wired: App, client: TestClient, login: Login, clock: FixedClock
) -> None:
    today = local(clock.now()).date()
    _history(wired, clock, today)
    before = _outlook(client, login)
    assert before["model"] is not None and before["model"]["orders"] >= 40
    assert max(before["model"]["lag"]) == before["model"]["lag"][LAG]
    wave_day = today + timedelta(days=LAG - 1)  # signed yesterday, asked for LAG days on
    page = signed_in(client, "ops1")
    params = {"adcode": AREA, "ahead": LAG - 1, "lang": "en"}
    quiet = page.get("/console/dashboard", params=params).text
    assert 'data-testid="wave"' in quiet and 'data-testid="wave-over"' not in quiet

    _signed(wired, [today - timedelta(days=1)] * 400)
    after = _outlook(client, login)
    grew = {
        d: _area(after, d)["wave"] - _area(before, d)["wave"]
        for d in (today + timedelta(days=n) for n in range(1, 8))
    }
    # The wave lands where the lag put it, and the same weekday of past weeks has not moved.
    assert max(grew, key=lambda d: grew[d]) == wave_day, grew
    spike = _area(after, wave_day)
    assert grew[wave_day] > 20, grew
    assert spike["weekday_mean"] == _area(before, wave_day)["weekday_mean"]
    assert spike["wave"] > spike["capacity"] > spike["weekday_mean"]
    assert spike["short_windows"] > _area(before, wave_day)["short_windows"]
    assert spike["requests"] > 0

    # The dashboard lists the window the wave fills, and says so in both languages.
    en = page.get("/console/dashboard", params=params).text
    assert 'data-testid="wave-over"' in en and 'data-testid="outlook"' in en
    zh = page.get("/console/dashboard", params={**params, "lang": "zh_CN"}).text
    assert "已签收订单带来的退货潮" in zh and 'data-testid="wave-over"' in zh


def test_a_history_that_books_the_next_day_puts_the_wave_a_day_later(
    wired: App, client: TestClient, login: Login, clock: FixedClock
) -> None:
    today = local(clock.now()).date()
    _history(wired, clock, today, lead=1)
    before = _outlook(client, login)
    assert before["model"] is not None and before["model"]["lead"][1] == 1.0
    _signed(wired, [today - timedelta(days=1)] * 400)
    after = _outlook(client, login)
    grew = {
        d: _area(after, d)["wave"] - _area(before, d)["wave"]
        for d in (today + timedelta(days=n) for n in range(1, 8))
    }
    # Asked for LAG days after signing (the requests' day is unchanged), booked a day on.
    asked = today + timedelta(days=LAG - 1)
    assert max(grew, key=lambda d: grew[d]) == asked + timedelta(days=1), grew
    assert _area(after, asked)["requests"] > _area(after, asked + timedelta(days=1))["requests"]
    assert grew[asked] < grew[asked + timedelta(days=1)] / 10, grew


def test_without_signed_history_there_is_no_wave(
    wired: App, client: TestClient, login: Login
) -> None:
    with wired.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET signed_at = NULL"))
    body = _outlook(client, login)
    assert body["model"] is None
    assert all(a["wave"] is None for d in body["days"] for a in d["areas"])
    html = signed_in(client, "ops1").get("/console/dashboard", params={"lang": "zh_CN"}).text
    assert 'data-testid="wave-none"' in html


def test_the_outlook_inputs_are_bounded_in_both_languages(client: TestClient, login: Login) -> None:
    ops = login("ops1")
    for params in (
        {"days": 0},
        {"days": 8},
        {"days": "x"},
        {"days": 10**30},
        {"adcode": "31010\u0664"},
        {"adcode": "3101040"},
    ):
        r = client.get("/ops/outlook", headers=ops, params=params)
        assert r.status_code == 422, (params, r.status_code, r.text)
        body = r.json()
        assert body["code"] and body["message"]["en"] and body["message"]["zh"], body
    assert client.get("/ops/outlook", headers=login("buyer1")).status_code == 403
    assert client.get("/ops/outlook").status_code == 401
    # A district that does not exist has no rows, not an error.
    r = client.get("/ops/outlook", headers=ops, params={"adcode": "110101"})
    assert r.status_code == 200 and all(not d["areas"] for d in r.json()["days"])


def test_the_migration_fills_signing_and_district_from_the_documents(
    wired: App, database_url: str, clock: FixedClock
) -> None:
    # Returns booked on visits, for the return's appointment column.
    _history(wired, clock, local(clock.now()).date(), lead=1)
    with wired.services.uow() as uow:
        stored = {
            o.order_id: (o.signed_at, o.shipping_address.adcode)
            for o in uow.orders.list()
            if o.signed_at is not None
        }
    with wired.engine.connect() as conn:
        r = tables.returns.c
        visits = {
            row.return_id: row.appointment_id
            for row in conn.execute(select(r.return_id, r.appointment_id))
        }
    assert stored and any(visits.values()), visits
    wired.engine.dispose()
    cfg = _alembic(database_url)
    command.downgrade(cfg, BEFORE_WAVE)
    command.upgrade(cfg, "head")
    with wired.services.uow() as uow:
        assert uow.wave.signed(date(2000, 1, 1), date(2100, 1, 1))  # the columns are read
    with wired.engine.connect() as conn:
        o = tables.orders.c
        rows = conn.execute(
            select(o.order_id, o.signed_at, o.adcode).where(o.signed_at.is_not(None))
        ).all()
        # returns.appointment_id (migration a3c6e8f1d259) is refilled from the documents.
        r = tables.returns.c
        again = {
            row.return_id: row.appointment_id
            for row in conn.execute(select(r.return_id, r.appointment_id))
        }
    assert {r.order_id: (r.signed_at, r.adcode) for r in rows} == stored
    assert again == visits


def test_requests_opened_today_beyond_the_forecast_raise_the_next_days_wave(
    wired: App, client: TestClient, login: Login, clock: FixedClock
) -> None:
    today = local(clock.now()).date()
    _history(wired, clock, today, lead=1)
    orders = _signed(wired, [today - timedelta(days=1)] * 30)
    before = _outlook(client, login)
    tomorrow = today + timedelta(days=1)
    # Asked for a day after signing, where the history taught LAG days: the signings do not
    # forecast them, the count of today's requests does (they book tomorrow, lead 1).
    for order in orders:
        returns.open_return(
            wired.services,
            OpenReturn(
                BUYER, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
            ),
        )
    after = _outlook(client, login)
    grew = _area(after, tomorrow)["wave"] - _area(before, tomorrow)["wave"]
    # 30 requests at the history's pickup share (every request booked): 30 pickups.
    assert grew > 20, grew
    # Only tomorrow's windows take today's requests; the days after have not moved.
    for n in range(2, 8):
        day = today + timedelta(days=n)
        assert _area(after, day)["wave"] == _area(before, day)["wave"]
