"""A past for the demo: weeks of returns filed, picked up (some late, some failed) and refunded.

``seed_history`` replays each past day through the same services a real day goes through
(open, review, book, arrive, inspect, pick up, fail, receive, grade) with the clock moved to
that day, so every row, event, route and refund is what the application itself wrote, and the
console's trends (returns by reason, share inside the window, refund lead time, km per pickup)
have something to draw under ``make run``. It is deterministic (a seeded generator per day)
and runs once: a second call finds its first order and does nothing.

The past belongs to buyers of its own (no sign-in accounts), in districts the demo's own
couriers serve, so the demo buyers' trust and the sandbox courier company are left alone.
"""

from __future__ import annotations

import io
import logging
import random
import threading
import time as clock_time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import Engine, event

from doorstep.adapters.ids import FixedClock
from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.errors import DomainError
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.domain.pickup import FailureReason, SlotRef
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.services import catalog, courier, photos, pickup, returns, warehouse
from doorstep.services.context import Services
from doorstep.services.offering import SlotOffering

from .data import HEADPHONES, PILLOW, SNEAKERS, TOOTHBRUSH, TOWELS, WAREHOUSE_ID

log = logging.getLogger(__name__)
DAYS = 30
FIRST_ORDER = "HX-{:%Y%m%d}-0"
# Weights of each reason among the returns of a day, and of each failure among failed visits.
_REASONS = (
    (Reason.NO_REASON, 50),
    (Reason.QUALITY, 18),
    (Reason.NOT_AS_DESCRIBED, 12),
    (Reason.WRONG_ITEM, 10),
    (Reason.DAMAGED_ON_ARRIVAL, 10),
)
_FAILURES = (
    FailureReason.BUYER_UNREACHABLE,
    FailureReason.NO_ACCESS,
    FailureReason.TRAFFIC,
    FailureReason.TIME_CHANGED_BY_BUYER,
)
_PRODUCTS = ((PILLOW, 26_900), (HEADPHONES, 189_900), (SNEAKERS, 69_900), (TOWELS, 8_900),
             (TOOTHBRUSH, 39_900))  # fmt: skip


def _address(adcode: str, district: str, detail: str, name: str, phone: str,
             lat: float, lon: float) -> Address:  # fmt: skip
    return Address(adcode, "上海市", "上海市", district, detail, name, phone, lat, lon)


# Trusted buyers get their money at the door (express), the others after the warehouse grades.
BUYERS: tuple[Buyer, ...] = (
    Buyer("buyer-h01", "郭佳怡", "13900002001", 860, addresses=[_address(
        "310104", "徐汇区", "徐汇区天钥桥路123弄2号801室", "郭佳怡", "13900002001", 31.1830, 121.4400)]),
    Buyer("buyer-h02", "马志强", "13900002002", 640, addresses=[_address(
        "310106", "静安区", "静安区南京西路1788号12楼", "马志强", "13900002002", 31.2260, 121.4480)]),
    Buyer("buyer-h03", "何雨桐", "13900002003", 780, addresses=[_address(
        "310112", "闵行区", "闵行区七莘路3655弄9号203室", "何雨桐", "13900002003", 31.1200, 121.3700)]),
    Buyer("buyer-h04", "罗俊杰", "13900002004", 610, addresses=[_address(
        "310110", "杨浦区", "杨浦区国权路39号5号楼402室", "罗俊杰", "13900002004", 31.2880, 121.5050)]),
    Buyer("buyer-h05", "梁思琪", "13900002005", 820, addresses=[_address(
        "310115", "浦东新区", "浦东新区张杨路500号18楼", "梁思琪", "13900002005", 31.2300, 121.5250)]),
    Buyer("buyer-h06", "宋文博", "13900002006", 700, addresses=[_address(
        "310107", "普陀区", "普陀区长寿路600弄3号1101室", "宋文博", "13900002006", 31.2440, 121.4300)]),
)  # fmt: skip


@dataclass
class _Visit:
    return_id: str
    appointment_id: str
    courier_id: str
    code: str
    starts_at: datetime
    ends_at: datetime


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 130, 140)).save(buf, "JPEG")
    return buf.getvalue()


