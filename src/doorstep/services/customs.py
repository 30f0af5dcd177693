"""Customs returns (跨境退货申报, issue 9 §7): one declaration per declaration list, declared
through the customs-broker port by day 30 of release, settled once the goods are back by day
45: the withheld tax of the returned lines goes back to the buyer (one money move, key
``customs-tax:<id>``) and the buyer's annual cross-border total is restored by their value.

Exactly once: the declaration's row lock and status make one caller settle it; the quota is
given back in one statement under that lock; the tax refund has a unique key. A broker that
times out leaves the declaration ``submitted`` and the sweep asks again under the same key.
Parcels are routed to the bonded-zone return warehouse fixed when the declaration opens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from doorstep.domain.clock import local
from doorstep.domain.customs_clock import clock_days, customs_clock
from doorstep.domain.customs_return import (
    CustomsLine,
    CustomsReturn,
    CustomsStatus,
    declaration_key,
)
from doorstep.domain.errors import Conflict, IllegalTransition, NotFound, Unavailable
from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.order import Order
from doorstep.domain.places import warehouse_for
from doorstep.domain.policy import default_policy
from doorstep.domain.refund import Refund, RefundStatus
from doorstep.domain.refund_amount import TaxOutcome, TaxStatus
from doorstep.domain.returns import ReturnKind, ReturnRequest, ReturnStatus
from doorstep.domain.transfer import TransferPurpose, TransferStatus, transfer_key
from doorstep.services import transfers
from doorstep.services.context import Services
from doorstep.services.ports import UnitOfWork
from doorstep.services.ports_after_sales import BrokerAnswer, CustomsBroker, Quota

GONE = {ReturnStatus.CANCELLED, ReturnStatus.REJECTED}
ARRIVED = {
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
    ReturnStatus.REFUNDED,
    ReturnStatus.EXCHANGED,
    ReturnStatus.CLOSED,
    ReturnStatus.DISPUTED,
}


def _broker(svc: Services) -> CustomsBroker:
    if svc.customs_broker is None:
        raise Unavailable(
            "customs_broker_missing",
            "No customs broker is configured.",
            "未配置报关行。",
        )
    return svc.customs_broker


def _clock_of(uow: UnitOfWork, order: Order, now: datetime) -> Any:
    assert order.customs_released_at is not None
    policy = uow.policies.current() or default_policy(now)
    return customs_clock(
        order.customs_released_at, clock_days(policy.rule("cross_border_deadline"))
    )


def declarable(order: Order, request: ReturnRequest) -> bool:
    """Goods of a released cross-border list go back: they need a customs return."""
    return (
        order.channel.cross_border
        and order.customs_released_at is not None
        and request.kind is not ReturnKind.REFUND_ONLY
        and request.status not in GONE
        and request.status not in (ReturnStatus.SUBMITTED, ReturnStatus.IN_REVIEW)
    )


def attach_return(svc: Services, return_id: str) -> CustomsReturn | None:
    """Put an approved cross-border return's lines on its list's open declaration (made on
    first use). The order row is locked first, so two returns of one list find one
    declaration. None for returns that need none."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = uow.returns.get(return_id)
        if request is None:
            raise NotFound("return_request", return_id)
        order = uow.orders.get_for_update(request.order_id)
        if order is None or not declarable(order, request):
            return None
        if uow.customs.for_returns([return_id]):
            return uow.customs.for_returns([return_id])[0]
        declaration_no = order.declaration_no or order.order_id
        customs_return = uow.customs.open_for_list(declaration_no)
        fresh = customs_return is None
        if customs_return is None:
            warehouse = warehouse_for(order.channel, uow.places.warehouses())
            customs_return = CustomsReturn.open(
                svc.ids.new("CR"),
                declaration_no,
                order.order_id,
                order.buyer_id,
                order.channel.value,
                _clock_of(uow, order, now),
                warehouse.warehouse_id,
                now,
            )
        customs_return.add_lines(returned_lines(order, request), now)
        if fresh:
            uow.customs.add(customs_return)
        else:
            uow.customs.save(customs_return)
        uow.commit()
        return customs_return


def returned_lines(order: Order, request: ReturnRequest) -> list[CustomsLine]:
    """A return's lines as customs sees them: the units it holds now (after a partial pickup,
    only those the courier took), their value (quota) and their share of the withheld tax."""
    lines = []
    for line in request.lines:
        bought = order.line(line.order_line_id)
        assert bought is not None, "a return's lines are lines of its order"
        lines.append(
            CustomsLine(
                request.return_id,
                line.order_line_id,
                line.sku,
                line.quantity,
                bought.price_for(line.quantity),
                bought.tax_for(line.quantity),
            )
        )
    return lines


