"""A pickup order at a courier company: whatever order its events come in, it never goes back."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.adapters.carriers.redact import redact
from doorstep.adapters.carriers.sandbox_mapping import (
    answered,
    update_from_callback,
    updates_from_snapshot,
)
from doorstep.adapters.db.codec import from_doc, to_doc
from doorstep.domain.carrier_order import (
    RANK,
    Answered,
    Cargo,
    CarrierStatus,
    CarrierUpdate,
    CourierInfo,
    Party,
    PendingOp,
    PickupOrder,
    UnifiedOrder,
    UpdateKind,
)
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.pickup import FailureReason

T = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
HOME = Party("林晓雯", "13800001111", "上海市", "上海市", "奉贤区", "南桥镇88号", "310120")
WH = Party("仓", "02161234567", "上海市", "上海市", "浦东新区", "华京路8号", "310115")


def _order() -> PickupOrder:
    order = UnifiedOrder(
        "A-1-1", "sbx", "return_pickup", HOME, WH, Cargo("枕头", 1, 500, 4900),
        date(2026, 11, 26), time(9), time(11), "http://127.0.0.1/carriers/sbx/callbacks",
    )  # fmt: skip
    po = PickupOrder.intend(order, "A-1", ["R-1"], T)
    po.created("SBX1", T)
    return po


def _update(kind: UpdateKind, n: int = 0) -> CarrierUpdate:
    return CarrierUpdate(
        f"EV{n}-{kind.value}",
        "A-1-1",
        kind,
        T + timedelta(minutes=n),
        courier=CourierInfo("张师傅", "138****5678"),
        waybill_no="SBX2611260001",
        failure_reason=FailureReason.WEATHER,
        day=date(2026, 11, 26),
        start=time(13),
        end=time(15),
        actual_weight_g=900,
        freight_fen=1200,
    )


@given(st.lists(st.sampled_from(list(UpdateKind)), max_size=20))
def test_status_never_goes_back_and_each_stage_is_recorded_once(kinds: list[UpdateKind]) -> None:
    po = _order()
    before = po.status
    for n, kind in enumerate(kinds):
        po.apply(_update(kind, n), T)
        if before in RANK and po.status in RANK:
            assert RANK[po.status] >= RANK[before]
        if before in (CarrierStatus.FAILED, CarrierStatus.CANCELLED, CarrierStatus.DELIVERED):
            assert po.status is before  # an ended order stays ended
        before = po.status
    names = Counter(e.name for e in po.take_events() if e.name != "carrier_order.late_update")
    assert all(c == 1 for name, c in names.items() if name != "carrier_order.rescheduled")


def test_late_event_changes_nothing_but_is_recorded() -> None:
    po = _order()
    po.apply(_update(UpdateKind.PICKED_UP), T)
    po.take_events()
    assert po.apply(_update(UpdateKind.COURIER_ASSIGNED, 1), T) is False
    assert po.apply(_update(UpdateKind.PICKUP_FAILED, 2), T) is False
    assert po.status is CarrierStatus.PICKED_UP and po.late_updates == 2
    assert [e.name for e in po.take_events()] == ["carrier_order.late_update"] * 2


def test_pickup_takes_only_the_returns_still_waiting_and_names_the_skipped() -> None:
    order = _order().order
    po = PickupOrder.intend(order, "A-1", ["R-1", "R-2", "R-3"], T)
    po.created("SBX1", T)
    po.take_events()
    # R-2 was withdrawn while the company's courier was on the way.
    assert po.apply(_update(UpdateKind.PICKED_UP), T, waiting=["R-3", "R-1"]) is True
    assert po.return_ids == ["R-1", "R-3"]
    [event] = po.take_events()
    assert event.name == "carrier_order.picked_up"
    assert event.data["return_ids"] == ["R-1", "R-3"] and event.data["skipped"] == ["R-2"]
    # Later stages and repeats follow the parcel; they never narrow it again.
    assert po.apply(_update(UpdateKind.IN_TRANSIT, 1), T, waiting=[]) is True
    assert po.apply(_update(UpdateKind.PICKED_UP, 2), T, waiting=[]) is False
    assert po.return_ids == ["R-1", "R-3"]


def test_a_skipped_stage_still_takes_only_the_waiting_returns() -> None:
    po = PickupOrder.intend(_order().order, "A-1", ["R-1", "R-2"], T)
    po.created("SBX1", T)
    po.take_events()
    po.apply(_update(UpdateKind.DELIVERED), T, waiting=["R-2"])  # pickup's callback was lost
    assert po.return_ids == ["R-2"]
    [event] = po.take_events()
    assert event.name == "carrier_order.delivered" and event.data["skipped"] == ["R-1"]


def test_cancel_only_before_pickup() -> None:
    po = _order()
    po.apply(_update(UpdateKind.PICKED_UP), T)
    with pytest.raises(Conflict, match="carrier_order_not_cancellable"):
        po.request_cancel(T, "buyer_cancelled")
    fresh = _order()
    assert fresh.request_cancel(T, "buyer_cancelled") is True
    assert fresh.pending_op is PendingOp.CANCEL


def test_cancel_before_the_create_answer_cancels_at_the_company_afterwards() -> None:
    order = _order().order
    po = PickupOrder.intend(order, "A-1", ["R-1"], T)
    assert po.request_cancel(T, "buyer_cancelled") is False  # never sent: nothing to tell
    po.created("SBX9", T)  # ... but the create was on its way and the company took it
    assert po.pending_op is PendingOp.CANCEL and po.status is CarrierStatus.CANCELLED


def test_a_move_made_while_a_send_was_on_its_way_is_still_owed() -> None:
    # A create goes out with 9-11; a typhoon moves the visit to 13-15 and its own send
    # repeats the create with 13-15, which the company answers with the order it kept (9-11):
    # whichever answer comes first, the window is sent again.
    po = PickupOrder.intend(_order().order, "A-1", ["R-1"], T)
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    assert po.pending_op is PendingOp.CREATE  # the create still carries it, if not yet sent
    po.created("SBX1", T)
    assert po.pending_op is PendingOp.RESCHEDULE and po.next_send_at == T
    assert not po.moved_while_creating
    po.created("SBX1", T)  # the other create's answer changes nothing
    assert po.pending_op is PendingOp.RESCHEDULE
    went_out = po.order
    po.request_reschedule(date(2026, 11, 26), time(15), time(17), T)
    po.sent(T, sent=went_out)
    assert po.pending_op is PendingOp.RESCHEDULE
    po.sent(T, sent=po.order)  # the company took the latest window: nothing left to say
    assert po.pending_op is None and po.next_send_at is None


def test_a_stage_needs_its_facts() -> None:
    with pytest.raises(InvalidInput, match="waybill"):
        CarrierUpdate("e", "A-1-1", UpdateKind.PICKED_UP, T)
    with pytest.raises(InvalidInput, match="reason"):
        CarrierUpdate("e", "A-1-1", UpdateKind.PICKUP_FAILED, T)
    with pytest.raises(InvalidInput, match="settlement"):
        CarrierUpdate("e", "A-1-1", UpdateKind.SETTLED, T, actual_weight_g=0, freight_fen=1)


def test_callback_mapping_refuses_what_it_cannot_read() -> None:
    for body in (b"", b"[]", b'{"order": {}}', b'{"eventType": "X", "order": {"outOrderNo": "a"}}'):
        with pytest.raises(InvalidInput):
            update_from_callback(body)
    naive = b'{"eventId":"e","eventType":"ACCEPTED","occurredAt":"2026-11-25T09:00:00","order":{"outOrderNo":"A-1-1"}}'
    with pytest.raises(InvalidInput, match="offset"):
        update_from_callback(naive)
    # Signed bodies from the company, each of which once reached the database (HTTP 500).
    ancient = naive.replace(b"2026-11-25T09:00:00", b"0001-01-01T00:00:00+08:00")
    with pytest.raises(InvalidInput, match="out of range"):
        update_from_callback(ancient)
    moved = b'{"eventId":"e","eventType":"RESCHEDULED","occurredAt":"2026-11-25T09:00:00+08:00","order":{"outOrderNo":"A-1-1","pickupDate":"%s","pickupStart":"%s","pickupEnd":"13:00"}}'
    with pytest.raises(InvalidInput, match="no offset"):
        update_from_callback(moved % (b"2026-11-26", b"11:00+08:00"))
    with pytest.raises(InvalidInput, match="out of range"):
        update_from_callback(moved % (b"1999-12-31", b"11:00"))
    with pytest.raises(InvalidInput, match="not after"):
        update_from_callback(moved % (b"2026-11-26", b"14:00"))
    fine = update_from_callback(moved % (b"2026-11-26", b"11:00"))
    assert (fine.day, fine.start, fine.end) == (date(2026, 11, 26), time(11), time(13))
    assert fine.company_at == fine.occurred_at  # a callback is dated by the company


def test_the_companys_times_come_from_its_answers_and_snapshots_only() -> None:
    order = {
        "outOrderNo": "A-1-1",
        "status": "ACCEPTED",
        "pickupDate": "2026-11-26",
        "pickupStart": "13:00",
        "pickupEnd": "15:00",
        "updatedAt": "2026-11-25T09:05:00+08:00",
    }
    company_at = datetime(2026, 11, 25, 1, 5, tzinfo=UTC)
    assert answered(order) == Answered(company_at, date(2026, 11, 26), time(13), time(15))
    # A poll is dated by us (occurred_at) and by the company's last change (company_at).
    [_, moved] = updates_from_snapshot(order, T)
    assert (moved.kind, moved.occurred_at, moved.company_at) == (
        UpdateKind.RESCHEDULED,
        T,
        company_at,
    )
    # What an answer does not give, or gives unreadably, is left out, never guessed.
    undated = {k: v for k, v in order.items() if k != "updatedAt"}
    assert answered(undated).company_at is None
    assert updates_from_snapshot(undated, T)[1].company_at is None
    assert answered(order | {"updatedAt": "yesterday"}).company_at is None
    assert answered(order | {"pickupEnd": None}) == Answered(company_at)
    assert answered(None) == Answered()


def test_an_order_stored_before_session_12_is_judged_without_its_doorstep_time() -> None:
    # Such documents kept ``last_sent_at``, doorstep's time of the company's answer: it is
    # not the company's clock, so it is dropped, and an older window of ours is judged as
    # for a company that dates nothing (not followed, ours sent again).
    po = PickupOrder.intend(_order().order, "A-1", ["R-1"], T)
    po.created("SBX1", T, sent=po.order)
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    po.sent(T, sent=po.order)
    doc = to_doc(po)
    del doc["company_took_at"]
    doc["last_sent_at"] = (T + timedelta(minutes=5)).isoformat()
    old = from_doc(PickupOrder, doc)
    assert old.company_took_at is None and old.sent_windows == po.sent_windows
    assert old.apply(_moved_to(9, 2, timedelta(minutes=-10)), T) is False
    assert (old.order.start, old.pending_op) == (time(13), PendingOp.RESCHEDULE)


def test_redaction_masks_phones_and_secrets() -> None:
    masked = redact(
        {
            "sender": {"mobile": "13800001111", "address": "call 13912345678 at the gate"},
            "X-Api-Key": "abc",
            "list": [{"phone": "02161234567"}],
        }
    )
    assert masked["sender"]["mobile"] == "138****1111"
    assert masked["sender"]["address"] == "call 139****5678 at the gate"
    assert masked["X-Api-Key"] == "***"
    assert masked["list"][0]["phone"] == "021****4567"


# --- moves in flight (session 10) ----------------------------------------------------------


def _moved_to(hour: int, n: int, skew: timedelta | None = None) -> CarrierUpdate:
    """The company's move to ``hour`` made at minute ``n``; ``skew``: its clock's offset
    from ours, when the event is dated by the company (None: it is not)."""
    at = T + timedelta(minutes=n)
    return CarrierUpdate(
        f"EV-move-{n}",
        "A-1-1",
        UpdateKind.RESCHEDULED,
        at if skew is None else at + skew,
        day=date(2026, 11, 26),
        start=time(hour),
        end=time(hour + 2),
        company_at=None if skew is None else at + skew,
    )


def _held(hour: int, n: int, skew: timedelta) -> Answered:
    """The company's answer: it holds ``hour`` since minute ``n`` on its clock."""
    return Answered(T + timedelta(minutes=n) + skew, date(2026, 11, 26), time(hour), time(hour + 2))


