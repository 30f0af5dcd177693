"""Settling a money movement (a refund or a transfer) that was created pending under its key.

Both go through the same steps: read the record without a lock and give way at once when it
is no longer pending; plan the provider call inside that read (a transfer may wait for
another one); call the provider outside any transaction; then lock the record, and settle
the answer only if nobody settled it in the meantime. Two answers for one key settle once.

Refunds and transfers keep their own tables and their own status enums: each record says
whether it is still pending (``Settleable``), and the caller names its repository, its call
and what else a success settles, so the locking and the order of writes are written once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from doorstep.domain.errors import NotFound
from doorstep.services.context import Services
from doorstep.services.ports import PaymentResult, UnitOfWork


class Settleable(Protocol):
    """A money movement as settling sees it (domain Refund and Transfer)."""

    @property
    def pending(self) -> bool:
        """Whether the provider's answer is still awaited (its kind's own PENDING status)."""
        ...

    def succeed(self, provider_ref: str, at: datetime) -> None:
        """The provider moved the money."""
        ...

    def attempt_failed(self, reason: str, at: datetime, *, final: bool) -> None:
        """The provider refused or could not answer: retried later unless ``final``."""
        ...


S = TypeVar("S", bound=Settleable)


class Records(Protocol[S]):
    """The three repository methods settling needs (RefundRepository, TransferRepository)."""

    def get(self, record_id: str, /) -> S | None: ...
    def get_for_update(self, record_id: str, /) -> S | None: ...
    def save(self, record: S, /) -> None: ...


# What runs outside the transaction to learn the provider's answer.
Call = Callable[[], PaymentResult]
# Inside the read: what to ask the provider, or None to leave the record pending for a sweep.
Plan = Callable[[UnitOfWork, S], Call | None]
# After a success, with the record locked: what else the money settles (the return, a claim).
Also = Callable[[UnitOfWork, S, str, datetime], None]


def settle(
    svc: Services,
    record_id: str,
    *,
    noun: str,
    records: Callable[[UnitOfWork], Records[S]],
    plan: Plan[S],
    also: Also[S],
) -> S:
    """Ask the provider for ``record_id`` and settle the answer; safe to repeat, also from
    several callers at once (a later lock holder finds it settled and returns it). ``noun``
    names the record in NotFound."""
    with svc.uow() as uow:
        record = records(uow).get(record_id)
        if record is None:
            raise NotFound(noun, record_id)
        if not record.pending:
            return record
        call = plan(uow, record)
    if call is None:
        return record
    result = call()
    with svc.uow() as uow:
        repository = records(uow)
        locked = repository.get_for_update(record_id)
        assert locked is not None  # money movements are never deleted
        if not locked.pending:
            return locked  # another caller settled the same answer first
        now = svc.clock.now()
        if result.succeeded:
            locked.succeed(result.provider_ref, now)
            also(uow, locked, result.provider_ref, now)
        else:
            locked.attempt_failed(result.reason, now, final=not result.retryable)
        repository.save(locked)
        uow.commit()
        return locked