def declaration(svc: Services, customs_return_id: str) -> dict[str, Any]:
    """The declaration data the seller's agent files (announcement 2020 No. 45): the list,
    the returned lines with value and tax, the deadlines and where the goods go back."""
    with svc.uow() as uow:
        customs_return = uow.customs.get(customs_return_id)
        if customs_return is None:
            raise NotFound("customs_return", customs_return_id)
        order = uow.orders.get(customs_return.order_id)
        warehouses = {w.warehouse_id: w for w in uow.places.warehouses()}
    return declaration_data(customs_return, order, warehouses.get(customs_return.warehouse_id))


def declaration_data(
    customs_return: CustomsReturn, order: Order | None, warehouse: Any
) -> dict[str, Any]:
    """The payload for the broker, built from stored facts only (so a resend is identical)."""
    return {
        "customs_return_id": customs_return.customs_return_id,
        "declaration_no": customs_return.declaration_no,
        "trade_mode": "1210" if customs_return.channel == "bonded" else "9610",
        "order_id": customs_return.order_id,
        "shop_id": order.shop_id if order else "",
        "released_at": customs_return.released_at.isoformat(),
        "application_by": customs_return.application_by.isoformat(),
        "arrival_by": customs_return.arrival_by.isoformat(),
        "return_warehouse": {
            "warehouse_id": customs_return.warehouse_id,
            "name": warehouse.name_zh if warehouse else "",
            "address": warehouse.address.detail if warehouse else "",
        },
        "lines": [
            {
                "return_id": ln.return_id,
                "order_line_id": ln.order_line_id,
                "sku": ln.sku,
                "quantity": ln.quantity,
                "value_fen": ln.value_fen,
                "tax_fen": ln.tax_fen,
            }
            for ln in customs_return.lines
        ],
        "value_fen": customs_return.value_fen,
        "tax_fen": customs_return.tax_fen,
    }


def declare(svc: Services, customs_return_id: str) -> CustomsReturn:
    """Submit an open declaration (dropping withdrawn returns first) and record the broker's
    answer; a timeout leaves it submitted for the sweep to ask again. One still open after
    day 30 of release lapses instead: customs gives nothing back, so tax a refund advanced
    for its returns is taken back."""
    now = svc.clock.now()
    clawbacks: list[str] = []
    while True:
        with svc.uow() as uow:
            unlocked = uow.customs.get(customs_return_id)
            if unlocked is None:
                raise NotFound("customs_return", customs_return_id)
            if unlocked.status is not CustomsStatus.OPEN:
                break
            # A refund quoted meanwhile either sees the lapse or has its advanced tax taken
            # back by it (see ``_lock``).
            locked = _lock(uow, unlocked)
            if locked is None:
                continue
            order, customs_return, requests = locked
            if customs_return.status is CustomsStatus.OPEN:
                for request in requests.values():
                    if request.status in GONE:
                        customs_return.withdraw_return(request.return_id, now)
                    elif order is not None:
                        # Declared as picked up: units refused at the door stay with the buyer.
                        customs_return.follow_return(
                            request.return_id, returned_lines(order, request), now
                        )
                if customs_return.lapse(now):
                    clawbacks = _claw_back_tax(
                        svc, uow, requests, customs_return.return_ids, TaxStatus.NOT_DECLARED
                    )
                else:
                    customs_return.submit(now)
                uow.customs.save(customs_return)
                uow.commit()
            break
    pay_all(svc, clawbacks)
    return poll(svc, customs_return_id)


_Locked = tuple[Order | None, CustomsReturn, dict[str, ReturnRequest]]


def _lock(uow: UnitOfWork, unlocked: CustomsReturn) -> _Locked | None:
    """The declaration's returns (in key order), then its order, then the declaration: the
    order refunds (the return, then the order) and a dispute's decision (the return) take, so
    a tax clawback queues with a refund being quoted (which either sees the new state or has
    its tax taken back, never neither) and with a decision's clawback of the same return (each
    counts the other's), and the return is re-quoted in the clawback's own transaction. None
    when a return joined the declaration after it was read unlocked: the caller starts over
    (locking it now would come after the order's lock)."""
    requests = {r.return_id: r for r in uow.returns.get_many_for_update(unlocked.return_ids)}
    order = uow.orders.get_for_update(unlocked.order_id)
    customs_return = uow.customs.get_for_update(unlocked.customs_return_id)
    assert customs_return is not None, "a declaration is never deleted"
    # Compared with the ids asked for, not those found: a return missing from its table
    # would otherwise make the caller start over for ever.
    if not set(customs_return.return_ids) <= set(unlocked.return_ids):
        return None
    return order, customs_return, requests


