"""The booking hot path costs the same number of SQL statements whatever the day holds.

Slot offers, bookings and moves are counted through the API, and the portal's picker page
and booking form through a signed-in page session, with an empty courier-day and again after
many visits were booked on it; the counts must not grow with the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.conftest import SECRET  # type: ignore[import-not-found]
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]
from tests.integration.test_routing import returns_at  # type: ignore[import-not-found]

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.domain.coverage import Window
from doorstep.domain.errors import Conflict
from doorstep.domain.pickup import SlotRef
from doorstep.entrypoints.api.app import create_app
from doorstep.entrypoints.web.forms import slot_value
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD
from doorstep.planning.timed import TimedTravel
from doorstep.services import pickup

TOMORROW = date(2026, 11, 26)
PRELOAD = 40


@contextmanager
def counting(app: App) -> Iterator[list[str]]:
    """Every statement the app's engine sends while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.engine, "before_cursor_execute", count)


def _open_windows(app: App) -> None:
    with app.services.uow() as uow:
        for hour in (9, 11, 13, 15, 17):
            window = Window(time(hour), time(hour + 2))
            uow.slots.set_capacity(SlotRef("310116", "yto", TOMORROW, window), 1000)
        uow.commit()


def _preload(app: App, rids: list[str]) -> None:
    """Book three quarters of ``rids`` into tomorrow's windows: legs priced at the hour
    they are driven, with their reserve, fill the day sooner (a window the routes can no
    longer keep is refused; at least half must be booked), and the rest leave a window for
    the last offer."""
    chosen = rids[: len(rids) * 3 // 4]
    booked = 0
    for i, rid in enumerate(chosen):
        choice = pickup.SlotChoice("yto", TOMORROW, time(9 + 2 * (i % 5)))
        try:
            pickup.book_pickup(app.services, "buyer-001", rid, choice)
            booked += 1
        except Conflict as exc:  # a window the routes can no longer keep
            assert exc.code == "slot_not_offered"
    assert booked >= len(chosen) // 2, booked  # the day is busy


def _counted(app: App, call: Callable[[], Any], ok: tuple[int, ...] = (200, 201)) -> int:
    with counting(app) as seen:
        answer = call()
    assert answer.status_code in ok, answer.text
    return len(seen)


def _cost(
    app: App, client: TestClient, headers: dict[str, str], api_return: str, page_return: str
) -> dict[str, int]:
    """Statements for one slot offer (after a first one warmed the route cache, as any busy
    process has), for booking its first window and moving the visit to the next one, and
    for the portal's picker page and booking form."""
    assert client.get(f"/returns/{api_return}/slots", headers=headers).status_code == 200
    with counting(app) as offer:
        slots = client.get(f"/returns/{api_return}/slots", headers=headers).json()["slots"]
    first = next(s for s in slots if s["day"] == TOMORROW.isoformat())
    second = next(s for s in slots if s != first)
    body = {"carrier_id": first["carrier_id"], "day": first["day"], "start": first["start"]}
    cost = {"offer": len(offer)}
    booked: list[Any] = []

    def book() -> Any:
        booked.append(client.post(f"/returns/{api_return}/pickup", headers=headers, json=body))
        return booked[-1]

    cost["book"] = _counted(app, book)
    moved = {k: second[k] for k in ("carrier_id", "day", "start")}
    visit = booked[0].json()["appointment_id"]
    cost["reschedule"] = _counted(
        app,
        lambda: client.post(f"/appointments/{visit}/reschedule", headers=headers, json=moved),
    )
    browser = signed_in(client, "buyer1")
    picker = f"/portal/returns/{page_return}/slots?day={TOMORROW.isoformat()}"
    assert browser.get(picker).status_code == 200
    cost["page slots"] = _counted(app, lambda: browser.get(picker))
    # What the page offers this return (its own address), read outside the count.
    offered = client.get(f"/returns/{page_return}/slots", headers=headers).json()["slots"]
    mine = offered[0]
    chosen = slot_value(
        mine["carrier_id"],
        date.fromisoformat(mine["day"]),
        time.fromisoformat(mine["start"]),
        mine["incentive_fen"],
    )
    form = {"slot": chosen, CSRF_FIELD: browser.cookies[CSRF_COOKIE]}
    cost["page book"] = _counted(
        app, lambda: browser.post(f"/portal/returns/{page_return}/book", data=form), ok=(303,)
    )
    return cost


def test_offer_and_booking_statements_do_not_grow_with_the_day(
    wired: App, client: TestClient, login: Callable[[str], dict[str, str]]
) -> None:
    _open_windows(wired)
    headers = login("buyer1")
    points = _spread(PRELOAD + 4)
    first, page_first, *rest, page_last, last = returns_at(wired, points)
    empty = _cost(wired, client, headers, first, page_first)
    _preload(wired, rest)
    full = _cost(wired, client, headers, last, page_last)
    # Not grown; it may shrink: on the busy day the process's route cache already holds
    # the routes the page's booking weighs (the preload read them), on the empty day it
    # reads them (measured: 29 statements, 24 busy; both write the route and the visit).
    grown = {k: (empty[k], full[k]) for k in empty if full[k] > empty[k]}
    assert not grown, f"statements: empty day {empty}, busy day {full}"
    assert full["offer"] == empty["offer"] and full["book"] == empty["book"], (empty, full)


def test_time_bucketed_pricing_sends_no_more_statements(
    wired: App,
    client: TestClient,
    login: Callable[[str], dict[str, str]],
    database_url: str,
    clock: FixedClock,
) -> None:
    """Legs priced per hour bucket (``travel_pricing=timed``, the default) are computed in
    process: an offer and a booking send what they send under evening-peak pricing, empty
    day or busy."""
    assert isinstance(wired.services.travel, TimedTravel)
    _open_windows(wired)
    headers = login("buyer1")
    settings = Settings(
        env="test", database_url=database_url, secret_key=SECRET, travel_pricing="peak"
    )
    peaked = build(settings, clock=clock, run_migrations=False)
    assert not isinstance(peaked.services.travel, TimedTravel)
    first, second, *rest, last = returns_at(wired, _spread(PRELOAD + 6))
    pages, rest = rest[:3], rest[3:]
    empty = _cost(wired, client, headers, first, pages[0])
    _preload(wired, rest)
    full = _cost(wired, client, headers, last, pages[1])
    try:
        with TestClient(create_app(peaked), raise_server_exceptions=False) as peak_client:
            peak = _cost(peaked, peak_client, headers, second, pages[2])
    finally:
        peaked.engine.dispose()
    assert full == empty == peak, f"timed empty {empty}, timed busy {full}, peak {peak}"


@pytest.mark.parametrize(
    ("setting", "value"), [("incentive_likely_saving_s", 120), ("incentive_reserve_s", 600)]
)
def test_coupons_aimed_at_the_likely_first_choice_send_no_more_statements(
    wired: App,
    client: TestClient,
    login: Callable[[str], dict[str, str]],
    database_url: str,
    clock: FixedClock,
    setting: str,
    value: int,
) -> None:
    """Coupons aimed at the likely first choice (``incentive_likely_saving_s``) and room kept
    for it (``incentive_reserve_s``) read the forecast, whose past area-days are kept per
    process: after the first offer an offer sends what it sends without the rule, empty day
    or busy. Only the offers (API and page) are compared: the preload booked through a second
    app makes the reschedule on the busy day send one statement more with the rule off as
    well (35 -> 36, measured in session 12)."""
    _open_windows(wired)
    headers = login("buyer1")
    settings = Settings(
        env="test",
        database_url=database_url,
        secret_key=SECRET,
        **{setting: value},
    )
    aimed = build(settings, clock=clock, run_migrations=False)
    offering: Any = aimed.services.offering.inner  # type: ignore[attr-defined]
    field = setting.removeprefix("incentive_")
    assert getattr(offering.incentives, field) == value
    first, second, *rest, last = returns_at(wired, _spread(PRELOAD + 6))
    pages, rest = rest[:3], rest[3:]
    try:
        with TestClient(create_app(aimed), raise_server_exceptions=False) as aimed_client:
            empty = _cost(aimed, aimed_client, headers, first, pages[0])
            _preload(aimed, rest)
            full = _cost(aimed, aimed_client, headers, last, pages[1])
    finally:
        aimed.engine.dispose()
    assert offering.forecast._counts, "the offers read the forecast (past weeks' area-days)"
    plain = _cost(wired, client, headers, second, pages[2])
    offers = ("offer", "page slots")
    got = [{k: cost[k] for k in offers} for cost in (empty, full, plain)]
    assert got[0] == got[1] == got[2], f"aimed empty, aimed busy, plain: {got}"
