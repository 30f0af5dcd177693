"""Departed buyers for the retention tests (services/retention.py): a buyer with personal
information copied into every place it goes (orders, returns, a visit, a courier company's
pickup order and its exchange journal, texts sent), whose account is then deleted; and the
SQL that finds any of it left anywhere in the database."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import Engine, LargeBinary, select

from doorstep.adapters.db import tables as t
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.carrier_order import Cargo, Party, PickupOrder, UnifiedOrder
from doorstep.domain.claim import ClaimKind
from doorstep.domain.dispute import Dispute, DisputeEvidence
from doorstep.domain.inspection import UnitResult
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.domain.pickup import ContactlessReview, DisputeOutcome, Handover, ReviewStatus
from doorstep.domain.returns import (
    Evidence,
    Inspection,
    InspectionResult,
    Reason,
    ReturnKind,
)
from doorstep.services import catalog, claims, identity, outbox, photos, pickup, returns
from doorstep.services.claims import FileClaim
from doorstep.services.context import RETURN_WAREHOUSE
from doorstep.services.ports import CarrierExchange
from doorstep.services.returns import LineRequest, OpenReturn

TOMORROW = date(2026, 11, 26)
PRICE = 19_900


@dataclass
class Leaver:
    """A buyer made for the test, and the personal strings that must not outlive erasure."""

    buyer_id: str
    username: str
    personal: tuple[str, ...]
    order_ids: list[str]
    return_ids: list[str]
    appointment_ids: list[str]
    # ``evidence``: photos that show the door (erased with the buyer) and photos of the
    # goods (kept as the transactions' facts), by id.
    door_photos: tuple[str, ...] = ()
    goods_photos: tuple[str, ...] = ()


def leaver(
    app: App,
    *,
    book: bool = True,
    depart: bool = True,
    claim: bool = False,
    evidence: bool = False,
) -> Leaver:
    """A buyer with an address book, two orders, two returns (one booked, with a courier
    company's pickup order for its visit and the company's exchange journal; ``book`` only
    on the seeded day, whose windows exist), the texts the
    outbox sent them; their account (named by their phone number, as many are) deleted
    unless ``depart`` is false (the returns not handed over are then withdrawn, the visit
    cancelled). ``evidence``: photos and words of theirs attached as the door, the buyer and
    a QC dispute leave them (``_evidence``)."""
    svc = app.services
    tag = uuid.uuid4().hex[:6]
    # Eight digits from the tag: the phone is the username too, and usernames are unique.
    name, phone, street = f"柳如烟{tag}", f"139{int(tag, 16):08d}", f"卫零路{tag}弄"
    email = f"ru{tag}@example.cn"
    home = Address(
        "310116", "上海市", "上海市", "金山区", f"{street} 3 号", name, phone, 30.741234, 121.341234
    )
    buyer_id, username = f"buyer-ret-{tag}", phone
    # Bought the day before: inside the return window whenever the test's clock now is.
    signed = svc.clock.now() - timedelta(days=1)
    catalog.upsert_buyers(svc, [Buyer(buyer_id, name, phone, addresses=[home], email=email)])
    identity.add_user(svc, f"U-{tag}", username, "retention-pass-1", "buyer", buyer_id)
    orders = [
        Order(
            f"RT-{tag}-{i}",
            buyer_id,
            "shop-cn-home",
            Channel.DOMESTIC,
            signed,
            home,
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, PRICE),),
            signed_at=signed,
        )
        for i in range(2)
    ]
    catalog.import_orders(svc, orders, None)
    ids = [
        returns.open_return(
            svc,
            OpenReturn(
                buyer_id, o.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
            ),
        ).return_id
        for o in orders
    ]
    visits = []
    if book:
        visit = pickup.book_pickup(
            svc, buyer_id, ids[0], pickup.SlotChoice("yto", TOMORROW, time(9))
        )
        visits.append(visit.appointment_id)
        _company_copy(app, visit.appointment_id, ids[0], home)
    if claim:
        _settled_claim(app, buyer_id, home, f"{street} 门口收到时已压坏，{name}")
    outbox.dispatch_pending(svc, svc.clock.now(), 500)
    if depart:
        identity.delete_user(svc, username)
    door: tuple[str, ...] = ()
    goods: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    if evidence:
        door, goods, words = _evidence(app, buyer_id, tag, ids, visits)
    return Leaver(
        buyer_id,
        username,
        (name, phone, phone[:3] + "****" + phone[-4:], street, email, *words),
        [o.order_id for o in orders],
        ids,
        visits,
        door,
        goods,
    )


def _jpeg(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (shade, 90, 40)).save(buf, "JPEG")
    return buf.getvalue()


def _evidence(
    app: App, buyer_id: str, tag: str, return_ids: list[str], visit_ids: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """What a contactless pickup, the buyer's evidence and a QC dispute leave, written into
    the records as their services write them (the returns were withdrawn at the deletion,
    so the flows themselves cannot run on them any more): the courier's photos of the parcel
    left at the door (one whole, one of a unit), the buyer's dispute of that handover (text,
    a photo of their doorstep), a photo the buyer uploaded and never attached, the buyer's
    photo of the goods on a return, and a decided QC dispute with the buyer's text and photo
    of the goods. Returns the photo ids that show the door, those of the goods, and the
    buyer's words."""
    svc = app.services
    now = svc.clock.now()

    def shot(owner: str, shade: int) -> str:
        return photos.upload_photo(svc, owner, _jpeg(shade)).photo_id

    at_door, unit_at_door = shot("courier-ret", 10), shot("courier-ret", 20)
    doorstep, unattached = shot(buyer_id, 30), shot(buyer_id, 40)
    goods, disputed_goods = shot(buyer_id, 50), shot(buyer_id, 60)
    qc = shot("wh-ret", 70)
    review_words = f"门口照片不对{tag}，放在门口鞋柜上"
    dispute_words = f"争议{tag}：寄回时完好无损"
    with svc.uow() as uow:
        got = {r.return_id: r for r in uow.returns.get_many(return_ids)}
        first, second = got[return_ids[0]], got[return_ids[1]]
        first.inspection = Inspection(
            InspectionResult.PASSED,
            {"appearance_ok": True},
            (at_door,),
            800,
            now,
            "courier-ret",
            units=(UnitResult("L1", "CN-LATEX-PILLOW", 1, {}, None, (unit_at_door,), ()),),
            contactless=True,
        )
        second.evidence.append(Evidence(f"E-{tag}", "photo", now, photo_id=goods))
        uow.returns.save(first)
        uow.returns.save(second)
        for visit in uow.appointments.get_many(visit_ids):
            visit.handover = Handover.DOOR
            visit.review = ContactlessReview(
                now,
                ReviewStatus.RESOLVED,
                now,
                "ops-1",
                review_words,
                (doorstep,),
                now,
                DisputeOutcome.COURIER_UPHELD,
                "photos show the parcel",
            )
            uow.appointments.save(visit)
        dispute = Dispute.open(
            second.return_id, buyer_id, now, timedelta(days=7), "C", "scratched", (qc,), 0
        )
        dispute.answer(DisputeEvidence(now, dispute_words, (disputed_goods,)))
        dispute.decide("ops-1", now, buyer_upheld=False, note="QC stands", clawback_fen=0)
        uow.disputes.add(dispute)
        uow.commit()
    # Without a visit to dispute, the doorstep photo was never attached: erased all the same.
    door = (at_door, unit_at_door, doorstep, unattached)
    words = (dispute_words, review_words) if visit_ids else (dispute_words,)
    return door, (goods, disputed_goods, qc), words


