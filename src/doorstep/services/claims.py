"""Claims (issue 9 §5): damage on arrival and counterfeit goods filed by buyers and answered
by merchants (silence approves damage), transit damage opened by QC and charged to the courier
company's settlement; approved claims are compensated exactly once (a payment under
``claim:<claim_id>`` to the buyer, or one ledger entry per claim for a carrier).

Concurrency: a buyer's claim is filed with the order's row locked (one claim per kind and
lines, the dedupe key also unique in the table; and no unit that a return, exchange,
refund-only request or another claim holds, ``domain/held_units.py``); a claim moves with its
own row locked and its version checked; a carrier is charged through a unique key per claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from doorstep.domain import held_units
from doorstep.domain.catalog import Category
from doorstep.domain.claim import (
    Claim,
    ClaimEvidence,
    ClaimKind,
    ClaimLine,
    ClaimStatus,
    LedgerEntry,
    Liability,
    damage_deadline,
)
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.order import Order
from doorstep.domain.refund_amount import NO_TAX_OUTCOME, quote_refund
from doorstep.domain.returns import ReturnRequest
from doorstep.domain.transfer import TransferPurpose
from doorstep.services import refund_quotes, transfers
from doorstep.services.context import Services
from doorstep.services.lookups import owned
from doorstep.services.ports import UnitOfWork

MAX_LINES = 50


@dataclass(frozen=True)
class FileClaim:
    """A buyer's claim: which order lines, how many units, what they say, which photos."""

    buyer_id: str
    order_id: str
    kind: ClaimKind
    lines: tuple[tuple[str, int], ...]
    text: str
    photo_ids: tuple[str, ...]


def _claim_lines(order: Order, wanted: Sequence[tuple[str, int]]) -> tuple[ClaimLine, ...]:
    if not wanted or len(wanted) > MAX_LINES or len({w[0] for w in wanted}) != len(wanted):
        raise InvalidInput(
            "claim_lines_invalid",
            f"Name 1 to {MAX_LINES} different order lines.",
            f"请选择 1 至 {MAX_LINES} 个不同的订单商品。",
        )
    out = []
    for line_id, quantity in wanted:
        line = order.line(line_id)
        if line is None or not 0 < quantity <= line.quantity:
            raise InvalidInput(
                "claim_line_invalid",
                f"Order line {line_id} does not have {quantity} units.",
                f"订单商品 {line_id} 没有 {quantity} 件。",
                line_id=line_id,
            )
        out.append(ClaimLine(line_id, line.sku, quantity, line.price_for(quantity)))
    return tuple(out)


def _check_window(svc: Services, uow: UnitOfWork, order: Order, cmd: FileClaim) -> None:
    now, rules = svc.clock.now(), svc.refunds.claims
    if order.signed_at is None:
        raise Conflict(
            "claim_order_not_signed",
            "Claims are for delivered orders; ask for a refund only instead.",
            "订单尚未签收，请申请仅退款。",
        )
    if cmd.kind is ClaimKind.DAMAGE_ON_ARRIVAL:
        products = uow.products.get_many(
            line.sku for line in order.lines if line.line_id in {w[0] for w in cmd.lines}
        )
        food = any(p.category in (Category.FOOD, Category.FRESH) or p.perishable for p in products)
        until = damage_deadline(order.signed_at, food, rules)
    elif cmd.kind is ClaimKind.COUNTERFEIT:
        until = order.signed_at + timedelta(days=rules.counterfeit_window_days)
    else:
        raise InvalidInput(
            "claim_kind_not_for_buyers",
            "Transit damage is opened by the warehouse, not by buyers.",
            "运输破损由仓库发起，买家不能申请。",
        )
    if now > until:
        raise Conflict(
            "claim_window_closed",
            f"This claim had to be filed by {until.isoformat()}.",
            f"该理赔须在 {until.isoformat()} 前提出。",
            until=until.isoformat(),
        )


def file_claim(svc: Services, cmd: FileClaim) -> Claim:
    """A buyer's damage or counterfeit claim, with photos, on their own delivered order."""
    now = svc.clock.now()
    with svc.uow() as uow:
        order = owned(uow.orders.get_for_update(cmd.order_id), cmd.buyer_id, "order", cmd.order_id)
        _check_window(svc, uow, order, cmd)
        for photo_id in dict.fromkeys(cmd.photo_ids):
            photo = uow.photos.get(photo_id)
            if photo is None or photo.owner != cmd.buyer_id:
                raise NotFound("photo", photo_id)
        evidence = ClaimEvidence(
            "buyer", now, cmd.text.strip(), tuple(dict.fromkeys(cmd.photo_ids))
        )
        lines = _claim_lines(order, cmd.lines)
        # Priced under the order's row lock after the order's refunds and claims, which
        # count this one in turn: together they never pay back more than the buyer paid.
        paid = refund_quotes.paid_for_units(uow, order, lines, besides=None)
        claim = Claim.file(
            svc.ids.new("C"), cmd.kind, order.order_id, cmd.buyer_id, lines, (evidence,), now,
            svc.refunds.claims, paid=paid,
        )  # fmt: skip
        if uow.claims.by_dedupe(claim.dedupe_key) is not None:
            raise Conflict(
                "claim_exists",
                "These goods already have a claim of this kind.",
                "这些商品已提交过同类理赔。",
            )
        # Counted under the same lock, which returns take too: a unit compensated by a
        # claim cannot be returned or claimed again, nor the other way round.
        held = held_units.units_held(
            uow.returns.for_order(order.order_id), uow.claims.for_order(order.order_id)
        )
        held_units.check_units_free(order, ((ln.order_line_id, ln.quantity) for ln in lines), held)
        uow.claims.add(claim)
        uow.commit()
        return claim


