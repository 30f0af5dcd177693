"""Opening, auditing, reviewing and withdrawing returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from doorstep.domain import held_units
from doorstep.domain.address import Address
from doorstep.domain.audit import AuditInput, allergy_refusal, audit
from doorstep.domain.decision import Decision, Finding, Outcome, ReturnMethod, Verdict
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.order import Order
from doorstep.domain.policy import default_policy
from doorstep.domain.refund_amount import RefundQuote
from doorstep.domain.returns import (
    Condition,
    Evidence,
    Reason,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from doorstep.services import carrier_orders, customs, exchanges, pickup, self_send, trust
from doorstep.services.context import Services
from doorstep.services.lookups import load_appointment, load_return, lock_return, owned
from doorstep.services.ports import UnitOfWork
from doorstep.services.refund_quotes import quote_lines
from doorstep.services.refunds import settle_refund_only


@dataclass(frozen=True)
class LineRequest:
    """What the buyer asks to return from one order line."""

    order_line_id: str
    quantity: int
    reason: Reason
    condition: Condition = field(default_factory=Condition)
    note: str = ""


@dataclass(frozen=True)
class OpenReturn:
    buyer_id: str
    order_id: str
    kind: ReturnKind
    lines: tuple[LineRequest, ...]
    address: Address | None = None
    photo_ids: tuple[str, ...] = ()
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Exchanges: the SKU each order line is exchanged for (the same SKU when not given).
    replacements: dict[str, str] = field(default_factory=dict)


def open_return(svc: Services, cmd: OpenReturn) -> ReturnRequest:
    """File a return and audit it at once; the decision is part of the answer."""
    now = svc.clock.now()
    with svc.uow() as uow:
        # The order row stays locked until commit, so two requests for the same units are
        # counted one after the other and the second finds the first's claim.
        order = owned(uow.orders.get_for_update(cmd.order_id), cmd.buyer_id, "order", cmd.order_id)
        lines = _lines(order, cmd.lines)
        _check_unclaimed(lines, order, units_held(uow, order.order_id))
        request = ReturnRequest.open(
            svc.ids.new("R"),
            cmd.buyer_id,
            order.order_id,
            cmd.kind,
            lines,
            now,
            address=cmd.address or order.shipping_address,
        )
        for photo_id in cmd.photo_ids:
            _check_photo(uow, photo_id, cmd.buyer_id)
            request.add_evidence(Evidence(svc.ids.new("E"), "photo", now, photo_id=photo_id))
        if cmd.note.strip():
            request.add_evidence(Evidence(svc.ids.new("E"), "text", now, text=cmd.note.strip()))
        request.apply_decision(_audit(svc, uow, request, order, now))
        if request.kind is not ReturnKind.EXCHANGE and request.status is not ReturnStatus.REJECTED:
            request.set_quote(
                quote_lines(
                    uow,
                    order,
                    request.kind,
                    request.lines,
                    filed_at=now,
                    arrived_at=None,
                    besides=request.return_id,
                    now=now,
                ),
                now,
            )
        if request.kind is ReturnKind.EXCHANGE and request.status is not ReturnStatus.REJECTED:
            exchanges.reserve_for(svc, uow, request, order, cmd.replacements, now)
        uow.returns.add(request)
        uow.commit()
    settle_refund_only(svc, request)
    _after_decision(svc, request)
    return get_return(svc, request.return_id)


def _after_decision(svc: Services, request: ReturnRequest) -> None:
    # Outside the filing transaction: the broker and the payment provider are called here.
    if request.kind is ReturnKind.EXCHANGE:
        exchanges.after_filing(svc, request.return_id)
    customs.attach_return(svc, request.return_id)


def quote_return(svc: Services, cmd: OpenReturn) -> RefundQuote:
    """What filing ``cmd`` now would refund, line by line; checked like filing, nothing kept."""
    if cmd.kind is ReturnKind.EXCHANGE:
        raise InvalidInput(
            "exchange_has_no_refund",
            "An exchange sends a replacement instead of money.",
            "换货将寄出新商品，不退款。",
        )
    now = svc.clock.now()
    with svc.uow() as uow:
        order = owned(uow.orders.get(cmd.order_id), cmd.buyer_id, "order", cmd.order_id)
        lines = _lines(order, cmd.lines)
        _check_unclaimed(lines, order, units_held(uow, order.order_id))
        _check_allergy(uow, lines, now)
        return quote_lines(
            uow, order, cmd.kind, lines, filed_at=now, arrived_at=None, besides=None, now=now
        )


def _check_allergy(uow: UnitOfWork, lines: list[ReturnLine], now: datetime) -> None:
    """The quote refuses what the audit would: an allergy reason outside its categories
    would otherwise be quoted with the seller paying the return freight."""
    allergic = [line for line in lines if line.reason is Reason.ALLERGY]
    if not allergic:
        return
    policy = uow.policies.current() or default_policy(now)
    window = policy.rule("return_window")
    if window is None:
        return  # ops switched the windows off; the audit does not refuse the reason either
    for line in allergic:
        product = uow.products.get(line.sku)
        if product is None:
            raise NotFound("product", line.sku)
        refused = allergy_refusal(product, window.param("allergy_categories"))
        if refused is not None:
            code, en, zh = refused
            raise InvalidInput(code, en, zh, line_id=line.order_line_id)


def _lines(order: Order, wanted: tuple[LineRequest, ...]) -> list[ReturnLine]:
    if not wanted:
        raise InvalidInput(
            "return_without_lines",
            "A return needs at least one line.",
            "退货申请至少需要一件商品。",
        )
    seen: set[str] = set()
    lines = []
    for want in wanted:
        line = order.line(want.order_line_id)
        if line is None:
            raise NotFound("order_line", want.order_line_id)
        if want.order_line_id in seen:
            raise InvalidInput(
                "duplicate_line",
                "Each order line may appear once.",
                "每个订单行只能出现一次。",
                line_id=want.order_line_id,
            )
        seen.add(want.order_line_id)
        lines.append(
            ReturnLine(
                line.line_id, line.sku, want.quantity, want.reason, want.condition, want.note
            )
        )
    return lines


def _check_photo(uow: UnitOfWork, photo_id: str, owner: str) -> None:
    photo = uow.photos.get(photo_id)
    if photo is None or photo.owner != owner:
        raise NotFound("photo", photo_id)


def units_held(uow: UnitOfWork, order_id: str, *, besides: str | None = None) -> dict[str, int]:
    """Units per order line that the order's returns (other than ``besides``) and buyers'
    claims still hold; read under the order's row lock by every writer that adds to them."""
    return held_units.units_held(
        uow.returns.for_order(order_id), uow.claims.for_order(order_id), besides_return=besides
    )