def seed_history(
    svc: Services,
    offering: SlotOffering,
    engine: Engine,
    now: datetime,
    days: int = DAYS,
    seed: int = 7,
) -> dict[str, int]:
    """Replay the ``days`` days before ``now`` through the services; returns how many returns
    were filed, picked up, failed at the door and refunded. A day already there (its first
    order exists) is skipped, so a second call adds nothing and an interrupted one resumes."""
    today = local(now).date()
    counts = dict.fromkeys(("returns", "picked_up", "failed", "refunded"), 0)
    with _quick_writes(engine):
        catalog.upsert_buyers(svc, BUYERS)
        photo = _jpeg()
        for offset in range(days, 0, -1):
            day = today - timedelta(days=offset)
            with svc.uow() as uow:
                if uow.orders.get(FIRST_ORDER.format(day)) is not None:
                    continue
            _one_day(svc, offering, day, today, random.Random(f"{seed}:{day}"), photo, counts)
    return counts


def start_in_background(
    svc: Services, offering: SlotOffering, engine: Engine, say: Callable[[str], None]
) -> threading.Thread:
    """Seed the past beside the server (a minute of small transactions on a busy machine)
    so that ``make run`` answers within seconds; the trends fill in when it is done."""

    def run() -> None:
        started = clock_time.perf_counter()
        try:
            counts = seed_history(svc, offering, engine, svc.clock.now())
        except Exception:  # a demo nicety must never take the server down
            log.exception("demo history failed")
            return
        say(f"demo history: {counts} in {clock_time.perf_counter() - started:.1f} s")

    thread = threading.Thread(target=run, name="demo-history", daemon=True)
    thread.start()
    return thread


