"""The return request aggregate and its lifecycle (DESIGN.md, "The lifecycle of a return")."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from doorstep.domain.address import Address
from doorstep.domain.decision import Decision, Outcome, ReturnMethod
from doorstep.domain.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from doorstep.domain.events import Event, EventRecorder
from doorstep.domain.inspection import UnitResult, taken_per_line
from doorstep.domain.places import DropoffTicket
from doorstep.domain.refund_amount import RefundQuote


class ReturnKind(StrEnum):
    REFUND = "refund"  # 退货退款
    EXCHANGE = "exchange"  # 换货
    REFUND_ONLY = "refund_only"  # 仅退款


class Reason(StrEnum):
    NO_REASON = "no_reason"  # 七天无理由
    QUALITY = "quality"
    WRONG_ITEM = "wrong_item"
    DAMAGED_ON_ARRIVAL = "damaged_on_arrival"
    NOT_AS_DESCRIBED = "not_as_described"
    ALLERGY = "allergy"
    COUNTERFEIT = "counterfeit"
    # The order never reached the buyer: nothing to send back, so only a refund-only request.
    LOST_IN_DELIVERY = "lost_in_delivery"

    @property
    def seller_at_fault(self) -> bool:
        return self is not Reason.NO_REASON


class ReturnStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    AWAITING_PICKUP = "awaiting_pickup"
    AWAITING_DROPOFF = "awaiting_dropoff"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    DISPUTED = "disputed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = ReturnStatus
# Verdicts that held, restricted or refused a return (the console counts them by rule).
_BINDING = frozenset({"reject", "review", "restrict"})
CANCELLABLE = frozenset(
    {S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.AWAITING_PICKUP, S.AWAITING_DROPOFF}
)
# Left the buyer, not yet graded: when an express refund (极速退款) may start.
EXPRESS_STAGES = (S.PICKED_UP, S.IN_TRANSIT, S.RECEIVED)


@dataclass(frozen=True)
class Condition:
    """What the buyer declares about the item's state (商品完好)."""

    opened: bool = False
    seal_intact: bool = True
    tags_attached: bool = True
    activated: bool = False
    used: bool = False
    accessories_complete: bool = True
    labels_intact: bool = True


@dataclass(frozen=True)
class ReturnLine:
    order_line_id: str
    sku: str
    quantity: int
    reason: Reason
    condition: Condition = field(default_factory=Condition)
    note: str = ""

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError("quantity must be positive")

    @property
    def seller_at_fault(self) -> bool:
        return self.reason.seller_at_fault


@dataclass(frozen=True)
class Evidence:
    """A photo or a text the buyer attached; photos are stored elsewhere by id."""

    evidence_id: str
    kind: str  # "photo" | "text"
    added_at: datetime
    photo_id: str | None = None
    text: str = ""


class InspectionResult(StrEnum):
    PASSED = "passed"
    REFUSED = "refused"


@dataclass(frozen=True)
class Inspection:
    """What the courier found at the door; it settles later disputes about condition."""

    result: InspectionResult
    checklist: dict[str, bool]
    photo_ids: tuple[str, ...]
    verified_weight_g: int | None
    inspected_at: datetime
    courier_id: str
    note: str = ""
    refusal_reason: str | None = None
    # Unit by unit (issue 8 §6): what was taken, what was refused and why; empty for an
    # inspection answered once for the whole return.
    units: tuple[UnitResult, ...] = ()
    expected_weight_g: int | None = None  # what the taken units weigh by the catalogue
    weight_off: bool = False  # the scale disagrees with the catalogue (inspection.weight_off)
    contactless: bool = False  # left at the door or a locker: photos and weight only
    # A digest of the courier's answers it was made from: the same answers sent again (the
    # phone lost the first answer) are known as a repeat. None before session 10.
    answers: str | None = None

    def repeated_by(self, answers: str, courier_id: str, since: datetime | None) -> bool:
        """True when ``answers`` are the ones this inspection was made from, by the same
        courier on the visit that began at ``since`` (an earlier visit's never counts)."""
        return (
            self.answers is not None
            and self.answers == answers
            and self.courier_id == courier_id
            and since is not None
            and self.inspected_at >= since
        )

    @property
    def taken(self) -> dict[str, int] | None:
        """Units taken per order line; None when the whole return was judged at once."""
        return taken_per_line(self.units) if self.units else None


