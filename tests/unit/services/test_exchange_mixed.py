"""An exchange with a dearer and a cheaper line whose partial pickup turns the net difference
from owed by the buyer to owed to the buyer: the difference collected at filing goes back
(``exchange-diff-part:<return_id>``) and the cheaper side's difference is paid once the
replacement ships, under its own key (``exchange-diff-refund:<return_id>``), never mistaken
for the collection's repeat. The buyer ends with the net difference of what left the door."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    at_the_door,
    new_order,
    photo,
    sf,
)

from doorstep.domain.exchange import ExchangeStatus, StockLevel
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.order import OrderLine
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.domain.transfer import Transfer, TransferPurpose, TransferStatus
from doorstep.services import courier, exchanges, pickup, returns, transfers
from doorstep.services.returns import LineRequest, OpenReturn

LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"  # 32,000 and 34,000 fen now
# L1: three V01 bought at 32,000 for V02 (+2,000 each); L2: one V02 bought at 37,000 (before
# a price cut) for V01 (-5,000). Filed: +6,000 - 5,000 = +1,000 collected. One L1 unit is
# refused at the door: +4,000 - 5,000 = -1,000, owed to the buyer.
LINES = (OrderLine("L1", LIP_1, 3, 32_000), OrderLine("L2", LIP_2, 1, 37_000))


def _filed(world: World, l2_paid_fen: int = 37_000) -> str:
    exchanges.upsert_stock(
        world.svc,
        [
            StockLevel(LIP_1, "lipstick-velvet", 32_000, 20),
            StockLevel(LIP_2, "lipstick-velvet", 34_000, 10),
        ],
    )
    lines = (LINES[0], OrderLine("L2", LIP_2, 1, l2_paid_fen))
    order = new_order(world, buyer_id=B1, address=B1_HOME, lines=lines)
    return returns.open_return(
        world.svc,
        OpenReturn(
            B1,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 3, Reason.NO_REASON), LineRequest("L2", 1, Reason.NO_REASON)),
            replacements={"L1": LIP_2, "L2": LIP_1},
        ),
    ).return_id


def _one_refused_at_the_door(
    world: World, return_id: str, refused: tuple[str, int] = ("L1", 1)
) -> None:
    """One unit (line, index) fails a check; the courier takes the others. By default the
    second L1 unit: two L1 and the L2 unit leave. The buyer is trusted, so the replacement
    ships at pickup."""
    appt = pickup.book_pickup(world.svc, B1, return_id, sf(10))
    courier_id = at_the_door(world, appt)
    answers = []
    for checklist in courier.visit_checklists(world.svc, courier_id, appt.appointment_id):
        keys = [c.key for c in checklist.checks]
        count = 3 if checklist.order_line_id == "L1" else 1
        units = tuple(
            UnitAnswer(
                {k: (checklist.order_line_id, n) != refused or k != keys[0] for k in keys},
                None,
                (photo(world, courier_id),),
            )
            for n in range(count)
        )
        answers.append(courier.LineAnswer(checklist.order_line_id, units))
    weight = sum(
        world.store.item("products", sku).weight_g * n for sku, n in ((LIP_1, 3), (LIP_2, 1))
    )
    courier.inspect(
        world.svc,
        courier_id,
        appt.appointment_id,
        courier.InspectionInput(return_id, {}, (), weight, "", tuple(answers)),
    )
    appt = world.store.item("appointments", appt.appointment_id)
    courier.pick_up(world.svc, courier_id, appt.appointment_id, appt.pickup_code)
    after = returns.get_return(world.svc, return_id)
    assert after.status is ReturnStatus.PICKED_UP
    held = {"L1": 3, "L2": 1}
    held[refused[0]] -= 1
    assert {ln.order_line_id: ln.quantity for ln in after.lines} == {
        k: v for k, v in held.items() if v
    }


def _net_to_buyer(world: World, return_id: str) -> int:
    """What the payment provider moved to the buyer for this exchange's difference, less what
    it took (the goods' own refund, ``refund:<return_id>``, is not part of it)."""

    def total(book: dict[str, tuple[str, int]]) -> int:
        mine = (k for k in book if k.startswith("exchange-") and k.endswith(f":{return_id}"))
        return sum(book[k][1] for k in mine)

    return total(world.payments.paid) - total(world.payments.collected)


def test_a_partial_pickup_that_turns_the_net_pays_the_buyer_the_cheaper_side(
    world: World,
) -> None:
    rid = _filed(world)
    assert world.payments.collected[f"exchange-diff:{rid}"][1] == 1_000
    _one_refused_at_the_door(world, rid)
    shipped = exchanges.get_exchange(world.svc, rid)
    assert shipped.status is ExchangeStatus.SHIPPED
    assert shipped.units == {LIP_2: 2, LIP_1: 1} and shipped.difference_fen == -1_000
    # Asked again by every path that may notice the pickup: nothing moves twice.
    exchanges.ship_if_due(world.svc, rid)
    exchanges.advance_exchanges(world.svc)
    transfers.retry_pending(world.svc)
    moved = {
        (x.purpose, x.amount_fen, x.status, x.idempotency_key)
        for x in world.store.items("transfers")
        if x.subject_id == rid
    }
    assert moved == {
        (
            TransferPurpose.EXCHANGE_COLLECTION,
            1_000,
            TransferStatus.SUCCEEDED,
            f"exchange-diff:{rid}",
        ),
        (
            TransferPurpose.EXCHANGE_PART_BACK,
            1_000,
            TransferStatus.SUCCEEDED,
            f"exchange-diff-part:{rid}",
        ),
        (
            TransferPurpose.EXCHANGE_REFUND,
            1_000,
            TransferStatus.SUCCEEDED,
            f"exchange-diff-refund:{rid}",
        ),
    }
    # Paid 1,000 at filing, got it back and the 1,000 the kept lines owe them: net +1,000,
    # the (paid - kept) difference of the units that left the door.
    assert _net_to_buyer(world, rid) == -shipped.difference_fen == 1_000
    keys = [c.idempotency_key for c in world.payments.calls]
    assert keys.count(f"exchange-diff-refund:{rid}") == 1


def test_the_exchange_records_where_its_refund_went(world: World) -> None:
    rid = _filed(world)
    collection = exchanges.get_exchange(world.svc, rid).difference_transfer_id
    _one_refused_at_the_door(world, rid)
    shipped = exchanges.get_exchange(world.svc, rid)
    refund = world.store.item("transfers", shipped.difference_transfer_id)
    assert shipped.difference_transfer_id != collection
    assert refund.purpose is TransferPurpose.EXCHANGE_REFUND and refund.amount_fen == 1_000


def test_a_transfer_of_another_purpose_under_the_key_is_refused_not_taken(world: World) -> None:
    # A refund written before the keys were split sits under the collection's key; asking for
    # the collection must not settle it as that refund's repeat.
    legacy = Transfer(
        "T-OLD",
        TransferPurpose.EXCHANGE_REFUND,
        "R-OLD",
        B1,
        2_000,
        "exchange-diff:R-OLD",
        datetime(2026, 10, 1, tzinfo=UTC),
    )
    world.store.put("transfers", legacy.transfer_id, legacy)
    with world.svc.uow() as uow, pytest.raises(ValueError, match="exchange_refund"):
        transfers.request_transfer(
            world.svc, uow, TransferPurpose.EXCHANGE_COLLECTION, "R-OLD", B1, 2_000
        )


# --- the other way round: the cheaper line stays at the door, the net the buyer owes rises ---


def _moved(world: World, return_id: str) -> set[tuple[TransferPurpose, int, TransferStatus]]:
    return {
        (x.purpose, x.amount_fen, x.status)
        for x in world.store.items("transfers")
        if x.subject_id == return_id
    }


def test_a_net_raised_past_what_was_collected_collects_the_rest_before_shipping(
    world: World,
) -> None:
    rid = _filed(world)  # +6,000 - 5,000: 1,000 collected
    _one_refused_at_the_door(world, rid, ("L2", 0))  # three L1 units left: +6,000 owed
    shipped = exchanges.get_exchange(world.svc, rid)
    assert shipped.status is ExchangeStatus.SHIPPED
    assert shipped.units == {LIP_2: 3} and shipped.difference_fen == 6_000
    exchanges.ship_if_due(world.svc, rid)
    exchanges.advance_exchanges(world.svc)
    transfers.retry_pending(world.svc)
    assert _moved(world, rid) == {
        (TransferPurpose.EXCHANGE_COLLECTION, 1_000, TransferStatus.SUCCEEDED),
        (TransferPurpose.EXCHANGE_TOP_UP, 5_000, TransferStatus.SUCCEEDED),
    }
    assert world.payments.collected[f"exchange-diff-more:{rid}"][1] == 5_000
    assert _net_to_buyer(world, rid) == -6_000


def test_a_net_turned_owed_by_the_buyer_is_collected_before_shipping(world: World) -> None:
    rid = _filed(world, l2_paid_fen=40_000)  # +6,000 - 8,000: owed to the buyer, none taken
    assert world.payments.collected == {}
    _one_refused_at_the_door(world, rid, ("L2", 0))
    assert exchanges.get_exchange(world.svc, rid).status is ExchangeStatus.SHIPPED
    assert _moved(world, rid) == {
        (TransferPurpose.EXCHANGE_TOP_UP, 6_000, TransferStatus.SUCCEEDED),
    }
    assert _net_to_buyer(world, rid) == -6_000


def test_the_rest_unanswered_holds_the_replacement_and_goes_back_on_refund_instead(
    world: World,
) -> None:
    rid = _filed(world)
    world.payments.timeouts = 1  # the rest's first charge: no answer
    _one_refused_at_the_door(world, rid, ("L2", 0))
    held = exchanges.get_exchange(world.svc, rid)
    assert held.status is ExchangeStatus.RESERVED  # nothing ships before the rest is paid
    exchanges.advance_exchanges(world.svc)  # the sweep does not ship it either
    assert exchanges.get_exchange(world.svc, rid).status is ExchangeStatus.RESERVED
    exchanges.refund_instead(world.svc, B1, rid)
    transfers.retry_pending(world.svc)
    assert _moved(world, rid) == {
        (TransferPurpose.EXCHANGE_COLLECTION, 1_000, TransferStatus.SUCCEEDED),
        (TransferPurpose.EXCHANGE_TOP_UP, 5_000, TransferStatus.SUCCEEDED),
        (TransferPurpose.EXCHANGE_PAYBACK, 1_000, TransferStatus.SUCCEEDED),
        (TransferPurpose.EXCHANGE_TOP_UP_BACK, 5_000, TransferStatus.SUCCEEDED),
    }
    assert _net_to_buyer(world, rid) == 0