def _check_unclaimed(lines: list[ReturnLine], order: Order, held: dict[str, int]) -> None:
    held_units.check_units_free(order, ((ln.order_line_id, ln.quantity) for ln in lines), held)


def _audit(
    svc: Services, uow: UnitOfWork, request: ReturnRequest, order: Order, now: datetime
) -> Decision:
    policy = uow.policies.current() or default_policy(now)
    products = {}
    for line in request.lines:
        product = uow.products.get(line.sku)
        if product is None:
            raise NotFound("product", line.sku)
        products[line.sku] = product
    buyer = uow.buyers.get(request.buyer_id)
    if buyer is None:
        raise NotFound("buyer", request.buyer_id)
    address = request.address or order.shipping_address
    ctx = AuditInput(
        kind=request.kind,
        lines=tuple(request.lines),
        order=order,
        products=products,
        buyer=trust.as_assessed(uow, buyer, svc.refunds.trust),
        area=uow.areas.get(address.adcode),
        already_returned=units_held(uow, order.order_id, besides=request.return_id),
        photo_evidence=sum(1 for e in request.evidence if e.kind == "photo"),
        now=now,
        refund_only=svc.refunds.refund_only,
    )
    return audit(policy, ctx)


def add_evidence(
    svc: Services, buyer_id: str, return_id: str, *, photo_id: str | None, text: str
) -> ReturnRequest:
    """Attach a photo (uploaded before) or a text note to one's own return."""
    if photo_id is None and not text.strip():
        raise InvalidInput("evidence_empty", "Send a photo id or a text.", "请提供照片或文字说明。")
    now = svc.clock.now()
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        if photo_id is not None:
            _check_photo(uow, photo_id, buyer_id)
            request.add_evidence(Evidence(svc.ids.new("E"), "photo", now, photo_id=photo_id))
        if text.strip():
            request.add_evidence(Evidence(svc.ids.new("E"), "text", now, text=text.strip()))
        uow.returns.save(request)
        uow.commit()
        return request