SKEWS = [timedelta(minutes=-10), timedelta(0), timedelta(minutes=10)]


def test_one_send_at_a_time_per_order() -> None:
    po = _order()
    assert po.lease_send(T, T + timedelta(minutes=5)) is False  # nothing to send
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    assert po.lease_send(T, T + timedelta(minutes=5)) is True
    # A second sender waits for the first (who sends the newest after its answer) ...
    assert po.lease_send(T + timedelta(minutes=1), T + timedelta(minutes=6)) is False
    # ... unless the first died: its lease runs out.
    assert po.lease_send(T + timedelta(minutes=5), T + timedelta(minutes=10)) is True
    po.end_send(T + timedelta(minutes=10))
    assert po.send_lease_until is None


def test_a_sender_whose_lease_ran_out_leaves_the_next_senders_alone() -> None:
    po = _order()
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    first, second = T + timedelta(minutes=5), T + timedelta(minutes=10)
    assert po.lease_send(T, first) is True
    assert po.lease_send(first, second) is True  # the first looked dead
    po.end_send(first)  # ... but its answer came after all
    assert po.send_lease_until == second
    assert po.lease_send(first + timedelta(minutes=1), second) is False
    po.end_send(second)
    assert po.send_lease_until is None


def test_an_echo_of_an_older_window_is_not_followed_while_a_newer_is_wanted() -> None:
    po = _order()  # created at 9-11
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    went_out = po.order
    po.request_reschedule(date(2026, 11, 26), time(15), time(17), T)
    po.sent(T, sent=went_out)  # the company took 13-15; 15-17 is still owed
    po.take_events()
    assert po.apply(_moved_to(13, 1), T) is False  # its echo of 13-15
    assert (po.order.start, po.pending_op) == (time(15), PendingOp.RESCHEDULE)
    [event] = po.take_events()
    assert event.name == "carrier_order.move_superseded"
    assert event.data["cause"] == "newer_window_wanted" and event.data["kept"].endswith(
        "15:00-17:00"
    )