def _claw_back_tax(
    svc: Services,
    uow: UnitOfWork,
    locked: dict[str, ReturnRequest],
    return_ids: list[str],
    why: TaxStatus,
) -> list[str]:
    """Import tax the returns' refunds advanced (the express refund at pickup) that customs
    will not give back: taken back once per return under ``tax-clawback:<return_id>``, in
    the caller's transaction, which holds the returns' locks (``locked``) and the order's (no
    refund of the order is being quoted, no dispute of them decided meanwhile). Never more
    than the refund less what a lost dispute took back. The return is re-quoted without the
    tax in the same transaction, so a crash leaves both or neither. Returns the transfers to
    pay once committed."""
    made = []
    for refund in uow.refunds.for_returns(return_ids):
        if refund.status is RefundStatus.FAILED or refund.tax_fen <= 0:
            continue
        disputed = uow.transfers.by_key(transfer_key(TransferPurpose.CLAWBACK, refund.return_id))
        taken = (
            disputed.amount_fen
            if disputed is not None and disputed.status is not TransferStatus.FAILED
            else 0
        )
        amount = min(refund.tax_fen, refund.amount_fen - taken)
        if amount > 0:
            transfer = transfers.request_transfer(
                svc, uow, TransferPurpose.TAX_CLAWBACK, refund.return_id, refund.buyer_id, amount
            )
            made.append(transfer.transfer_id)
            request = locked.get(refund.return_id)
            if request is not None:
                _requote_without_tax(svc, uow, request, why)
    return made


def pay_all(svc: Services, transfer_ids: list[str]) -> None:
    """Outside any transaction: each clawback asked of the provider (a timeout leaves it
    pending for the transfers sweep)."""
    for transfer_id in transfer_ids:
        transfers.pay_transfer(svc, transfer_id)


def _requote_without_tax(
    svc: Services, uow: UnitOfWork, request: ReturnRequest, why: TaxStatus
) -> None:
    # The return's quote shows what the buyer keeps once the tax is taken back.
    quote = request.quote
    if quote is None or not quote.tax_fen:
        return
    request.set_quote(quote.without_tax(TaxOutcome(why, quote.tax.arrive_by)), svc.clock.now())
    uow.returns.save(request)


def _ask(svc: Services, customs_return: CustomsReturn) -> BrokerAnswer | None:
    broker = _broker(svc)
    key = declaration_key(customs_return.customs_return_id)
    try:
        try:
            return broker.status(key)
        except Unavailable as exc:
            if exc.code != "customs_declaration_unknown":
                raise
        # Never received (a crash or timeout before it arrived): send it, same key.
        with svc.uow() as uow:
            order = uow.orders.get(customs_return.order_id)
            houses = {w.warehouse_id: w for w in uow.places.warehouses()}
        payload = declaration_data(customs_return, order, houses.get(customs_return.warehouse_id))
        return broker.declare(key, payload)
    except Unavailable:
        return None


def poll(svc: Services, customs_return_id: str) -> CustomsReturn:
    """Ask the broker where a submitted declaration stands and take a final answer once; an
    accepted one is settled right away when its goods are back."""
    with svc.uow() as uow:
        customs_return = uow.customs.get(customs_return_id)
    if customs_return is None:
        raise NotFound("customs_return", customs_return_id)
    if customs_return.status is CustomsStatus.SUBMITTED:
        answer = _ask(svc, customs_return)
        if answer is not None:
            customs_return, clawbacks = _take_answer(svc, customs_return, answer)
            pay_all(svc, clawbacks)
    if customs_return.status is CustomsStatus.ACCEPTED:
        return settle(svc, customs_return_id)
    return customs_return


def _take_answer(
    svc: Services, unlocked: CustomsReturn, answer: BrokerAnswer
) -> tuple[CustomsReturn, list[str]]:
    """Record customs' final answer once (the locks of ``_lock``); a rejection takes the
    advanced tax back. Returns the declaration and the clawbacks to pay."""
    while True:
        with svc.uow() as uow:
            locked = _lock(uow, unlocked)
            if locked is None:
                continue
            _, customs_return, requests = locked
            clawbacks: list[str] = []
            if customs_return.answer(answer.verdict, answer.ref, svc.clock.now(), answer.reason):
                if customs_return.status is CustomsStatus.REJECTED:
                    clawbacks = _claw_back_tax(
                        svc, uow, requests, customs_return.return_ids, TaxStatus.CUSTOMS_REJECTED
                    )
                uow.customs.save(customs_return)
                uow.commit()
            return customs_return, clawbacks


