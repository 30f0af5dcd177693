"""Claims through the services: windows, merchant answers, silence, transit damage charged to
the carrier's settlement, counterfeit compensation; each paid or charged once."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    new_order,
    open_return,
    photo,
    picked_up,
)

from doorstep.domain.claim import ClaimKind, ClaimStatus, Liability
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.order import Channel, OrderLine
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.services import claims, warehouse
from doorstep.services.claims import FileClaim

WH = "wh-sh-bonded"
B3 = "buyer-003"


def _file(world: World, order_id: str, kind: ClaimKind = ClaimKind.DAMAGE_ON_ARRIVAL) -> str:
    shot = photo(world, B3)
    cmd = FileClaim(B3, order_id, kind, (("L1", 1),), "the box was crushed", (shot,))
    return claims.file_claim(world.svc, cmd).claim_id


def test_damage_on_arrival_within_72_hours_then_silence_approves_and_pays_once(
    world: World,
) -> None:
    order = new_order(world, signed_days_ago=2)
    claim_id = _file(world, order.order_id)
    claim = claims.get_claim(world.svc, claim_id, buyer_id=B3)
    assert claim.status is ClaimStatus.AWAITING_MERCHANT and claim.compensation_fen == 39_900
    assert claims.sweep_claims(world.svc) == 0  # the merchant still has time
    with pytest.raises(Conflict, match="claim_exists"):
        _file(world, order.order_id)
    world.clock.advance(hours=24, minutes=1)
    assert claims.sweep_claims(world.svc) == 1
    assert claims.get_claim(world.svc, claim_id).status is ClaimStatus.COMPENSATED
    assert world.payments.paid == {
        f"claim:{claim_id}": (world.payments.paid[f"claim:{claim_id}"][0], 39_900)
    }
    assert claims.sweep_claims(world.svc) == 0 and len(world.payments.paid) == 1


def test_damage_window_closed_and_food_has_24_hours(world: World) -> None:
    late = new_order(world, signed_days_ago=4)
    with pytest.raises(Conflict, match="claim_window_closed"):
        _file(world, late.order_id)
    food = new_order(
        world,
        signed_days_ago=2,
        lines=(OrderLine("L1", "JP-MATCHA-COOKIES", 1, 8_800),),
    )
    with pytest.raises(Conflict, match="claim_window_closed"):
        _file(world, food.order_id)


def test_claims_need_photos_own_orders_and_real_lines(world: World) -> None:
    order = new_order(world)
    with pytest.raises(InvalidInput, match="claim_photos_required"):
        claims.file_claim(
            world.svc,
            FileClaim(B3, order.order_id, ClaimKind.DAMAGE_ON_ARRIVAL, (("L1", 1),), "x", ()),
        )
    with pytest.raises(NotFound):
        claims.file_claim(
            world.svc,
            FileClaim(
                "buyer-001", order.order_id, ClaimKind.DAMAGE_ON_ARRIVAL, (("L1", 1),), "", ()
            ),
        )
    with pytest.raises(InvalidInput, match="claim_line_invalid"):
        claims.file_claim(
            world.svc,
            FileClaim(
                B3,
                order.order_id,
                ClaimKind.DAMAGE_ON_ARRIVAL,
                (("L1", 2),),
                "",
                (photo(world, B3),),
            ),
        )
    with pytest.raises(InvalidInput, match="claim_kind_not_for_buyers"):
        _file(world, order.order_id, ClaimKind.TRANSIT_DAMAGE)


def test_merchant_accepts_and_the_buyer_is_paid_or_contests_and_ops_decide(
    world: World,
) -> None:
    first = _file(world, new_order(world).order_id)
    done = claims.answer_claim(world.svc, first, accept=True, text="sorry", shop_id="shop-test")
    assert done.status is ClaimStatus.COMPENSATED
    second = _file(world, new_order(world).order_id)
    with pytest.raises(NotFound):
        claims.answer_claim(world.svc, second, accept=True, text="", shop_id="shop-other")
    contested = claims.answer_claim(world.svc, second, accept=False, text="no", shop_id="shop-test")
    assert contested.status is ClaimStatus.IN_REVIEW
    assert [c.claim_id for c in claims.claim_queue(world.svc)] == [second]
    rejected = claims.decide_claim(world.svc, "ops-001", second, approve=False, note="no damage")
    assert rejected.status is ClaimStatus.REJECTED
    assert len(world.payments.paid) == 1


def test_counterfeit_pays_the_multiplier_after_ops_approve(world: World) -> None:
    claim_id = _file(world, new_order(world, signed_days_ago=20).order_id, ClaimKind.COUNTERFEIT)
    claims.answer_claim(world.svc, claim_id, accept=False, text="genuine", shop_id=None)
    paid = claims.decide_claim(world.svc, "ops-001", claim_id, approve=True, note="fake label")
    assert paid.status is ClaimStatus.COMPENSATED
    assert world.payments.paid[f"claim:{claim_id}"][1] == 4 * 39_900


def test_transit_damage_charges_the_carrier_once_and_refunds_the_buyer(world: World) -> None:
    request, _ = picked_up(world)
    warehouse.receive(world.svc, WH, request.return_id)
    graded = warehouse.grade(
        world.svc, WH, request.return_id, Grade.C, "crushed corner", ("QC1",), damaged=True
    )
    assert graded.status is ReturnStatus.REFUNDED  # not the buyer's fault
    [claim] = world.store.items("claims")
    assert claim.kind is ClaimKind.TRANSIT_DAMAGE and claim.status is ClaimStatus.COMPENSATED
    assert claim.liability in (Liability.CARRIER, Liability.OWN_FLEET)
    assert [e.source for e in claim.evidence] == ["door_inspection", "warehouse_qc"]
    assert claim.evidence[0].photo_ids and claim.evidence[1].photo_ids == ("QC1",)
    settlement = claims.carrier_settlement(world.svc, claim.carrier_id)
    assert settlement.total_fen == -39_900 and len(settlement.entries) == 1
    assert claims.sweep_claims(world.svc) == 0
    assert claims.carrier_settlement(world.svc, claim.carrier_id).total_fen == -39_900


def test_damage_without_a_door_inspection_is_a_dispute_not_a_claim(world: World) -> None:
    request, _ = picked_up(world)
    warehouse.receive(world.svc, WH, request.return_id)
    graded = warehouse.grade(world.svc, WH, request.return_id, Grade.C, "used", damaged=False)
    assert graded.status is ReturnStatus.DISPUTED and not world.store.items("claims")


def test_unsigned_orders_have_no_claims(world: World) -> None:
    order = new_order(world, channel=Channel.DOMESTIC)
    world.store.put(
        "orders", order.order_id, __import__("dataclasses").replace(order, signed_at=None)
    )
    with pytest.raises(Conflict, match="claim_order_not_signed"):
        _file(world, order.order_id)


def _two_pillows(world: World) -> str:
    lines = (
        OrderLine("L1", "CN-LATEX-PILLOW", 1, 39_900),
        OrderLine("L2", "CN-LATEX-PILLOW", 1, 39_900),
    )
    return new_order(world, lines=lines).order_id


def _claim_on(world: World, order_id: str, lines: tuple[tuple[str, int], ...]) -> str:
    cmd = FileClaim(
        B3, order_id, ClaimKind.DAMAGE_ON_ARRIVAL, lines, "crushed", (photo(world, B3),)
    )
    return claims.file_claim(world.svc, cmd).claim_id


def test_a_unit_is_claimed_once_whatever_the_other_lines_of_the_claim(world: World) -> None:
    order_id = _two_pillows(world)
    first = _claim_on(world, order_id, (("L1", 1),))
    with pytest.raises(Conflict) as refused:
        _claim_on(world, order_id, (("L1", 1), ("L2", 1)))
    assert refused.value.code == "quantity_already_claimed"
    assert refused.value.message_en and refused.value.message_zh
    with pytest.raises(Conflict, match="quantity_already_claimed"):  # another kind: still once
        claims.file_claim(
            world.svc,
            FileClaim(B3, order_id, ClaimKind.COUNTERFEIT, (("L1", 1),), "", (photo(world, B3),)),
        )
    second = _claim_on(world, order_id, (("L2", 1),))
    for claim_id in (first, second):
        claims.answer_claim(world.svc, claim_id, accept=True, text="", shop_id=None)
    paid = [amount for _ref, amount in world.payments.paid.values()]
    assert sorted(paid) == [39_900, 39_900]  # 798.00 bought, 798.00 compensated


def test_a_claimed_unit_cannot_be_returned_and_a_returned_unit_cannot_be_claimed(
    world: World,
) -> None:
    claimed = new_order(world)
    _file(world, claimed.order_id)
    for kind in (ReturnKind.REFUND, ReturnKind.REFUND_ONLY, ReturnKind.EXCHANGE):
        with pytest.raises(Conflict, match="quantity_already_claimed"):
            open_return(
                world, claimed, reason=Reason.DAMAGED_ON_ARRIVAL, kind=kind,
                photo_ids=(photo(world, B3),),
            )  # fmt: skip
    returned = new_order(world)
    open_return(world, returned, reason=Reason.QUALITY, photo_ids=(photo(world, B3),))
    with pytest.raises(Conflict, match="quantity_already_claimed"):
        _file(world, returned.order_id)
    assert len(world.store.items("claims")) == 1


def test_a_rejected_claim_gives_its_units_back(world: World) -> None:
    order = new_order(world)
    claim_id = _file(world, order.order_id)
    claims.answer_claim(world.svc, claim_id, accept=False, text="intact", shop_id=None)
    claims.decide_claim(world.svc, "ops-001", claim_id, approve=False, note="not damaged")
    request = open_return(world, order, reason=Reason.QUALITY, photo_ids=(photo(world, B3),))
    assert request.status is ReturnStatus.APPROVED, request.decision
    assert world.payments.paid == {}
