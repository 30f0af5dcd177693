"""An exchange ships at pickup only for the buyers an express refund would pay at pickup:
the same function decides both (``trust.served_ahead``), on the trust the buyer's history
gives now, not the stored starting score."""

from __future__ import annotations

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    at_the_door,
    inspect,
    new_order,
    sf,
)

from doorstep.domain.exchange import ShipAt
from doorstep.domain.returns import Grade, Reason, ReturnKind
from doorstep.services import courier, disputes, exchanges, pickup, returns, trust, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

WH = "wh-sh-bonded"


def _file(world: World, kind: ReturnKind) -> str:
    order = new_order(world, buyer_id=B1, address=B1_HOME)
    return returns.open_return(
        world.svc,
        OpenReturn(B1, order.order_id, kind, (LineRequest("L1", 1, Reason.NO_REASON),)),
    ).return_id


def _picked_up(world: World, return_id: str, hour: int) -> None:
    appt = pickup.book_pickup(world.svc, B1, return_id, sf(hour))
    courier_id = at_the_door(world, appt)
    inspect(world, appt, return_id, courier_id)
    appt = world.store.item("appointments", appt.appointment_id)
    courier.pick_up(world.svc, courier_id, appt.appointment_id, appt.pickup_code)


def test_a_trusted_buyer_gets_the_replacement_at_pickup(world: World) -> None:
    rid = _file(world, ReturnKind.EXCHANGE)
    assert exchanges.get_exchange(world.svc, rid).ship_at is ShipAt.PICKUP


def test_a_lost_dispute_stops_shipping_at_pickup_as_it_stops_express_refunds(
    world: World,
) -> None:
    lost = _file(world, ReturnKind.REFUND)
    _picked_up(world, lost, 10)
    warehouse.receive(world.svc, WH, lost)
    warehouse.grade(world.svc, WH, lost, Grade.C, "worn")
    disputes.decide_dispute(world.svc, "ops-001", lost, buyer_upheld=False, note="worn")
    assert world.store.item("buyers", B1).trust_score == 850  # the stored score is unchanged
    assert trust.buyer_trust(world.svc, B1).score < world.svc.refunds.express_min_trust
    refund = _file(world, ReturnKind.REFUND)
    _picked_up(world, refund, 11)
    assert f"refund:{refund}" not in world.payments.paid  # no express refund any more
    exchange = _file(world, ReturnKind.EXCHANGE)
    assert exchanges.get_exchange(world.svc, exchange).ship_at is ShipAt.RECEIPT