@dataclass(frozen=True)
class Settlement:
    tax_fen: int
    quota_fen: int
    tax_paid_for: tuple[str, ...] = ()
    quota_restored_for: tuple[str, ...] = ()


def _already_refunded_tax(uow: UnitOfWork, return_ids: list[str]) -> dict[str, int]:
    """Tax the returns' own refunds carry (paid or on their way): not paid a second time."""
    out: dict[str, int] = {}
    for refund in uow.refunds.for_returns(return_ids):
        if refund.status is not RefundStatus.FAILED:
            out[refund.return_id] = out.get(refund.return_id, 0) + refund.tax_fen
    return out


def _settlement(
    customs_return: CustomsReturn,
    returns: list[ReturnRequest],
    already: dict[str, int],
    order: Order | None,
    released: frozenset[str] = frozenset(),
) -> Settlement | None:
    """What goes back; None while a return may still arrive in time. A line counts only the
    units its return still holds (declared before a partial pickup: the units the courier
    took), never more than was declared; exchanged units give back neither tax nor quota
    (their replacement is imported in their place), unless their exchange was ``released``
    (a lost dispute before shipping: nothing is imported in their place)."""
    by_id = {r.return_id: r for r in returns}
    in_time = set()
    for return_id in customs_return.return_ids:
        request = by_id.get(return_id)
        if request is None or request.status in GONE:
            continue
        if request.received_at is not None:
            if request.received_at <= customs_return.arrival_by:
                in_time.add(return_id)
        elif request.status not in ARRIVED:
            return None  # still on its way; settled when it arrives or day 45 passes
    # A bonded exchange's replacement leaves the zone in the returned unit's place: it is
    # imported under the tax withheld for that unit and within the year's total it used, so
    # neither goes back for exchanged units (the goods are still declared back into the zone).
    # An exchange turned into a refund before this is a refund like any other, and one
    # released by a lost dispute sent its units back with nothing in their place.
    settling = {
        rid for rid in in_time if by_id[rid].kind is not ReturnKind.EXCHANGE or rid in released
    }
    lines = [
        kept
        for ln in customs_return.lines
        if ln.return_id in settling
        and (kept := _as_returned(ln, by_id[ln.return_id], order)) is not None
    ]
    tax, paid_for = 0, []
    for return_id in sorted(settling):
        owed = sum(ln.tax_fen for ln in lines if ln.return_id == return_id)
        due = max(owed - already.get(return_id, 0), 0)
        if due:
            tax += due
            paid_for.append(return_id)
    restored = tuple(
        sorted(rid for rid in settling if sum(ln.value_fen for ln in lines if ln.return_id == rid))
    )
    return Settlement(tax, sum(ln.value_fen for ln in lines), tuple(paid_for), restored)


def _released_exchanges(uow: UnitOfWork, returns: list[ReturnRequest]) -> frozenset[str]:
    """Exchanges among ``returns`` whose replacement was released, never shipped: their
    units went back with nothing imported in their place. Read only for exchanges (one
    statement each), so a declaration of refunds costs nothing more."""
    return frozenset(r.return_id for r in returns if _released(uow, r))


def _released(uow: UnitOfWork, request: ReturnRequest) -> bool:
    if request.kind is not ReturnKind.EXCHANGE:
        return False
    exchange = uow.exchanges.get(request.return_id)
    return exchange is not None and exchange.status is ExchangeStatus.RELEASED


def _as_returned(
    line: CustomsLine, request: ReturnRequest, order: Order | None
) -> CustomsLine | None:
    """A declared line cut to the units its return still holds (None: none of them)."""
    held = sum(ln.quantity for ln in request.lines if ln.order_line_id == line.order_line_id)
    bought = order.line(line.order_line_id) if order is not None else None
    if held >= line.quantity or bought is None:
        return line
    if held == 0:
        return None
    return replace(
        line,
        quantity=held,
        value_fen=bought.price_for(held),
        tax_fen=bought.tax_for(held),
    )


def _used_this_year(uow: UnitOfWork, buyer_id: str, year: int) -> int:
    return sum(
        o.goods_fen
        for o in uow.orders.for_buyer(buyer_id)
        if o.channel.cross_border and local(o.placed_at).year == year
    )


