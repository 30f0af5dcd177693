"""Pickup orders sent to a courier company (RULES.md §6) and the status events it sends back.

A company-served visit keeps its ``Appointment`` (the buyer's window, capacity, timeline); the
``PickupOrder`` is doorstep's record of the order placed with the company for that visit:
what was asked (the unified order, idempotent by ``out_order_no``), what is still to be sent
(create, cancel, reschedule), and what the company reported. Company events arrive duplicated
and out of order, so a status only ever moves forward; an event that would move it back is
kept as a ``late_update`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.events import Event, EventRecorder
from doorstep.domain.pickup import FailureReason


class CarrierStatus(StrEnum):
    """Where a company's pickup order stands, in the order a parcel goes through them."""

    PENDING = "pending"  # recorded at booking, not yet accepted by the company's API
    CREATED = "created"
    ACCEPTED = "accepted"
    COURIER_ASSIGNED = "courier_assigned"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"  # at the return warehouse's door
    FAILED = "failed"  # pickup failed (a reason from RULES.md §6)
    CANCELLED = "cancelled"  # by the buyer (only before pickup) or the company
    CREATE_FAILED = "create_failed"  # the company refused the order for good


CS = CarrierStatus
RANK = {
    CS.PENDING: 0,
    CS.CREATED: 1,
    CS.ACCEPTED: 2,
    CS.COURIER_ASSIGNED: 3,
    CS.PICKED_UP: 4,
    CS.IN_TRANSIT: 5,
    CS.DELIVERED: 6,
}
TERMINAL = frozenset({CS.DELIVERED, CS.FAILED, CS.CANCELLED, CS.CREATE_FAILED})
BEFORE_PICKUP = frozenset({CS.PENDING, CS.CREATED, CS.ACCEPTED, CS.COURIER_ASSIGNED})
# Still moving: the worker asks the company when these went quiet.
OPEN = frozenset({CS.CREATED, CS.ACCEPTED, CS.COURIER_ASSIGNED, CS.PICKED_UP, CS.IN_TRANSIT})


class UpdateKind(StrEnum):
    """What a company's callback (or a poll answer) says happened."""

    ACCEPTED = "accepted"
    COURIER_ASSIGNED = "courier_assigned"
    RESCHEDULED = "rescheduled"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    PICKUP_FAILED = "pickup_failed"
    SETTLED = "settled"
    CANCELLED = "cancelled"


# The status an update moves the order to; rescheduled and settled add facts, no status.
MOVES_TO = {
    UpdateKind.ACCEPTED: CS.ACCEPTED,
    UpdateKind.COURIER_ASSIGNED: CS.COURIER_ASSIGNED,
    UpdateKind.PICKED_UP: CS.PICKED_UP,
    UpdateKind.IN_TRANSIT: CS.IN_TRANSIT,
    UpdateKind.DELIVERED: CS.DELIVERED,
    UpdateKind.PICKUP_FAILED: CS.FAILED,
    UpdateKind.CANCELLED: CS.CANCELLED,
}


class PendingOp(StrEnum):
    """What doorstep still has to tell the company (sent after commit, retried by the worker)."""

    CREATE = "create"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"


def mask_mobile(mobile: str) -> str:
    """A mobile number with the middle hidden (138****1234), as privacy waybills print it."""
    digits = mobile.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


@dataclass(frozen=True)
class Party:
    """Sender or receiver of the unified order: who, how to reach, where (RULES.md §6)."""

    name: str
    mobile: str
    province: str
    city: str
    district: str
    detail: str
    adcode: str
    town: str = ""
    raw_text: str = ""


@dataclass(frozen=True)
class Cargo:
    """What the parcel holds; ``insured_value_fen`` is its declared value (保价), up to which
    the company compensates transit damage."""

    description: str
    quantity: int
    weight_g: int
    insured_value_fen: int = 0

    def __post_init__(self) -> None:
        if self.quantity <= 0 or self.weight_g <= 0 or self.insured_value_fen < 0:
            raise ValueError("cargo quantity and weight are positive, value not negative")