@pytest.mark.parametrize("skew", SKEWS)
def test_an_echo_made_before_the_newest_was_taken_is_not_followed(skew: timedelta) -> None:
    po = PickupOrder.intend(_order().order, "A-1", ["R-1"], T)
    po.created("SBX1", T, sent=po.order, answered=_held(9, 0, skew))  # the company took 9-11
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    # the company took 13-15 at minute 5 of its clock; we recorded its answer at minute 6
    po.sent(T + timedelta(minutes=6), sent=po.order, answered=_held(13, 5, skew))
    # Its echo of a 9-11 move, made at minute 2, comes late (callbacks are reordered).
    assert po.apply(_moved_to(9, 2, skew), T + timedelta(minutes=7)) is False
    assert (po.order.start, po.pending_op) == (time(13), None)
    assert po.take_events()[-1].data["cause"] == "older_window_echoed"
    # The company's courier agreeing 9-11 with the buyer afterwards is followed.
    assert po.apply(_moved_to(9, 7, skew), T + timedelta(minutes=7)) is True
    assert po.order.start == time(9)


@pytest.mark.parametrize("skew", SKEWS)
def test_a_company_move_our_send_overtook_is_not_followed(skew: timedelta) -> None:
    po = PickupOrder.intend(_order().order, "A-1", ["R-1"], T)
    po.created("SBX1", T, sent=po.order, answered=_held(9, 0, skew))
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    po.sent(T + timedelta(minutes=6), sent=po.order, answered=_held(13, 5, skew))
    # The company moved the order to 15-17 at minute 3, before it took ours: it holds ours.
    assert po.apply(_moved_to(15, 3, skew), T + timedelta(minutes=7)) is False
    assert po.take_events()[-1].data["cause"] == "overtaken_by_our_send"
    assert po.apply(_moved_to(15, 8, skew), T + timedelta(minutes=7)) is True


