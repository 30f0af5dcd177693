"""A buyer withdraws the only return of a booked visit (our own courier): the visit is
cancelled, its window's count given back and its stop taken off the courier's route, as
when the buyer cancels the pickup itself. Over HTTP, both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]
from tests.e2e.test_journey import open_return  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.bootstrap import App

Login = Callable[[str], dict[str, str]]
TODAY = "2026-11-25"  # the tests' clock: 09:00 in Shanghai
COURIER_USER = {"courier-sf-01": "courier1", "courier-yto-01": "courier5"}


def _book(client: TestClient, buyer: dict[str, str], rid: str, slot: dict[str, str]) -> dict:
    body = {k: slot[k] for k in ("carrier_id", "day", "start")}
    booked = client.post(f"/returns/{rid}/pickup", headers=buyer, json=body)
    assert booked.status_code == 201, booked.text
    answer: dict = booked.json()
    return answer


def _stops(wired: App, courier_id: str, day: str) -> list[str]:
    with wired.services.uow() as uow:
        route = uow.routes.get(courier_id, date.fromisoformat(day))
    return [s.appointment_id for s in route.stops] if route is not None else []


def _counted(wired: App, appt: dict) -> int:
    """The window's counter, read in SQL."""
    c = t.slot_capacity.c
    with wired.engine.connect() as conn:
        booked: int = conn.execute(
            select(c.booked).where(
                c.carrier_id == appt["carrier_id"],
                c.day == date.fromisoformat(appt["day"]),
                c.start == appt["start"][:5],
            )
        ).scalar_one()
    return booked


def test_withdrawing_the_only_return_takes_the_visit_off_the_route(
    client: TestClient, login: Login, wired: App
) -> None:
    buyer = login("buyer1")
    withdrawn = open_return(client, buyer, "TM2026000101", "L1")["return_id"]
    kept = open_return(client, buyer, "TM2026000101", "L2")["return_id"]
    slots = client.get(f"/returns/{withdrawn}/slots", headers=buyer).json()["slots"]
    slot = next(s for s in slots if s["day"] == TODAY)  # the courier's page shows today
    gone = _book(client, buyer, withdrawn, slot)
    stays = _book(client, buyer, kept, slot)
    courier_id, day = gone["courier_id"], gone["day"]
    assert courier_id in COURIER_USER and stays["courier_id"] == courier_id
    assert set(_stops(wired, courier_id, day)) == {gone["appointment_id"], stays["appointment_id"]}
    before = _counted(wired, gone)

    answer = client.post(f"/returns/{withdrawn}/cancel", headers=buyer, json={"reason": "x"})
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    visit = client.get(f"/appointments/{gone['appointment_id']}", headers=buyer).json()
    assert visit["status"] == "cancelled"
    assert _counted(wired, gone) == before - 1  # given back once
    # The stored route holds only the visit still to make ...
    assert _stops(wired, courier_id, day) == [stays["appointment_id"]]
    # ... and the courier's day puts it first, with nothing of the withdrawn visit to visit.
    courier = login(COURIER_USER[courier_id])
    tasks = {t["appointment_id"]: t for t in client.get("/courier/tasks", headers=courier).json()}
    assert tasks[stays["appointment_id"]]["route_position"] == 0
    page = signed_in(client, COURIER_USER[courier_id]).get("/courier")
    assert page.status_code == 200
    to_visit = page.text.split('data-testid="done-visits"', 1)[0]
    assert f'id="v-{stays["appointment_id"]}" class="visit card st-assigned next-stop"' in to_visit
    assert gone["appointment_id"] not in to_visit


def _stop(wired: App, appt: dict) -> tuple[int, int]:
    with wired.services.uow() as uow:
        route = uow.routes.get(appt["courier_id"], date.fromisoformat(appt["day"]))
    assert route is not None
    [stop] = [s for s in route.stops if s.appointment_id == appt["appointment_id"]]
    return stop.service_s, stop.weight_g


def test_withdrawing_one_of_two_returns_keeps_the_visit_and_shrinks_its_stop(
    client: TestClient, login: Login, wired: App
) -> None:
    buyer = login("buyer1")
    first = open_return(client, buyer, "TM2026000101", "L1")["return_id"]
    second = open_return(client, buyer, "TM2026000101", "L2")["return_id"]
    slots = client.get(f"/returns/{first}/slots", headers=buyer).json()["slots"]
    visit = _book(client, buyer, first, slots[0])
    alone = _stop(wired, visit)
    joined = client.post(
        f"/returns/{second}/pickup/join",
        headers=buyer,
        json={"appointment_id": visit["appointment_id"]},
    )
    assert joined.status_code == 200, joined.text
    both = _stop(wired, visit)
    assert both[0] > alone[0]  # longer at the door with two returns
    before = _counted(wired, visit)

    answer = client.post(f"/returns/{second}/cancel", headers=buyer, json={"reason": "x"})
    assert answer.status_code == 200
    kept = client.get(f"/appointments/{visit['appointment_id']}", headers=buyer).json()
    assert kept["status"] != "cancelled" and kept["return_ids"] == [first]
    assert _counted(wired, visit) == before  # the visit still holds its window
    assert _stop(wired, visit) == alone  # and its stop is what one return needs
