"""Exchanges (换货, issue 9 §6): reserve the replacement at request, settle the price difference
through the payment port, ship at pickup (trusted buyers) or at receipt, and let the buyer take
a refund instead while nothing has shipped.

Stock is serialised on its row: a reservation is one conditional UPDATE that takes the units
only if they are there, so parallel requests for the last units cannot oversell; the table
refuses ``reserved > on_hand`` and negative counts as well (tests/integration/test_exchange_race.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from doorstep.domain.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from doorstep.domain.events import Event
from doorstep.domain.exchange import (
    Exchange,
    ExchangeLine,
    ExchangeStatus,
    ShipAt,
    StockLevel,
)
from doorstep.domain.order import Order
from doorstep.domain.returns import ReturnRequest, ReturnStatus
from doorstep.domain.transfer import Transfer, TransferPurpose, TransferStatus, transfer_key
from doorstep.domain.waybill import check_waybill
from doorstep.services import customs, refund_quotes, refunds, transfers, trust
from doorstep.services.context import Services
from doorstep.services.lookups import load_return, lock_return
from doorstep.services.ports import UnitOfWork

PICKED_UP_OR_LATER = {
    ReturnStatus.PICKED_UP,
    ReturnStatus.IN_TRANSIT,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
}
RECEIVED_OR_LATER = {ReturnStatus.RECEIVED, ReturnStatus.INSPECTED}


def out_of_stock(sku: str, available: int, wanted: int) -> Conflict:
    """The replacement is gone: the buyer may file a refund instead (``alternative``)."""
    return Conflict(
        "out_of_stock",
        f"Only {available} of {sku} left for an exchange; you can ask for a refund instead.",
        f"{sku} 库存仅剩 {available} 件，无法换货；可改为申请退货退款。",
        sku=sku,
        available=available,
        wanted=wanted,
        alternative="refund",
    )


def variants(svc: Services, sku: str) -> list[StockLevel]:
    """What an item can be exchanged for: its own SKU and the other variants of its family."""
    with svc.uow() as uow:
        own = uow.stock.get_many([sku])
        return uow.stock.family(own[0].family) if own else []


def reserve_for(
    svc: Services,
    uow: UnitOfWork,
    request: ReturnRequest,
    order: Order,
    replacements: Mapping[str, str],
    now: datetime,
) -> Exchange:
    """Inside the filing transaction: take the replacement units, or refuse the exchange."""
    wanted: dict[str, str] = {}
    for line in request.lines:
        wanted[line.order_line_id] = replacements.get(line.order_line_id, line.sku)
    levels = {
        s.sku: s for s in uow.stock.get_many([*wanted.values(), *(ln.sku for ln in request.lines)])
    }
    lines = []
    for line in request.lines:
        to_sku = wanted[line.order_line_id]
        target, source = levels.get(to_sku), levels.get(line.sku)
        if target is None:
            raise out_of_stock(to_sku, 0, line.quantity)
        if to_sku != line.sku and (source is None or source.family != target.family):
            raise InvalidInput(
                "not_a_variant",
                f"{to_sku} is not a variant of {line.sku}.",
                f"{to_sku} 不是 {line.sku} 的同款其他规格。",
                sku=line.sku,
                replacement=to_sku,
            )
        bought = order.line(line.order_line_id)
        assert bought is not None  # the lines were checked against the order
        lines.append(
            ExchangeLine(
                line.order_line_id,
                line.sku,
                to_sku,
                line.quantity,
                bought.unit_price_fen,
                target.unit_price_fen,
                # The tax rate a dearer variant's difference is taxed at (ExchangeLine).
                bought.tax_fen,
                bought.price_for(bought.quantity),
            )
        )
    for taken in lines:
        if not uow.stock.reserve(taken.to_sku, taken.quantity):
            level = uow.stock.get_many([taken.to_sku])
            raise out_of_stock(taken.to_sku, level[0].available if level else 0, taken.quantity)
    # The express refund's rule (assessed trust, not the stored starting score): a buyer
    # who lost a dispute gets neither money nor a replacement before the warehouse looks.
    trusted = trust.served_ahead(svc, uow, request.buyer_id)
    exchange = Exchange.reserve(
        request.return_id,
        request.buyer_id,
        request.order_id,
        lines,
        ShipAt.PICKUP if trusted else ShipAt.RECEIPT,
        now,
    )
    if exchange.difference_fen > 0:
        # The buyer pays the dearer variant before anything ships.
        collection = transfers.request_transfer(
            svc,
            uow,
            TransferPurpose.EXCHANGE_COLLECTION,
            request.return_id,
            request.buyer_id,
            exchange.difference_fen,
        )
        exchange.difference_transfer_id = collection.transfer_id
    uow.exchanges.add(exchange)
    return exchange


@dataclass(frozen=True)
class Release:
    """An exchange given back inside the caller's transaction, and the payback of a
    difference the buyer paid for it (None: nothing was collected, or the collection was
    refused), which ``after_release`` pays once the caller has committed."""

    return_id: str
    payback_id: str | None
    top_up_back_id: str | None = None  # the rest a partial pickup made the buyer pay, back


def release_for(
    svc: Services, uow: UnitOfWork, return_id: str, now: datetime, reason: str
) -> Release | None:
    """Inside the caller's transaction: give a reserved replacement back (withdrawn, refused,
    turned into a refund, lost a dispute) and owe back, once under
    ``exchange-diff-back:<return_id>``, a difference collected (or still being collected) for
    it. None when there was nothing reserved."""
    exchange = uow.exchanges.get_for_update(return_id)
    if exchange is None or exchange.status is not ExchangeStatus.RESERVED:
        return None
    for sku, quantity in exchange.units.items():
        uow.stock.release(sku, quantity)
    exchange.release(now, reason)
    uow.exchanges.save(exchange)
    collection = _collection(uow, exchange)
    # What a partial pickup already gave back of it is not owed twice.
    part_back = uow.transfers.by_key(transfer_key(TransferPurpose.EXCHANGE_PART_BACK, return_id))
    owed = 0 if collection is None else collection.amount_fen
    owed -= 0 if part_back is None else part_back.amount_fen
    top_up = _live(uow, transfer_key(TransferPurpose.EXCHANGE_TOP_UP, return_id))
    top_up_back = None
    if top_up is not None:
        # Its own payback, which waits for that collection as the other waits for the first.
        top_up_back = transfers.request_transfer(
            svc,
            uow,
            TransferPurpose.EXCHANGE_TOP_UP_BACK,
            return_id,
            exchange.buyer_id,
            top_up.amount_fen,
        ).transfer_id
    if owed <= 0:
        return Release(return_id, None, top_up_back)
    # Collected (or maybe collected: pending) money goes back once collected: the payback
    # waits for the collection (TransferPurpose.awaits).
    payback = transfers.request_transfer(
        svc, uow, TransferPurpose.EXCHANGE_PAYBACK, return_id, exchange.buyer_id, owed
    )
    return Release(return_id, payback.transfer_id, top_up_back)


def after_release(svc: Services, released: Release | None) -> None:
    """After the releasing commit: pay back the difference the release owes, if any (the
    sweep retries it under the same key when this is cut short)."""
    if released is None:
        return
    if released.payback_id is not None:
        _pay_back_when_collected(svc, released.return_id, released.payback_id)
    if released.top_up_back_id is not None:
        _pay_back_when_collected(
            svc, released.return_id, released.top_up_back_id, TransferPurpose.EXCHANGE_TOP_UP
        )


def unpaid_replacement(uow: UnitOfWork, return_id: str) -> int:
    """What the buyer has not paid for the return's shipped replacement (0 when none shipped):
    what a lost QC dispute recovers, as it claws back an express refund."""
    exchange = uow.exchanges.get(return_id)
    if exchange is None or exchange.status is not ExchangeStatus.SHIPPED:
        return 0
    moved = uow.transfers.for_subjects([return_id])

    def amount(purposes: set[TransferPurpose], statuses: set[TransferStatus]) -> int:
        return sum(x.amount_fen for x in moved if x.purpose in purposes and x.status in statuses)

    done, owed = {TransferStatus.SUCCEEDED}, {TransferStatus.SUCCEEDED, TransferStatus.PENDING}
    collected = amount({TransferPurpose.EXCHANGE_COLLECTION, TransferPurpose.EXCHANGE_TOP_UP}, done)
    collected -= amount({TransferPurpose.EXCHANGE_PART_BACK}, owed)
    return exchange.unpaid_fen(max(collected, 0), amount({TransferPurpose.EXCHANGE_REFUND}, owed))


def after_filing(svc: Services, return_id: str) -> None:
    """After the filing commit: collect a price difference the buyer owes."""
    with svc.uow() as uow:
        exchange = uow.exchanges.get(return_id)
        transfer_id = exchange.difference_transfer_id if exchange else None
    if transfer_id is not None:
        transfers.pay_transfer(svc, transfer_id)


def get_exchange(svc: Services, return_id: str, *, buyer_id: str | None = None) -> Exchange:
    """The exchange side of a return (its owner only, when ``buyer_id`` is given)."""
    with svc.uow() as uow:
        load_return(uow, return_id, buyer_id=buyer_id)
        exchange = uow.exchanges.get(return_id)
    if exchange is None:
        raise NotFound("exchange", return_id)
    return exchange


def _due(exchange: Exchange, request: ReturnRequest) -> bool:
    stage = PICKED_UP_OR_LATER if exchange.ship_at is ShipAt.PICKUP else RECEIVED_OR_LATER
    return request.status in stage


def ship_if_due(svc: Services, return_id: str) -> Exchange | None:
    """Send the replacement when its stage is reached (pickup for trusted buyers, receipt
    otherwise) and a difference owed was paid; a cheaper variant's difference is paid back
    once it ships. Units the courier did not take are dropped from the exchange first
    (``follow_pickup``; a rest it collects ships the replacement once paid). Safe to call
    again: the exchange row lock lets one caller ship."""
    refund = None
    with svc.uow() as uow:
        exchange = uow.exchanges.get_for_update(return_id)
        request = uow.returns.get(return_id)
        if exchange is None or request is None or exchange.status is not ExchangeStatus.RESERVED:
            return exchange
        now = svc.clock.now()
        followed = follow_pickup(svc, uow, exchange, request, now)
        if _due(exchange, request) and _paid(uow, exchange):
            for sku, quantity in exchange.units.items():
                if not uow.stock.ship(sku, quantity):
                    raise Conflict(
                        "stock_not_reserved",
                        "The replacement's reservation is missing; ops must check the stock.",
                        "换货商品的预留库存缺失，需运营核对库存。",
                        sku=sku,
                    )
            exchange.ship(now, paid=True)
            owed = _refund_owed(uow, exchange, request)
            if owed > 0:
                refund = transfers.request_transfer(
                    svc,
                    uow,
                    TransferPurpose.EXCHANGE_REFUND,
                    return_id,
                    exchange.buyer_id,
                    owed,
                )
                exchange.difference_transfer_id = refund.transfer_id
        elif not followed.changed:
            return exchange  # not due, or waits for the buyer's payment (the sweep retries)
        uow.exchanges.save(exchange)
        uow.commit()
    if followed.part_back_id is not None:
        _pay_back_when_collected(svc, return_id, followed.part_back_id)
    if refund is not None:
        transfers.pay_transfer(svc, refund.transfer_id)
    if followed.top_up_id is not None:
        paid = transfers.pay_transfer(svc, followed.top_up_id)
        if paid.status is TransferStatus.SUCCEEDED:
            # Paid at once: ship now (the pickup's own call), not at the next sweep.
            return ship_if_due(svc, return_id)
    return exchange


def _refund_owed(uow: UnitOfWork, exchange: Exchange, request: ReturnRequest) -> int:
    """A cheaper replacement's difference, capped at what the buyer paid for the units that
    left the door (the return's lines, as a refund of them would pay it back now) less the
    replacement's worth (``Exchange.refund_fen``)."""
    if exchange.difference_fen >= 0:
        return 0
    order = uow.orders.get(exchange.order_id)
    if order is None:
        return exchange.refund_fen(exchange.value_fen - exchange.difference_fen)
    paid = refund_quotes.paid_for_units(uow, order, request.lines, besides=request.return_id)
    return exchange.refund_fen(paid.total_fen)


def _paid(uow: UnitOfWork, exchange: Exchange) -> bool:
    """Whether a difference the buyer owes came in (True when they owe none)."""
    if exchange.difference_fen <= 0:
        return True
    got = 0
    if exchange.difference_transfer_id is not None:
        collection = uow.transfers.get(exchange.difference_transfer_id)
        if collection is None or collection.status is not TransferStatus.SUCCEEDED:
            return False
        got += collection.amount_fen
    top_up = uow.transfers.by_key(transfer_key(TransferPurpose.EXCHANGE_TOP_UP, exchange.return_id))
    if top_up is not None:
        if top_up.status is not TransferStatus.SUCCEEDED:
            return False
        got += top_up.amount_fen
    return got >= exchange.difference_fen


@dataclass(frozen=True)
class Followed:
    """What following a partial pickup changed: whether the exchange did, and the transfers
    it asked for (paid after the commit)."""

    changed: bool
    part_back_id: str | None = None
    top_up_id: str | None = None


def follow_pickup(
    svc: Services, uow: UnitOfWork, exchange: Exchange, request: ReturnRequest, now: datetime
) -> Followed:
    """Inside the caller's transaction (the exchange locked): after a partial pickup the
    exchange keeps only the units that left the door and gives the rest back to stock. Of a
    difference collected at filing, what the units left behind no longer owe goes back
    (``exchange-diff-part:<return_id>``, paid once the collection came in); when a cheaper
    line stayed at the door and the net the buyer owes rose past what was collected, the
    rest is collected before anything ships (``exchange-diff-more:<return_id>``)."""
    freed = exchange.follow_return({ln.order_line_id: ln.quantity for ln in request.lines}, now)
    if not freed:
        return Followed(False)
    for sku, quantity in freed.items():
        uow.stock.release(sku, quantity)
    collection = _collection(uow, exchange)
    collected = 0 if collection is None else collection.amount_fen
    buyer, rid = exchange.buyer_id, exchange.return_id
    if exchange.difference_fen > collected:
        if collection is None and exchange.difference_transfer_id is not None:
            # The collection was refused for good: nothing ships, ops follow it up (the
            # failed transfers' page), as for any unpaid difference.
            return Followed(True)
        more = transfers.request_transfer(
            svc, uow, TransferPurpose.EXCHANGE_TOP_UP, rid, buyer,
            exchange.difference_fen - collected,
        )  # fmt: skip
        return Followed(True, top_up_id=more.transfer_id)
    over = collected - max(exchange.difference_fen, 0)
    if collection is None or over <= 0:
        return Followed(True)
    part_back = transfers.request_transfer(
        svc, uow, TransferPurpose.EXCHANGE_PART_BACK, rid, buyer, over
    )
    return Followed(True, part_back_id=part_back.transfer_id)


def _live(uow: UnitOfWork, key: str) -> Transfer | None:
    """The transfer under ``key``, unless it was refused for good (nothing to give back)."""
    found = uow.transfers.by_key(key)
    return None if found is None or found.status is TransferStatus.FAILED else found


def _collection(uow: UnitOfWork, exchange: Exchange) -> Transfer | None:
    """The collection of a dearer variant's difference, unless it was refused for good."""
    if exchange.difference_transfer_id is None:
        return None
    found = uow.transfers.get(exchange.difference_transfer_id)
    if (
        found is None
        or found.purpose is not TransferPurpose.EXCHANGE_COLLECTION
        or found.status is TransferStatus.FAILED
    ):
        return None
    return found


def complete_if_ready(svc: Services, return_id: str) -> bool:
    """A shipped replacement and a good QC grade on the old item finish the exchange."""
    with svc.uow() as uow:
        # The return's row, then the exchange's: the lock order (lookups.lock_return).
        request = uow.returns.get_for_update(return_id)
        exchange = uow.exchanges.get_for_update(return_id)
        if (
            exchange is None
            or request is None
            or exchange.status is not ExchangeStatus.SHIPPED
            or request.status is not ReturnStatus.INSPECTED
        ):
            return False
        now = svc.clock.now()
        exchange.complete(now)
        request.mark_exchanged(exchange.waybill_no or "", now)
        uow.exchanges.save(exchange)
        uow.returns.save(request)
        uow.commit()
        return True


def track_replacement(
    svc: Services,
    return_id: str,
    status: str,
    location: str = "",
    *,
    waybill_no: str | None = None,
    carrier_id: str | None = None,
) -> Exchange:
    """A tracking update of the replacement parcel (carrier callback or ops): it joins the
    buyer's timeline; the first with a waybill (the outbound label) names the parcel."""
    if waybill_no is not None:
        waybill_no = check_waybill(carrier_id or "", waybill_no)
    if not status.strip() or len(status) > 64 or len(location) > 128:
        raise InvalidInput(
            "tracking_status_invalid",
            "A tracking status is 1-64 characters, a location at most 128.",
            "物流状态须为 1-64 个字符，地点最多 128 个字符。",
        )
    with svc.uow() as uow:
        exchange = uow.exchanges.get_for_update(return_id)
        if exchange is None:
            raise NotFound("exchange", return_id)
        exchange.track(
            status.strip(),
            svc.clock.now(),
            location.strip(),
            waybill_no=waybill_no,
            carrier_id=carrier_id if waybill_no else None,
        )
        uow.exchanges.save(exchange)
        uow.commit()
        return exchange


def refund_instead(svc: Services, buyer_id: str, return_id: str) -> ReturnRequest:
    """The buyer takes a refund instead of the replacement (out of stock, or changed their
    mind) while nothing has shipped: the units go back to stock, a difference the buyer
    paid is paid back under its own key, and a return already inspected gets its refund in
    this unit of work (paid after the commit; a pending one is retried by the sweep). One
    already on its way (picked up, not graded) is a refund that left the buyer: its express
    refund is decided now, as at pickup (``refunds.start_express_refund``; the worker's
    sweep decides it if this process dies first). Units whose customs declaration settled
    while they were an exchange give the buyer's annual total back now
    (``customs.restore_converted_quota``)."""
    now = svc.clock.now()
    released = None
    with svc.uow() as uow:
        request = lock_return(uow, return_id, buyer_id=buyer_id)
        exchange = uow.exchanges.get_for_update(return_id)
        if exchange is not None and exchange.status is not ExchangeStatus.RESERVED:
            raise IllegalTransition("exchange", exchange.status.value, "refund_instead")
        request.convert_to_refund(now, "buyer_chose_refund")
        released = release_for(svc, uow, return_id, now, "refund_instead")
        refund = None
        if request.status is ReturnStatus.INSPECTED:
            # The goods already passed QC, whose refund start skipped the exchange: start it
            # here, as grading starts an inspected return's.
            refund = refunds.open_standard_refund(svc, uow, request)
        # No replacement is imported for units declared back now: their quota comes back.
        customs.restore_converted_quota(svc, uow, request)
        uow.returns.save(request)
        uow.commit()
    after_release(svc, released)
    if refund is not None:
        refunds.pay_refund(svc, refund.refund_id)
    elif request.express_owed_since is not None:
        refunds.start_express_refund(svc, return_id)
    with svc.uow() as uow:
        return load_return(uow, return_id, buyer_id=buyer_id)


def _pay_back_when_collected(
    svc: Services,
    return_id: str,
    payback_id: str,
    collected_as: TransferPurpose = TransferPurpose.EXCHANGE_COLLECTION,
) -> None:
    # Ask for a pending collection's answer first; the payback itself waits for it (and
    # fails when nothing came in), here and in the sweep.
    with svc.uow() as uow:
        collection = uow.transfers.by_key(transfer_key(collected_as, return_id))
    if collection is not None and collection.status is TransferStatus.PENDING:
        transfers.pay_transfer(svc, collection.transfer_id)
    transfers.pay_transfer(svc, payback_id)


def advance_exchanges(svc: Services, limit: int = 100) -> int:
    """The worker's sweep: collect what is owed, ship what is due, finish what is checked."""
    with svc.uow() as uow:
        waiting = [e.return_id for e in uow.exchanges.waiting(limit)]
    moved = 0
    for return_id in waiting:
        try:
            before = get_status(svc, return_id)
            ship_if_due(svc, return_id)
            complete_if_ready(svc, return_id)
            moved += get_status(svc, return_id) != before
        except Conflict:
            continue
    return moved


def get_status(svc: Services, return_id: str) -> str:
    with svc.uow() as uow:
        exchange = uow.exchanges.get(return_id)
    return exchange.status.value if exchange else ""


def upsert_stock(svc: Services, levels: Sequence[StockLevel]) -> int:
    """Load stock rows (imports and the demo); reservations already held are kept. Each row
    written is a ``stock.loaded`` event (before and after), in the same transaction."""
    now = svc.clock.now()
    with svc.uow() as uow:
        before = {s.sku: s for s in uow.stock.get_many(s.sku for s in levels)}
        events = []
        for level in levels:
            old = before.get(level.sku)
            reserved = old.reserved if old else 0
            if reserved > level.on_hand:
                raise InvalidInput(
                    "stock_below_reserved",
                    f"{level.sku}: {reserved} units are promised to exchanges.",
                    f"{level.sku}：已有 {reserved} 件被换货预留，库存不能更少。",
                    sku=level.sku,
                    reserved=reserved,
                )
            uow.stock.put(replace(level, reserved=reserved))
            events.append(
                Event(
                    "stock.loaded",
                    "stock",
                    level.sku,
                    now,
                    {
                        "family": level.family,
                        "unit_price_fen": level.unit_price_fen,
                        "on_hand": level.on_hand,
                        "reserved": reserved,
                        "on_hand_before": old.on_hand if old else None,
                        "unit_price_fen_before": old.unit_price_fen if old else None,
                    },
                )
            )
        uow.events.append(events)
        uow.commit()
    return len(levels)


def variants_of(svc: Services, skus: Sequence[str]) -> dict[str, list[StockLevel]]:
    """For each SKU with stock, what it can be exchanged for (the variants of its family);
    one query for the SKUs and one per family (an order has few)."""
    with svc.uow() as uow:
        own = {s.sku: s for s in uow.stock.get_many(skus)}
        families = {f: uow.stock.family(f) for f in sorted({s.family for s in own.values()})}
    return {sku: families[level.family] for sku, level in own.items()}