def test_an_older_window_of_ours_undated_is_not_followed_and_ours_is_sent_again() -> None:
    # A company whose answers give no time: a late echo and a move back to an older
    # window of ours look alike, and no clock of ours may tell them apart.
    po = PickupOrder.intend(_order().order, "A-1", ["R-1"], T)
    po.created("SBX1", T, sent=po.order)
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    po.sent(T + timedelta(minutes=5), sent=po.order, answered=Answered())
    assert po.apply(_moved_to(9, 2), T + timedelta(minutes=6)) is False
    assert (po.order.start, po.pending_op) == (time(13), PendingOp.RESCHEDULE)
    assert po.next_send_at == T + timedelta(minutes=6)
    assert po.take_events()[-1].data["cause"] == "older_window_undated"
    # A window the company never had from us is its own move: followed, as before.
    po.sent(T + timedelta(minutes=7), sent=po.order, answered=Answered())
    assert po.apply(_moved_to(15, 8), T + timedelta(minutes=8)) is True


def test_a_move_dated_as_our_send_is_not_followed_and_ours_is_sent_again() -> None:
    # A clock of whole seconds: the company's move and its taking ours bear one time.
    po = PickupOrder.intend(_order().order, "A-1", ["R-1"], T)
    po.created("SBX1", T, sent=po.order, answered=_held(9, 0, timedelta(0)))
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    po.sent(T, sent=po.order, answered=_held(13, 5, timedelta(0)))
    assert po.apply(_moved_to(15, 5, timedelta(0)), T) is False
    assert (po.order.start, po.pending_op) == (time(13), PendingOp.RESCHEDULE)
    assert po.take_events()[-1].data["cause"] == "dated_as_our_send"
    # The echo of our newest send itself, late after a company move we followed, is ours.
    po.sent(T, sent=po.order, answered=_held(13, 6, timedelta(0)))
    assert po.apply(_moved_to(11, 7, timedelta(0)), T) is True
    echo = replace(_moved_to(13, 6, timedelta(0)), event_id="EV-echo")
    assert po.apply(echo, T) is False and po.pending_op is None
    assert po.take_events()[-1].data["cause"] == "older_window_echoed"