def settle(svc: Services, customs_return_id: str, *, force: bool = False) -> CustomsReturn:
    """Give back the tax and restore the quota of an accepted declaration, once. Waits for
    returns still on their way until day 45 of release (``force``: ops settle what arrived)."""
    now = svc.clock.now()
    transfer_id = None
    clawbacks: list[str] = []
    while True:
        with svc.uow() as uow:
            unlocked = uow.customs.get(customs_return_id)
            if unlocked is None:
                raise NotFound("customs_return", customs_return_id)
            if unlocked.status is not CustomsStatus.ACCEPTED:
                return unlocked  # settled (or not accepted): nothing to do again
            # A refund quoted at the same time either sees this settlement or is counted by
            # it, never neither (tax paid twice); see ``_lock``.
            locked = _lock(uow, unlocked)
            if locked is None:
                continue
            order, customs_return, requests = locked
            if customs_return.status is not CustomsStatus.ACCEPTED:
                return customs_return
            returns = [requests[r] for r in customs_return.return_ids if r in requests]
            late = now > customs_return.arrival_by
            already = _already_refunded_tax(uow, customs_return.return_ids)
            released = _released_exchanges(uow, returns)
            due = _settlement(customs_return, returns, already, order, released)
            if due is None and (late or force):
                arrived = [r for r in returns if r.received_at is not None]
                due = _settlement(customs_return, arrived, already, order, released)
            if due is None:
                return customs_return
            missed = _missed(customs_return, returns, now)
            clawbacks = _claw_back_tax(svc, uow, requests, missed, TaxStatus.ARRIVED_LATE)
            # Forced before day 45: those on their way are watched until they come or it
            # passes (``take_back_unarrived``), since nothing else may ever reach them.
            awaited = () if late else tuple(r.return_id for r in returns if _on_its_way(r))
            if due.quota_fen:
                # Given back to the year the order counted in (``quota_of``).
                placed = order.placed_at if order is not None else customs_return.released_at
                uow.customs.restore_quota(
                    customs_return.buyer_id, local(placed).year, due.quota_fen
                )
            if due.tax_fen:
                transfer_id = transfers.request_transfer(
                    svc,
                    uow,
                    TransferPurpose.CUSTOMS_TAX,
                    customs_return_id,
                    customs_return.buyer_id,
                    due.tax_fen,
                ).transfer_id
            customs_return.settle(
                due.tax_fen,
                due.quota_fen,
                now,
                tax_paid_for=due.tax_paid_for,
                quota_restored_for=due.quota_restored_for,
                awaited=awaited,
            )
            uow.customs.save(customs_return)
            uow.commit()
            break
    if transfer_id is not None:
        transfers.pay_transfer(svc, transfer_id)
    pay_all(svc, clawbacks)
    return customs_return


