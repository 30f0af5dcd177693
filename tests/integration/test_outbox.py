"""The outbox on SQLite and PostgreSQL: events reach buyers (texts, e-mails in the sink) and a
merchant's real loopback endpoint, signed, in order per return, at least once; failures are
retried with backoff, dead-lettered after the last try and re-driven; many dispatchers at
once deliver everything exactly as one would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from tests.conftest import SECRET, T0  # type: ignore[import-not-found]
from tests.integration.races import RACERS, TALLY  # type: ignore[import-not-found]
from tests.integration.webhook_receiver import Receiver, serve  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.domain.address import Address
from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.outbox import SMS, DeliveryStatus, event_id, merchant
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, outbox, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

SHOP = "shop-cn-home"
HOOK_SECRET = "merchant-hook-secret-" + "k" * 24
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
TOMORROW = date(2026, 11, 26)


def settings(url: str, receiver_url: str, **kw: object) -> Settings:
    """Test settings with the shop's webhook pointing at ``receiver_url``."""
    return Settings(
        env="test",
        database_url=url,
        secret_key=SECRET,
        merchant_webhooks={SHOP: {"url": receiver_url, "secret": HOOK_SECRET}},
        outbox_max_attempts=3,
        outbox_backoff_base_s=30,
        outbox_lease_s=60,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve(HOOK_SECRET, lambda: T0) as r:
        yield r


@pytest.fixture
def hooked(database_url: str, receiver: Receiver) -> Iterator[App]:
    app = build(settings(database_url, receiver.url), clock=FixedClock(T0), run_migrations=False)
    outbox.fan_out(app.services, T0 - timedelta(days=1), 10_000)  # the seed's own events
    with app.engine.begin() as conn:
        conn.execute(t.deliveries.delete())
    yield app
    app.engine.dispose()


def open_returns(app: App, buyers: list[str], per_buyer: int) -> list[str]:
    """``per_buyer`` returns of the shop for each buyer, through the services."""
    svc = app.services
    placed = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:6]
    orders = [
        Order(
            f"OUT-{batch}-{b}-{i}", b, SHOP, Channel.DOMESTIC, placed, HOME,
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),), signed_at=placed,
        )
        for b in buyers
        for i in range(per_buyer)
    ]  # fmt: skip
    catalog.import_orders(svc, orders, None)
    return [
        returns.open_return(
            svc,
            OpenReturn(
                o.buyer_id, o.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
            ),
        ).return_id
        for o in orders
    ]


def deliveries(app: App) -> list[tuple[int, str, str, int]]:
    c = t.deliveries.c
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(c.event_seq, c.receiver, c.status, c.attempts).order_by(c.event_seq, c.receiver)
        )
        return [(r.event_seq, r.receiver, r.status, r.attempts) for r in rows]


def merchant_rows(app: App) -> list[tuple[int, str, str, int]]:
    return [d for d in deliveries(app) if d[1] == merchant(SHOP)]