def _settled_claim(app: App, buyer_id: str, home: Address, text: str) -> None:
    """A damage claim on a third order, in the buyer's words, rejected (settled)."""
    svc = app.services
    signed = svc.clock.now() - timedelta(days=1)
    order = Order(
        f"RC-{buyer_id}",
        buyer_id,
        "shop-cn-home",
        Channel.DOMESTIC,
        signed,
        home,
        (OrderLine("L1", "CN-LATEX-PILLOW", 1, PRICE),),
        signed_at=signed,
    )
    catalog.import_orders(svc, [order], None)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 40, 40)).save(buf, "JPEG")
    shot = photos.upload_photo(svc, buyer_id, buf.getvalue()).photo_id
    filed = claims.file_claim(
        svc,
        FileClaim(
            buyer_id, order.order_id, ClaimKind.DAMAGE_ON_ARRIVAL, (("L1", 1),), text, (shot,)
        ),
    )
    claims.answer_claim(svc, filed.claim_id, accept=False, text="not damaged", shop_id=None)
    claims.decide_claim(svc, "ops-1", filed.claim_id, approve=False, note="no damage seen")


def _company_copy(app: App, appointment_id: str, return_id: str, home: Address) -> None:
    """What a courier company's pickup order and its journal hold of the buyer (written as
    carrier_orders.unified_order and the HTTP adapter's journal write them)."""
    sender = Party(
        home.contact_name,
        home.contact_phone,
        home.province,
        home.city,
        home.district,
        home.detail,
        home.adcode,
        raw_text=f"{home.contact_name} {home.contact_phone} {home.detail}",
    )
    number = f"DS-{appointment_id}"
    order = UnifiedOrder(
        number,
        "sandbox",
        "pickup",
        sender,
        RETURN_WAREHOUSE,
        Cargo("枕头", 1, 800, PRICE),
        TOMORROW,
        time(9),
        time(11),
        "http://127.0.0.1/carriers/sandbox/callbacks",
    )
    now = app.services.clock.now()
    with app.services.uow() as uow:
        uow.pickup_orders.add(
            PickupOrder(number, "sandbox", appointment_id, [return_id], order, now)
        )
        uow.commit()
    app.services.exchanges.record(
        CarrierExchange(
            "sandbox",
            number,
            "create",
            "out",
            200,
            "ok",
            12,
            now,
            {
                "sender": {
                    "name": home.contact_name,
                    "mobile": sender.mobile[:3] + "****" + sender.mobile[-4:],
                    "address": home.detail,
                }
            },
            {"waybill_no": "SF1234567890123"},
        )
    )


def after_years(clock: FixedClock, years: int, days: int = 2) -> None:
    """Move the clock on by ``years`` (of 365 days, plus the leap days between) and ``days``."""
    clock.advance(days=365 * years + 1 + days)


def found(engine: Engine, values: tuple[str, ...]) -> list[str]:
    """Every row of every table holding one of ``values``, as "table: value" (the photos'
    bytes left out: images, not text)."""
    out = []
    with engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            columns = [c for c in table.columns if not isinstance(c.type, LargeBinary)]
            for row in conn.execute(select(*columns)):
                text = " ".join(str(v) for v in row)
                out += [f"{table.name}: {v}" for v in values if v in text]
    return out


def snapshot(engine: Engine) -> dict[str, list[Any]]:
    """Every table's rows as text, sorted: two snapshots differ if anything was written."""
    with engine.connect() as conn:
        return {
            table.name: sorted(
                " ".join(str(v) for v in row)
                for row in conn.execute(
                    select(*[c for c in table.columns if not isinstance(c.type, LargeBinary)])
                )
            )
            for table in t.metadata.sorted_tables
        }
