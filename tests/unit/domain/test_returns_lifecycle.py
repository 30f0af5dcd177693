"""The ReturnRequest state machine: every status × every action, plus guarded steps."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.decision import Decision, Finding, MethodOffer, Outcome, ReturnMethod, Verdict
from doorstep.domain.errors import Conflict, IllegalTransition, InvalidInput
from doorstep.domain.returns import (
    CANCELLABLE,
    Evidence,
    Grade,
    Inspection,
    InspectionResult,
    QualityCheck,
    Reason,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)

S = ReturnStatus
M = ReturnMethod
T0 = datetime(2025, 3, 20, 10, 0, tzinfo=SHANGHAI)
LATER = T0 + timedelta(hours=1)


def decision(outcome: Outcome, *methods: MethodOffer) -> Decision:
    offered = methods or tuple(MethodOffer(m, None) for m in M)
    return Decision(outcome, 4, T0, (), offered if outcome is not Outcome.REJECT else ())


def inspection(result: InspectionResult = InspectionResult.PASSED) -> Inspection:
    return Inspection(result, {"seal": True}, ("ph1",), 900, T0, "C1")


def request(
    status: S = S.SUBMITTED, kind: ReturnKind = ReturnKind.REFUND, **kw: object
) -> ReturnRequest:
    """A request placed directly in ``status``, with what later steps need already present."""
    r = ReturnRequest.open(
        "R1", "B1", "O1", kind, [ReturnLine("L1", "P1", 1, Reason.NO_REASON)], T0
    )
    r.status = status
    if status is not S.SUBMITTED:
        r.decision = decision(Outcome.APPROVE)
    if status is S.AWAITING_PICKUP:
        r.inspection = inspection()
        r.appointment_id = "A1"
    for name, value in kw.items():
        setattr(r, name, value)
    r.take_events()
    return r


# action name -> (call, statuses it is legal from, status it leads to, kind it needs)
Action = Callable[[ReturnRequest], None]
ACTIONS: dict[str, tuple[Action, frozenset[S], S, ReturnKind]] = {
    "decide_approve": (
        lambda r: r.apply_decision(decision(Outcome.APPROVE)),
        frozenset({S.SUBMITTED}),
        S.APPROVED,
        ReturnKind.REFUND,
    ),
    "decide_reject": (
        lambda r: r.apply_decision(decision(Outcome.REJECT)),
        frozenset({S.SUBMITTED}),
        S.REJECTED,
        ReturnKind.REFUND,
    ),
    "decide_review": (
        lambda r: r.apply_decision(decision(Outcome.REVIEW)),
        frozenset({S.SUBMITTED}),
        S.IN_REVIEW,
        ReturnKind.REFUND,
    ),
    "review_approve": (
        lambda r: r.review(decision(Outcome.APPROVE)),
        frozenset({S.IN_REVIEW}),
        S.APPROVED,
        ReturnKind.REFUND,
    ),
    "review_reject": (
        lambda r: r.review(decision(Outcome.REJECT)),
        frozenset({S.IN_REVIEW}),
        S.REJECTED,
        ReturnKind.REFUND,
    ),
    "schedule_pickup": (
        lambda r: r.schedule_pickup("A2", LATER),
        frozenset({S.APPROVED}),
        S.AWAITING_PICKUP,
        ReturnKind.REFUND,
    ),
    "release_pickup": (
        lambda r: r.release_pickup(LATER, "appointment_cancelled"),
        frozenset({S.AWAITING_PICKUP}),
        S.APPROVED,
        ReturnKind.REFUND,
    ),
    "choose_dropoff": (
        lambda r: r.choose_self_send(M.DROPOFF, "yto", LATER),
        frozenset({S.APPROVED}),
        S.AWAITING_DROPOFF,
        ReturnKind.REFUND,
    ),
    "register_shipment": (
        lambda r: r.register_shipment("YT1", "yto", LATER),
        frozenset({S.AWAITING_DROPOFF}),
        S.IN_TRANSIT,
        ReturnKind.REFUND,
    ),
    "pick_up": (
        lambda r: r.pick_up("SF1", "sf", LATER),
        frozenset({S.AWAITING_PICKUP}),
        S.PICKED_UP,
        ReturnKind.REFUND,
    ),
    "mark_in_transit": (
        lambda r: r.mark_in_transit(LATER, "hub"),
        frozenset({S.PICKED_UP}),
        S.IN_TRANSIT,
        ReturnKind.REFUND,
    ),
    "receive": (
        lambda r: r.receive(LATER, "W1"),
        frozenset({S.PICKED_UP, S.IN_TRANSIT}),
        S.RECEIVED,
        ReturnKind.REFUND,
    ),
    "grade_a": (
        lambda r: r.grade(QualityCheck(Grade.A, LATER, "qc")),
        frozenset({S.RECEIVED}),
        S.INSPECTED,
        ReturnKind.REFUND,
    ),
    "grade_b": (
        lambda r: r.grade(QualityCheck(Grade.B, LATER, "qc")),
        frozenset({S.RECEIVED}),
        S.INSPECTED,
        ReturnKind.REFUND,
    ),
    "grade_c": (
        lambda r: r.grade(QualityCheck(Grade.C, LATER, "qc")),
        frozenset({S.RECEIVED}),
        S.DISPUTED,
        ReturnKind.REFUND,
    ),
    "grade_reject": (
        lambda r: r.grade(QualityCheck(Grade.REJECT, LATER, "qc")),
        frozenset({S.RECEIVED}),
        S.DISPUTED,
        ReturnKind.REFUND,
    ),
    "refund": (
        lambda r: r.mark_refunded("RF1", 10_000, LATER),
        frozenset({S.INSPECTED}),
        S.REFUNDED,
        ReturnKind.REFUND,
    ),
    "exchange": (
        lambda r: r.mark_exchanged("O2", LATER),
        frozenset({S.INSPECTED}),
        S.EXCHANGED,
        ReturnKind.EXCHANGE,
    ),
    "close": (
        lambda r: r.close(LATER),
        frozenset({S.REFUNDED, S.EXCHANGED, S.REJECTED}),
        S.CLOSED,
        ReturnKind.REFUND,
    ),
    "cancel": (
        lambda r: r.cancel(LATER, "changed_mind"),
        CANCELLABLE,
        S.CANCELLED,
        ReturnKind.REFUND,
    ),
}


# legal but not a status change: moving a booked pickup onto another appointment
MOVES = {("schedule_pickup", S.AWAITING_PICKUP)}


def snapshot(r: ReturnRequest) -> dict[str, object]:
    return copy.deepcopy({k: v for k, v in vars(r).items()})


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_status_times_every_action(status: S, action: str) -> None:
    call, legal_from, target, kind = ACTIONS[action]
    r = request(status, kind)
    if (action, status) in MOVES:
        call(r)
        (event,) = r.take_events()
        assert (r.status, event.name) == (status, "return.pickup_moved")
    elif status in legal_from:
        call(r)
        assert r.status is target
        (event,) = r.take_events()
        assert event.data["from"] == status.value
        assert event.data["to"] == target.value
        assert event.aggregate_id == "R1" and event.name.startswith("return.")
    else:
        before = snapshot(r)
        with pytest.raises(IllegalTransition) as raised:
            call(r)
        assert raised.value.code == "illegal_transition"
        assert snapshot(r) == before
        assert r.take_events() == []


def test_open_records_submitted_and_needs_lines() -> None:
    r = ReturnRequest.open(
        "R1", "B1", "O1", ReturnKind.REFUND, [ReturnLine("L1", "P1", 2, Reason.QUALITY)], T0
    )
    (event,) = r.take_events()
    assert (event.name, r.status) == ("return.submitted", S.SUBMITTED)
    assert event.data["lines"] == [{"sku": "P1", "quantity": 2, "reason": "quality"}]
    with pytest.raises(InvalidInput) as raised:
        ReturnRequest.open("R2", "B1", "O1", ReturnKind.REFUND, [], T0)
    assert raised.value.code == "return_without_lines"


def test_decision_event_records_policy_and_non_pass_reasons() -> None:
    r = request()
    r.apply_decision(decision(Outcome.APPROVE))
    (event,) = r.take_events()
    assert event.data["policy_version"] == 4 and event.data["decided_by"] == "auto"
    assert r.decision is not None


def test_review_must_decide() -> None:
    r = request(S.IN_REVIEW)
    before = snapshot(r)
    with pytest.raises(InvalidInput) as raised:
        r.review(decision(Outcome.REVIEW))
    assert raised.value.code == "review_must_decide"
    assert snapshot(r) == before and r.take_events() == []


@pytest.mark.parametrize("result", [None, InspectionResult.REFUSED])
def test_pick_up_requires_a_passed_inspection(result: InspectionResult | None) -> None:
    r = request(S.AWAITING_PICKUP, inspection=inspection(result) if result else None)
    with pytest.raises(Conflict) as raised:
        r.pick_up("SF1", "sf", LATER)
    assert raised.value.code == "inspection_required"
    assert r.status is S.AWAITING_PICKUP and r.waybill_no is None and r.take_events() == []


def test_inspection_is_recorded_without_moving() -> None:
    r = request(S.AWAITING_PICKUP, inspection=None)
    r.record_inspection(inspection(InspectionResult.REFUSED))
    r.record_inspection(inspection())
    assert r.status is S.AWAITING_PICKUP
    assert [e.name for e in r.take_events()] == ["return.inspected_at_door"] * 2
    r.pick_up("SF1", "sf", LATER)
    assert r.status is S.PICKED_UP


def test_method_not_offered() -> None:
    only_dropoff = decision(Outcome.APPROVE, MethodOffer(M.DROPOFF, None))
    only_dropoff.unavailable["pickup"] = "area_remote"
    r = request(S.APPROVED, decision=only_dropoff)
    with pytest.raises(Conflict) as raised:
        r.schedule_pickup("A1", LATER)
    assert raised.value.code == "method_not_offered"
    assert raised.value.details["why"] == "area_remote"
    with pytest.raises(Conflict) as raised:
        r.choose_self_send(M.SELF_SHIP, None, LATER)
    assert raised.value.code == "method_not_offered"
    assert (r.status, r.method, r.appointment_id, r.take_events()) == (S.APPROVED, None, None, [])


def test_method_expired_after_its_until() -> None:
    offers = (MethodOffer(M.PICKUP, LATER), MethodOffer(M.DROPOFF, LATER))
    r = request(S.APPROVED, decision=decision(Outcome.APPROVE, *offers))
    for attempt in (
        lambda: r.schedule_pickup("A1", LATER + timedelta(microseconds=1)),
        lambda: r.choose_self_send(M.DROPOFF, None, LATER + timedelta(microseconds=1)),
    ):
        with pytest.raises(Conflict) as raised:
            attempt()
        assert raised.value.code == "method_expired"
    assert r.status is S.APPROVED and r.take_events() == []
    r.schedule_pickup("A1", LATER)  # exactly at ``until`` is still fine
    assert r.status is S.AWAITING_PICKUP


def test_pickup_is_not_a_self_send() -> None:
    r = request(S.APPROVED)
    with pytest.raises(InvalidInput) as raised:
        r.choose_self_send(M.PICKUP, None, LATER)
    assert raised.value.code == "use_booking_for_pickup"


def test_moving_a_pickup_keeps_status_and_history() -> None:
    r = request(S.APPROVED)
    r.schedule_pickup("A1", LATER)
    r.schedule_pickup("A2", LATER)
    r.schedule_pickup("A1", LATER)
    assert (r.status, r.appointment_id, r.appointment_history) == (
        S.AWAITING_PICKUP,
        "A1",
        ["A1", "A2"],
    )
    assert [e.name for e in r.take_events()] == [
        "return.pickup_scheduled",
        "return.pickup_moved",
        "return.pickup_moved",
    ]
    r.release_pickup(LATER, "carrier_cancelled")
    assert (r.status, r.method, r.appointment_id) == (S.APPROVED, None, None)


def test_cancel_before_pickup_clears_the_appointment() -> None:
    r = request(S.AWAITING_PICKUP)
    r.cancel(LATER, "changed_mind")
    assert (r.status, r.appointment_id, r.cancel_reason) == (S.CANCELLED, None, "changed_mind")
    assert CANCELLABLE.isdisjoint({S.PICKED_UP, S.IN_TRANSIT, S.RECEIVED, S.INSPECTED})


@pytest.mark.parametrize("kind", [ReturnKind.REFUND, ReturnKind.REFUND_ONLY])
def test_exchange_only_for_exchanges_and_refund_not_for_them(kind: ReturnKind) -> None:
    exchange = request(S.INSPECTED, ReturnKind.EXCHANGE)
    with pytest.raises(IllegalTransition) as raised:
        exchange.mark_refunded("RF1", 100, LATER)
    assert raised.value.code == "illegal_transition"
    assert exchange.status is S.INSPECTED and exchange.refund_id is None
    other = request(S.INSPECTED, kind)
    with pytest.raises(IllegalTransition):
        other.mark_exchanged("O2", LATER)
    assert other.status is S.INSPECTED and other.take_events() == []


def test_evidence_allowed_while_deciding_and_capped_at_20() -> None:
    r = request(S.DISPUTED)
    for i in range(20):
        r.add_evidence(Evidence(f"E{i}", "photo", LATER, photo_id=f"ph{i}"))
    assert len(r.take_events()) == 20
    with pytest.raises(Conflict) as raised:
        r.add_evidence(Evidence("E20", "text", LATER, text="more"))
    assert raised.value.code == "too_much_evidence"
    assert len(r.evidence) == 20
    with pytest.raises(IllegalTransition):
        request(S.PICKED_UP).add_evidence(Evidence("E", "text", LATER, text="x"))


class Lifecycle(RuleBasedStateMachine):
    """Random action sequences: legal ones move and record exactly one event; others do nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.kind = ReturnKind.REFUND
        self.r = request()
        self.events = 0

    @rule(kind=st.sampled_from([ReturnKind.REFUND, ReturnKind.EXCHANGE]))
    def restart(self, kind: ReturnKind) -> None:
        self.kind = kind
        self.r = request(kind=kind)

    @rule(action=st.sampled_from(sorted(ACTIONS)))
    def act(self, action: str) -> None:
        call, legal_from, target, kind = ACTIONS[action]
        before_status = self.r.status
        before = snapshot(self.r)
        if before_status is S.AWAITING_PICKUP and self.r.inspection is None:
            self.r.record_inspection(inspection())
            self.r.take_events()
            before = snapshot(self.r)
        legal = before_status in legal_from and (
            action not in ("refund", "exchange") or kind is self.kind
        )
        if (action, before_status) in MOVES:
            call(self.r)
            assert len(self.r.take_events()) == 1
            assert self.r.status is before_status
        elif legal:
            call(self.r)
            (event,) = self.r.take_events()
            assert (event.data["from"], event.data["to"]) == (before_status.value, target.value)
            assert self.r.status is target
        else:
            with pytest.raises(IllegalTransition):
                call(self.r)
            assert snapshot(self.r) == before
            assert self.r.take_events() == []

    @invariant()
    def terminal_statuses_stay_put(self) -> None:
        if self.r.status in (S.CLOSED, S.CANCELLED):
            assert self.r.status not in CANCELLABLE


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)


