"""A partial pickup carried into the customs return: the courier takes 2 of 3 units, so the
declaration lists 2 (when it is sent after the pickup), and the settlement gives back the tax
and restores the quota of the 2 units that went back only, whenever it was sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    ALL_PASS,
    B3,
    B3_HOME,
    PILLOW,
    at_the_door,
    photo,
    yto,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnRequest
from doorstep.services import courier, customs, pickup, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

BARCODE = "6901234567892"
CHECKS = {k: v for k, v in ALL_PASS.items() if k != "barcode_matches"}
WH = "wh-sh-bonded"
UNIT, TAX = 39_900, 9_000  # three units; 3,000 of tax each


@pytest.fixture
def broker(world: World) -> LocalCustomsBroker:
    made = LocalCustomsBroker()
    world.svc = replace(world.svc, customs_broker=made)
    return made


def _three_filed(world: World) -> ReturnRequest:
    now = world.clock.now()
    order = Order(
        world.ids.new("O"),
        B3,
        "shop-test",
        Channel.BONDED,
        now - timedelta(days=7),
        B3_HOME,
        (OrderLine("L1", PILLOW, 3, UNIT, TAX, barcode=BARCODE),),
        signed_at=now - timedelta(days=1),
        customs_released_at=now - timedelta(days=5),
        declaration_no="D1",
    )
    world.store.put("orders", order.order_id, order)
    return returns.open_return(
        world.svc,
        OpenReturn(
            B3, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 3, Reason.NO_REASON),)
        ),
    )


def _two_taken(world: World, request: ReturnRequest) -> None:
    appt = pickup.book_pickup(world.svc, B3, request.return_id, yto(13))
    cid = at_the_door(world, appt)

    def unit(**checks: bool) -> UnitAnswer:
        return UnitAnswer(CHECKS | checks, BARCODE, (photo(world, cid),))

    answer = courier.LineAnswer("L1", (unit(), unit(appearance_ok=False), unit()))
    courier.inspect(
        world.svc,
        cid,
        appt.appointment_id,
        courier.InspectionInput(request.return_id, {}, (), 3000, "", (answer,)),
    )
    appt = world.store.item("appointments", appt.appointment_id)
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)


def _back_and_settled(world: World, request: ReturnRequest):  # type: ignore[no-untyped-def]
    warehouse.receive(world.svc, WH, request.return_id)
    customs.sweep_customs(world.svc)
    (cr,) = world.store.items("customs_returns")
    return cr


def test_declared_after_a_partial_pickup_lists_the_units_taken(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _three_filed(world)
    _two_taken(world, request)
    used_before = customs.quota_of(world.svc, B3).used_fen
    customs.sweep_customs(world.svc)  # declared now: after the courier took 2

    (sent,) = broker.declarations.values()
    assert [(ln["quantity"], ln["value_fen"], ln["tax_fen"]) for ln in sent["lines"]] == [
        (2, 2 * UNIT, 6_000)
    ]
    cr = _back_and_settled(world, request)
    assert world.store.event_names(cr.customs_return_id).count("customs.lines_reduced") == 1
    assert cr.status is CustomsStatus.SETTLED
    assert (cr.tax_refund_fen, cr.quota_restored_fen) == (6_000, 2 * UNIT)
    assert customs.quota_of(world.svc, B3).used_fen == used_before - 2 * UNIT
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    assert world.payments.total_paid_fen == 2 * UNIT + 6_000  # the kept unit's tax stays


def test_declared_before_a_partial_pickup_settles_only_the_units_taken(
    world: World, broker: LocalCustomsBroker
) -> None:
    request = _three_filed(world)
    customs.sweep_customs(world.svc)  # declared with 3 units, accepted
    (declared,) = world.store.items("customs_returns")
    assert declared.status is CustomsStatus.ACCEPTED and declared.lines[0].quantity == 3
    _two_taken(world, request)

    cr = _back_and_settled(world, request)
    assert cr.status is CustomsStatus.SETTLED
    assert (cr.tax_refund_fen, cr.quota_restored_fen) == (6_000, 2 * UNIT)
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    assert world.payments.total_paid_fen == 2 * UNIT + 6_000