def transit_worth(order: Order, request: ReturnRequest) -> int:
    """What the buyer paid for the return's units, as a pickup order declares it (保价): the
    refund's own quote of them (``quote_refund``: coupon share and reductions out, a gift
    kept; no tax, no freight), never their line price, priced as a transit-damage claim
    prices them but on their own, without the order's other refunds. Reckoning those only
    moves a rounding fen of coupon share onto these units, or takes a threshold's discount
    back, so the claim's figure is not above this one (but for a waived freight an earlier
    refund deducted and this one gives back), and the booking reads nothing more for it."""
    lines = _claim_lines(order, [(ln.order_line_id, ln.quantity) for ln in request.lines])
    return quote_refund(
        order, lines, tax=NO_TAX_OUTCOME, return_freight_fen=0, sends_goods=False
    ).total_fen


def open_transit_claim(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> Claim | None:
    """Inside the grading transaction: intact at the door, damaged at the warehouse. The
    carrier (or the own fleet) is liable; it is charged on its settlement at once, with both
    inspections as evidence. A courier company is charged at most the value its pickup order
    declared for the return; the rest of the loss is doorstep's, kept on the claim."""
    check, door = request.quality_check, request.inspection
    if not request.transit_damaged or check is None or door is None:
        return None
    order = uow.orders.get(request.order_id)
    if order is None:
        raise NotFound("order", request.order_id)
    carrier_id = request.carrier_id or "own"
    carrier = uow.carriers.get(carrier_id)
    own_fleet = carrier is None or carrier.own_fleet
    lines = _claim_lines(order, [(ln.order_line_id, ln.quantity) for ln in request.lines])
    evidence = (
        ClaimEvidence("door_inspection", door.inspected_at, door.note, door.photo_ids),
        ClaimEvidence("warehouse_qc", check.checked_at, check.note, check.photo_ids),
    )
    # What the buyer paid for the damaged units (what their refund pays back), not their
    # line price: the carrier owes the loss, up to its cap or the value declared to it.
    paid = refund_quotes.paid_for_units(uow, order, lines, besides=request.return_id)
    claim = Claim.file(
        svc.ids.new("C"), ClaimKind.TRANSIT_DAMAGE, order.order_id, request.buyer_id, lines,
        evidence, check.checked_at, svc.refunds.claims, paid=paid, return_id=request.return_id,
        carrier_id=carrier_id, own_fleet=own_fleet,
        insured_fen=request.insured_fen,
    )  # fmt: skip
    if uow.claims.by_dedupe(claim.dedupe_key) is not None:
        return None
    _charge_carrier(svc, uow, claim)  # before adding: the stored claim is compensated
    uow.claims.add(claim)
    return claim


def _charge_carrier(svc: Services, uow: UnitOfWork, claim: Claim) -> None:
    """One ledger entry per claim against the liable carrier's settlement, with the loss
    above what the carrier owes (doorstep's own) beside it."""
    assert claim.carrier_id is not None
    entry = LedgerEntry(
        svc.ids.new("L"),
        claim.carrier_id,
        claim.claim_id,
        -claim.compensation_fen,
        svc.clock.now(),
        f"{claim.kind.value} {claim.return_id or claim.order_id}",
        uninsured_fen=claim.uninsured_fen,
    )
    uow.ledger.charge(entry)  # False: already charged, the claim only needs its state
    claim.compensated(entry.created_at, entry.entry_id)


def _load_claim(uow: UnitOfWork, claim_id: str, *, shop_id: str | None = None) -> Claim:
    claim = uow.claims.get_for_update(claim_id)
    if claim is None:
        raise NotFound("claim", claim_id)
    if shop_id is not None:
        order = uow.orders.get(claim.order_id)
        if order is None or order.shop_id != shop_id:
            raise NotFound("claim", claim_id)
    return claim


def _compensate_locked(svc: Services, uow: UnitOfWork, claim: Claim) -> str | None:
    """For an approved claim (locked): charge the carrier here, or create the buyer's
    payment (asked of the provider after the commit; its id is returned)."""
    if claim.status is not ClaimStatus.APPROVED:
        return None
    if claim.liability is not Liability.MERCHANT:
        _charge_carrier(svc, uow, claim)
        return None
    if claim.compensation_fen == 0:
        claim.compensated(svc.clock.now(), "nothing_owed")
        return None
    transfer = transfers.request_transfer(
        svc,
        uow,
        TransferPurpose.CLAIM_PAYOUT,
        claim.claim_id,
        claim.buyer_id,
        claim.compensation_fen,
    )
    return transfer.transfer_id


def _after(svc: Services, claim_id: str, transfer_id: str | None) -> Claim:
    if transfer_id is not None:
        transfers.pay_transfer(svc, transfer_id)
    with svc.uow() as uow:
        claim = uow.claims.get(claim_id)
        assert claim is not None
        return claim


def answer_claim(
    svc: Services, claim_id: str, *, accept: bool, text: str, shop_id: str | None
) -> Claim:
    """The merchant's answer within 24 hours (a partner answers only its shop's claims)."""
    with svc.uow() as uow:
        claim = _load_claim(uow, claim_id, shop_id=shop_id)
        claim.merchant_answer(svc.clock.now(), accept=accept, text=text)
        transfer_id = _compensate_locked(svc, uow, claim)
        uow.claims.save(claim)
        uow.commit()
    return _after(svc, claim_id, transfer_id)


def decide_claim(svc: Services, ops_id: str, claim_id: str, *, approve: bool, note: str) -> Claim:
    """Ops decide a contested or counterfeit claim."""
    with svc.uow() as uow:
        claim = _load_claim(uow, claim_id)
        claim.decide(ops_id, svc.clock.now(), approve=approve, note=note)
        transfer_id = _compensate_locked(svc, uow, claim)
        uow.claims.save(claim)
        uow.commit()
    return _after(svc, claim_id, transfer_id)


def _settle_one(svc: Services, claim_id: str, *, lapse: bool) -> bool:
    with svc.uow() as uow:
        claim = uow.claims.get_for_update(claim_id)
        if claim is None:
            return False
        moved = claim.lapse(svc.clock.now()) if lapse else claim.status is ClaimStatus.APPROVED
        transfer_id = _compensate_locked(svc, uow, claim)
        uow.claims.save(claim)
        uow.commit()
    if transfer_id is not None:
        transfers.pay_transfer(svc, transfer_id)
    return moved


def sweep_claims(svc: Services) -> int:
    """The worker's pass: merchants silent past their 24 hours approve damage claims (and
    send counterfeit claims to ops), approved claims left uncompensated by a crash are
    compensated (a pending compensation is asked again under its key). Returns how many
    claims moved; pending clawbacks are the transfers sweep's (``transfers.retry_pending``)."""
    now = svc.clock.now()
    with svc.uow() as uow:
        lapsing, approved = uow.claims.lapsing(now), uow.claims.approved()
    moved = 0
    for claim_id, lapse in [(c, True) for c in lapsing] + [(c, False) for c in approved]:
        try:
            moved += _settle_one(svc, claim_id, lapse=lapse)
        except Conflict:
            continue  # someone moved it at the same time; the next pass sees where it is
    return moved


def get_claim(
    svc: Services, claim_id: str, *, buyer_id: str | None = None, shop_id: str | None = None
) -> Claim:
    """One claim (a buyer sees their own, a partner its shop's)."""
    with svc.uow() as uow:
        claim = owned(uow.claims.get(claim_id), buyer_id, "claim", claim_id)
        if shop_id is not None:
            order = uow.orders.get(claim.order_id)
            if order is None or order.shop_id != shop_id:
                raise NotFound("claim", claim_id)
        return claim


def claims_of_buyer(svc: Services, buyer_id: str) -> list[Claim]:
    with svc.uow() as uow:
        return uow.claims.for_buyer(buyer_id)


OPEN_FOR_OPS = (ClaimStatus.IN_REVIEW.value, ClaimStatus.AWAITING_MERCHANT.value)


def claim_queue(
    svc: Services, statuses: Sequence[str] = OPEN_FOR_OPS, limit: int = 100, offset: int = 0
) -> list[Claim]:
    """Claims for the console (those ops decide and those waiting for a merchant), oldest
    filed first."""
    with svc.uow() as uow:
        return uow.claims.queue(statuses, limit, offset)


def claim_count(svc: Services, statuses: Sequence[str] = OPEN_FOR_OPS) -> int:
    """How many claims are in ``statuses`` (the console pages through them)."""
    with svc.uow() as uow:
        return uow.claims.count_in(statuses)


@dataclass(frozen=True)
class Settlement:
    carrier_id: str
    total_fen: int
    entries: list[LedgerEntry]
    # Transit damage above what the company owed (the value declared to it, or its cap):
    # doorstep's own loss, never charged to the company.
    uninsured_fen: int = 0


def carrier_settlement(svc: Services, carrier_id: str) -> Settlement:
    """What a carrier is charged for claims: the total and the latest entries, and the loss
    above what it owed that doorstep bore."""
    with svc.uow() as uow:
        entries = uow.ledger.for_carrier(carrier_id)
        total, uninsured = uow.ledger.totals().get(carrier_id, (0, 0))
        return Settlement(carrier_id, total, entries, uninsured)