def test_events_reach_the_merchant_signed_and_the_buyer_in_their_language(
    hooked: App, receiver: Receiver
) -> None:
    svc = hooked.services
    with svc.uow() as uow:
        buyer = uow.buyers.get("buyer-001")
        assert buyer is not None
        buyer.email, buyer.lang = "lin@example.com", "en"
        uow.buyers.put(buyer)
        uow.commit()
    rids = open_returns(hooked, ["buyer-001"], 2)
    appt = pickup.book_pickup(
        svc, "buyer-001", rids[0], pickup.SlotChoice("yto", TOMORROW, time(13, 0))
    )

    sent = outbox.dispatch_pending(svc, T0, 500)

    rows = merchant_rows(hooked)
    assert rows and all(status == "delivered" and n == 1 for _, _, status, n in rows)
    # Every event of the two returns and the visit, once each, in the order they happened.
    assert receiver.event_ids == [event_id(seq) for seq, *_ in rows]
    assert receiver.refused == []
    kinds = {b["type"] for b in receiver.accepted}
    assert {"return.submitted", "appointment.booked"} <= kinds
    assert all(set(b["return_ids"]) <= set(rids) for b in receiver.accepted)
    booked = next(b for b in receiver.accepted if b["type"] == "appointment.booked")
    assert booked["aggregate"] == {"type": "appointment", "id": appt.appointment_id}
    # The buyer's text and e-mail about the booking, in English (the buyer's language).
    messages = outbox.sent_messages(svc, 50)
    sms = [m for m in messages if m.channel == "sms"]
    mail = [m for m in messages if m.channel == "email"]
    assert any("pickup is booked for 2026-11-26, 13:00-15:00" in m.body for m in sms), sms
    assert mail and all(m.recipient == "lin@example.com" for m in mail)
    assert any(m.subject == "[doorstep] Pickup booked" for m in mail)
    assert sent == len(deliveries(hooked))
    assert outbox.delivery_counts(svc)["delivered"] == sent
    # Nothing is sent twice once delivered.
    assert outbox.dispatch_pending(svc, T0 + timedelta(hours=1), 500) == 0
    assert len(receiver.event_ids) == len(rows)


def test_chinese_buyers_get_chinese_texts(hooked: App, receiver: Receiver) -> None:
    svc = hooked.services
    rid = open_returns(hooked, ["buyer-001"], 1)[0]
    pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(9, 0)))
    outbox.dispatch_pending(svc, T0, 500)
    sms = [m for m in outbox.sent_messages(svc, 50) if m.channel == "sms"]
    assert sms and all(m.recipient == "13800001001" for m in sms)
    assert any("上门取件已预约" in m.body and "2026-11-26" in m.body for m in sms), sms


def test_failures_back_off_dead_letter_and_redrive_in_order(
    hooked: App, receiver: Receiver
) -> None:
    svc = hooked.services
    open_returns(hooked, ["buyer-001"], 1)
    receiver.failing = True

    outbox.dispatch_pending(svc, T0, 500)
    first, *later = merchant_rows(hooked)
    assert first[2:] == ("retrying", 1)
    # Later events of the same return wait behind the failing one.
    assert later and all(row[2:] == ("pending", 0) for row in later)
    assert receiver.refused == ["failing"]
    head = outbox.deliveries(svc, DeliveryStatus.RETRYING, 10)[0]
    assert head.next_attempt_at == T0 + timedelta(seconds=30) and head.last_error == "HTTP 500"

    outbox.dispatch_pending(svc, T0 + timedelta(seconds=29), 500)  # not due yet
    assert len(receiver.refused) == 1
    outbox.dispatch_pending(svc, T0 + timedelta(seconds=30), 500)
    assert merchant_rows(hooked)[0][2:] == ("retrying", 2)
    again = outbox.deliveries(svc, DeliveryStatus.RETRYING, 10)[0]
    assert again.next_attempt_at == T0 + timedelta(seconds=90)  # 30 s, then 60 s

    # The third failure is the last (max 3): dead-lettered, and the next event goes ahead.
    outbox.dispatch_pending(svc, T0 + timedelta(seconds=90), 500)
    rows = merchant_rows(hooked)
    assert rows[0][2:] == ("dead", 3)
    assert rows[1][2:] == ("retrying", 1)
    with hooked.engine.connect() as conn:
        dead_events = conn.execute(
            select(func.count()).where(t.events.c.name == "outbox.dead_lettered")
        ).scalar_one()
    assert dead_events == 1

    receiver.failing = False
    dead_id = event_id(rows[0][0])
    with pytest.raises(Conflict):
        outbox.redrive(svc, event_id(rows[1][0]), merchant(SHOP), "ops-001")
    with pytest.raises(NotFound):
        outbox.redrive(svc, "evt_999999999", merchant(SHOP), "ops-001")
    with pytest.raises(NotFound):
        outbox.redrive(svc, "nonsense", merchant(SHOP), "ops-001")
    redriven = outbox.redrive(svc, dead_id, merchant(SHOP), "ops-001")
    assert redriven.status is DeliveryStatus.PENDING and redriven.attempts == 0

    later_on = T0 + timedelta(minutes=10)
    receiver.now = lambda: later_on  # the merchant's clock moves on too (replay window)
    outbox.dispatch_pending(svc, later_on, 500)
    assert all(status == "delivered" for _, _, status, _ in merchant_rows(hooked))
    # The re-driven event went first, then the ones behind it, in sequence.
    assert receiver.event_ids == [event_id(seq) for seq, *_ in merchant_rows(hooked)]


