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
- ``appointments.doc``: the visit's address, the handover note (where a parcel is left),
  the buyer's text disputing a contactless handover;
- ``pickup_orders.doc``: the unified order's sender (name, mobile, street, raw text);
- ``claims.doc``, ``disputes.doc``: the buyer's evidence texts;
- ``routes.doc``: the coordinates of the visits' stops, kept to about a kilometre (the
  route's distances stay about right; the door is not found);
- ``events.data`` of the buyer's aggregates, ``deliveries.payload`` (the text's or
  e-mail's recipient and text), ``sent_messages`` (recipient, body), ``carrier_exchanges``
  (the requests to and answers from the courier companies): found by value (names, phones
  and their masked forms, streets, e-mail; ``PersonalValues``);
- ``events.data`` of the accounts that acted as the buyer (``user.deleted``,
  ``user.password_changed``, ``user.disabled``, ...: the username, often the phone
  number): found by the ``actor_id`` they name, the username erased. The accounts' rows
  themselves are deleted with the account (a row left means the buyer came back and is not
  erased), so no username or password hash is left in ``users``; the events never held the
  hash;
- ``photos``: see "Photos" below.

Photos, decided per kind (PIPL art. 47: what no law keeps goes; E-Commerce Law art. 31
keeps the transaction's facts). The images are already stripped of their metadata (GPS,
device) when uploaded (``photos.upload_photo``); what is left is what they show.

- Photos of the door, erased: the courier's photos of a contactless handover show the
  parcel where the buyer left it, at their door (its number) or the locker by their home,
  and the buyer's photos disputing that handover show their doorstep. They place the person
  and are no fact of what was returned once the handover is settled (the weight, the time
  and the photo count and digest on the signed receipt stay).
- Photos the buyer uploaded and attached to nothing: no transaction needs them; erased.
- Photos of the goods, kept: the buyer's photos on a return, a claim or a QC dispute, the
  courier's photos of an in-person inspection (the unit in hand), the warehouse's QC
  photos. They are what a refund, a claim or a dispute was decided on (accounting, the
  merchant's and the carrier's liability); the buyer's words beside them are erased.

An erased photo keeps its row (id, owner, digest, size, date: what the records and the
receipt's digest name) without its image (``PhotoRepository.erase``); it is served as
missing.

Not personal, kept: receipts (signed facts: the courier's name, SKUs, weight, no buyer
field), waybill numbers, the rest of claims and disputes (the decision, ops' notes, the QC
grade and note), refunds, transfers, the customs declarations and exchanges (ids, amounts,
statuses, times).
"""

from __future__ import annotations

from collections.abc import Sequence
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
        if erased:
            door, goods = photos_of([f for f in files if f.buyer.buyer_id in erased])
            uow.photos.erase(door, owners=sorted(erased), keep=goods)
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


def photos_of(files: Sequence[BuyerFile]) -> tuple[set[str], set[str]]:
    """The photos of these buyers' records that show their door, to be erased, and those of
    the goods, kept (see the module's "Photos").

    Door: the courier's photos of a contactless handover (the parcel where the buyer left
    it: their door, its number, or the locker by their home) and the buyer's own photos
    disputing one (their doorstep). Goods: the buyer's photos attached to a return, a claim
    or a QC dispute, the courier's photos of an in-person inspection (the unit in hand) and
    the warehouse's QC photos: what the refund, the claim or the dispute was decided on. A
    photo named as both is the door's."""
    door: set[str] = set()
    goods: set[str] = set()
    for file in files:
        for r in file.returns:
            goods |= {e.photo_id for e in r.evidence if e.photo_id}
            if r.quality_check is not None:
                goods |= set(r.quality_check.photo_ids)
            seen = r.inspection
            if seen is not None:
                shots = {*seen.photo_ids, *(p for u in seen.units for p in u.photo_ids)}
                (door if seen.contactless else goods).update(shots)
        for a in file.appointments:
            if a.review is not None:
                door |= set(a.review.dispute_photo_ids)
        for c in file.claims:
            goods |= {p for e in c.evidence for p in e.photo_ids}
        for d in file.disputes:
            goods |= {*d.qc_photo_ids, *(p for e in d.evidence for p in e.photo_ids)}
    return door, goods - door


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
        # What the buyer wrote disputing a contactless handover: their words, and often where
        # at their door the parcel was left. The outcome and ops' note stay.
        if a.review is not None and a.review.dispute_text:
            a.review.dispute_text = ERASED
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
