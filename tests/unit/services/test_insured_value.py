"""A pickup order sent to a courier company declares the parcel's value (保价): what the buyer
paid for its units (coupon share out), joined returns summed, up to the company's maximum
insured value; transit damage charges the company at most the return's part of it, and the
rest is doorstep's loss on the claim and the settlement. Over the fakes, with the sandbox
company (``sbx``) serving Fengxian."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    B3_HOME,
    TOMORROW,
    new_order,
    open_return,
    two_of_three_taken,
    yto,
)

from doorstep.domain.address import Address
from doorstep.domain.carrier_order import CarrierUpdate, CourierInfo, PickupOrder, UpdateKind
from doorstep.domain.claim import ClaimKind, ClaimStatus, Liability
from doorstep.domain.order import Order, OrderLine, Promotions
from doorstep.domain.pickup import FailureReason
from doorstep.domain.returns import Grade, ReturnStatus
from doorstep.services import carrier_callbacks, claims, pickup, returns, warehouse

WH = "wh-sh-01"
FENGXIAN = Address(
    "310120", "上海市", "上海市", "奉贤区", "南桥镇解放东路88号", "王浩然", "13800001003"
)
SBX = pickup.SlotChoice("sbx", TOMORROW, time(13))


def _max_insured(world: World, fen: int | None) -> None:
    carrier = world.store.item("carriers", "sbx")
    world.store.put("carriers", "sbx", replace(carrier, max_insured_fen=fen))


def _order(
    world: World, lines: tuple[OrderLine, ...], coupon_fen: int = 0, address: Address = FENGXIAN
) -> Order:
    order = new_order(world, address=address, lines=lines)
    order = replace(order, promotions=Promotions(coupon_fen=coupon_fen))
    world.store.put("orders", order.order_id, order)
    return order


def _latest(world: World, appointment_id: str) -> PickupOrder:
    orders = [
        po for po in world.store.items("pickup_orders") if po.appointment_id == appointment_id
    ]
    return max(orders, key=lambda po: (po.created_at, po.out_order_no))


def _event(po: PickupOrder, kind: UpdateKind, world: World, **facts: object) -> str:
    update = CarrierUpdate(
        f"EV-{po.out_order_no}-{kind.value}", po.out_order_no, kind, world.clock.now(),
        courier=CourierInfo("张师傅", "138****5678"), **facts,  # type: ignore[arg-type]
    )  # fmt: skip
    return carrier_callbacks.apply_update(world.svc, "sbx", update, source="callback")


def _booked(world: World, *return_ids: str) -> PickupOrder:
    """The returns booked with the company. Several: the later ones join the visit, the
    company's courier fails the first attempt, and the new order placed for the moved visit
    declares them all."""
    appt = pickup.book_pickup(world.svc, B3, return_ids[0], SBX)
    if len(return_ids) == 1:
        return _latest(world, appt.appointment_id)
    for rid in return_ids[1:]:
        pickup.join_pickup(world.svc, B3, rid, appt.appointment_id)
    failed = _event(
        _latest(world, appt.appointment_id), UpdateKind.PICKUP_FAILED, world,
        failure_reason=FailureReason.BUYER_UNREACHABLE,
    )  # fmt: skip
    assert failed == "applied"
    pickup.reschedule_pickup(world.svc, B3, appt.appointment_id, replace(SBX, start=time(15)))
    return _latest(world, appt.appointment_id)


def _picked_up_and_damaged(world: World, po: PickupOrder, *return_ids: str) -> list[object]:
    """The company's courier takes the parcel (its door check passes), the warehouse finds
    the goods damaged."""
    assert _event(po, UpdateKind.PICKED_UP, world, waybill_no="SBX0000000001") == "applied"
    graded = []
    for rid in return_ids:
        warehouse.receive(world.svc, WH, rid)
        graded.append(
            warehouse.grade(world.svc, WH, rid, Grade.C, "crushed", ("QC1",), damaged=True)
        )
    return graded


def _transit_claim(world: World, return_id: str) -> object:
    [claim] = [c for c in world.store.items("claims") if c.return_id == return_id]
    assert claim.kind is ClaimKind.TRANSIT_DAMAGE and claim.status is ClaimStatus.COMPENSATED
    assert claim.liability is Liability.CARRIER and claim.carrier_id == "sbx"
    return claim


def test_the_order_declares_what_the_buyer_paid_not_the_list_price(world: World) -> None:
    # Two pillows at 39,900 with a 20,000 coupon: one of them cost the buyer 29,900.
    order = _order(world, (OrderLine("L1", "CN-LATEX-PILLOW", 2, 39_900),), coupon_fen=20_000)
    request = open_return(world, order, quantity=1)
    po = _booked(world, request.return_id)
    assert po.order.cargo.insured_value_fen == 29_900
    assert po.insured_fen == {request.return_id: 29_900}
    [intended] = [e for e in world.store.events_named("carrier_order.intended")]
    assert intended.data["insured_value_fen"] == 29_900


def test_the_unit_a_partial_pickup_left_declares_only_itself(world: World) -> None:
    # Three pillows, 30,000 of coupon (10,000 a unit); our courier took two of them at the
    # door, the third is returned again from Fengxian with the company.
    order = _order(
        world, (OrderLine("L1", "CN-LATEX-PILLOW", 3, 39_900),), coupon_fen=30_000,
        address=B3_HOME,
    )  # fmt: skip
    first = open_return(world, order, quantity=3)
    two_of_three_taken(world, B3, first.return_id, yto(13))
    again = open_return(world, order, quantity=1, address=FENGXIAN)
    po = _booked(world, again.return_id)
    assert po.insured_fen == {again.return_id: 29_900}
    assert po.order.cargo.insured_value_fen == 29_900


def test_joined_returns_sum_and_the_company_maximum_caps_the_parcel(world: World) -> None:
    _max_insured(world, 50_000)
    first = open_return(world, _order(world, (OrderLine("L1", "CN-LATEX-PILLOW", 1, 39_900),)))
    second = open_return(world, _order(world, (OrderLine("L1", "CN-LATEX-PILLOW", 1, 20_000),)))
    po = _booked(world, first.return_id, second.return_id)
    assert po.out_order_no.endswith("-2") and po.return_ids == [first.return_id, second.return_id]
    # 59,900 paid, 50,000 insurable: shared 39,900 : 20,000, the parts add up to the cap.
    assert po.order.cargo.insured_value_fen == 50_000
    assert po.insured_fen == {first.return_id: 33_306, second.return_id: 16_694}
    assert sum(po.insured_fen.values()) == 50_000


def test_transit_damage_charges_the_company_at_most_the_declared_part(world: World) -> None:
    _max_insured(world, 30_000)
    request = open_return(world, _order(world, (OrderLine("L1", "CN-LATEX-PILLOW", 1, 39_900),)))
    po = _booked(world, request.return_id)
    assert po.insured_fen == {request.return_id: 30_000}
    [graded] = _picked_up_and_damaged(world, po, request.return_id)
    assert graded.status is ReturnStatus.REFUNDED  # the buyer: refunded as for good goods
    claim = _transit_claim(world, request.return_id)
    assert claim.goods_fen == 39_900 and claim.insured_fen == 30_000
    assert claim.compensation_fen == 30_000 and claim.uninsured_fen == 9_900
    [filed] = [
        e for e in world.store.events_named("claim.filed") if e.aggregate_id == claim.claim_id
    ]
    assert (filed.data["insured_fen"], filed.data["uninsured_fen"]) == (30_000, 9_900)
    settlement = claims.carrier_settlement(world.svc, "sbx")
    assert settlement.total_fen == -30_000 and settlement.uninsured_fen == 9_900
    assert [(e.amount_fen, e.uninsured_fen) for e in settlement.entries] == [(-30_000, 9_900)]
    refunded = returns.get_return(world.svc, request.return_id)
    assert refunded.quote is not None and refunded.quote.goods_fen == 39_900


def test_below_the_declared_value_the_company_pays_the_whole_loss(world: World) -> None:
    order = _order(world, (OrderLine("L1", "CN-LATEX-PILLOW", 2, 39_900),), coupon_fen=20_000)
    request = open_return(world, order, quantity=2)
    po = _booked(world, request.return_id)
    assert po.insured_fen == {request.return_id: 59_800}
    _picked_up_and_damaged(world, po, request.return_id)
    claim = _transit_claim(world, request.return_id)
    assert claim.compensation_fen == 59_800 and claim.uninsured_fen == 0
    settlement = claims.carrier_settlement(world.svc, "sbx")
    assert (settlement.total_fen, settlement.uninsured_fen) == (-59_800, 0)


def test_joined_returns_each_charge_their_own_part(world: World) -> None:
    _max_insured(world, 50_000)
    first = open_return(world, _order(world, (OrderLine("L1", "CN-LATEX-PILLOW", 1, 39_900),)))
    second = open_return(world, _order(world, (OrderLine("L1", "CN-LATEX-PILLOW", 1, 20_000),)))
    po = _booked(world, first.return_id, second.return_id)
    _picked_up_and_damaged(world, po, first.return_id, second.return_id)
    one, two = _transit_claim(world, first.return_id), _transit_claim(world, second.return_id)
    assert (one.compensation_fen, one.uninsured_fen) == (33_306, 6_594)
    assert (two.compensation_fen, two.uninsured_fen) == (16_694, 3_306)
    settlement = claims.carrier_settlement(world.svc, "sbx")
    assert settlement.total_fen == -50_000 and settlement.uninsured_fen == 9_900


def test_an_order_placed_before_values_were_declared_keeps_the_flat_cap(world: World) -> None:
    request = open_return(world, _order(world, (OrderLine("L1", "CN-LATEX-PILLOW", 1, 39_900),)))
    po = _booked(world, request.return_id)
    # As stored before: no part per return (its cargo carried the line prices).
    world.store.put("pickup_orders", po.out_order_no, replace(po, insured_fen={}))
    world.svc = replace(
        world.svc,
        refunds=replace(
            world.svc.refunds, claims=replace(world.svc.refunds.claims, carrier_cap_fen=25_000)
        ),
    )
    _picked_up_and_damaged(world, po, request.return_id)
    claim = _transit_claim(world, request.return_id)
    assert claim.insured_fen is None
    assert (claim.compensation_fen, claim.uninsured_fen) == (25_000, 14_900)