def test_a_wrong_secret_is_refused_by_the_receiver_and_retried(
    database_url: str, receiver: Receiver
) -> None:
    app = build(
        Settings(
            env="test",
            database_url=database_url,
            secret_key=SECRET,
            merchant_webhooks={
                SHOP: {"url": receiver.url, "secret": "not-the-merchants-" + "x" * 20}
            },
        ),
        clock=FixedClock(T0),
        run_migrations=False,
    )
    try:
        outbox.fan_out(app.services, T0, 10_000)
        open_returns(app, ["buyer-001"], 1)
        outbox.dispatch_pending(app.services, T0, 500)
        assert receiver.accepted == [] and receiver.refused == ["signature_invalid"]
        head = outbox.deliveries(app.services, DeliveryStatus.RETRYING, 1)[0]
        assert head.last_error == "HTTP 401" and head.receiver == merchant(SHOP)
    finally:
        app.engine.dispose()


def test_many_dispatchers_at_once_deliver_every_event_once_and_in_order(
    hooked: App, receiver: Receiver
) -> None:
    """24 dispatchers over the same pending events (fan-out included), then SQL invariants."""
    svc = hooked.services
    buyers = ["buyer-001", "buyer-002", "buyer-003", "buyer-004"]
    rids = open_returns(hooked, buyers, 3)
    barrier = threading.Barrier(RACERS)
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            barrier.wait()
            outbox.dispatch_pending(svc, T0, 500)
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(RACERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert errors == []

    with hooked.engine.connect() as conn:
        c, e = t.deliveries.c, t.events.c
        unpublished = conn.execute(
            select(func.count()).where(e.published_at.is_(None))
        ).scalar_one()
        not_delivered = conn.execute(
            select(func.count()).where(c.status != "delivered")
        ).scalar_one()
        # Each event about these returns has exactly one merchant delivery (and no more).
        about = conn.execute(
            select(func.count()).where(
                e.aggregate_type == "return_request", e.aggregate_id.in_(rids)
            )
        ).scalar_one()
        merchant_deliveries = conn.execute(
            select(func.count()).where(c.receiver == merchant(SHOP))
        ).scalar_one()
    violations = []
    if unpublished:
        violations.append(f"{unpublished} events never fanned out")
    if not_delivered:
        violations.append(f"{not_delivered} deliveries not delivered")
    if merchant_deliveries != about:
        violations.append(f"{merchant_deliveries} merchant deliveries for {about} events")
    expected = {event_id(seq) for seq, *_ in merchant_rows(hooked)}
    if receiver.unique_ids != expected:
        violations.append(f"lost: {sorted(expected - receiver.unique_ids)}")
    if len(receiver.event_ids) != len(expected):
        violations.append("an event was sent twice although no dispatcher died")
    # In order per return: each return's events reached the merchant in sequence order.
    per_return: dict[str, list[int]] = {}
    for body in receiver.accepted:
        for rid in body["return_ids"]:
            per_return.setdefault(rid, []).append(int(body["event_id"].removeprefix("evt_")))
    if any(seqs != sorted(seqs) for seqs in per_return.values()):
        violations.append(f"out of order: {per_return}")
    TALLY.races += 1
    TALLY.racers += RACERS
    TALLY.violations += len(violations)
    assert violations == []
    assert receiver.refused == []
    assert len(per_return) == len(rids)


def test_sms_go_to_the_sink_once_per_event(hooked: App) -> None:
    svc = hooked.services
    rid = open_returns(hooked, ["buyer-001"], 1)[0]
    pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(15, 0)))
    outbox.dispatch_pending(svc, T0, 500)
    sms_rows = [d for d in deliveries(hooked) if d[1] == SMS]
    assert sms_rows and all(status == "delivered" for _, _, status, _ in sms_rows)
    # A second dispatcher re-sending after a crash would reuse the message id: one row each.
    hooked_messenger = svc.messenger
    assert hooked_messenger is not None
    first = outbox.sent_messages(svc, 100)
    for m in first:
        if m.channel == "sms":
            assert hooked_messenger.send_sms(m.message_id, m.recipient, m.body).ok
    assert len(outbox.sent_messages(svc, 100)) == len(first)


