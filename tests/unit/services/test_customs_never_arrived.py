"""A return still on its way when ops force its declaration's settlement that never arrives
(lost in transit, never received): customs gives none of its tax back once day 45 passes, so
tax an express refund advanced for it is taken back by the customs sweep, once; a receipt
after that takes nothing more."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.test_customs_tax import (  # type: ignore[import-not-found]
    PILLOW_TAX,
    _clawed,
    _express_at_pickup,
    _quoted,
    _trusted_order,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.domain.customs_return import CustomsReturn, CustomsStatus
from doorstep.domain.refund_amount import TaxStatus
from doorstep.domain.returns import Grade, ReturnRequest
from doorstep.services import customs, warehouse

WH = "wh-sh-bonded"


@pytest.fixture
def broker(world: World) -> LocalCustomsBroker:
    made = LocalCustomsBroker()
    world.svc = replace(world.svc, customs_broker=made)
    return made


def _forced_while_on_its_way(world: World) -> tuple[CustomsReturn, ReturnRequest]:
    """An express refund advanced the tax at pickup (day 5 of release); declared, accepted,
    and settled by ops while the parcel is on its way."""
    request = _express_at_pickup(world, _trusted_order(world, released_days_ago=5))
    customs.sweep_customs(world.svc)
    (cr,) = world.store.items("customs_returns")
    settled = customs.settle(world.svc, cr.customs_return_id, force=True)
    assert settled.status is CustomsStatus.SETTLED and settled.tax_refund_fen == 0
    assert settled.awaited == (request.return_id,)
    return settled, request


def test_tax_advanced_for_goods_that_never_arrive_is_taken_back_after_day_45(
    world: World, broker: LocalCustomsBroker
) -> None:
    cr, request = _forced_while_on_its_way(world)
    customs.sweep_customs(world.svc)  # day 5: still in time
    assert world.payments.clawed == {}
    world.clock.advance(days=41)  # day 46 of release

    swept = customs.sweep_customs(world.svc)

    assert swept.taken_back == 1
    assert _clawed(world, request) == PILLOW_TAX
    assert _quoted(world, request) == (TaxStatus.ARRIVED_LATE, 0, 39_900)
    after = world.store.item("customs_returns", cr.customs_return_id)
    assert after.awaited == ()
    assert customs.sweep_customs(world.svc).taken_back == 0
    # The parcel turns up after all: nothing more is taken back.
    warehouse.receive(world.svc, WH, request.return_id)
    warehouse.grade(world.svc, WH, request.return_id, Grade.A, "ok")
    customs.sweep_customs(world.svc)
    assert list(world.payments.clawed) == [f"tax-clawback:{request.return_id}"]
    assert _clawed(world, request) == PILLOW_TAX


def test_goods_back_in_time_keep_their_advanced_tax_after_day_45(
    world: World, broker: LocalCustomsBroker
) -> None:
    cr, request = _forced_while_on_its_way(world)
    world.clock.advance(days=10)
    warehouse.receive(world.svc, WH, request.return_id)
    assert world.store.item("customs_returns", cr.customs_return_id).awaited == ()
    world.clock.advance(days=31)  # day 46

    assert customs.sweep_customs(world.svc).taken_back == 0
    assert world.payments.clawed == {}


def test_the_sweep_reads_a_bounded_batch_of_declarations_past_day_45(
    world: World, broker: LocalCustomsBroker
) -> None:
    _forced_while_on_its_way(world)
    world.clock.advance(days=41)
    with world.svc.uow() as uow:
        assert len(uow.customs.awaited_past(world.clock.now(), 5)) == 1
        early = world.clock.now().replace(year=2000)
        assert uow.customs.awaited_past(early, 5) == []