def test_refund_only_can_be_refunded_once_approved() -> None:
    r = request(S.APPROVED, ReturnKind.REFUND_ONLY)
    r.mark_refunded("RF1", 10_000, LATER)
    assert r.status is S.REFUNDED


@pytest.mark.parametrize(
    ("kind", "express", "allowed"),
    [
        (ReturnKind.REFUND, True, {S.PICKED_UP, S.IN_TRANSIT, S.RECEIVED}),
        (ReturnKind.REFUND, False, {S.INSPECTED}),
        (ReturnKind.REFUND_ONLY, False, {S.APPROVED}),
        (ReturnKind.REFUND_ONLY, True, set()),
        (ReturnKind.EXCHANGE, False, set()),
    ],
)
def test_a_refund_starts_only_where_money_is_owed(
    kind: ReturnKind, express: bool, allowed: set[S]
) -> None:
    for status in S:
        r = request(status, kind)
        if status in allowed:
            r.start_refund("RF1", express=express)
            assert r.refund_id == "RF1" and r.status is status
        else:
            with pytest.raises(IllegalTransition):
                r.start_refund("RF1", express=express)
            assert r.refund_id is None


def test_a_started_refund_cannot_be_withdrawn() -> None:
    r = request(S.APPROVED, ReturnKind.REFUND_ONLY)
    r.start_refund("RF1")
    r.take_events()
    with pytest.raises(Conflict) as raised:
        r.cancel(LATER, "changed_mind")
    assert raised.value.code == "refund_under_way" and raised.value.details == {"refund_id": "RF1"}
    assert r.status is S.APPROVED and r.take_events() == []


def test_a_decision_names_what_held_it_and_a_review_only_what_it_adds() -> None:
    held = Finding("refund_only_limits", Verdict.REVIEW, "over_limit", "Over.", "超出。")
    note = Finding("return_window", Verdict.INFO, "window_ends", "Ends.", "截止。")
    refused = Finding("review", Verdict.REJECT, "rejected_by_reviewer", "No.", "拒绝。")
    r = request(S.SUBMITTED)
    r.take_events()
    r.apply_decision(Decision(Outcome.REVIEW, 4, T0, (held, note), ()))
    [first] = r.take_events()
    assert first.data["held_by"] == ["refund_only_limits/over_limit"]
    r.review(Decision(Outcome.REJECT, 4, LATER, (held, note, refused), (), decided_by="ops-1"))
    [second] = r.take_events()
    assert second.data["held_by"] == ["review/rejected_by_reviewer"]