def restore_converted_quota(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> None:
    """Inside the caller's transaction, which holds the return's lock and has just turned
    the exchange into a refund (``exchanges.refund_instead``) or released it after a lost
    dispute before it shipped (``disputes.decide_dispute``): when its declaration already
    settled, the settlement gave no quota back for it (its replacement was to be imported
    in its place), and none is now, so its declared units, back by day 45, give the buyer's
    annual total back in the year the order counted in, once
    (``CustomsReturn.quota_restored_for``). The order, then the declaration are locked after
    the return, the order of ``_lock``, so a settlement of the same declaration either ran
    before (and left this return out) or runs after (and settles it as the refund, or the
    released exchange, it now is): never both, never neither. The tax needs nothing here
    for a refund: the goods refund quoted for it carries it (``paid_tax_of`` is false); a
    released exchange has none, so ``pay_returned_tax`` gives it back."""
    declared = uow.customs.for_returns([request.return_id])
    if not declared or declared[0].status is not CustomsStatus.SETTLED:
        return  # not settled yet: the settlement counts it as the refund it now is
    order = uow.orders.get_for_update(request.order_id)
    customs_return = uow.customs.get_for_update(declared[0].customs_return_id)
    assert customs_return is not None, "a declaration is never deleted"
    received = request.received_at
    if received is None or received > customs_return.arrival_by:
        return  # not back, or back after day 45: customs restores nothing
    _give_quota_back(svc, uow, customs_return, request, order)


def pay_returned_tax(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> str | None:
    """Inside the caller's transaction, which holds the return's lock: goods back in the zone
    by day 45 that no refund will carry the tax of (their QC failed, at grading; or an
    exchange released by a lost dispute, nothing imported in their place) have their
    withheld tax given back (RULES.md §2: the tax follows the goods, not the refund) when
    their declaration settled without paying it (ops forced it while they were on their
    way, or they were an exchange then). What the settlement would have paid: the tax of
    the units the return still holds less what its own refunds carry, once, under
    ``customs-tax-return:<return_id>``, and the declaration names the return in
    ``tax_paid_for`` (event ``customs.tax_paid``), so a refund quoted later (a dispute
    found for the buyer) leaves it out. The order, then the declaration are locked after
    the return, ``_lock``'s order, so a settlement racing it either paid it (and this finds
    the return named) or had settled before. Returns the transfer to pay once committed."""
    declared = uow.customs.for_returns([request.return_id])
    if (
        not declared
        or declared[0].status is not CustomsStatus.SETTLED
        or declared[0].paid_tax_of(request.return_id)
        or request.received_at is None
        or request.status in GONE
    ):
        return None  # not settled yet: the settlement counts it as arrived
    if request.kind is ReturnKind.EXCHANGE and not _released(uow, request):
        return None  # its replacement is imported under that tax
    order = uow.orders.get_for_update(request.order_id)
    customs_return = uow.customs.get_for_update(declared[0].customs_return_id)
    assert customs_return is not None, "a declaration is never deleted"
    if request.received_at > customs_return.arrival_by:
        return None  # back after day 45: customs gives nothing back
    owed = sum(
        kept.tax_fen
        for ln in customs_return.lines
        if ln.return_id == request.return_id
        and (kept := _as_returned(ln, request, order)) is not None
    )
    due = owed - _already_refunded_tax(uow, [request.return_id]).get(request.return_id, 0)
    if not customs_return.pay_tax_of(request.return_id, due, svc.clock.now()):
        return None
    uow.customs.save(customs_return)
    return transfers.request_transfer(
        svc,
        uow,
        TransferPurpose.CUSTOMS_TAX_RETURN,
        request.return_id,
        customs_return.buyer_id,
        due,
    ).transfer_id


def tax_kept_by_buyer(uow: UnitOfWork, request: ReturnRequest, refund: Refund | None) -> int:
    """Inside the caller's transaction, which holds the return's lock (a lost dispute's
    decision): the import tax the return's refund carried that customs gives back, or will,
    for its goods, so a clawback leaves it with the buyer (RULES.md §2: the tax follows the
    goods, whatever QC found). That is the refund's tax when the goods were back by day 45
    on a declaration customs accepted (settled or not: the settlement counts the refund's
    tax as paid and pays none of it again) or has not answered yet (open or submitted:
    should customs reject it, or it lapse, ``_claw_back_tax`` takes the tax then, counting
    the dispute's clawback, so it is taken once). Nothing when the goods missed day 45 or
    customs said no: that tax is taken back (``tax-clawback:<return_id>``), by the customs
    path or by the clawback itself when it comes first (the customs path then counts it),
    never both. The order, then the declaration are locked after the return, ``_lock``'s
    order, so a settlement, an answer or a lapse of the same declaration ran before (and
    this sees it) or waits for the decision (and counts its clawback)."""
    if not advanced_tax(refund) or request.received_at is None:
        return 0  # not back: no QC, no dispute
    if _clawed(uow, request.return_id):
        return 0  # customs gave none back: taken already
    declared = uow.customs.for_returns([request.return_id])
    if not declared:
        return 0
    uow.orders.get_for_update(request.order_id)
    customs_return = uow.customs.get_for_update(declared[0].customs_return_id)
    assert customs_return is not None, "a declaration is never deleted"
    assert refund is not None  # advanced_tax
    return _tax_given_back(request, refund, customs_return)


def taxes_kept_by_buyers(
    uow: UnitOfWork, requests: Sequence[ReturnRequest], refunds: Mapping[str, Refund]
) -> dict[str, int]:
    """What ``tax_kept_by_buyer`` would answer now for each of ``requests`` (their refunds
    by return id) but for its first check, a ``tax-clawback`` already made, which the caller
    reads after this (customs rejecting or lapsing a declaration commits its tax clawbacks
    with it). Read without locks, for what ops see before deciding: the decision asks again
    under its locks. Their declarations are read in one query, however many returns.
    Returns that keep nothing are left out."""
    back = [r for r in requests if advanced_tax(refunds.get(r.return_id)) and r.received_at]
    declared = {
        rid: customs_return
        for customs_return in uow.customs.for_returns([r.return_id for r in back])
        for rid in customs_return.return_ids
    }
    kept = {
        r.return_id: _tax_given_back(r, refunds[r.return_id], declared[r.return_id])
        for r in back
        if r.return_id in declared
    }
    return {rid: tax for rid, tax in kept.items() if tax > 0}


def advanced_tax(refund: Refund | None) -> bool:
    """Whether a refund paid (or is paying) import tax with the goods' price: only such a
    refund leaves tax with the buyer or has it taken back (``tax-clawback``)."""
    return refund is not None and refund.status is not RefundStatus.FAILED and refund.tax_fen > 0


def _tax_given_back(request: ReturnRequest, refund: Refund, customs_return: CustomsReturn) -> int:
    """The refund's tax when customs gives it back for these goods (accepted or not answered
    yet, back by day 45), else nothing."""
    if customs_return.status in (CustomsStatus.REJECTED, CustomsStatus.LAPSED):
        return 0
    if request.received_at is None or request.received_at > customs_return.arrival_by:
        return 0  # back after day 45: customs gives nothing back
    return refund.tax_fen


def settle_arrival(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> list[str]:
    """Inside the receipt's transaction, which holds the return's lock and has just marked it
    received: when its declaration was settled before the goods came (ops forced it while
    they were on their way), the settlement left this return out, so what it would have done
    for it is done now. Back by day 45: its declared units give the buyer's annual total back
    in the year the order counted in, once (``quota_restored_for``); its tax needs nothing
    here, the goods refund carries it (``paid_tax_of`` is false, the declaration accepted).
    Back after day 45: tax an express refund advanced for it is taken back (the settlement's
    ``_missed`` did not reach it). An exchange gives back nothing: its replacement is
    imported in its place (``restore_converted_quota`` if it becomes a refund). The order,
    then the declaration are locked after the return, ``_lock``'s order, so a settlement
    racing the receipt either counted it as arrived or left it out for this. Returns the
    clawbacks to pay once committed."""
    declared = uow.customs.for_returns([request.return_id])
    if not declared or declared[0].status is not CustomsStatus.SETTLED:
        return []  # not settled yet: the settlement counts the arrival
    if request.kind is ReturnKind.EXCHANGE or request.received_at is None:
        return []
    order = uow.orders.get_for_update(request.order_id)
    customs_return = uow.customs.get_for_update(declared[0].customs_return_id)
    assert customs_return is not None, "a declaration is never deleted"
    if customs_return.stop_awaiting([request.return_id]):
        uow.customs.save(customs_return)
    if request.received_at > customs_return.arrival_by:
        if _clawed(uow, request.return_id):
            return []  # the settlement or the sweep (after day 45) took it back already
        locked = {request.return_id: request}
        return _claw_back_tax(svc, uow, locked, [request.return_id], TaxStatus.ARRIVED_LATE)
    _give_quota_back(svc, uow, customs_return, request, order)
    return []


def _give_quota_back(
    svc: Services,
    uow: UnitOfWork,
    customs_return: CustomsReturn,
    request: ReturnRequest,
    order: Order | None,
) -> None:
    """The return's declared units, cut to those it still holds, back to the buyer's annual
    total in the year the order counted in, once (``CustomsReturn.restore_quota_of``); the
    caller holds the return's, the order's and the declaration's locks."""
    value = sum(
        kept.value_fen
        for ln in customs_return.lines
        if ln.return_id == request.return_id
        and (kept := _as_returned(ln, request, order)) is not None
    )
    if customs_return.restore_quota_of(request.return_id, value, svc.clock.now()):
        placed = order.placed_at if order is not None else customs_return.released_at
        uow.customs.restore_quota(customs_return.buyer_id, local(placed).year, value)
        uow.customs.save(customs_return)


def _on_its_way(request: ReturnRequest) -> bool:
    return (
        request.received_at is None and request.status not in GONE and request.status not in ARRIVED
    )


def _clawed(uow: UnitOfWork, return_id: str) -> bool:
    return uow.transfers.by_key(transfer_key(TransferPurpose.TAX_CLAWBACK, return_id)) is not None


def take_back_unarrived(svc: Services, limit: int = 100) -> int:
    """Take back the tax an express refund advanced for goods a forced settlement left out
    on their way that have still not come once day 45 has passed (lost in transit, never
    received): customs gives none of it back. Taken once per return
    (``tax-clawback:<return_id>``; a receipt after it finds the transfer and takes nothing
    more), and the declaration stops watching them. At most ``limit`` declarations per pass, read by one indexed
    query. Returns how many clawbacks it asked for."""
    now = svc.clock.now()
    with svc.uow() as uow:
        due = [c.customs_return_id for c in uow.customs.awaited_past(now, limit)]
    taken = 0
    for customs_return_id in due:
        clawbacks = _take_back_unarrived(svc, customs_return_id, now)
        pay_all(svc, clawbacks)
        taken += len(clawbacks)
    return taken


def _take_back_unarrived(svc: Services, customs_return_id: str, now: datetime) -> list[str]:
    while True:
        with svc.uow() as uow:
            unlocked = uow.customs.get(customs_return_id)
            if unlocked is None or not unlocked.awaited:
                return []
            # A receipt of the same return locks it first too (``settle_arrival``): it
            # either came before (received: left alone) or finds this clawback.
            locked = _lock(uow, unlocked)
            if locked is None:
                continue
            _, customs_return, requests = locked
            if not customs_return.awaited or now <= customs_return.arrival_by:
                return []
            lost = [
                rid
                for rid in customs_return.awaited
                if rid in requests and _on_its_way(requests[rid]) and not _clawed(uow, rid)
            ]
            clawbacks = _claw_back_tax(svc, uow, requests, lost, TaxStatus.ARRIVED_LATE)
            customs_return.stop_watching(lost, now)
            uow.customs.save(customs_return)
            uow.commit()
            return clawbacks


def _missed(
    customs_return: CustomsReturn, returns: list[ReturnRequest], now: datetime
) -> list[str]:
    """Returns whose goods missed day 45: received after it, or not received once it has
    passed (customs gives none of their tax back)."""
    due = customs_return.arrival_by
    return [
        r.return_id
        for r in returns
        if r.status not in GONE
        and (r.received_at > due if r.received_at is not None else now > due)
    ]


def quota_of(svc: Services, buyer_id: str, year: int | None = None) -> Quota:
    """A buyer's annual cross-border total (财关税〔2018〕49号): the year's cross-border
    orders less what settled returns of them gave back, reckoned afresh on every call, so an
    order placed after a restore counts like any other."""
    year = year or local(svc.clock.now()).year
    with svc.uow() as uow:
        used = _used_this_year(uow, buyer_id, year) - uow.customs.restored_quota(buyer_id, year)
    return Quota(buyer_id, year, svc.customs.annual_quota_fen, max(used, 0))


@dataclass(frozen=True)
class CustomsQueueItem:
    """A line of the console's customs-deadline queue."""

    customs_return: CustomsReturn
    deadline: str | None
    due: datetime | None
    days_left: int | None
    arrived: int
    returns: int


def queue(svc: Services, limit: int = 200) -> list[CustomsQueueItem]:
    """Live declarations with their next deadline, the nearest first (the console's queue)."""
    now = svc.clock.now()
    with svc.uow() as uow:
        live = uow.customs.live(limit)
        returns = {
            r.return_id: r
            for r in uow.returns.get_many([rid for c in live for rid in c.return_ids])
        }
    items = []
    for c in live:
        mine = [returns[rid] for rid in c.return_ids if rid in returns]
        arrived = sum(1 for r in mine if r.received_at is not None or r.status in ARRIVED)
        nxt = c.next_deadline(arrived=arrived == len(mine))
        days = (local(nxt[1]).date() - local(now).date()).days if nxt else None
        items.append(
            CustomsQueueItem(
                c, nxt[0] if nxt else None, nxt[1] if nxt else None, days, arrived, len(mine)
            )
        )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(items, key=lambda i: i.due or far)


@dataclass
class CustomsSweep:
    declared: int = 0
    answered: int = 0
    settled: int = 0
    alerts: int = 0
    lapsed: int = 0
    taken_back: int = 0


def sweep_customs(svc: Services, limit: int = 200) -> CustomsSweep:
    """The worker's pass: alert ops before each deadline (once per deadline), declare open
    declarations (lapse those past day 30), ask the broker about submitted ones, settle
    accepted ones, take back tax advanced for goods a forced settlement left out that
    missed day 45."""
    now = svc.clock.now()
    out = CustomsSweep()
    for item in queue(svc, limit):
        cr_id = item.customs_return.customs_return_id
        if (
            item.deadline
            and item.due
            and now >= item.due - timedelta(days=svc.customs.alert_days_before)
        ):
            with svc.uow() as uow:
                locked = uow.customs.get_for_update(cr_id)
                if locked is not None and locked.alert(item.deadline, item.due, now):
                    uow.customs.save(locked)
                    uow.commit()
                    out.alerts += 1
        status = item.customs_return.status
        try:
            after = declare(svc, cr_id) if status is CustomsStatus.OPEN else poll(svc, cr_id)
        except (Conflict, IllegalTransition):
            continue  # too late to declare, or a concurrent change: ops see it in the queue
        out.declared += status is CustomsStatus.OPEN and after.status is not CustomsStatus.OPEN
        out.answered += (
            after.status in (CustomsStatus.ACCEPTED, CustomsStatus.REJECTED, CustomsStatus.SETTLED)
            and status is not after.status
        )
        out.settled += after.status is CustomsStatus.SETTLED and status is not CustomsStatus.SETTLED
        out.lapsed += after.status is CustomsStatus.LAPSED and status is CustomsStatus.OPEN
    out.taken_back = take_back_unarrived(svc, limit)
    return out


def get_customs_return(svc: Services, customs_return_id: str) -> CustomsReturn:
    """One declaration (ops)."""
    with svc.uow() as uow:
        found = uow.customs.get(customs_return_id)
    if found is None:
        raise NotFound("customs_return", customs_return_id)
    return found