def test_an_answer_naming_another_window_dates_nothing_of_ours() -> None:
    # A repeated create is answered with the order the company kept (the first create's
    # 9-11, or its own move): its time is not the time it took our window.
    po = PickupOrder.intend(_order().order, "A-1", ["R-1"], T)
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    po.created("SBX1", T, sent=po.order, answered=_held(9, 5, timedelta(0)))
    assert po.company_took_at is None
    po.sent(T, sent=po.order, answered=_held(13, 6, timedelta(0)))
    assert po.company_took_at == T + timedelta(minutes=6)


def test_a_move_while_creating_survives_the_companys_event_overtaking_the_create_answer() -> None:
    # The create goes out with 9-11; a typhoon moves the visit to 13-15 while it is on its
    # way; the company's ACCEPTED callback comes before the create's answer. The move was
    # lost: the callback cleared the create and nothing was left to send.
    po = PickupOrder.intend(_order().order, "A-1", ["R-1"], T)
    po.request_reschedule(date(2026, 11, 26), time(13), time(15), T)
    accepted = CarrierUpdate("EV1-accepted", "A-1-1", UpdateKind.ACCEPTED, T)
    assert po.apply(accepted, T) is True
    assert po.pending_op is PendingOp.RESCHEDULE and po.next_send_at == T
    po.created("SBX1", T)  # the create's answer, afterwards
    assert po.pending_op is PendingOp.RESCHEDULE and not po.moved_while_creating


def _cancelled_by_us(return_ids: tuple[str, ...] = ("R-1",)) -> PickupOrder:
    po = PickupOrder.intend(_order().order, "A-1", list(return_ids), T)
    po.created("SBX1", T)
    po.apply(_update(UpdateKind.COURIER_ASSIGNED), T)
    assert po.request_cancel(T, "buyer_cancelled") is True
    po.take_events()
    return po


def test_a_pickup_reported_after_our_cancel_overtook_it_and_the_company_wins() -> None:
    po = _cancelled_by_us()
    assert po.cancelled_by_us and po.pending_op is PendingOp.CANCEL
    picked = _update(UpdateKind.PICKED_UP, 1)
    assert po.overtakes_cancel(picked)
    assert po.apply(picked, T, waiting=["R-1"]) is True
    assert po.status is CarrierStatus.PICKED_UP and po.waybill_no == "SBX2611260001"
    assert po.pending_op is None and po.next_send_at is None  # the cancel is not sent now
    [event] = po.take_events()
    assert event.name == "carrier_order.cancel_overtaken"
    assert event.data == {
        "event_id": picked.event_id,
        "waybill_no": "SBX2611260001",
        "status": "picked_up",
        "return_ids": ["R-1"],
        "needs_ops": [],
    }
    # From here on the order is a picked-up one: later stages follow, repeats are late.
    assert not po.overtakes_cancel(_update(UpdateKind.IN_TRANSIT, 2))
    assert po.apply(_update(UpdateKind.PICKED_UP, 2), T) is False
    assert po.apply(_update(UpdateKind.IN_TRANSIT, 3), T) is True
    assert po.status is CarrierStatus.IN_TRANSIT