KILLED_DISPATCHER = """
import sys
from datetime import datetime
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import build
from doorstep.services import outbox

now = datetime.fromisoformat(sys.argv[1])
app = build(clock=FixedClock(now), run_migrations=False)
outbox.dispatch_pending(app.services, now, 500)
"""


def test_a_dispatcher_killed_mid_batch_loses_nothing(
    hooked: App, receiver: Receiver, database_url: str
) -> None:
    """SIGKILL while a webhook is in flight: after the lease runs out a new dispatcher sends
    every event; the one in flight arrives twice and the receiver keeps it once."""
    rids = open_returns(hooked, ["buyer-001", "buyer-002", "buyer-003", "buyer-004"], 3)
    receiver.hold_after = 5  # five go through, the sixth hangs until the sender is dead
    env = {
        **os.environ,
        "DOORSTEP_ENV": "test",
        "DOORSTEP_DATABASE_URL": database_url,
        "DOORSTEP_SECRET_KEY": SECRET,
        "DOORSTEP_MERCHANT_WEBHOOKS": json.dumps(
            {SHOP: {"url": receiver.url, "secret": HOOK_SECRET}}
        ),
        "DOORSTEP_OUTBOX_LEASE_S": "60",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_DISPATCHER, T0.isoformat()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        held = receiver.held.wait(120)
        assert held, proc.stderr.read().decode() if proc.poll() is not None and proc.stderr else ""
        c = t.deliveries.c
        with hooked.engine.connect() as conn:
            leased = conn.execute(
                select(func.count()).where(c.lease_owner.is_not(None), c.status != "delivered")
            ).scalar_one()
            open_rows = conn.execute(
                select(func.count()).where(c.status != "delivered")
            ).scalar_one()
        assert leased >= 1 and open_rows > leased  # in the middle of a batch
    finally:
        proc.kill()  # SIGKILL: no clean-up of any kind
        proc.wait(30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    receiver.release.set()  # the held post completes: the merchant got it, unrecorded

    # A dispatcher started before the lease ran out leaves the dead one's rows alone.
    outbox.dispatch_pending(hooked.services, T0 + timedelta(seconds=30), 500)
    assert any(status != "delivered" for *_, status, _ in merchant_rows(hooked))

    restarted = T0 + timedelta(seconds=61)
    receiver.now = lambda: restarted
    outbox.dispatch_pending(hooked.services, restarted, 500)
    rows = merchant_rows(hooked)
    assert rows and all(status == "delivered" for *_, status, _ in rows)
    expected = {event_id(seq) for seq, *_ in rows}
    assert receiver.unique_ids == expected  # none lost
    assert len(receiver.event_ids) > len(expected)  # at least once: the held one came twice
    first_seen: dict[str, list[int]] = {}
    seen: set[str] = set()
    for body in receiver.accepted:
        if body["event_id"] in seen:
            continue
        seen.add(body["event_id"])
        for rid in body["return_ids"]:
            first_seen.setdefault(rid, []).append(int(body["event_id"].removeprefix("evt_")))
    assert set(first_seen) == set(rids)
    assert all(seqs == sorted(seqs) for seqs in first_seen.values())
