"""Erasing a departed buyer's personal information once the retention period has passed.

A buyer whose last account was deleted is marked departed (``erasure._buyer_leaves``,
``Buyer.depart``); the worker's ``retention`` sweep weighs each departed buyer when its
``erase_due`` comes (architecture.md, "Retention and erasure"; the rule in
domain/retention.py):

- an account acts as the buyer again: they came back, nothing is erased (``came_back``);
- something of theirs is not settled (a return not closed, a visit not over, a claim or a
  payment owed to them, a transfer pending; erasure.py's checks): weighed again a day later;
- the retention period after their last completed transaction has not passed: weighed again
  when it has (a new order imported since moves that day on);
- otherwise erased, with the event ``buyer.erased`` (no personal data in it), in one
  transaction with the buyer's row locked.

Where the personal information was copied (grepped from the tables and documents):

- ``buyers.doc``: name, phone, e-mail, the address book (``Buyer.erase``);
- ``orders.doc``: the shipping address (contact name, phone, street, coordinates);
- ``returns.doc``: the pickup address, the buyer's evidence texts;
- ``appointments.doc``: the visit's address, the handover note (where a parcel is left);
- ``pickup_orders.doc``: the unified order's sender (name, mobile, street, raw text);
- ``claims.doc``, ``disputes.doc``: the buyer's evidence texts;
- ``routes.doc``: the coordinates of the visits' stops, kept to about a kilometre (the
  route's distances stay about right; the door is not found);
- ``events.data`` of the buyer's aggregates, ``deliveries.payload`` (the text's or
  e-mail's recipient and text), ``sent_messages`` (recipient, body), ``carrier_exchanges``
  (the requests to and answers from the courier companies): found by value (names, phones
  and their masked forms, streets, e-mail; ``PersonalValues``).

Not personal, kept: receipts (signed facts: the courier's name, SKUs, weight, no buyer
field), waybill numbers, the rest of claims and disputes, refunds, transfers, the customs
declarations and exchanges (ids, amounts, statuses, times). Known gaps: the photos (evidence, contactless
pickups) are kept as evidence of the transactions; the account events' usernames
(``user.*``) are not found from the buyer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from doorstep.domain.clock import local
from doorstep.domain.events import Event
from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.pickup import ACTIVE
from doorstep.domain.retention import (
    ERASED,
    PersonalValues,
    completed_at,
    erased_address,
    erased_party,
)
from doorstep.domain.returns import CANCELLABLE
from doorstep.domain.transfer import TransferStatus
from doorstep.services.context import Services
from doorstep.services.erasure import IN_FLIGHT, claims_owed
from doorstep.services.ports import BuyerFile, RetentionSummary

# Buyers weighed per pass: one transaction, its statements the same for one or for all.
PASS = 50
# A departed buyer with something not settled is looked at again after this.
RECHECK = timedelta(days=1)


def erase_due_buyers(svc: Services, limit: int = PASS) -> int:
    """The worker's sweep: weigh up to ``limit`` departed buyers whose ``erase_due`` has
    come, erase those due, and say how many were erased. Run twice, it erases once: the
    second finds the rows locked by the first, then erased (``erased_at``, no due left)."""
    now = svc.clock.now()
    with svc.uow() as uow:
        ids = uow.retention.due(now, limit)
    if not ids:
        return 0
    with svc.uow() as uow:
        # Read again under the buyers' locks: a sweep that waited behind another finds them
        # erased or moved on, an account or an order added meanwhile is seen.
        files = [
            f
            for f in uow.retention.files_for_update(ids)
            if f.buyer.erase_due is not None and f.buyer.erase_due <= now
        ]
        erased: dict[str, PersonalValues] = {}
        events = []
        for file in files:
            if _weigh(svc, file, now):
                erased[file.buyer.buyer_id] = personal_values(file)
                events.append(_erase(svc, file, now))
        uow.retention.store(files, erased)
        uow.events.append(events)
        uow.commit()
    return len(erased)


def summary(svc: Services) -> RetentionSummary:
    """The ops view: departed buyers due to be weighed now, buyers erased, the next due."""
    with svc.uow() as uow:
        return uow.retention.summary(svc.clock.now())


def describe(seen: RetentionSummary, years: int) -> tuple[str, str]:
    """The ops view in a sentence, in English and Chinese."""
    when = local(seen.next_due).strftime("%Y-%m-%d %H:%M") if seen.next_due else None
    en = (
        f"Personal information is kept {years} years after a departed buyer's last completed "
        f"transaction. {seen.due} due now, {seen.erased} erased"
        + (f", next due {when} (Shanghai)." if when else ", none waiting.")
    )
    zh = (
        f"已注销买家的个人信息在其最后一笔交易完成后保存 {years} 年。当前待处理 {seen.due} 位，"
        f"已删除 {seen.erased} 位"
        + (f"，下一位到期时间 {when}（北京时间）。" if when else "，暂无等待。")
    )
    return en, zh


def open_matters(file: BuyerFile) -> list[str]:
    """Ids of what of the buyer is not settled: returns on their way back unrefunded or not
    closed yet, visits not over, claims that may still pay them, transfers not settled
    (either way: money owed to them, or by them). Erasing them would leave nobody to pay,
    answer or collect from."""
    open_ids = [
        r.return_id for r in file.returns if r.status in IN_FLIGHT or r.status in CANCELLABLE
    ]
    open_ids += [a.appointment_id for a in file.appointments if a.status in ACTIVE]
    open_ids += claims_owed(file.claims)
    open_ids += [x.transfer_id for x in file.transfers if x.status is not TransferStatus.SUCCEEDED]
    open_ids += [x.return_id for x in file.exchanges if x.status is ExchangeStatus.RESERVED]
    return sorted(open_ids)


def last_completed(file: BuyerFile) -> datetime | None:
    """When the buyer's last transaction completed: the latest of an order's placing,
    customs release, signature or loss; a return's filing, decision, receipt or inspection;
    a refund's start or payment; an exchange's replacement shipped; a claim's filing,
    decision or payment; a transfer's start or settlement; a visit's completion."""
    moments: list[datetime | None] = []
    for o in file.orders:
        moments += [o.placed_at, o.customs_released_at, o.signed_at, o.lost_at]
    for r in file.returns:
        moments += [r.created_at, r.received_at]
        moments += [r.decision.decided_at if r.decision else None]
        moments += [r.inspection.inspected_at if r.inspection else None]
    for x in file.refunds:
        moments += [x.created_at, x.settled_at]
    for e in file.exchanges:
        moments += [e.created_at, e.shipped_at]
    for c in file.claims:
        moments += [c.filed_at, c.decided_at, c.compensated_at]
    for t in file.transfers:
        moments += [t.created_at, t.settled_at]
    for a in file.appointments:
        moments += [a.created_at, a.completed_at]
    return completed_at(moments)


def personal_values(file: BuyerFile) -> PersonalValues:
    """The buyer's personal strings as every copy of this file holds them (read before the
    erasure): the scrub of events, messages and exchanges looks for these."""
    addresses = [*file.buyer.addresses]
    addresses += [o.shipping_address for o in file.orders]
    addresses += [r.address for r in file.returns if r.address is not None]
    addresses += [a.address for a in file.appointments]
    senders = [p.order.sender for p in file.pickup_orders]
    return PersonalValues.of(
        names=[file.buyer.name, *(a.contact_name for a in addresses), *(s.name for s in senders)],
        phones=[
            file.buyer.phone,
            *(a.contact_phone for a in addresses),
            *(s.mobile for s in senders),
        ],
        others=[
            file.buyer.email,
            *(a.detail for a in addresses),
            *(s.detail for s in senders),
            *(s.raw_text for s in senders),
        ],
    )


def _weigh(svc: Services, file: BuyerFile, now: datetime) -> bool:
    """Whether ``file``'s buyer is to be erased now; otherwise its buyer is moved on (came
    back, or weighed again later)."""
    buyer = file.buyer
    if file.accounts:
        buyer.came_back()
        return False
    if open_matters(file):
        buyer.erase_due = now + RECHECK
        return False
    done = last_completed(file)
    due = svc.retention.due(done) if done is not None else now
    if due > now:
        buyer.erase_due = due
        return False
    return True


def _erase(svc: Services, file: BuyerFile, now: datetime) -> Event:
    buyer_id = file.buyer.buyer_id
    done = last_completed(file)
    file.buyer.erase(now)
    file.orders[:] = [
        replace(o, shipping_address=erased_address(o.shipping_address)) for o in file.orders
    ]
    for r in file.returns:
        r.address = erased_address(r.address) if r.address is not None else None
        r.evidence = [replace(e, text=ERASED) if e.text else e for e in r.evidence]
    for a in file.appointments:
        a.address = erased_address(a.address)
        a.handover_note = ERASED if a.handover_note else ""
    for p in file.pickup_orders:
        p.order = replace(p.order, sender=erased_party(p.order.sender))
    # The buyer's own words in claims and disputes: free text, personal whatever it says.
    for c in file.claims:
        c.evidence = [
            replace(e, text=ERASED) if e.text and e.source == "buyer" else e for e in c.evidence
        ]
    for d in file.disputes:
        d.evidence = [replace(e, text=ERASED) if e.text else e for e in d.evidence]
    # Counts and dates only: the event goes to the outbox and the audit trail.
    return Event(
        "buyer.erased",
        "buyer",
        buyer_id,
        now,
        {
            "completed_at": done.isoformat() if done else None,
            "retention_years": svc.retention.years,
            "orders": len(file.orders),
            "returns": len(file.returns),
            "visits": len(file.appointments),
            "pickup_orders": len(file.pickup_orders),
        },
    )
