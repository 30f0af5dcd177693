"""An express refund owed at pickup is always decided: the pickup's commit marks the return,
the refund's start (or its refusal) clears the mark in its own transaction, and the worker's
sweep (``refunds.start_owed_express_refunds``) decides what a dead process left marked. An
exchange turned into a refund while on its way is owed the same decision at that moment."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    at_the_door,
    booked,
    inspect,
    new_order,
    picked_up,
    sf,
    trusted,
    yto,
)

from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.refund import RefundKind, RefundStatus
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.entrypoints import jobs
from doorstep.services import courier, exchanges, pickup, refunds, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
WH = "wh-sh-bonded"


def _dies_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The courier's request dies after the pickup's commit, before the refund's start."""
    real = courier.start_express_refund
    crashes = iter([True])

    def dies_once(svc: Any, return_id: str) -> Any:
        if next(crashes, False):
            raise RuntimeError("the process died after the pickup's commit")
        return real(svc, return_id)

    monkeypatch.setattr(courier, "start_express_refund", dies_once)


def _pick_up(world: World, return_id: str, appointment_id: str, courier_id: str) -> None:
    appt = world.store.item("appointments", appointment_id)
    courier.pick_up(world.svc, courier_id, appointment_id, appt.pickup_code)


def test_a_pickup_that_died_before_its_express_refund_is_refunded_by_the_sweep(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    request, appt = booked(world, sf(10), **trusted(world))
    courier_id = at_the_door(world, appt)
    inspect(world, appt, request.return_id, courier_id)
    _dies_once(monkeypatch)
    with pytest.raises(RuntimeError):
        _pick_up(world, request.return_id, appt.appointment_id, courier_id)
    left = returns.get_return(world.svc, request.return_id)
    assert left.status is ReturnStatus.PICKED_UP and left.refund_id is None
    assert left.express_owed_since is not None
    assert world.payments.calls == []
    assert refunds.start_owed_express_refunds(world.svc) == 1
    assert refunds.start_owed_express_refunds(world.svc) == 0  # decided: not asked again
    [refund] = world.store.items("refunds")
    assert refund.kind is RefundKind.EXPRESS and refund.status is RefundStatus.SUCCEEDED
    assert [c.idempotency_key for c in world.payments.calls] == [f"refund:{request.return_id}"]
    assert returns.get_return(world.svc, request.return_id).express_owed_since is None


def test_the_worker_pass_runs_the_express_sweep(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    request, appt = booked(world, sf(11), **trusted(world))
    courier_id = at_the_door(world, appt)
    inspect(world, appt, request.return_id, courier_id)
    _dies_once(monkeypatch)
    with pytest.raises(RuntimeError):
        _pick_up(world, request.return_id, appt.appointment_id, courier_id)
    app: Any = type("App", (), {"services": world.svc})()
    assert jobs.SWEEPS["express_refunds"](app) == {"express_refunds_started": 1}
    assert world.payments.paid[f"refund:{request.return_id}"][1] == 39_900


def test_an_untrusted_buyers_pickup_records_the_refusal_and_leaves_nothing_to_sweep(
    world: World,
) -> None:
    request, _ = picked_up(world)  # buyer-003, trust 600
    assert request.status is ReturnStatus.PICKED_UP and request.express_owed_since is None
    names = world.store.event_names(request.return_id)
    assert names.count("return.express_refund_declined") == 1
    assert refunds.start_owed_express_refunds(world.svc) == 0
    assert world.payments.calls == []


def test_an_amount_above_the_cap_is_declined_once_and_paid_after_the_grade(
    world: World,
) -> None:
    request, _ = picked_up(world, unit_price_fen=400_000, **trusted(world))
    assert request.refund_id is None and request.express_owed_since is None
    assert world.payments.calls == []
    assert refunds.start_express_refund(world.svc, request.return_id) is None
    names = world.store.event_names(request.return_id)
    assert names.count("return.express_refund_declined") == 1
    warehouse.receive(world.svc, WH, request.return_id)
    graded = warehouse.grade(world.svc, WH, request.return_id, Grade.A, "as new")
    assert graded.status is ReturnStatus.REFUNDED
    assert world.payments.paid[f"refund:{request.return_id}"][1] == 400_000


def test_the_sweep_takes_at_most_its_batch_longest_waiting_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Marked returns as a crash leaves them: the refund start never ran.
    monkeypatch.setattr(courier, "start_express_refund", lambda svc, rid: None)
    rids = []
    for hour in (10, 11, 12):
        request, _ = picked_up(world, choice=sf(hour), **trusted(world))
        rids.append(request.return_id)
        world.clock.advance(minutes=5)
    monkeypatch.undo()
    assert refunds.start_owed_express_refunds(world.svc, limit=2) == 2
    paid = {k for k in world.payments.paid}
    assert paid == {f"refund:{rids[0]}", f"refund:{rids[1]}"}
    assert refunds.start_owed_express_refunds(world.svc, limit=2) == 1
    assert len(world.payments.paid) == 3


# --- an exchange turned into a refund while on its way ----------------------------------------


def _picked_up_exchange(world: World, buyer: dict[str, object]) -> str:
    """An exchange for the dearer lipstick whose collection is unanswered at pickup: the
    replacement waits (nothing shipped), the old one is on its way."""
    order = new_order(world, sku=LIP_1, unit_price_fen=32_000, **buyer)
    world.payments.timeouts = 100  # the provider does not answer collections
    request = returns.open_return(
        world.svc,
        OpenReturn(
            order.buyer_id,
            order.order_id,
            ReturnKind.EXCHANGE,
            (LineRequest("L1", 1, Reason.NO_REASON),),
            replacements={"L1": LIP_2},
        ),
    )
    choice = sf(10) if order.buyer_id == B1 else yto(13)  # each buyer's own area
    appt = pickup.book_pickup(world.svc, order.buyer_id, request.return_id, choice)
    courier_id = at_the_door(world, appt)
    (lines,) = courier.visit_checklists(world.svc, courier_id, appt.appointment_id)
    passed = {c.key: True for c in lines.checks}
    inspect(world, appt, request.return_id, courier_id, passed)
    _pick_up(world, request.return_id, appt.appointment_id, courier_id)
    world.payments.timeouts = 0
    assert returns.get_return(world.svc, request.return_id).status is ReturnStatus.PICKED_UP
    assert exchanges.get_exchange(world.svc, request.return_id).status is ExchangeStatus.RESERVED
    return request.return_id


def test_a_trusted_buyers_refund_instead_on_the_way_is_an_express_refund_at_once(
    world: World,
) -> None:
    rid = _picked_up_exchange(world, {"buyer_id": B1, "address": B1_HOME})
    after = exchanges.refund_instead(world.svc, B1, rid)
    assert after.kind is ReturnKind.REFUND and after.status is ReturnStatus.PICKED_UP
    [refund] = [r for r in world.store.items("refunds") if r.return_id == rid]
    assert refund.kind is RefundKind.EXPRESS and refund.status is RefundStatus.SUCCEEDED
    assert world.payments.paid[f"refund:{rid}"][1] == 32_000
    # The collected difference goes back under its own key, once.
    assert world.payments.paid[f"exchange-diff-back:{rid}"][1] == 2_000
    assert after.express_owed_since is None
    # The grade then only marks it refunded.
    warehouse.receive(world.svc, WH, rid)
    graded = warehouse.grade(world.svc, WH, rid, Grade.A, "as new")
    assert graded.status is ReturnStatus.REFUNDED
    assert [k for k in world.payments.paid if k.startswith("refund:")] == [f"refund:{rid}"]


def test_an_untrusted_buyers_refund_instead_on_the_way_waits_for_the_grade(
    world: World,
) -> None:
    rid = _picked_up_exchange(world, {})
    after = exchanges.refund_instead(world.svc, "buyer-003", rid)
    assert after.kind is ReturnKind.REFUND and after.refund_id is None
    assert after.express_owed_since is None
    assert f"refund:{rid}" not in world.payments.paid
    warehouse.receive(world.svc, WH, rid)
    graded = warehouse.grade(world.svc, WH, rid, Grade.A, "as new")
    assert graded.status is ReturnStatus.REFUNDED
    assert world.payments.paid[f"refund:{rid}"][1] == 32_000


def test_a_refund_instead_that_died_before_its_express_refund_is_paid_by_the_sweep(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _picked_up_exchange(world, {"buyer_id": B1, "address": B1_HOME})
    real = refunds.start_express_refund
    crashes = iter([True])

    def dies_once(svc: Any, return_id: str) -> Any:
        if next(crashes, False):
            raise RuntimeError("the process died after the conversion's commit")
        return real(svc, return_id)

    monkeypatch.setattr(refunds, "start_express_refund", dies_once)
    with pytest.raises(RuntimeError):
        exchanges.refund_instead(world.svc, B1, rid)
    assert f"refund:{rid}" not in world.payments.paid
    assert refunds.start_owed_express_refunds(world.svc) == 1
    assert world.payments.paid[f"refund:{rid}"][1] == 32_000
