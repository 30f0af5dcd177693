"""Paying and collecting money for exchanges and customs returns, exactly once per purpose.

A move is created (with its unique idempotency key) in the transaction that decides it; the
provider is called outside any transaction with that key; the answer is settled in a second
transaction under the move's row lock. A timeout leaves the move pending and the sweep asks
again under the same key; an answer reported twice settles once; a crash between the call and
the commit leaves a pending move whose retry the provider answers with the first payment.
"""

from __future__ import annotations

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.money_move import Direction, MoneyMove, MoveStatus
from doorstep.services.context import Services
from doorstep.services.ports import PaymentResult, UnitOfWork


def request_move(
    svc: Services,
    uow: UnitOfWork,
    key: str,
    direction: Direction,
    buyer_id: str,
    amount_fen: int,
    purpose: str,
    reference: str,
) -> MoneyMove:
    """The move of ``key``, created once inside the caller's transaction."""
    existing = uow.money_moves.by_key(key)
    if existing is not None:
        return existing
    move = MoneyMove.request(
        svc.ids.new("M"),
        key,
        direction,
        buyer_id,
        amount_fen,
        purpose,
        reference,
        svc.clock.now(),
    )
    uow.money_moves.add(move)
    return move


def _call(svc: Services, move: MoneyMove) -> PaymentResult:
    if move.direction is Direction.COLLECT:
        return svc.payments.collect(
            move.idempotency_key, move.buyer_id, move.amount_fen, move.reference
        )
    return svc.payments.refund(move.idempotency_key, move.buyer_id, move.amount_fen, move.reference)


def pay_move(svc: Services, move_id: str) -> MoneyMove:
    """Ask the provider (same key every time) and settle its answer once; safe to repeat."""
    with svc.uow() as uow:
        move = uow.money_moves.get(move_id)
        if move is None:
            raise NotFound("money_move", move_id)
        if move.status is not MoveStatus.PENDING:
            return move
    try:
        result = _call(svc, move)
    except Exception as exc:  # a provider that raises is a timeout: nothing known, ask again
        result = PaymentResult("", succeeded=False, retryable=True, reason=type(exc).__name__)
    with svc.uow() as uow:
        locked = uow.money_moves.get_for_update(move_id)
        assert locked is not None
        now = svc.clock.now()
        if result.succeeded:
            locked.succeed(result.provider_ref, now)
        else:
            locked.attempt_failed(result.reason, now, final=not result.retryable)
        uow.money_moves.save(locked)
        uow.commit()
        return locked


def retry_pending_moves(svc: Services, limit: int = 100) -> int:
    """The worker's sweep: pending moves are asked for again under their keys."""
    with svc.uow() as uow:
        pending = [m.move_id for m in uow.money_moves.pending(limit)]
    settled = 0
    for move_id in pending:
        try:
            if pay_move(svc, move_id).status is not MoveStatus.PENDING:
                settled += 1
        except Conflict:
            continue  # a concurrent settlement: the next sweep sees its result
    return settled
