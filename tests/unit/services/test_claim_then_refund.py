"""A claim and a refund on one order never pay back more than the buyer paid.

A claim used to compensate its units at list price while the refund of the rest took its
own lines' coupon share only: the claimed unit's coupon share was paid twice. Now a claim
is priced by the refund's own function (its units' paid price, net of the coupon share),
and the refund quote counts the order's claims as it counts its earlier refunds.
"""

from __future__ import annotations

from dataclasses import replace

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    PILLOW,
    at_the_door,
    inspect,
    new_order,
    photo,
    yto,
)

from doorstep.adapters.db import codec
from doorstep.domain.claim import Claim, ClaimKind, ClaimStatus
from doorstep.domain.order import Order, OrderLine, Promotions
from doorstep.domain.refund_amount import Part
from doorstep.domain.returns import Grade, Reason, ReturnKind
from doorstep.services import claims, courier, pickup, returns, warehouse
from doorstep.services.claims import FileClaim
from doorstep.services.returns import LineRequest, OpenReturn

WH = "wh-sh-bonded"
COUPON = 1_001  # odd: the two lines' shares round differently


def _order(world: World, reduction: bool = False) -> Order:
    lines = (OrderLine("L1", PILLOW, 1, 39_900), OrderLine("L2", PILLOW, 1, 39_900))
    promotions = Promotions(
        coupon_fen=COUPON,
        reduction_fen=5_000 if reduction else 0,
        reduction_threshold_fen=70_000 if reduction else 0,
    )
    order = replace(new_order(world, lines=lines), promotions=promotions)
    world.store.put("orders", order.order_id, order)
    return order


def _claim_paid(world: World, order: Order, line_id: str, kind: ClaimKind) -> int:
    cmd = FileClaim(B3, order.order_id, kind, ((line_id, 1),), "crushed", (photo(world, B3),))
    claim = claims.file_claim(world.svc, cmd)
    if kind is ClaimKind.COUNTERFEIT:
        claims.answer_claim(world.svc, claim.claim_id, accept=False, text="", shop_id=None)
        done = claims.decide_claim(world.svc, "ops-001", claim.claim_id, approve=True, note="")
    else:
        done = claims.answer_claim(world.svc, claim.claim_id, accept=True, text="", shop_id=None)
    assert done.status is ClaimStatus.COMPENSATED
    return done.goods_fen


def _refunded(world: World, order: Order, line_id: str) -> int:
    request = returns.open_return(
        world.svc,
        OpenReturn(
            B3, order.order_id, ReturnKind.REFUND, (LineRequest(line_id, 1, Reason.NO_REASON),)
        ),
    )
    appt = pickup.book_pickup(world.svc, B3, request.return_id, yto(13))
    cid = at_the_door(world, appt)
    inspect(world, appt, request.return_id, cid)
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    warehouse.receive(world.svc, WH, request.return_id)
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "")
    done = returns.get_return(world.svc, request.return_id)
    assert done.quote is not None and done.quote.freight_fen == 0
    return done.quote.total_fen


def test_claim_on_one_line_then_refund_of_the_other_pays_back_what_was_paid(
    world: World,
) -> None:
    order = _order(world)
    claimed = _claim_paid(world, order, "L1", ClaimKind.DAMAGE_ON_ARRIVAL)
    assert claimed == 39_900 - COUPON * 39_900 // 79_800  # its coupon share, rounded down
    _refunded(world, order, "L2")
    assert world.payments.total_paid_fen == order.paid_fen == 79_800 - COUPON


def test_refund_of_one_line_then_claim_on_the_other_pays_back_what_was_paid(
    world: World,
) -> None:
    order = _order(world)
    _refunded(world, order, "L2")
    _claim_paid(world, order, "L1", ClaimKind.DAMAGE_ON_ARRIVAL)
    assert world.payments.total_paid_fen == order.paid_fen


def test_a_claim_breaking_a_reduction_is_paid_net_of_it_when_nothing_is_kept(
    world: World,
) -> None:
    # The seller's fault keeps the 满减 while the buyer keeps a unit; once every unit is
    # paid back the reduction was never paid and the two together are exactly what was.
    order = _order(world, reduction=True)
    first = _claim_paid(world, order, "L1", ClaimKind.DAMAGE_ON_ARRIVAL)
    assert first == 39_900 - COUPON * 39_900 // 79_800
    _refunded(world, order, "L2")
    assert world.payments.total_paid_fen == order.paid_fen == 79_800 - COUPON - 5_000


def test_counterfeit_pays_four_times_what_was_paid_and_the_refund_counts_the_goods_once(
    world: World,
) -> None:
    order = _order(world)
    goods = _claim_paid(world, order, "L1", ClaimKind.COUNTERFEIT)
    [claim] = world.store.items("claims")
    assert claim.compensation_fen == 4 * goods == 4 * (39_900 - COUPON * 39_900 // 79_800)
    refund = _refunded(world, order, "L2")
    # The refund and the claim's goods part are what was paid; the penalty is on top.
    assert goods + refund == order.paid_fen
    assert world.payments.total_paid_fen == order.paid_fen + 3 * goods


def test_the_quote_before_filing_counts_the_claim(world: World) -> None:
    order = _order(world)
    _claim_paid(world, order, "L1", ClaimKind.DAMAGE_ON_ARRIVAL)
    quote = returns.quote_return(
        world.svc,
        OpenReturn(
            B3, order.order_id, ReturnKind.REFUND, (LineRequest("L2", 1, Reason.NO_REASON),)
        ),
    )
    assert quote.part_fen(Part.COUPON) == -(COUPON - COUPON * 39_900 // 79_800)
    assert quote.total_fen == order.paid_fen - world.payments.total_paid_fen


def test_a_claim_filed_before_the_fix_is_not_repriced_and_the_refund_takes_what_is_left(
    world: World,
) -> None:
    # Stored before ``paid`` was kept: no such key in its document. It keeps its line-price
    # compensation; the refund after it is clamped to what the buyer paid.
    order = _order(world)
    shot = photo(world, B3)
    cmd = FileClaim(B3, order.order_id, ClaimKind.DAMAGE_ON_ARRIVAL, (("L1", 1),), "", (shot,))
    claim = claims.file_claim(world.svc, cmd)
    doc = codec.to_doc(claim)
    del doc["paid"]
    doc["compensation_fen"] = 39_900  # line price, as it was filed
    old = codec.from_doc(Claim, doc)
    assert old.paid is None and old.goods_fen == old.compensation_fen == 39_900
    world.store.put("claims", old.claim_id, old)
    claims.answer_claim(world.svc, old.claim_id, accept=True, text="", shop_id=None)
    assert world.payments.total_paid_fen == 39_900
    refund = _refunded(world, order, "L2")
    assert refund == order.paid_fen - 39_900
    assert world.payments.total_paid_fen == order.paid_fen