def test_returns_taken_elsewhere_since_our_cancel_are_left_to_ops() -> None:
    po = _cancelled_by_us(("R-1", "R-2", "R-3"))
    # R-1 was withdrawn, R-3 booked on another visit, after the cancel released them.
    assert po.apply(_update(UpdateKind.DELIVERED, 1), T, waiting=["R-2"]) is True
    assert po.status is CarrierStatus.DELIVERED and po.return_ids == ["R-2"]
    [event] = po.take_events()
    assert event.data["return_ids"] == ["R-2"] and event.data["needs_ops"] == ["R-1", "R-3"]
    # They wait for ops from the company's time of the pickup until ops settle them, once.
    assert po.awaits_ops and po.needs_ops == ["R-1", "R-3"]
    assert po.needs_ops_at == _update(UpdateKind.DELIVERED, 1).occurred_at
    later = T + timedelta(hours=2)
    with pytest.raises(InvalidInput, match="ops_note_required"):
        po.settle_ops("ops-1", " \n ", later)
    po.settle_ops("ops-1", "buyer keeps R-1; R-3 re-booked", later)
    assert not po.awaits_ops and po.needs_ops == ["R-1", "R-3"]  # kept for the record
    assert (po.ops_settled_at, po.ops_settled_by) == (later, "ops-1")
    [settled] = po.take_events()
    assert settled.name == "carrier_order.ops_settled" and settled.data == {
        "by": "ops-1",
        "note": "buyer keeps R-1; R-3 re-booked",
        "return_ids": ["R-1", "R-3"],
    }
    with pytest.raises(Conflict, match="ops_case_settled"):
        po.settle_ops("ops-2", "again", later)
    assert po.ops_settled_by == "ops-1" and po.take_events() == []
    back = from_doc(PickupOrder, to_doc(po))
    assert (back.needs_ops, back.ops_settled_by, back.ops_note) == (
        ["R-1", "R-3"],
        "ops-1",
        "buyer keeps R-1; R-3 re-booked",
    )


def test_an_overtaking_that_took_every_return_leaves_nothing_for_ops() -> None:
    po = _cancelled_by_us(("R-1", "R-2"))
    assert po.apply(_update(UpdateKind.PICKED_UP, 1), T, waiting=["R-1", "R-2"]) is True
    assert not po.awaits_ops and po.needs_ops == [] and po.needs_ops_at is None
    with pytest.raises(NotFound, match="ops_case_not_found"):
        po.settle_ops("ops-1", "nothing", T)


def test_only_a_pickup_overtakes_our_cancel() -> None:
    po = _cancelled_by_us()
    for n, kind in enumerate((UpdateKind.ACCEPTED, UpdateKind.COURIER_ASSIGNED), 1):
        assert not po.overtakes_cancel(_update(kind, n))
        assert po.apply(_update(kind, n), T) is False
    assert po.status is CarrierStatus.CANCELLED
    # The company's own cancel is final: a pickup reported after it is late.
    theirs = _order()
    theirs.apply(_update(UpdateKind.CANCELLED), T)
    assert not theirs.cancelled_by_us
    assert theirs.apply(_update(UpdateKind.PICKED_UP, 1), T) is False
    assert theirs.status is CarrierStatus.CANCELLED


def test_a_refused_cancel_keeps_the_order_asked_about_until_the_company_settles_it() -> None:
    po = _cancelled_by_us()
    po.send_failed("carrier_refused: picked up", T, None)
    assert po.cancel_refused and po.pending_op is None
    assert [e.name for e in po.take_events()] == ["carrier_order.send_abandoned"]
    failed = _cancelled_by_us()
    failed.send_failed("carrier_refused: failed", T, None)
    assert failed.apply(_update(UpdateKind.PICKUP_FAILED, 1), T) is False
    assert not failed.cancel_refused  # its order ended at the company too
    assert po.apply(_update(UpdateKind.PICKED_UP, 1), T, waiting=["R-1"]) is True
    assert not po.cancel_refused and po.status is CarrierStatus.PICKED_UP


def test_who_cancelled_is_stored_and_older_documents_read_as_not_ours() -> None:
    po = _cancelled_by_us()
    po.send_failed("carrier_refused", T, None)
    back = from_doc(PickupOrder, to_doc(po))
    assert back.cancelled_by_us and back.cancel_refused
    old = to_doc(po)
    del old["cancelled_by_us"], old["cancel_refused"]
    assert not from_doc(PickupOrder, old).cancelled_by_us
