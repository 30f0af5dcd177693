"""The fake unit of work keeps the SQL one's promises; the service tests lean on them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import (  # type: ignore[import-not-found]
    ClosedUnitOfWork,
    DuplicateKey,
    FakePayments,
    FakeStore,
    FakeUnitOfWork,
    World,
)
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    approved,
    slot_of,
    yto,
)

from doorstep.domain.errors import Conflict
from doorstep.domain.events import Event
from doorstep.domain.refund import Refund, RefundKind


def test_uncommitted_changes_are_invisible_and_dropped_on_exit(world: World) -> None:
    request = approved(world)
    with world.uow() as uow:
        mine = uow.returns.get(request.return_id)
        mine.cancel(world.clock.now(), "changed my mind")
        uow.returns.save(mine)
        assert uow.returns.get(request.return_id).status.value == "cancelled"
        with world.uow() as other:
            assert other.returns.get(request.return_id).status.value == "approved"
    assert world.store.item("returns", request.return_id).status.value == "approved"
    assert "return.cancelled" not in world.store.event_names()


def test_loads_are_copies(world: World) -> None:
    request = approved(world)
    with world.uow() as uow:
        uow.returns.get(request.return_id).lines.clear()
        assert uow.returns.get(request.return_id).lines
        uow.commit()
    assert world.store.item("returns", request.return_id).lines


def test_commit_publishes_and_writes_tracked_events(world: World) -> None:
    request = approved(world)
    before = len(world.store.events)
    with world.uow() as uow:
        mine = uow.returns.get(request.return_id)
        mine.cancel(world.clock.now(), "x")
        uow.returns.save(mine)
        uow.commit()
    assert world.store.version("returns", request.return_id) == 2
    assert [e.name for e in world.store.events[before:]] == ["return.cancelled"]


def test_rollback_discards_but_keeps_the_unit_usable(world: World) -> None:
    request = approved(world)
    with world.uow() as uow:
        mine = uow.returns.get(request.return_id)
        mine.cancel(world.clock.now(), "x")
        uow.returns.save(mine)
        uow.rollback()
        assert uow.returns.get(request.return_id).status.value == "approved"


def test_stale_save_is_refused_at_save_and_at_commit(world: World) -> None:
    request = approved(world)
    first, second = world.uow().__enter__(), world.uow().__enter__()
    a = first.returns.get(request.return_id)
    b = second.returns.get(request.return_id)
    first.returns.save(a)
    second.returns.save(b)  # both based on version 1: fine until someone commits
    first.commit()
    with pytest.raises(Conflict) as err:
        second.commit()
    assert err.value.code == "stale_write"
    with world.uow() as third:
        stale = third.returns.get(request.return_id)
        stale.version = 1
        with pytest.raises(Conflict, match="stale_write"):
            third.returns.save(stale)


def test_saving_twice_in_one_unit_needs_the_new_version(world: World) -> None:
    request = approved(world)
    with world.uow() as uow:
        one = uow.returns.get(request.return_id)
        two = uow.returns.get(request.return_id)
        uow.returns.save(one)
        with pytest.raises(Conflict, match="stale_write"):
            uow.returns.save(two)


def test_add_twice_is_a_duplicate(world: World) -> None:
    request = approved(world)
    with world.uow() as uow:
        copy = uow.returns.get(request.return_id)
        with pytest.raises(DuplicateKey):
            uow.returns.add(copy)


def test_refund_idempotency_key_is_unique(world: World) -> None:
    now = world.clock.now()
    with world.uow() as uow:
        uow.refunds.add(Refund.request("F1", "R1", "b", RefundKind.STANDARD, 1, 0, now))
        with pytest.raises(DuplicateKey):
            uow.refunds.add(Refund.request("F2", "R1", "b", RefundKind.STANDARD, 1, 0, now))


def test_slot_take_is_a_conditional_increment(world: World) -> None:
    slot = slot_of(yto(13))
    with world.uow() as uow:
        assert uow.slots.loads([slot], 2)[slot].remaining == 2
        assert uow.slots.take(slot, 2) and uow.slots.take(slot, 2)
        assert not uow.slots.take(slot, 2)
        uow.slots.release(slot)
        assert uow.slots.take(slot, 5)  # the row exists: its capacity wins over the default
        uow.commit()
    assert world.store.slot(slot).booked == 2
    with world.uow() as uow:
        uow.slots.set_capacity(slot, 1)
        assert not uow.slots.take(slot, 10)
        uow.slots.release(slot)
        uow.slots.release(slot)
        uow.slots.release(slot)  # never below zero
        assert uow.slots.loads([slot], 10)[slot].booked == 0


def test_two_units_cannot_both_take_the_last_unit(world: World) -> None:
    slot = slot_of(yto(13))
    world.store.set_slot(slot, 1)
    first, second = world.uow().__enter__(), world.uow().__enter__()
    assert first.slots.take(slot, 10) and second.slots.take(slot, 10)
    first.commit()
    with pytest.raises(Conflict, match="stale_write"):
        second.commit()
    assert world.store.slot(slot).booked == 1


def test_event_log_reads_own_writes_in_time_order(world: World) -> None:
    later = world.clock.now()
    earlier = replace(Event("x.b", "x", "X1", later), occurred_at=later.replace(hour=0))
    with world.uow() as uow:
        uow.events.append([Event("x.a", "x", "X1", later, {"t": (1, 2)}), earlier])
        found = uow.events.for_aggregates(["X1"])
        assert [e.name for e in found] == ["x.b", "x.a"]
        assert found[1].data == {"t": [1, 2]}  # JSON shape, as the SQL store returns it
    assert world.store.events_named("x.a") == []


def test_repositories_refuse_use_after_close(world: World) -> None:
    with world.uow() as uow:
        pass
    with pytest.raises(ClosedUnitOfWork):
        uow.returns.get("R-1")


def test_fake_unit_of_work_covers_every_port_repository() -> None:
    from doorstep.services.ports import UnitOfWork

    with FakeUnitOfWork(FakeStore()) as uow:
        missing = [name for name in UnitOfWork.__annotations__ if not hasattr(uow, name)]
    assert missing == []


def test_payments_honour_the_idempotency_key() -> None:
    pay = FakePayments(lose_answers=1)
    lost = pay.refund("refund:R1", "b", 100, "R1")
    again = pay.refund("refund:R1", "b", 100, "R1")
    assert not lost.succeeded and lost.retryable and again.succeeded
    assert pay.total_paid_fen == 100 and len(pay.calls_for("refund:R1")) == 2