def review_return(
    svc: Services, return_id: str, *, approve: bool, reviewer: str, note: str
) -> ReturnRequest:
    """An ops decision on a held return; the automatic audit is re-run for the methods."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = lock_return(uow, return_id)  # before release_for locks the exchange
        order = uow.orders.get(request.order_id)
        if order is None:
            raise NotFound("order", request.order_id)
        if request.status is not ReturnStatus.IN_REVIEW:
            raise Conflict(
                "not_in_review",
                "This return is not waiting for review.",
                "该退货申请不在人工审核中。",
            )
        # The law's clocks are judged at filing time, not at whenever a reviewer gets to it.
        automatic = _audit(svc, uow, request, order, request.created_at)
        outcome = Outcome.APPROVE if approve else Outcome.REJECT
        finding = Finding(
            "manual_review",
            Verdict.PASS if approve else Verdict.REJECT,
            "approved_by_reviewer" if approve else "rejected_by_reviewer",
            note or ("Approved by a reviewer." if approve else "Rejected by a reviewer."),
            note or ("人工审核通过。" if approve else "人工审核拒绝。"),
        )
        methods = automatic.methods if approve else ()
        decision = Decision(
            outcome,
            automatic.policy_version,
            now,
            (*automatic.findings, finding),
            methods,
            automatic.unavailable,
            decided_by=reviewer,
        )
        request.review(decision)
        released = None if approve else exchanges.release_for(svc, uow, return_id, now, "rejected")
        uow.returns.save(request)
        uow.commit()
    exchanges.after_release(svc, released)
    settle_refund_only(svc, request)
    _after_decision(svc, request)
    return get_return(svc, return_id)


def cancel_return(svc: Services, buyer_id: str, return_id: str, reason: str) -> ReturnRequest:
    """The buyer withdraws; a booked visit loses this return and frees its slot if empty."""
    now = svc.clock.now()
    with svc.uow() as uow:
        # The return's row first, then the exchange's (release_for): the lock order.
        request = lock_return(uow, return_id, buyer_id=buyer_id)
        withdrawn = withdraw(svc, uow, request, now, reason or "buyer_cancelled")
        uow.commit()
    after_withdrawal(svc, withdrawn)
    return request


@dataclass(frozen=True)
class Withdrawn:
    """What a withdrawal leaves to do after its commit."""

    released: exchanges.Release | None
    order_to_send: str | None


def withdraw(
    svc: Services, uow: UnitOfWork, request: ReturnRequest, now: datetime, reason: str
) -> Withdrawn:
    """Inside the caller's transaction: the return is cancelled, a reserved replacement goes
    back, and its visit loses it (an emptied visit gives back its window, route stop or
    company order). Saves the return and the visit. The caller has locked the return's row
    (``lookups.lock_return``): the exchange's lock comes after it."""
    appointment_id = request.appointment_id
    request.cancel(now, reason)
    released = exchanges.release_for(svc, uow, request.return_id, now, "cancelled")
    withdrawn = None
    if appointment_id is not None:
        appt = load_appointment(uow, appointment_id)
        held_window = appt.active
        appt.leave(request.return_id, now)
        withdrawn = pickup.return_left(svc, uow, appt, now, held_window=held_window)
        uow.appointments.save(appt)
    uow.returns.save(request)
    return Withdrawn(released, withdrawn)


def after_withdrawal(svc: Services, withdrawn: Withdrawn) -> None:
    """After the withdrawal's commit: a difference paid for the replacement goes back, the
    company's order is cancelled (no HTTP in the transaction)."""
    exchanges.after_release(svc, withdrawn.released)
    if withdrawn.order_to_send is not None:
        carrier_orders.send_order(svc, withdrawn.order_to_send)


def choose_self_send(
    svc: Services, buyer_id: str, return_id: str, method: ReturnMethod
) -> ReturnRequest:
    """Drop-off or self-ship instead of door pickup."""
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        request.choose_self_send(method, None, svc.clock.now())
        uow.returns.save(request)
        uow.commit()
        return request


def register_shipment(
    svc: Services, buyer_id: str, return_id: str, waybill_no: str, carrier_id: str
) -> ReturnRequest:
    """The buyer reports the waybill of a dropped-off or self-shipped parcel (checked against
    the courier company's format: services/self_send.py)."""
    return self_send.register_shipment(svc, buyer_id, return_id, waybill_no, carrier_id)


def returns_of(svc: Services, buyer_id: str) -> list[ReturnRequest]:
    with svc.uow() as uow:
        return uow.returns.for_buyer(buyer_id)


def get_return(svc: Services, return_id: str, *, buyer_id: str | None = None) -> ReturnRequest:
    with svc.uow() as uow:
        return load_return(uow, return_id, buyer_id=buyer_id)


def review_queue(svc: Services, limit: int = 100) -> list[ReturnRequest]:
    with svc.uow() as uow:
        return uow.returns.with_status(ReturnStatus.IN_REVIEW.value, limit)
