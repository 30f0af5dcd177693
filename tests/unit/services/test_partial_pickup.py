"""Partial pickup: units judged one by one, refused ones stay, the refund follows what left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    ALL_PASS,
    B1,
    B1_HOME,
    PILLOW,
    at_the_door,
    open_return,
    photo,
    sf,
)

from doorstep.domain.errors import InvalidInput
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.refund import RefundKind
from doorstep.domain.returns import Inspection, InspectionResult, ReturnStatus
from doorstep.services import courier, pickup, returns

BARCODE = "6901234567892"
CHECKS = {k: v for k, v in ALL_PASS.items() if k != "barcode_matches"}


def _order(world: World, quantity: int = 3) -> Order:
    now = world.clock.now()
    order = Order(
        world.ids.new("O"),
        B1,
        "shop-test",
        Channel.DOMESTIC,
        now - timedelta(days=3),
        B1_HOME,
        (OrderLine("L1", PILLOW, quantity, 39_900, barcode=BARCODE),),
        signed_at=now - timedelta(days=1),
    )
    world.store.put("orders", order.order_id, order)
    return order


def _at_door(world: World, quantity: int = 3) -> tuple[str, str, str, str]:
    order = _order(world, quantity)
    request = open_return(world, order, quantity=quantity)
    appt = pickup.book_pickup(world.svc, B1, request.return_id, sf(10))
    courier_id = at_the_door(world, appt)
    return order.order_id, request.return_id, appt.appointment_id, courier_id


def _unit(world: World, courier_id: str, code: str = BARCODE, **checks: bool) -> UnitAnswer:
    return UnitAnswer(CHECKS | checks, code, (photo(world, courier_id),))


def _by_unit(
    world: World, at: tuple[str, str, str], weight: int, units: tuple[UnitAnswer, ...]
) -> Inspection:
    rid, aid, cid = at
    line = courier.LineAnswer("L1", units)
    return courier.inspect(
        world.svc, cid, aid, courier.InspectionInput(rid, {}, (), weight, "", (line,))
    )


def test_two_of_three_taken_one_refused_and_the_refund_follows(world: World) -> None:
    order_id, rid, aid, cid = _at_door(world)
    units = (_unit(world, cid), _unit(world, cid, appearance_ok=False), _unit(world, cid))
    done = _by_unit(world, (rid, aid, cid), 1_000, units)
    assert done.result is InspectionResult.PASSED and done.refusal_reason == "appearance_ok"
    assert [u.taken for u in done.units] == [True, False, True]
    assert done.expected_weight_g == 3_000 and done.weight_off  # two pillows weigh 3 kg
    appt = world.store.item("appointments", aid)
    courier.pick_up(world.svc, cid, aid, appt.pickup_code)
    after = returns.get_return(world.svc, rid)
    assert after.status is ReturnStatus.PICKED_UP
    assert [(ln.order_line_id, ln.quantity) for ln in after.lines] == [("L1", 2)]
    [event] = world.store.events_named("return.partly_refused_at_door")
    assert event.data["refused"] == [
        {"order_line_id": "L1", "sku": PILLOW, "quantity": 1, "reasons": ["appearance_ok"]}
    ]
    with world.svc.uow() as uow:
        refund = uow.refunds.by_key(f"refund:{rid}")
    assert refund is not None and refund.kind is RefundKind.EXPRESS
    assert refund.amount_fen == 2 * 39_900
    # The refused unit is the buyer's again: it can be returned once more.
    again = open_return(world, world.store.item("orders", order_id), quantity=1)
    assert again.status is ReturnStatus.APPROVED


def test_a_wrong_barcode_refuses_that_unit_only(world: World) -> None:
    _, rid, aid, cid = _at_door(world, quantity=2)
    units = (_unit(world, cid), _unit(world, cid, "6900000000000"))
    done = _by_unit(world, (rid, aid, cid), 1_550, units)  # the one pillow taken, in its bag
    assert [u.failed for u in done.units] == [(), ("barcode_matches",)]
    assert not done.weight_off


@pytest.mark.parametrize(
    ("quantity", "units", "weight", "checklist", "code"),
    [
        (2, 1, 3_000, None, "inspection_units_mismatch"),  # every unit answered, once
        (1, 1, None, None, "inspection_weight_required"),  # unit by unit needs the scale
        (1, 0, 1_500, ALL_PASS, "unit_code_required"),  # a coded line needs its scan
    ],
)
def test_an_incomplete_inspection_is_refused(
    world: World,
    quantity: int,
    units: int,
    weight: int | None,
    checklist: dict[str, bool] | None,
    code: str,
) -> None:
    _, rid, aid, cid = _at_door(world, quantity=quantity)
    lines = (courier.LineAnswer("L1", tuple(_unit(world, cid) for _ in range(units))),)
    data = courier.InspectionInput(
        rid,
        dict(checklist or {}),
        (photo(world, cid),) if checklist else (),
        weight,
        "",
        lines if units else (),
    )
    with pytest.raises(InvalidInput) as err:
        courier.inspect(world.svc, cid, aid, data)
    assert err.value.code == code


def test_the_visit_lists_each_lines_checklist(world: World) -> None:
    _, rid, aid, cid = _at_door(world, quantity=2)
    [line] = courier.visit_checklists(world.svc, cid, aid)
    assert (line.return_id, line.quantity, line.code_check, line.code_required) == (
        rid,
        2,
        "barcode_matches",
        True,
    )
    assert {c.key for c in line.checks} == set(courier.CHECKLIST)