class Grade(StrEnum):
    """Warehouse QC grade."""

    A = "A"  # resellable as new
    B = "B"  # resellable as open box
    C = "C"  # damaged or not as returned-declared: dispute
    REJECT = "reject"


@dataclass(frozen=True)
class QualityCheck:
    grade: Grade
    checked_at: datetime
    by: str
    note: str = ""
    photo_ids: tuple[str, ...] = ()
    # The warehouse found the item damaged (not merely used or wrong): with a passed door
    # inspection that is transit damage, the carrier's liability, not the buyer's.
    damaged: bool = False

    @property
    def acceptable(self) -> bool:
        return self.grade in (Grade.A, Grade.B)


@dataclass
class ReturnRequest(EventRecorder):
    """One return (or exchange) of lines from one order; the aggregate root."""

    return_id: str
    buyer_id: str
    order_id: str
    kind: ReturnKind
    lines: list[ReturnLine]
    created_at: datetime
    status: ReturnStatus = ReturnStatus.SUBMITTED
    address: Address | None = None  # where the courier collects; the order's by default
    evidence: list[Evidence] = field(default_factory=list)
    decision: Decision | None = None
    method: ReturnMethod | None = None
    appointment_id: str | None = None
    appointment_history: list[str] = field(default_factory=list)
    waybill_no: str | None = None
    carrier_id: str | None = None
    inspection: Inspection | None = None
    received_at: datetime | None = None
    quality_check: QualityCheck | None = None
    refund_id: str | None = None
    cancel_reason: str | None = None
    version: int = 0
    # What the refund comes to: quoted at filing, fixed when the refund starts (issue 9 §1).
    quote: RefundQuote | None = None
    refund_overdue_at: datetime | None = None  # escalated as overdue (issue 9 §2)
    dropoff: DropoffTicket | None = None  # the code a station takes the parcel with (§8)
    # Since when a refund that left the buyer waits for its express refund to be decided
    # (trust, cap): set in the pickup's own transaction, cleared by the refund's start or its
    # refusal, so a start that died after the pickup's commit is found by the worker.
    express_due_since: datetime | None = None
    # The value a courier company's pickup order declared for this return (保价), kept when
    # its courier took the parcel: the most the company owes for transit damage to it.
    # None: no declaration (our own couriers, self-send, orders placed before values were).
    insured_fen: int | None = None

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if not self.lines:
            raise InvalidInput(
                "return_without_lines",
                "A return needs at least one line.",
                "退货申请至少需要一件商品。",
            )

    # --- helpers -------------------------------------------------------------------------
    def _move(self, to: ReturnStatus, action: str, at: datetime, **data: Any) -> None:
        self.record(
            Event(
                f"return.{action}",
                "return_request",
                self.return_id,
                at,
                {"from": self.status.value, "to": to.value, **data},
            )
        )
        self.status = to

    def _require(self, action: str, *allowed: ReturnStatus) -> None:
        if self.status not in allowed:
            raise IllegalTransition("return_request", self.status.value, action)

    @classmethod
    def open(
        cls,
        return_id: str,
        buyer_id: str,
        order_id: str,
        kind: ReturnKind,
        lines: list[ReturnLine],
        at: datetime,
        address: Address | None = None,
    ) -> ReturnRequest:
        """A new request in ``submitted``, with its first event."""
        request = cls(return_id, buyer_id, order_id, kind, lines, at, address=address)
        request.record(
            Event(
                "return.submitted",
                "return_request",
                return_id,
                at,
                {
                    "kind": kind.value,
                    "lines": [
                        {"sku": ln.sku, "quantity": ln.quantity, "reason": ln.reason.value}
                        for ln in lines
                    ],
                },
            )
        )
        return request

    def set_quote(self, quote: RefundQuote, at: datetime) -> None:
        """Record what the refund comes to; the buyer's timeline hears of every new total."""
        if self.kind is ReturnKind.EXCHANGE:
            raise IllegalTransition("return_request", self.kind.value, "quote_refund")
        previous = self.quote
        self.quote = quote
        if previous is None or previous.total_fen != quote.total_fen:
            self.record(
                Event(
                    "return.refund_quoted",
                    "return_request",
                    self.return_id,
                    at,
                    {
                        "amount_fen": quote.total_fen,
                        "freight_fen": quote.freight_fen,
                        "tax": quote.tax.status.value,
                    },
                )
            )

    def flag_refund_overdue(self, at: datetime, due_by: datetime, stage: str) -> bool:
        """Escalate a refund past its due time, once; False when it already was."""
        if self.refund_overdue_at is not None:
            return False
        self.refund_overdue_at = at
        self.record(
            Event(
                "return.refund_overdue",
                "return_request",
                self.return_id,
                at,
                {"due_by": due_by.isoformat(), "stage": stage},
            )
        )
        return True

    @property
    def express_owed_since(self) -> datetime | None:
        """When this return became owed an express-refund decision still not made (None when
        made, or when it can no longer be: graded, an exchange, a refund started); stored
        beside it so the worker's sweep finds the undecided ones by an index."""
        if (
            self.kind is not ReturnKind.REFUND
            or self.refund_id is not None
            or self.status not in EXPRESS_STAGES
        ):
            return None
        return self.express_due_since

    def decline_express(self, at: datetime, reason: str) -> bool:
        """No express refund for this return (the buyer is not trusted now, or the amount is
        above the cap): it is refunded after its grade. False when none was to be decided."""
        if self.express_owed_since is None:
            return False
        self.express_due_since = None
        self.record(
            Event(
                "return.express_refund_declined",
                "return_request",
                self.return_id,
                at,
                {"reason": reason},
            )
        )
        return True

    # --- evidence and audit --------------------------------------------------------------
    def add_evidence(self, evidence: Evidence) -> None:
        """Attach a photo or text while the request is still being decided or disputed."""
        self._require("add_evidence", S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.DISPUTED)
        if len(self.evidence) >= 20:
            raise Conflict(
                "too_much_evidence",
                "At most 20 pieces of evidence per return.",
                "每个退货申请最多上传 20 份凭证。",
            )
        self.evidence.append(evidence)
        self.record(
            Event(
                "return.evidence_added",
                "return_request",
                self.return_id,
                evidence.added_at,
                {"evidence_id": evidence.evidence_id, "kind": evidence.kind},
            )
        )

    def apply_decision(self, decision: Decision) -> None:
        """Take the automatic audit's outcome (from ``submitted``)."""
        self._require("decide", S.SUBMITTED)
        self._settle(decision)

    def review(self, decision: Decision) -> None:
        """Take an ops reviewer's outcome (from ``in_review``); review cannot hold again."""
        self._require("review", S.IN_REVIEW)
        if decision.outcome is Outcome.REVIEW:
            raise InvalidInput(
                "review_must_decide",
                "A review must approve or reject.",
                "人工审核必须给出同意或拒绝。",
            )
        self._settle(decision)

    def _settle(self, decision: Decision) -> None:
        # What this decision adds that held or refused the return: a review repeats the
        # automatic findings, which the console counts once.
        before = set(self.decision.findings) if self.decision else set()
        held_by = [
            f"{f.rule}/{f.reason}"
            for f in decision.findings
            if f.verdict.value in _BINDING and f not in before
        ]
        self.decision = decision
        target = {
            Outcome.APPROVE: S.APPROVED,
            Outcome.REJECT: S.REJECTED,
            Outcome.REVIEW: S.IN_REVIEW,
        }[decision.outcome]
        self._move(
            target,
            {S.APPROVED: "approved", S.REJECTED: "rejected", S.IN_REVIEW: "held_for_review"}[
                target
            ],
            decision.decided_at,
            policy_version=decision.policy_version,
            decided_by=decision.decided_by,
            reasons=[f.reason for f in decision.findings if f.verdict.value != "pass"],
            held_by=held_by,
        )

    # --- choosing a method ---------------------------------------------------------------
    def _check_offered(self, method: ReturnMethod, at: datetime) -> None:
        offer = self.decision.offers(method) if self.decision else None
        if offer is None:
            raise Conflict(
                "method_not_offered",
                f"Return method {method.value} is not offered for this return.",
                "该退货不支持此退回方式。",
                method=method.value,
                why=(self.decision.unavailable.get(method.value) if self.decision else None),
            )
        if offer.until is not None and at > offer.until:
            raise Conflict(
                "method_expired",
                f"Return method {method.value} was available until {offer.until.isoformat()}.",
                f"该退回方式的截止时间 {offer.until.isoformat()} 已过。",
                until=offer.until.isoformat(),
            )

    def pickup_offered(self, at: datetime) -> bool:
        """Whether door pickup may still be booked for this return at ``at``."""
        try:
            self._check_offered(ReturnMethod.PICKUP, at)
        except Conflict:
            return False
        return True

    def schedule_pickup(self, appointment_id: str, at: datetime) -> None:
        """Attach a booked door-pickup appointment (also used when rescheduling onto another)."""
        self._require("schedule_pickup", S.APPROVED, S.AWAITING_PICKUP)
        self._check_offered(ReturnMethod.PICKUP, at)
        self.method = ReturnMethod.PICKUP
        self.appointment_id = appointment_id
        if appointment_id not in self.appointment_history:
            self.appointment_history.append(appointment_id)
        if self.status is S.AWAITING_PICKUP:
            self.record(
                Event(
                    "return.pickup_moved",
                    "return_request",
                    self.return_id,
                    at,
                    {"appointment_id": appointment_id},
                )
            )
        else:
            self._move(S.AWAITING_PICKUP, "pickup_scheduled", at, appointment_id=appointment_id)

    def release_pickup(self, at: datetime, reason: str) -> None:
        """The appointment was cancelled: back to ``approved`` to choose again."""
        self._require("release_pickup", S.AWAITING_PICKUP)
        self.appointment_id = None
        self.method = None
        self._move(S.APPROVED, "pickup_released", at, reason=reason)

    def choose_self_send(self, method: ReturnMethod, carrier_id: str | None, at: datetime) -> None:
        """Drop off at a station or ship it oneself."""
        self._require("choose_method", S.APPROVED)
        if method is ReturnMethod.PICKUP:
            raise InvalidInput(
                "use_booking_for_pickup",
                "Door pickup is chosen by booking a slot.",
                "上门取件请通过预约时段选择。",
            )
        self._check_offered(method, at)
        self.method = method
        self.carrier_id = carrier_id
        self._move(S.AWAITING_DROPOFF, "awaiting_dropoff", at, method=method.value)

    def issue_dropoff(self, ticket: DropoffTicket, at: datetime) -> None:
        """Give the buyer a drop-off code for one station (a new one replaces the old)."""
        self._require("issue_dropoff", S.AWAITING_DROPOFF)
        if self.method is not ReturnMethod.DROPOFF:
            raise Conflict(
                "not_a_dropoff",
                "Drop-off codes are for returns handed in at a station or locker.",
                "只有选择驿站或快递柜寄回时才会生成寄件码。",
            )
        self.dropoff = ticket
        self.record(
            Event(
                "return.dropoff_code_issued",
                "return_request",
                self.return_id,
                at,
                {"station_id": ticket.station_id, "expires_at": ticket.expires_at.isoformat()},
            )
        )

    def hand_in_at_station(self, code: str, station_id: str, at: datetime) -> None:
        """A station or locker took the parcel against its drop-off code: the same hand-over
        a self-shipped parcel reaches with its waybill, so the code works exactly once."""
        self.check_dropoff(code, station_id, at)
        self._move(S.IN_TRANSIT, "dropped_off", at, station_id=station_id)

    def check_dropoff(self, code: str, station_id: str, at: datetime) -> None:
        """Raise what a station would be told if it took this parcel now (the station page
        shows the parcel before the hand-over, with the same refusals)."""
        ticket = self.dropoff
        if ticket is None or ticket.code != code:
            raise NotFound("dropoff_code", code)
        if self.status is not S.AWAITING_DROPOFF:
            raise Conflict(
                "dropoff_code_used",
                "This drop-off code has already been used or is no longer valid.",
                "该寄件码已使用或已失效。",
            )
        if ticket.station_id != station_id:
            raise Conflict(
                "dropoff_wrong_station",
                "This drop-off code was issued for another station.",
                "该寄件码不适用于本驿站。",
            )
        if at >= ticket.expires_at:
            raise Conflict(
                "dropoff_code_expired",
                "This drop-off code has expired; the buyer can ask for a new one.",
                "该寄件码已过期，请买家重新获取。",
                expires_at=ticket.expires_at.isoformat(),
            )

    def convert_to_refund(self, at: datetime, reason: str) -> None:
        """An exchange the buyer turns into a refund (the replacement ran out or they chose
        to); only before anything was paid or shipped for it."""
        if self.kind is not ReturnKind.EXCHANGE:
            raise IllegalTransition("return_request", self.kind.value, "convert_to_refund")
        if self.status in (S.EXCHANGED, S.CLOSED, S.CANCELLED, S.REJECTED):
            raise IllegalTransition("return_request", self.status.value, "convert_to_refund")
        self.kind = ReturnKind.REFUND
        # Already on its way: the refund is owed its express decision now, as at pickup.
        express = self.status in EXPRESS_STAGES and self.refund_id is None
        if express:
            self.express_due_since = at
        self.record(
            Event(
                "return.converted_to_refund",
                "return_request",
                self.return_id,
                at,
                {"reason": reason, "express_due": express},
            )
        )

    def register_shipment(self, waybill_no: str, carrier_id: str, at: datetime) -> None:
        """The buyer reports the waybill of a drop-off or self-shipped parcel."""
        self._require("register_shipment", S.AWAITING_DROPOFF)
        self.waybill_no = waybill_no
        self.carrier_id = carrier_id
        self._move(S.IN_TRANSIT, "shipped", at, waybill_no=waybill_no, carrier_id=carrier_id)

    # --- at the door ---------------------------------------------------------------------
    def record_inspection(self, inspection: Inspection) -> None:
        """The courier's door inspection; a refusal keeps the return waiting for pickup."""
        self._require("inspect", S.AWAITING_PICKUP)
        self.inspection = inspection
        self.record(
            Event(
                "return.inspected_at_door",
                "return_request",
                self.return_id,
                inspection.inspected_at,
                {
                    "result": inspection.result.value,
                    "refusal_reason": inspection.refusal_reason,
                    "photos": len(inspection.photo_ids),
                },
            )
        )

    def void_inspection(self, at: datetime, reason: str) -> None:
        """The visit failed: its inspection does not carry over to the next visit."""
        if self.inspection is None or self.status is not S.AWAITING_PICKUP:
            return
        self.inspection = None
        self.record(
            Event(
                "return.inspection_voided", "return_request", self.return_id, at, {"reason": reason}
            )
        )

    def pick_up(
        self, waybill_no: str, carrier_id: str, at: datetime, insured_fen: int | None = None
    ) -> None:
        """The courier took the parcel; requires a passed door inspection. ``insured_fen``:
        the value a courier company's pickup order declared for the return."""
        self._require("pick_up", S.AWAITING_PICKUP)
        if self.inspection is None or self.inspection.result is not InspectionResult.PASSED:
            raise Conflict(
                "inspection_required",
                "A passed door inspection is required before pickup.",
                "取件前需完成上门验货且验货通过。",
            )
        self._keep_taken_lines(at)
        self.waybill_no = waybill_no
        self.carrier_id = carrier_id
        self.insured_fen = insured_fen
        if self.kind is ReturnKind.REFUND:
            self.express_due_since = at
        declared = {} if insured_fen is None else {"insured_fen": insured_fen}
        self._move(
            S.PICKED_UP, "picked_up", at, waybill_no=waybill_no, carrier_id=carrier_id, **declared
        )

    def _keep_taken_lines(self, at: datetime) -> None:
        """Partial pickup: the return keeps only the units the courier took, so refunds and
        quantity claims follow what left the door; the refused units stay with the buyer
        (and may be returned again)."""
        assert self.inspection is not None
        taken = self.inspection.taken
        if taken is None:
            return
        refused = [
            {
                "order_line_id": ln.order_line_id,
                "sku": ln.sku,
                "quantity": ln.quantity - taken.get(ln.order_line_id, 0),
                "reasons": sorted(
                    {
                        key
                        for u in self.inspection.units
                        if u.order_line_id == ln.order_line_id
                        for key in u.failed
                    }
                ),
            }
            for ln in self.lines
            if taken.get(ln.order_line_id, 0) < ln.quantity
        ]
        if not refused:
            return
        self.lines = [
            replace(ln, quantity=taken[ln.order_line_id])
            for ln in self.lines
            if taken.get(ln.order_line_id, 0) > 0
        ]
        self.record(
            Event(
                "return.partly_refused_at_door",
                "return_request",
                self.return_id,
                at,
                {"refused": refused},
            )
        )

    def mark_in_transit(self, at: datetime, location: str = "") -> None:
        self._require("mark_in_transit", S.PICKED_UP)
        self._move(S.IN_TRANSIT, "in_transit", at, location=location)

    def arrive_at_warehouse(self, at: datetime, by: str) -> None:
        """The parcel reached the warehouse's door (carrier's word); the warehouse's own scan
        receives it, so this is a tracking fact: the return stays in transit until then."""
        self._require("arrive_at_warehouse", S.PICKED_UP, S.IN_TRANSIT)
        if self.status is S.PICKED_UP:
            self.mark_in_transit(at, by)
        self.record(
            Event("return.arrived_at_warehouse", "return_request", self.return_id, at, {"by": by})
        )

    # --- at the warehouse ----------------------------------------------------------------
    def receive(self, at: datetime, warehouse_id: str) -> None:
        self._require("receive", S.PICKED_UP, S.IN_TRANSIT)
        self.received_at = at
        self._move(S.RECEIVED, "received", at, warehouse_id=warehouse_id)

    def grade(self, check: QualityCheck) -> None:
        """Warehouse QC: a good grade makes the return refundable, a bad one disputed."""
        self._require("grade", S.RECEIVED)
        self.quality_check = check
        if self.transit_damaged:
            # Intact at the door, damaged at the warehouse: the carrier answers for it
            # (a claim), and the buyer is refunded as if the grade were good.
            self._move(S.INSPECTED, "transit_damaged", check.checked_at, grade=check.grade.value)
            return
        target = S.INSPECTED if check.acceptable else S.DISPUTED
        self._move(
            target,
            "quality_checked" if check.acceptable else "disputed",
            check.checked_at,
            grade=check.grade.value,
        )

    @property
    def transit_damaged(self) -> bool:
        """The door inspection passed and the warehouse found the goods damaged."""
        check = self.quality_check
        return (
            check is not None
            and not check.acceptable
            and check.damaged
            and self.inspection is not None
            and self.inspection.result is InspectionResult.PASSED
        )

    def settle_dispute(self, at: datetime, *, buyer_upheld: bool) -> None:
        """Ops decided the dispute over a failed QC: for the buyer the return is refundable
        again; against, it is closed (an express refund is taken back elsewhere)."""
        self._require("settle_dispute", S.DISPUTED)
        if buyer_upheld:
            self._move(S.INSPECTED, "dispute_upheld", at)
        else:
            self._move(S.CLOSED, "dispute_lost", at)

    def start_refund(self, refund_id: str, *, express: bool = False) -> None:
        """Tie the refund about to be paid to this return (its ``refund.requested`` event says
        so); from then on the buyer cannot withdraw it and free its quantities again.

        An express refund (极速退款) starts once the parcel left the buyer, a standard one after
        a good QC grade, a refund-only one (仅退款) once approved."""
        self.check_refund_start(express=express)
        self.refund_id = refund_id
        self.express_due_since = None

    def check_refund_start(self, *, express: bool = False) -> None:
        """Raise ``IllegalTransition`` unless a refund of this kind may start now."""
        if self.kind is ReturnKind.EXCHANGE or (express and self.kind is not ReturnKind.REFUND):
            raise IllegalTransition("return_request", self.kind.value, "refund")
        if express:
            self._require("start_refund", *EXPRESS_STAGES)
        elif self.kind is ReturnKind.REFUND_ONLY:
            self._require("start_refund", S.APPROVED)
        else:
            self._require("start_refund", S.INSPECTED)

    def mark_refunded(self, refund_id: str, amount_fen: int, at: datetime) -> None:
        """Money went back: after QC, or straight after approval for a refund-only request
        (仅退款), where nothing is sent back."""
        if self.kind is ReturnKind.REFUND_ONLY:
            self._require("refund", S.APPROVED, S.INSPECTED)
        else:
            self._require("refund", S.INSPECTED)
        if self.kind is ReturnKind.EXCHANGE:
            raise IllegalTransition("return_request", "exchange", "refund")
        self.refund_id = refund_id
        self._move(S.REFUNDED, "refunded", at, refund_id=refund_id, amount_fen=amount_fen)

    def mark_exchanged(self, replacement_order_id: str, at: datetime) -> None:
        """The replacement for an exchange has been shipped."""
        self._require("exchange", S.INSPECTED)
        if self.kind is not ReturnKind.EXCHANGE:
            raise IllegalTransition("return_request", self.kind.value, "exchange")
        self._move(S.EXCHANGED, "exchanged", at, replacement_order_id=replacement_order_id)

    def close(self, at: datetime) -> None:
        self._require("close", S.REFUNDED, S.EXCHANGED, S.REJECTED)
        self._move(S.CLOSED, "closed", at)

    def cancel(self, at: datetime, reason: str) -> None:
        """The buyer withdraws; allowed any time before the parcel is picked up."""
        self._require("cancel", *CANCELLABLE)
        if self.refund_id is not None:
            raise Conflict(
                "refund_under_way",
                "The refund for this return has started; it can no longer be withdrawn.",
                "该退货的退款已发起，无法撤销。",
                refund_id=self.refund_id,
            )
        self.cancel_reason = reason
        self.appointment_id = None
        self._move(S.CANCELLED, "cancelled", at, reason=reason)
