"""The route cache (services/route.RouteCache) is shared by the requests of one process and
trusts a route's version to name its content. A write rolled back (a booking that loses its
race at commit) must not leave its route in the cache: the version it carried is given next
to other content, and a later booking would then write the rolled-back stops back.

Found through the coupon race (tests/integration/test_races_audit.py), where a reschedule
losing to a cancel of the same visit left such a route and later requests failed with an
IndexError (slack and stops of one version, two contents). Also here: the same trust
broken by a write that is not the route's (a fleet edit), and by a route's own earlier write
in the reading transaction (session 17)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from tests.integration.races import RecordingPayments, violations  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.errors import StaleWrite
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
DAY = date(2026, 11, 26)


class LosesAtCommit:
    """A unit of work whose commit loses a race (as when another request changed the same
    visit first) after every step before it ran; leaving it rolls everything back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __enter__(self) -> LosesAtCommit:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self.inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def commit(self) -> None:
        raise StaleWrite()


def _return(app: App) -> str:
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    order = Order(
        f"RC-{uuid.uuid4().hex[:10]}",
        BUYER,
        "shop-cn-home",
        Channel.DOMESTIC,
        placed,
        HOME,
        (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19_900),),
        signed_at=placed + timedelta(days=1),
    )
    catalog.import_orders(app.services, [order], None)
    request = OpenReturn(
        BUYER, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
    )
    return returns.open_return(app.services, request).return_id


def _stops(app: App, courier_id: str) -> list[str]:
    with app.services.uow() as uow:
        route = uow.routes.get(courier_id, DAY)
    return [] if route is None else [s.appointment_id for s in route.stops]


def test_a_booking_rolled_back_leaves_no_route_in_the_cache(wired: App) -> None:
    svc = wired.services
    at_nine = pickup.SlotChoice("sf", DAY, time(9))
    first = pickup.book_pickup(svc, BUYER, _return(wired), at_nine)
    assert first.courier_id is not None
    courier_id = first.courier_id
    losing = replace(svc, uow=lambda: LosesAtCommit(wired.services.uow()))
    with pytest.raises(StaleWrite):
        pickup.book_pickup(losing, BUYER, _return(wired), at_nine)  # same door: same route
    pickup.cancel_pickup(svc, BUYER, first.appointment_id)
    assert _stops(wired, courier_id) == []

    with svc.uow() as uow:
        cached = svc.route_cache.routes(uow, "sf", [(courier_id, DAY)])
    assert [[s.appointment_id for s in r.stops] for r in cached.values()] == [[]]
    # What a stale entry would do next: the next booking writes it back to the courier's day.
    second = pickup.book_pickup(svc, BUYER, _return(wired), at_nine)
    assert second.courier_id == courier_id
    assert _stops(wired, courier_id) == [second.appointment_id]


def test_a_move_on_its_own_route_rolled_back_leaves_no_route_in_the_cache(wired: App) -> None:
    """A move within one courier's day takes the visit off the route and puts it back in the
    same transaction: the second step reads the route it has just written (a version nobody
    has committed). Found through the disruption race (test_disruption_lock_order_races):
    that read was kept in the cache, with its slack, and after a rollback a cancel gave the
    version to other stops, so a later booking's insertion pointed past the route's end."""
    svc = wired.services
    at_nine = pickup.SlotChoice("sf", DAY, time(9))
    moving = pickup.book_pickup(svc, BUYER, _return(wired), at_nine)
    staying = pickup.book_pickup(svc, BUYER, _return(wired), at_nine)
    courier_id = moving.courier_id
    assert courier_id is not None and staying.courier_id == courier_id
    losing = replace(svc, uow=lambda: LosesAtCommit(wired.services.uow()))
    with pytest.raises(StaleWrite):
        pickup.reschedule_pickup(
            losing, BUYER, moving.appointment_id, pickup.SlotChoice("sf", DAY, time(11))
        )
    pickup.cancel_pickup(svc, BUYER, staying.appointment_id)
    assert _stops(wired, courier_id) == [moving.appointment_id]
    assert violations(wired, RecordingPayments()) == []  # what every race now checks

    with svc.uow() as uow:
        cached = svc.route_cache.routes(uow, "sf", [(courier_id, DAY)])
    assert [[s.appointment_id for s in r.stops] for r in cached.values()] == [
        [moving.appointment_id]
    ]
    third = pickup.book_pickup(svc, BUYER, _return(wired), at_nine)
    assert third.courier_id == courier_id
    assert sorted(_stops(wired, courier_id)) == sorted(
        [moving.appointment_id, third.appointment_id]
    )


def test_a_fleet_edit_reaches_the_cached_slack_of_an_unchanged_route(wired: App) -> None:
    """A courier's vehicle or shift is part of their route's slack but not of the route: the
    edit writes the courier, not the route, so a slack cached by route version alone kept
    the old vehicle and the next booking still loaded a van that can no longer take it
    (found in review, session 17)."""
    svc = wired.services
    at_nine = pickup.SlotChoice("sf", DAY, time(9))
    first = pickup.book_pickup(svc, BUYER, _return(wired), at_nine)
    courier_id = first.courier_id
    assert courier_id is not None
    second = _return(wired)
    offered = pickup.pickup_options(svc, wired.offering, BUYER, second)  # caches the slack
    assert offered
    with svc.uow() as uow:
        courier = uow.couriers.get(courier_id)
        carrier = uow.carriers.get(courier.carrier_id)
    assert courier is not None and carrier is not None
    # Room for nothing more than the pillow already on board.
    catalog.upsert_fleet(svc, [carrier], [replace(courier, capacity_weight_g=1)])
    booked = pickup.book_pickup(svc, BUYER, second, at_nine)
    assert booked.courier_id is not None and booked.courier_id != courier_id
    assert _stops(wired, courier_id) == [first.appointment_id]