@contextmanager
def _quick_writes(engine: Engine) -> Iterator[None]:
    """SQLite: a thousand small transactions in a few seconds instead of a minute. In WAL mode
    ``synchronous=NORMAL`` skips the sync at each commit and cannot corrupt the file (a power
    cut may lose the last commits, of a demo); one connection held open keeps every closing
    unit of work from checkpointing the log. PostgreSQL is left as it is."""
    if engine.dialect.name != "sqlite":
        yield
        return

    def normal(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    event.listen(engine, "connect", normal)
    keep = engine.connect()
    try:
        yield
    finally:
        keep.close()
        event.remove(engine, "connect", normal)


def _at(svc: Services, day: date, hour: int, minute: int = 0) -> Services:
    moment = datetime.combine(day, time(hour, minute), SHANGHAI)
    return replace(svc, clock=FixedClock(moment))


def _one_day(
    svc: Services,
    offering: SlotOffering,
    day: date,
    today: date,
    rng: random.Random,
    photo: bytes,
    counts: dict[str, int],
) -> None:
    morning = _at(svc, day, 8)
    orders = _orders(morning, day, rng.randint(2, 4))
    visits: list[_Visit] = []
    offered: dict[str, list[SlotRef]] = {}
    for i, order in enumerate(orders):
        s = _at(svc, day, 8, 5 + 3 * i)
        reason = rng.choices([r for r, _ in _REASONS], [w for _, w in _REASONS])[0]
        evidence = (
            ()
            if reason is Reason.NO_REASON
            else (photos.upload_photo(s, order.buyer_id, photo).photo_id,)
        )
        try:
            filed = returns.open_return(
                s,
                returns.OpenReturn(
                    order.buyer_id,
                    order.order_id,
                    ReturnKind.REFUND,
                    (returns.LineRequest("L1", 1, reason),),
                    photo_ids=evidence,
                ),
            )
        except DomainError:
            continue
        counts["returns"] += 1
        if filed.status is ReturnStatus.IN_REVIEW:
            filed = returns.review_return(
                _at(svc, day, 8, 40), filed.return_id, approve=True, reviewer="ops-001", note=""
            )
        if filed.status is ReturnStatus.APPROVED:
            visit = _book(_at(svc, day, 8, 45), offering, order, filed.return_id, rng, offered)
            if visit is not None:
                visits.append(visit)
    for v in sorted(visits, key=lambda v: v.starts_at):
        _visit(svc, v, rng, photo, counts)
    # One to three days later the warehouse receives what was picked up and grades it; what
    # would arrive today or later is still on its way.
    for v in visits:
        arrives = day + timedelta(days=rng.choice((1, 1, 2, 3)))
        if arrives >= today:
            continue
        s = _at(svc, arrives, rng.randint(9, 16), rng.randint(0, 59))
        try:
            if returns.get_return(s, v.return_id).status is not ReturnStatus.PICKED_UP:
                continue
            warehouse.receive(s, WAREHOUSE_ID, v.return_id)
            warehouse.grade(s, WAREHOUSE_ID, v.return_id, Grade.A, "")
        except DomainError:
            continue
    for v in visits:
        if returns.get_return(svc, v.return_id).refund_id:
            counts["refunded"] += 1


def _orders(svc: Services, day: date, count: int) -> list[Order]:
    """Orders signed two days before ``day`` (inside every return window), one item each."""
    signed = svc.clock.now() - timedelta(days=2)
    rng = random.Random(f"orders:{day}")
    made = []
    for i in range(count):
        buyer = rng.choice(BUYERS)
        sku, price = rng.choice(_PRODUCTS)
        made.append(
            Order(
                FIRST_ORDER.format(day).removesuffix("0") + str(i),
                buyer.buyer_id,
                "shop-cn-home",
                Channel.DOMESTIC,
                signed - timedelta(days=3),
                buyer.addresses[0],
                (OrderLine("L1", sku, 1, price),),
                signed_at=signed,
            )
        )
    catalog.import_orders(svc, made, None)
    return made


def _book(
    svc: Services,
    offering: SlotOffering,
    order: Order,
    return_id: str,
    rng: random.Random,
    offered: dict[str, list[SlotRef]],
) -> _Visit | None:
    """One of the first windows offered on the day itself, as most buyers choose. The offer
    is asked once per district and day (``offered``): it plans routes, the slow part."""
    today = local(svc.clock.now()).date()
    adcode = order.shipping_address.adcode
    if adcode not in offered:
        offered[adcode] = [
            o.slot
            for o in pickup.pickup_options(svc, offering, order.buyer_id, return_id).slots
            if o.slot.day == today
        ][:4]
    for slot in rng.sample(offered[adcode], len(offered[adcode])):
        try:
            appt = pickup.book_pickup(
                svc,
                order.buyer_id,
                return_id,
                pickup.SlotChoice(slot.carrier_id, slot.day, slot.window.start),
            )
        except DomainError:
            continue
        if appt.courier_id is None:
            return None
        return _Visit(
            return_id,
            appt.appointment_id,
            appt.courier_id,
            appt.pickup_code,
            appt.slot.starts_at,
            appt.slot.ends_at,
        )
    return None


def _visit(
    svc: Services, v: _Visit, rng: random.Random, photo: bytes, counts: dict[str, int]
) -> None:
    """The courier at the door: mostly inside the window, some late; one in ten fails."""
    length = (v.ends_at - v.starts_at).total_seconds() / 60
    late = rng.random() < 0.12
    minutes = length + rng.randint(5, 50) if late else rng.uniform(5, length - 5)
    s = replace(svc, clock=FixedClock(v.starts_at + timedelta(minutes=minutes)))
    try:
        if rng.random() < 0.1:
            courier.fail_attempt(s, v.courier_id, v.appointment_id, rng.choice(_FAILURES), "")
            counts["failed"] += 1
            return
        courier.arrive(s, v.courier_id, v.appointment_id)
        checks = courier.visit_checklists(s, v.courier_id, v.appointment_id)
        shot = photos.upload_photo(s, v.courier_id, photo).photo_id
        courier.inspect(
            s,
            v.courier_id,
            v.appointment_id,
            courier.InspectionInput(
                v.return_id,
                {k.key: True for c in checks if c.return_id == v.return_id for k in c.checks},
                (shot,),
                900,
            ),
        )
        courier.pick_up(s, v.courier_id, v.appointment_id, v.code)
        counts["picked_up"] += 1
    except DomainError:
        return
