"""The outbox over the fakes: which events tell the buyer what, fan-out per receiver, order
per return, retries with backoff, dead letters and re-driving."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest
from tests.unit.services.fakes import FakeMessenger, World  # type: ignore[import-not-found]
from tests.unit.services.helpers import B1, B1_HOME, approved, booked, picked_up, sf  # type: ignore[import-not-found]

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.events import Event
from doorstep.domain.outbox import (
    EMAIL,
    SMS,
    DeliveryStatus,
    RetryRules,
    event_id,
    event_seq,
    merchant,
)
from doorstep.services import outbox, pickup
from doorstep.services.context import OutboxRules, WebhookEndpoint
from doorstep.services.notifications import notice_for
from doorstep.services.ports import SendResult

T = datetime(2026, 11, 25, 1, 0).astimezone()


@dataclass
class RecordingWebhooks:
    """A merchant endpoint that answers as told and remembers what it accepted."""

    fail: bool = False
    accepted: list[tuple[str, bytes]] = field(default_factory=list)
    calls: int = 0

    def post(self, url: str, secret: str, event_id: str, body: bytes, now: datetime) -> SendResult:
        self.calls += 1
        if self.fail:
            return SendResult(False, "HTTP 503")
        self.accepted.append((event_id, body))
        return SendResult(True)


def wire(world: World, hooks: RecordingWebhooks, max_attempts: int = 3) -> FakeMessenger:
    messenger = FakeMessenger(world.store, world.clock)
    world.svc = replace(
        world.svc,
        messenger=messenger,
        webhooks=hooks,
        outbox=OutboxRules(
            retry=RetryRules(max_attempts, timedelta(seconds=30), timedelta(minutes=5)),
            endpoints={"shop-test": WebhookEndpoint("https://shop.example/hooks", "s" * 32)},
        ),
    )
    return messenger


def test_a_journey_tells_the_buyer_each_moment_and_the_merchant_everything(world: World) -> None:
    hooks = RecordingWebhooks()
    wire(world, hooks)
    with world.svc.uow() as uow:
        buyer = uow.buyers.get(B1)
        assert buyer is not None
        uow.buyers.put(replace(buyer, email="lin@example.com"))
        uow.commit()
    request, _ = picked_up(world, buyer_id=B1, address=B1_HOME)
    now = world.clock.now()
    outbox.dispatch_pending(world.svc, now, 1000)

    texts = [m.body for m in world.store.sent if m.channel == "sms"]
    assert any("pickup is booked" in t for t in texts)
    assert any("has been picked up" in t for t in texts)
    assert any("Your refund of ¥" in t and "has been paid" in t for t in texts)
    assert {m.channel for m in world.store.sent} == {"sms", "email"}
    # The merchant heard every event of the return (and its visit and refund), in order.
    seqs = [event_seq(eid) for eid, _ in hooks.accepted]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    names = {e.name for e in world.store.events}
    assert {"return.submitted", "appointment.booked", "refund.succeeded"} <= names
    counts = outbox.delivery_counts(world.svc)
    assert counts["delivered"] > 0 and counts["pending"] == counts["retrying"] == 0
    assert request.return_id in hooks.accepted[0][1].decode()


def test_without_an_endpoint_or_gateway_nothing_is_queued(world: World) -> None:
    approved(world)
    assert outbox.dispatch_pending(world.svc, world.clock.now(), 100) == 0
    assert set(outbox.delivery_counts(world.svc).values()) == {0}


def test_failures_wait_dead_letter_and_redrive_keeping_the_order(world: World) -> None:
    hooks = RecordingWebhooks(fail=True)
    wire(world, hooks, max_attempts=2)
    approved(world)
    now = world.clock.now()
    outbox.dispatch_pending(world.svc, now, 100)
    assert hooks.calls == 1  # the rest of the return's events wait behind the first
    outbox.dispatch_pending(world.svc, now + timedelta(seconds=29), 100)
    assert hooks.calls == 1
    outbox.dispatch_pending(world.svc, now + timedelta(seconds=30), 100)
    dead = outbox.deliveries(world.svc, DeliveryStatus.DEAD, 10)
    assert len(dead) == 1 and dead[0].attempts == 2 and dead[0].last_error == "HTTP 503"
    assert world.store.events_named("outbox.dead_lettered")
    hooks.fail = False
    redriven = outbox.redrive(world.svc, event_id(dead[0].event_seq), dead[0].receiver, "ops-001")
    assert redriven.status is DeliveryStatus.PENDING
    assert world.store.events_named("outbox.redriven")[0].data["by"] == "ops-001"
    outbox.dispatch_pending(world.svc, now + timedelta(hours=1), 100)
    seqs = [event_seq(eid) for eid, _ in hooks.accepted]
    assert seqs[0] == dead[0].event_seq and seqs == sorted(seqs)
    with pytest.raises(Conflict):
        outbox.redrive(world.svc, event_id(dead[0].event_seq), dead[0].receiver, "ops-001")
    with pytest.raises(NotFound):
        outbox.redrive(world.svc, "evt_x", merchant("shop-test"), "ops-001")


def test_a_down_text_gateway_does_not_hold_up_the_merchant(world: World) -> None:
    hooks = RecordingWebhooks()
    messenger = wire(world, hooks)
    messenger.down = True
    request = approved(world, buyer_id=B1, address=B1_HOME)
    pickup.book_pickup(world.svc, B1, request.return_id, sf(10))
    outbox.dispatch_pending(world.svc, world.clock.now(), 100)
    assert outbox.deliveries(world.svc, DeliveryStatus.RETRYING, 10)[0].receiver == SMS
    assert hooks.accepted  # the webhook went out regardless


def _event(name: str, **data: object) -> Event:
    return Event(name, "appointment", "A1", T, data)


@pytest.mark.parametrize(
    ("event", "subject"),
    [
        (_event("appointment.booked", day="2026-11-26", window="09:00-11:00"), "Pickup booked"),
        (_event("appointment.courier_assigned", courier_id="c"), "Courier assigned"),
        (
            _event("appointment.eta_updated", eta="2026-11-26T02:10:00+00:00", previous="x"),
            "Arrival time changed",
        ),
        (
            _event("appointment.rescheduled", reason="disruption:D1", day="d", window="w"),
            "Pickup moved",
        ),
        (_event("appointment.completed", courier_id="c"), "Parcel picked up"),
        (Event("refund.succeeded", "refund", "F1", T, {"amount_fen": 12345}), "Refund paid"),
    ],
)
def test_the_six_moments_are_notices(event: Event, subject: str) -> None:
    notice = notice_for(event)
    assert notice is not None and notice.subject == subject


@pytest.mark.parametrize(
    "event",
    [
        _event("appointment.rescheduled", reason="buyer_request", day="d", window="w"),
        _event("appointment.eta_updated", eta="not a time", previous="x"),
        _event("appointment.eta_updated", eta="2026-11-26T10:00:00", previous="x"),  # naive
        _event("appointment.eta_updated", eta="2026-11-26T02:10:00+00:00", previous=None),
        _event("appointment.attempt_failed", reason="no_one_home"),
        Event("refund.succeeded", "refund", "F1", T, {}),
        Event("return.submitted", "return_request", "R1", T, {}),
    ],
)
def test_other_events_stay_on_the_timeline(event: Event) -> None:
    assert notice_for(event) is None


def test_eta_is_told_on_the_shanghai_clock() -> None:
    notice = notice_for(
        _event("appointment.eta_updated", eta="2026-11-26T02:10:00+00:00", previous="x")
    )
    assert notice is not None and notice.values == {"time": "2026-11-26 10:10"}


def test_backoff_doubles_up_to_the_cap_then_dead_letters() -> None:
    rules = RetryRules(5, timedelta(seconds=30), timedelta(seconds=100))
    waits = [rules.after_failure(n, T) for n in range(1, 6)]
    assert waits[:4] == [T + timedelta(seconds=s) for s in (30, 60, 100, 100)]
    assert waits[4] is None
    with pytest.raises(ValueError):
        RetryRules(0)
    with pytest.raises(ValueError):
        RetryRules(3, timedelta(seconds=10), timedelta(seconds=5))


def test_public_event_ids_round_trip_and_refuse_junk() -> None:
    assert event_seq(event_id(42)) == 42
    for junk in ("42", "evt_", "evt_-1", "evt_٤", "evt_" + "9" * 19, "evt_1 "):
        assert event_seq(junk) is None
    assert EMAIL != SMS and merchant("s") == "merchant:s"


def test_only_a_moved_estimate_is_texted(world: World) -> None:
    _, appt = booked(world)
    courier_id = appt.courier_id or "yto-02"
    had = appt.eta  # the estimate given at booking, if the route gave one
    first = world.clock.now() + timedelta(hours=5)
    appt.take_events()
    appt.plan(courier_id, 0, first, world.clock.now())
    appt.plan(courier_id, 0, first + timedelta(minutes=9), world.clock.now())  # drift: quiet
    appt.plan(courier_id, 0, first + timedelta(minutes=25), world.clock.now())
    etas = [e for e in appt.take_events() if e.name == "appointment.eta_updated"]
    told = [notice_for(e) for e in etas]
    assert len(etas) == 2
    assert (told[0] is None) == (had is None)  # a first estimate is not news
    # The estimate held is the last one planned, so a move is measured from the drifted one.
    drifted = first + timedelta(minutes=9)
    assert told[1] is not None and etas[1].data["previous"] == drifted.isoformat()


def test_events_of_other_aggregates_reach_the_merchant_by_their_return(world: World) -> None:
    hooks = RecordingWebhooks()
    wire(world, hooks)
    request = approved(world)
    with world.svc.uow() as uow:
        uow.events.append(
            [
                Event("dispute.opened", "dispute", "D-1", T, {"return_id": request.return_id}),
                Event("route.stop_inserted", "route", "R-1", T, {"appointment_id": "A-x"}),
            ]
        )
        uow.commit()
    outbox.dispatch_pending(world.svc, world.clock.now(), 100)
    kinds = [json.loads(body)["type"] for _, body in hooks.accepted]
    assert "dispute.opened" in kinds and "route.stop_inserted" not in kinds