def insured_parts(worth: Mapping[str, int], max_insured_fen: int | None) -> dict[str, int]:
    """The value a parcel declares, per return in it: each return's worth (what the buyer
    paid for its units), or, when together they pass the company's maximum insured value,
    that maximum shared in proportion to the worths (rounded down, the fen left over to the
    largest remainders, ties by return id), so the parts always add up to what is declared."""
    if any(fen < 0 for fen in worth.values()):
        raise ValueError("a return's worth is not negative")
    total = sum(worth.values())
    if max_insured_fen is None or total <= max_insured_fen:
        return dict(worth)
    parts = {rid: fen * max_insured_fen // total for rid, fen in worth.items()}
    left = max_insured_fen - sum(parts.values())
    by_remainder = sorted(worth, key=lambda rid: (-(worth[rid] * max_insured_fen % total), rid))
    for rid in by_remainder[:left]:
        parts[rid] += 1
    return parts


@dataclass(frozen=True)
class UnifiedOrder:
    """The pickup order every courier company is spoken to with (RULES.md §6); each adapter
    maps it to its own fields. ``out_order_no`` is the idempotency key."""

    out_order_no: str
    carrier_id: str
    service_type: str
    sender: Party
    receiver: Party
    cargo: Cargo
    day: date
    start: time
    end: time
    callback_url: str
    payment: str = "monthly_account"  # sender | receiver | monthly_account
    inspection_rules: tuple[str, ...] = ()
    barcodes: tuple[str, ...] = ()
    remark: str = ""


@dataclass(frozen=True)
class CourierInfo:
    """The company's courier as the buyer is shown them: a name and a masked mobile."""

    name: str
    mobile_masked: str


@dataclass(frozen=True)
class Answered:
    """What a company's answer to a create or reschedule says of the order it now holds,
    when it says it: the window, and the company's own time of that state. That time is on
    the company's clock: it is compared with its events' times, never with doorstep's."""

    company_at: datetime | None = None
    day: date | None = None
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class CarrierUpdate:
    """One status event from a company (callback or poll), already mapped from its payload.

    Callbacks carry the order as the company now sees it, so a later-stage event brings the
    facts of the stages it skipped (courier, waybill). ``company_at``: the company's own
    time of what the event reports (a callback's time, a polled order's last change), on
    its clock; None when it gives none (``occurred_at`` may be doorstep's, for a poll)."""

    event_id: str
    out_order_no: str
    kind: UpdateKind
    occurred_at: datetime
    courier: CourierInfo | None = None
    waybill_no: str | None = None
    failure_reason: FailureReason | None = None
    day: date | None = None
    start: time | None = None
    end: time | None = None
    actual_weight_g: int | None = None
    freight_fen: int | None = None
    company_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or (
            self.company_at is not None and self.company_at.tzinfo is None
        ):
            raise ValueError("event times must be timezone-aware")
        at_or_after_pickup = self.kind in (
            UpdateKind.PICKED_UP,
            UpdateKind.IN_TRANSIT,
            UpdateKind.DELIVERED,
        )
        if at_or_after_pickup and not self.waybill_no:
            raise InvalidInput(
                "carrier_update_without_waybill",
                "A picked-up parcel's event must carry its waybill number.",
                "已揽收的包裹事件必须带运单号。",
            )
        if self.kind is UpdateKind.PICKUP_FAILED and self.failure_reason is None:
            raise InvalidInput(
                "carrier_update_without_reason",
                "A failed pickup must say why.",
                "取件失败事件必须说明原因。",
            )
        if self.kind is UpdateKind.SETTLED and (
            self.actual_weight_g is None
            or self.freight_fen is None
            or self.actual_weight_g <= 0
            or self.freight_fen < 0
        ):
            raise InvalidInput(
                "carrier_update_without_settlement",
                "A settlement carries the actual weight and the freight in fen.",
                "结算事件必须带实际重量和运费（分）。",
            )
        if self.kind is UpdateKind.RESCHEDULED and None in (self.day, self.start, self.end):
            raise InvalidInput(
                "carrier_update_without_window",
                "A reschedule carries the new day and window.",
                "改约事件必须带新的日期和时段。",
            )


@dataclass
class PickupOrder(EventRecorder):
    """doorstep's record of one pickup order at a courier company (one per visit attempt)."""

    out_order_no: str
    carrier_id: str
    appointment_id: str
    return_ids: list[str]
    order: UnifiedOrder
    created_at: datetime
    status: CarrierStatus = CarrierStatus.PENDING
    pending_op: PendingOp | None = PendingOp.CREATE
    carrier_order_id: str | None = None
    courier: CourierInfo | None = None
    waybill_no: str | None = None
    failure_reason: FailureReason | None = None
    actual_weight_g: int | None = None
    freight_fen: int | None = None
    send_attempts: int = 0
    last_error: str | None = None
    next_send_at: datetime | None = None
    last_heard_at: datetime | None = None
    last_polled_at: datetime | None = None
    version: int = 0
    late_updates: int = field(default=0)
    # Moved before the company answered the create: which of the (idempotent) creates it kept,
    # the first window or a later one, is unknown, so the window is sent again once it answers.
    moved_while_creating: bool = False
    # One send on its way per order (a lease): until when its sender holds the order. The
    # sender sends again after its answer if the window moved meanwhile, so the newest
    # window the buyer wanted always reaches the company last. None: no send on its way.
    send_lease_until: datetime | None = None
    # The windows the company took from us (a few, newest last) and the company's own time
    # (its clock, from its answer) of holding the newest: a move of its made no later than
    # that, our echoes included, is not followed (callbacks come in any order, RULES.md
    # §6). Never compared with doorstep's clock: a skew of minutes between the two made an
    # older echo look newer, or a newer move older. None: the answer gave no time (or the
    # order was stored before session 12, when the time kept was doorstep's).
    sent_windows: list[str] = field(default_factory=list)
    company_took_at: datetime | None = None
    # The declared value (``order.cargo.insured_value_fen``) per return in the parcel: what
    # the company owes at most for one return's transit damage. Empty on orders placed
    # before values were declared, which declared no part for any return.
    insured_fen: dict[str, int] = field(default_factory=dict)
    # doorstep cancelled it (the buyer, a withdrawal), not the company: a pickup the company
    # reports afterwards overtook our cancel, and the company's facts win (``apply``).
    cancelled_by_us: bool = False
    # The company refused our cancel: it still holds a live order, so the worker keeps
    # asking it (``quiet`` selects these) until it reports the pickup or its own end.
    cancel_refused: bool = False
    # Returns the parcel left behind when a pickup overtook our cancel (withdrawn, booked
    # again or self-sent meanwhile): not changed behind the buyer's back, so ops settle them
    # by hand (``settle_ops``) and the order waits on their list since ``needs_ops_at``.
    needs_ops: list[str] = field(default_factory=list)
    needs_ops_at: datetime | None = None
    ops_settled_at: datetime | None = None
    ops_settled_by: str | None = None
    ops_note: str = ""

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        if (
            self.insured_fen
            and sum(self.insured_fen.values()) != self.order.cargo.insured_value_fen
        ):
            raise ValueError("the returns' insured parts add up to the parcel's declared value")

    def _event(self, name: str, at: datetime, **data: Any) -> None:
        self.record(Event(f"carrier_order.{name}", "carrier_order", self.out_order_no, at, data))

    @classmethod
    def intend(
        cls,
        order: UnifiedOrder,
        appointment_id: str,
        return_ids: list[str],
        at: datetime,
        insured_fen: Mapping[str, int] | None = None,
    ) -> PickupOrder:
        """The order as booked: recorded with the booking, sent to the company after commit.
        ``insured_fen``: the declared value's part per return (``insured_parts``)."""
        po = cls(
            order.out_order_no, order.carrier_id, appointment_id, list(return_ids), order, at,
            insured_fen=dict(insured_fen or {}),
        )  # fmt: skip
        po.next_send_at = at
        po._event(
            "intended",
            at,
            appointment_id=appointment_id,
            carrier_id=order.carrier_id,
            day=order.day.isoformat(),
            window=f"{order.start:%H:%M}-{order.end:%H:%M}",
            insured_value_fen=order.cargo.insured_value_fen,
        )
        return po

    def insured_part(self, return_id: str) -> int | None:
        """What the company owes at most for transit damage to this return's units: its part
        of the declared value; None when the order declared none for it."""
        return self.insured_fen.get(return_id)

    @property
    def picked_up(self) -> bool:
        return self.status in (CS.PICKED_UP, CS.IN_TRANSIT, CS.DELIVERED)

    # --- what doorstep sends ------------------------------------------------------------
    def lease_send(self, now: datetime, until: datetime) -> bool:
        """Hold the order's one send until ``until``; False when there is nothing to send or
        another sender holds it (that one sends the newest window after its answer). A
        sender that died holds it until its lease runs out; the worker sends after that."""
        if self.pending_op is None:
            return False
        if self.send_lease_until is not None and self.send_lease_until > now:
            return False
        self.send_lease_until = until
        return True

    def end_send(self, until: datetime) -> None:
        """The sender's answer is recorded: the next send may start. ``until``: the
        sender's own lease; one that ran out while its call was on its way (another sender
        holds the order now) frees nothing: freeing the other's let a third send go out
        beside it."""
        if self.send_lease_until == until:
            self.send_lease_until = None

    def _took(self, sent: UnifiedOrder, answered: Answered | None) -> None:
        # The company holds ``sent``'s window from now on, since the time its answer gives.
        # An answer naming another window (a repeated create, answered with the order the
        # company kept) dates that one, not ours: no time is kept then.
        label = _window_label(sent)
        self.sent_windows = [*(w for w in self.sent_windows if w != label), label][-SENT_KEPT:]
        held = None if answered is None else (answered.day, answered.start, answered.end)
        ours = answered is not None and held in ((None, None, None), _window(sent))
        self.company_took_at = answered.company_at if answered is not None and ours else None

    def created(
        self,
        carrier_order_id: str,
        at: datetime,
        sent: UnifiedOrder | None = None,
        answered: Answered | None = None,
    ) -> None:
        """The company took the order (a repeated create returns the same order id);
        ``sent``: the order as it went out; ``answered``: what the answer says it holds."""
        if sent is not None and self.pending_op is PendingOp.CREATE:
            self._took(sent, answered)
        if self.pending_op is PendingOp.CREATE:
            self.pending_op = None
            if self.moved_while_creating and self.status in BEFORE_PICKUP:
                self.pending_op, self.next_send_at = PendingOp.RESCHEDULE, at
            self.moved_while_creating = False
        self.last_error = None
        if self.pending_op is None:
            self.next_send_at = None
        first_answer = self.carrier_order_id is None
        if first_answer:
            self.carrier_order_id = carrier_order_id
        if first_answer and self.status is CS.CANCELLED and self.pending_op is None:
            # The buyer cancelled while the create was on its way: the company has it now.
            self.pending_op, self.next_send_at = PendingOp.CANCEL, at
        if self.status is CS.PENDING:
            self.status = CS.CREATED
            self.last_heard_at = at
            self._event("created", at, carrier_order_id=carrier_order_id)

    def send_failed(self, error: str, at: datetime, retry_at: datetime | None) -> None:
        """A send did not get through; ``retry_at`` None means the company refused for good."""
        self.send_attempts += 1
        self.last_error = error[:200]
        self.next_send_at = retry_at
        if retry_at is None and self.pending_op is PendingOp.CREATE:
            self.pending_op = None
            self.status = CS.CREATE_FAILED
            self._event("create_failed", at, error=self.last_error, attempts=self.send_attempts)
        elif retry_at is None:
            op, self.pending_op = self.pending_op, None
            if op is PendingOp.CANCEL and self.status is CS.CANCELLED:
                self.cancel_refused = True
            self._event("send_abandoned", at, op=op.value if op else "", error=self.last_error)

    def sent(
        self, at: datetime, sent: UnifiedOrder | None = None, answered: Answered | None = None
    ) -> None:
        """A cancel or reschedule was taken by the company; ``sent``: the order as it went
        out, when the window may have moved since; ``answered``: what the answer says the
        company holds."""
        self.pending_op, self.last_error, self.next_send_at = None, None, None
        self.send_attempts = 0
        if sent is not None and self.status in BEFORE_PICKUP:
            self._took(sent, answered)
            self._still_to_move(sent, at)

    def _still_to_move(self, sent: UnifiedOrder, at: datetime) -> None:
        # The window moved while the call was on its way (a second typhoon, the buyer again):
        # the company holds the one sent, so the move is still owed. Clearing it lost the
        # second move for good, and the courier came at the old hour.
        if _window(sent) != _window(self.order):
            self.pending_op, self.next_send_at = PendingOp.RESCHEDULE, at

    def request_cancel(self, at: datetime, reason: str) -> bool:
        """The buyer cancelled the visit; False when there is nothing to tell the company."""
        if self.status not in BEFORE_PICKUP:
            raise Conflict(
                "carrier_order_not_cancellable",
                "The courier company has already picked the parcel up.",
                "快递公司已揽收，无法取消。",
                status=self.status.value,
            )
        never_sent = self.status is CS.PENDING
        self.status = CS.CANCELLED
        self.cancelled_by_us = True
        self.pending_op = None if never_sent else PendingOp.CANCEL
        self.next_send_at = None if never_sent else at
        self._event("cancelled", at, reason=reason, by="doorstep")
        return not never_sent

    def request_reschedule(self, day: date, start: time, end: time, at: datetime) -> None:
        """The buyer moved the window: the order to send carries the new one."""
        if self.status not in BEFORE_PICKUP:
            raise Conflict(
                "carrier_order_not_reschedulable",
                "The courier company has already picked the parcel up.",
                "快递公司已揽收，无法改约。",
                status=self.status.value,
            )
        self.order = replace(self.order, day=day, start=start, end=end)
        if self.pending_op is PendingOp.CREATE:
            self.moved_while_creating = True
        else:
            self.pending_op = PendingOp.RESCHEDULE
        self.next_send_at = at
        self._event("reschedule_requested", at, day=day.isoformat(), window=_label(start, end))

    # --- what the company reports -------------------------------------------------------
    def apply(
        self, update: CarrierUpdate, at: datetime, waiting: Collection[str] | None = None
    ) -> bool:
        """Take a company event; True when it changed the order. An event from a stage already
        passed (or after the order ended) is recorded as late and changes nothing.

        ``waiting``: the order's returns still waiting for this pickup (None: all of them).
        A return the buyer withdrew while the company's courier was on the way is not in the
        parcel: the pickup takes only the waiting ones, and its event names the skipped."""
        self.last_heard_at = at
        target = MOVES_TO.get(update.kind)
        if update.kind is UpdateKind.SETTLED:
            return self._settle(update)
        if update.kind is UpdateKind.RESCHEDULED:
            assert update.day and update.start and update.end
            if (update.day, update.start, update.end) == (
                self.order.day,
                self.order.start,
                self.order.end,
            ):
                return False  # the window we already have (our own move echoed, or a poll)
            if self.status not in BEFORE_PICKUP or self.status is CS.PENDING:
                return self._late(update)
            if self._superseded(update, at):
                return False
            self.order = replace(self.order, day=update.day, start=update.start, end=update.end)
            self._event(
                "rescheduled",
                update.occurred_at,
                event_id=update.event_id,
                day=update.day.isoformat(),
                window=_label(update.start, update.end),
            )
            return True
        assert target is not None
        if self.overtakes_cancel(update):
            return self._cancel_overtaken(update, target, waiting)
        if self.status is CS.CANCELLED and target in (CS.FAILED, CS.CANCELLED):
            self.cancel_refused = False  # the company's order ended too: nothing to ask
        if self.status in TERMINAL or (
            target in RANK and RANK.get(self.status, 99) >= RANK[target]
        ):
            return self._late(update)
        if target in (CS.FAILED, CS.CANCELLED) and self.status not in BEFORE_PICKUP:
            return self._late(update)  # a parcel already taken cannot fail or be cancelled
        if (
            self.status is CS.PENDING
            and self.carrier_order_id is None
            and self.pending_op is PendingOp.CREATE
        ):
            # The create's answer was lost (or is still on its way) but the company has the
            # order: stop re-sending it. A window moved meanwhile is still owed: which of
            # the windows the company kept is unknown, so it is sent as a reschedule (it
            # was lost when this event came before the create's answer).
            self.pending_op = None
            if self.moved_while_creating and target in BEFORE_PICKUP:
                self.pending_op, self.next_send_at = PendingOp.RESCHEDULE, at
            self.moved_while_creating = False
        was_picked_up = self.picked_up
        self.status = target
        if update.courier is not None:
            self.courier = update.courier
        if update.waybill_no:
            self.waybill_no = update.waybill_no
        if update.failure_reason is not None:
            self.failure_reason = update.failure_reason
        data: dict[str, Any] = {"event_id": update.event_id}
        if update.courier is not None and target is CS.COURIER_ASSIGNED:
            data.update(
                courier_name=update.courier.name, courier_mobile=update.courier.mobile_masked
            )
        if update.waybill_no and target in (CS.PICKED_UP, CS.IN_TRANSIT, CS.DELIVERED):
            data["waybill_no"] = update.waybill_no
        if update.failure_reason is not None:
            data["reason"] = update.failure_reason.value
        if target in RANK and RANK[target] >= RANK[CS.PICKED_UP] and not was_picked_up:
            data.update(self._take_waiting(waiting))
        self._event(target.value, update.occurred_at, **data)
        return True

    def overtakes_cancel(self, update: CarrierUpdate) -> bool:
        """Whether the company reports a pickup of an order doorstep cancelled: its courier
        took the parcel before our cancel reached it (the company refuses that cancel)."""
        target = MOVES_TO.get(update.kind)
        return (
            self.status is CS.CANCELLED
            and self.cancelled_by_us
            and target in RANK
            and RANK[target] >= RANK[CS.PICKED_UP]
        )

    def _cancel_overtaken(
        self, update: CarrierUpdate, target: CarrierStatus, waiting: Collection[str] | None
    ) -> bool:
        # The parcel is on its way to the warehouse whatever we cancelled: the order follows
        # the company. ``waiting``: the returns the cancel released that are still free to
        # go in the parcel; the others (withdrawn, booked again, self-sent since) are not
        # changed behind the buyer's back but left to ops.
        self.status = target
        self.pending_op, self.next_send_at = None, None
        self.cancel_refused = False
        if update.courier is not None:
            self.courier = update.courier
        self.waybill_no = update.waybill_no
        taken = list(self.return_ids) if waiting is None else list(waiting)
        needs_ops = [r for r in self.return_ids if r not in taken]
        self.return_ids = [r for r in self.return_ids if r in taken]
        if needs_ops:
            self.needs_ops, self.needs_ops_at = needs_ops, update.occurred_at
        self._event(
            "cancel_overtaken",
            update.occurred_at,
            event_id=update.event_id,
            waybill_no=update.waybill_no,
            status=target.value,
            return_ids=list(self.return_ids),
            needs_ops=needs_ops,
        )
        return True

    @property
    def awaits_ops(self) -> bool:
        """Whether returns the overtaking pickup left behind still wait for ops."""
        return bool(self.needs_ops) and self.ops_settled_at is None

    def settle_ops(self, by: str, note: str, at: datetime) -> None:
        """Ops have dealt with the returns the parcel left behind (told the buyer, had the
        parcel sent back or the return reopened): the order leaves their list, with ``note``
        saying what was done."""
        if not note.strip():
            raise InvalidInput(
                "ops_note_required",
                "Say what was done for the buyer.",
                "请填写处理说明。",
            )
        if not self.needs_ops:
            raise NotFound("ops_case", self.out_order_no)
        if self.ops_settled_at is not None:
            raise Conflict(
                "ops_case_settled",
                "Ops have already settled this pickup order.",
                "运营已处理过该取件单。",
                out_order_no=self.out_order_no,
                settled_by=self.ops_settled_by,
            )
        self.ops_settled_at, self.ops_settled_by, self.ops_note = at, by, note
        self._event("ops_settled", at, by=by, note=note, return_ids=list(self.needs_ops))

    def _superseded(self, update: CarrierUpdate, at: datetime) -> bool:
        """A company move not to follow, recorded as such: while a newer window of ours is
        still to reach the company (our send goes after it and wins), or one the company
        made no later, on its own clock, than it took our newest window (our echo of an
        older window, or its own move overtaken by ours: it holds ours). Following either
        moved the visit off the window the company holds, the buyer's latest lost.

        Without the company's times to compare (its answer gave none), an older window of
        ours may be a late echo or a move back to it: it is not followed and ours is sent
        again, so the company ends at the buyer's latest either way. So is a move dated the
        very time the company took ours (a clock counting whole seconds): which came first
        is unknown, save for the echo of our newest send itself."""
        assert update.day and update.start and update.end
        label = _label_parts(update.day, update.start, update.end)
        ours = label in self.sent_windows
        dated = self.company_took_at is not None and update.company_at is not None
        if self.pending_op is PendingOp.RESCHEDULE or self.moved_while_creating:
            cause = "newer_window_wanted"
        elif dated:
            assert self.company_took_at is not None and update.company_at is not None
            if update.company_at > self.company_took_at:
                return False
            if update.company_at < self.company_took_at or label == self.sent_windows[-1]:
                cause = "older_window_echoed" if ours else "overtaken_by_our_send"
            else:
                cause = "dated_as_our_send"
                self.pending_op, self.next_send_at = PendingOp.RESCHEDULE, at
        elif ours and label != self.sent_windows[-1]:
            cause = "older_window_undated"
            self.pending_op, self.next_send_at = PendingOp.RESCHEDULE, at
        else:
            return False
        self._event(
            "move_superseded",
            update.occurred_at,
            event_id=update.event_id,
            day=update.day.isoformat(),
            window=_label(update.start, update.end),
            kept=_window_label(self.order),
            cause=cause,
        )
        return True

    def _take_waiting(self, waiting: Collection[str] | None) -> dict[str, list[str]]:
        """At pickup the order keeps the returns the parcel holds (later stages, the express
        refund and the warehouse follow them); the event says which were skipped."""
        if waiting is None:
            return {"return_ids": list(self.return_ids)}
        skipped = [r for r in self.return_ids if r not in waiting]
        self.return_ids = [r for r in self.return_ids if r in waiting]
        return {"return_ids": list(self.return_ids), "skipped": skipped}

    def _settle(self, update: CarrierUpdate) -> bool:
        # A fact, not a stage: taken whenever it comes (reordered before pickup too), once.
        if self.actual_weight_g is not None:
            return self._late(update)
        self.actual_weight_g, self.freight_fen = update.actual_weight_g, update.freight_fen
        self._event(
            "settled",
            update.occurred_at,
            event_id=update.event_id,
            actual_weight_g=update.actual_weight_g,
            freight_fen=update.freight_fen,
        )
        return True

    def _late(self, update: CarrierUpdate) -> bool:
        self.late_updates += 1
        self._event(
            "late_update",
            update.occurred_at,
            event_id=update.event_id,
            kind=update.kind.value,
            status=self.status.value,
        )
        return False

    def polled(self, at: datetime) -> None:
        self.last_polled_at = at


def _window(order: UnifiedOrder) -> tuple[date, time, time]:
    return order.day, order.start, order.end


def _label(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


def _label_parts(day: date, start: time, end: time) -> str:
    return f"{day.isoformat()} {_label(start, end)}"


def _window_label(order: UnifiedOrder) -> str:
    return _label_parts(order.day, order.start, order.end)


# Windows of ours remembered per order: more than the moves one order sees in practice.
SENT_KEPT = 8
