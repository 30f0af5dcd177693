"""Door pickup: which windows can still be booked, and the appointment aggregate."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from doorstep.domain.address import Address
from doorstep.domain.bounds import in_calendar
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.coverage import SlotTemplate, Window
from doorstep.domain.errors import Conflict, IllegalTransition, InvalidInput
from doorstep.domain.events import Event, EventRecorder


@dataclass(frozen=True)
class BookingRules:
    """Cut-offs for booking (RULES.md §4); settings, since carriers differ."""

    horizon_days: int = 3  # today, tomorrow, the day after
    close_before_end: timedelta = timedelta(hours=2)
    same_day_until: time = time(17, 0)  # after this, only next-day slots are offered
    # Seconds of driving a booking counts against handing its visit to a courier with nothing
    # on their route that day: calling one out pays them the rest of a day (0: distance only).
    call_out_s: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_days <= 14:
            raise ValueError("horizon_days must be 1–14")
        if not 0 <= self.call_out_s <= 36_000:
            raise ValueError("call_out_s must be 0–36000")
        if self.close_before_end < timedelta(0):
            raise ValueError("close_before_end must not be negative")


@dataclass(frozen=True)
class SlotRef:
    """One bookable window of one carrier in one area on one day."""

    adcode: str
    carrier_id: str
    day: date
    window: Window

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.day, self.window.start, tzinfo=SHANGHAI)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.day, self.window.end, tzinfo=SHANGHAI)

    @property
    def key(self) -> str:
        return f"{self.adcode}/{self.carrier_id}/{self.day.isoformat()}/{self.window.label}"


def closes_at(slot: SlotRef, rules: BookingRules) -> datetime:
    """The last moment the slot can be booked."""
    return slot.ends_at - rules.close_before_end


def open_slots(
    adcode: str, carrier_id: str, template: SlotTemplate, now: datetime, rules: BookingRules
) -> list[SlotRef]:
    """Every window of the template in the horizon that can still be booked at ``now``."""
    wall = local(now)
    first_day = 0 if wall.time() < rules.same_day_until else 1
    out = []
    for offset in range(first_day, rules.horizon_days):
        day = wall.date() + timedelta(days=offset)
        for window in template.windows:
            slot = SlotRef(adcode, carrier_id, day, window)
            if now <= closes_at(slot, rules):
                out.append(slot)
    return out


def check_bookable(
    slot: SlotRef, template: SlotTemplate, now: datetime, rules: BookingRules
) -> None:
    """Refuse a window that the template does not have or that has closed."""
    if template.window(slot.window.start) != slot.window:
        raise InvalidInput(
            "slot_not_in_template",
            f"{slot.window.label} is not a pickup window here.",
            f"{slot.window.label} 不是该地区的可预约时段。",
        )
    if slot not in open_slots(slot.adcode, slot.carrier_id, template, now, rules):
        raise Conflict(
            "slot_closed",
            f"The {slot.day} {slot.window.label} window can no longer be booked.",
            f"{slot.day} {slot.window.label} 时段已截止预约。",
            slot=slot.key,
        )


# A buyer says when suits them to the quarter hour: finer would read as a promise the
# windows (two hours wide) cannot keep, and a coarser grid could not tell 13:00 from 14:00.
WANTED_STEP_MIN = 15


def check_wanted(wanted: datetime, now: datetime, rules: BookingRules) -> datetime:
    """The moment a buyer wants their pickup, in Shanghai time, or ``InvalidInput``: on the
    quarter hour, not before the current quarter hour and on a day of the booking horizon
    (today and the ``horizon_days - 1`` days after, local)."""
    if wanted.tzinfo is None:
        raise InvalidInput(
            "wanted_without_zone",
            "The wanted time needs a time zone (or is read as Shanghai time).",
            "期望上门时间需带时区（否则按北京时间）。",
        )
    wall = local(now)
    last_day = wall.date() + timedelta(days=rules.horizon_days - 1)
    if not in_calendar(wanted):
        # Checked before converting: a time at the calendar's edge with a far offset does
        # not fit in a datetime once moved to Shanghai (OverflowError, not a refusal).
        raise _outside_horizon(wanted.isoformat(), last_day)
    at = local(wanted)
    if at.minute % WANTED_STEP_MIN or at.second or at.microsecond:
        raise InvalidInput(
            "wanted_not_quarter_hour",
            "Choose a wanted time on the quarter hour (e.g. 14:00, 14:15).",
            "期望上门时间请按刻钟选择（如 14:00、14:15）。",
            wanted=at.isoformat(),
        )
    floor = wall.replace(
        minute=wall.minute - wall.minute % WANTED_STEP_MIN, second=0, microsecond=0
    )
    if at < floor or at.date() > last_day:
        raise _outside_horizon(at.isoformat(), last_day)
    return at


def _outside_horizon(wanted: str, last_day: date) -> InvalidInput:
    return InvalidInput(
        "wanted_outside_horizon",
        f"The wanted time must be between now and the end of {last_day}.",
        f"期望上门时间须在现在至 {last_day} 结束之间。",
        wanted=wanted,
        last_day=last_day.isoformat(),
    )


class FailureReason(StrEnum):
    """Why a pickup attempt failed, as courier companies report it (RULES.md §6)."""

    BAD_PHONE = "bad_phone"
    BUYER_UNREACHABLE = "buyer_unreachable"
    NO_ACCESS = "no_access"
    TIME_CHANGED_BY_BUYER = "time_changed_by_buyer"
    WEATHER = "weather"
    TRAFFIC = "traffic"
    GOODS_NOT_ACCEPTABLE = "goods_not_acceptable"
    INSPECTION_REFUSED = "inspection_refused"

    @property
    def buyer_side(self) -> bool:
        return self in {
            FailureReason.BAD_PHONE,
            FailureReason.BUYER_UNREACHABLE,
            FailureReason.TIME_CHANGED_BY_BUYER,
            FailureReason.GOODS_NOT_ACCEPTABLE,
            FailureReason.INSPECTION_REFUSED,
        }


class Handover(StrEnum):
    """How the parcel changes hands: in person, or contactless (the seed's epidemic practice:
    left at the door or in a parcel locker, inspected from the courier's photos and weight)."""

    IN_PERSON = "in_person"
    DOOR = "door"
    LOCKER = "locker"

    @property
    def contactless(self) -> bool:
        return self is not Handover.IN_PERSON


class ReviewStatus(StrEnum):
    """The buyer's answer to a contactless pickup's photos and weight."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    RESOLVED = "resolved"


class DisputeOutcome(StrEnum):
    """What ops decided about a disputed contactless pickup."""

    COURIER_UPHELD = "courier_upheld"  # the photos and weight stand as the door inspection
    BUYER_UPHELD = "buyer_upheld"  # the buyer's account stands; the courier's is set aside


@dataclass
class ContactlessReview:
    """The buyer confirms or disputes within the time limit; silence confirms."""

    due_at: datetime
    status: ReviewStatus = ReviewStatus.PENDING
    decided_at: datetime | None = None
    decided_by: str = ""  # the buyer, "silence", or the ops user who resolved a dispute
    dispute_text: str = ""
    dispute_photo_ids: tuple[str, ...] = ()
    disputed_at: datetime | None = None
    outcome: DisputeOutcome | None = None
    resolution_note: str = ""


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ASSIGNED = "assigned"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


A = AppointmentStatus
ACTIVE = frozenset({A.BOOKED, A.ASSIGNED, A.ARRIVED})


@dataclass(frozen=True)
class Attempt:
    at: datetime
    courier_id: str | None
    outcome: str
    reason: FailureReason | None = None
    note: str = ""


def new_pickup_code() -> str:
    """Six digits the buyer tells the courier, so a parcel goes only to the booked courier."""
    return f"{secrets.randbelow(10**6):06d}"


@dataclass
class Appointment(EventRecorder):
    """A booked pickup window at one address; it may carry several returns of one buyer."""

    appointment_id: str
    buyer_id: str
    address: Address
    slot: SlotRef
    return_ids: list[str]
    created_at: datetime
    pickup_code: str = field(default_factory=new_pickup_code)
    status: AppointmentStatus = AppointmentStatus.BOOKED
    courier_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    arrived_at: datetime | None = None
    completed_at: datetime | None = None
    sla_exempt: bool = False  # moved by a disruption: on-time measures leave it out
    eta: datetime | None = None  # planned arrival, from the courier's route
    route_position: int | None = None
    unserved_reason: str | None = None  # the planner found no courier who can keep it
    # A courier company's own courier comes (its pickup order: domain/carrier_order.py);
    # doorstep plans no route for it.
    served_by_company: bool = False
    version: int = 0
    handover: Handover = Handover.IN_PERSON
    handover_note: str = ""  # where it is left (e.g. the locker and its code), for the courier
    review: ContactlessReview | None = None  # contactless only, from pickup on
    # A green window's coupon (issue 9 §9): promised at booking, issued only when the parcel
    # is picked up in that window, dropped when the visit moves or is cancelled.
    coupon_fen: int = 0
    coupon_issued_at: datetime | None = None

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)

    def _event(self, name: str, at: datetime, **data: object) -> None:
        self.record(
            Event(f"appointment.{name}", "appointment", self.appointment_id, at, dict(data))
        )

    def _require(self, action: str, *allowed: AppointmentStatus) -> None:
        if self.status not in allowed:
            raise IllegalTransition("appointment", self.status.value, action)

    @classmethod
    def book(
        cls,
        appointment_id: str,
        buyer_id: str,
        address: Address,
        slot: SlotRef,
        return_ids: list[str],
        at: datetime,
        handover: Handover = Handover.IN_PERSON,
        handover_note: str = "",
    ) -> Appointment:
        """A new appointment for a slot whose capacity the caller has already taken."""
        if len(handover_note) > 200:
            raise InvalidInput(
                "handover_note_too_long",
                "Say where the parcel is left in at most 200 characters.",
                "放置位置说明最多 200 个字。",
            )
        appt = cls(appointment_id, buyer_id, address, slot, list(return_ids), at)
        appt.handover, appt.handover_note = handover, handover_note
        appt._event(
            "booked",
            at,
            slot=slot.key,
            window=slot.window.label,
            day=slot.day.isoformat(),
            carrier_id=slot.carrier_id,
            returns=list(return_ids),
            handover=handover.value,
        )
        return appt

    # --- contactless pickup (issue 8 §8) -----------------------------------------------
    def await_review(self, due_at: datetime, at: datetime) -> None:
        """A contactless pickup is done: the buyer now has until ``due_at`` to answer."""
        self._require("await_review", A.COMPLETED)
        if not self.handover.contactless or self.review is not None:
            return
        self.review = ContactlessReview(due_at)
        self._event("contactless_review_opened", at, due_at=due_at.isoformat())

    def _open_review(self, action: str, at: datetime) -> ContactlessReview:
        review = self.review
        if review is None or review.status is not ReviewStatus.PENDING:
            raise IllegalTransition(
                "contactless_review", review.status.value if review else "none", action
            )
        if at > review.due_at:
            raise Conflict(
                "review_closed",
                "The time to answer has passed; the courier's photos and weight stand.",
                "确认期限已过，以快递员的照片和称重为准。",
                due_at=review.due_at.isoformat(),
            )
        return review

    def confirm_handover(self, at: datetime, by: str) -> None:
        """The buyer agrees with the courier's photos and weight (or said nothing in time:
        ``by="silence"``, which the sweep records once the limit has passed)."""
        review = self.review
        if by == "silence":
            if review is None or review.status is not ReviewStatus.PENDING or at < review.due_at:
                raise IllegalTransition(
                    "contactless_review", review.status.value if review else "none", "confirm"
                )
        else:
            review = self._open_review("confirm", at)
        review.status, review.decided_at, review.decided_by = ReviewStatus.CONFIRMED, at, by
        self._event("handover_confirmed", at, by=by)

    def dispute_handover(self, text: str, photo_ids: tuple[str, ...], at: datetime) -> None:
        """The buyer says the photos or the weight are wrong; ops decide with both sides."""
        if not text.strip() or len(text) > 2000 or len(photo_ids) > 10:
            raise InvalidInput(
                "dispute_text_required",
                "Say what is wrong (at most 2000 characters, 10 photos).",
                "请说明问题（最多 2000 字、10 张照片）。",
            )
        review = self._open_review("dispute", at)
        review.status, review.disputed_at = ReviewStatus.DISPUTED, at
        review.dispute_text, review.dispute_photo_ids = text.strip(), tuple(photo_ids)
        self._event("handover_disputed", at, photos=len(photo_ids))

    def resolve_dispute(self, outcome: DisputeOutcome, note: str, by: str, at: datetime) -> None:
        """Ops decided a disputed contactless pickup, with both sides' evidence in view."""
        review = self.review
        if review is None or review.status is not ReviewStatus.DISPUTED:
            raise IllegalTransition(
                "contactless_review", review.status.value if review else "none", "resolve"
            )
        review.status, review.outcome = ReviewStatus.RESOLVED, outcome
        review.decided_at, review.decided_by, review.resolution_note = at, by, note.strip()
        self._event("handover_dispute_resolved", at, outcome=outcome.value, by=by)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def join(self, return_id: str, at: datetime) -> None:
        """Add another return of the same buyer to this visit."""
        self._require("join", A.BOOKED, A.ASSIGNED)
        if return_id in self.return_ids:
            return
        self.return_ids.append(return_id)
        self._event("return_joined", at, return_id=return_id)

    def leave(self, return_id: str, at: datetime) -> None:
        """A return leaves the visit (it was cancelled); an empty visit is cancelled."""
        if return_id not in self.return_ids:
            return
        last = len(self.return_ids) == 1
        if last:
            # Check before changing anything: an empty visit must be cancellable.
            self._require("leave", A.BOOKED, A.ASSIGNED, A.FAILED)
        self.return_ids.remove(return_id)
        self._event("return_left", at, return_id=return_id)
        if last:
            self.cancel(at, "no_returns_left")

    def require_movable(self) -> None:
        """Refuse (``illegal_transition``) a move of a visit no longer waiting for its pickup:
        checked before a move reads the visit's returns (a visit emptied by a withdrawal is
        cancelled and has none)."""
        self._require("reschedule", A.BOOKED, A.ASSIGNED, A.FAILED)

    def reschedule(self, slot: SlotRef, at: datetime, reason: str = "buyer_request") -> SlotRef:
        """Move to another window (also after a failed attempt); returns the old slot."""
        self.require_movable()
        if slot == self.slot:
            raise Conflict("same_slot", "That is already the booked window.", "已预约该时段。")
        old, self.slot = self.slot, slot
        self._drop_coupon(at, "rescheduled")  # the coupon belonged to the green window
        self.status = A.BOOKED
        self.courier_id = None
        self.arrived_at = None
        self._event(
            "rescheduled",
            at,
            old=old.key,
            new=slot.key,
            reason=reason,
            day=slot.day.isoformat(),
            window=slot.window.label,
        )
        return old

    def assign(self, courier_id: str, at: datetime) -> None:
        self._require("assign", A.BOOKED, A.ASSIGNED)
        if self.courier_id == courier_id and self.status is A.ASSIGNED:
            return
        self.courier_id = courier_id
        self.status = A.ASSIGNED
        self._event("courier_assigned", at, courier_id=courier_id)

    def plan(self, courier_id: str, position: int, eta: datetime, at: datetime) -> None:
        """The route planner put this visit on a courier's route with an arrival time."""
        if self.status in (A.BOOKED, A.ASSIGNED):
            self.assign(courier_id, at)
        before = self.eta
        moved = before is None or abs((eta - before).total_seconds()) >= 600
        self.route_position, self.eta, self.unserved_reason = position, eta, None
        if moved:
            # Only changes a buyer would notice become events; small drifts stay quiet.
            # ``previous`` tells a first estimate from a move (only a move is texted).
            self._event(
                "eta_updated",
                at,
                courier_id=courier_id,
                eta=eta.isoformat(),
                previous=before.isoformat() if before else None,
            )

    def unassign(self, at: datetime, reason: str) -> None:
        """Back to the pool: the courier will not come (their account was deleted). The
        window stays booked (the buyer's promise stands); the next plan or ops assigns it."""
        self._require("unassign", A.BOOKED, A.ASSIGNED)
        if self.courier_id is None:
            return
        was = self.courier_id
        self.status, self.courier_id = A.BOOKED, None
        self.route_position, self.eta = None, None
        self._event("courier_unassigned", at, courier_id=was, reason=reason)

    def mark_unserved(self, reason: str, at: datetime) -> None:
        """No courier can keep this visit as things stand; ops must act."""
        if self.unserved_reason != reason:
            self.unserved_reason = reason
            self._event("unserved", at, reason=reason)

    def arrive(self, courier_id: str, at: datetime) -> None:
        self._require("arrive", A.ASSIGNED)
        self._check_courier(courier_id)
        self.status = A.ARRIVED
        self.arrived_at = at
        late = at > self.slot.ends_at
        self._event("courier_arrived", at, courier_id=courier_id, late=late)

    def check_code(self, code: str) -> None:
        """The buyer's code must match before anything leaves the door."""
        if not secrets.compare_digest(code.encode(), self.pickup_code.encode()):
            raise Conflict(
                "pickup_code_mismatch", "The pickup code does not match.", "取件码不正确。"
            )

    def complete(self, courier_id: str, at: datetime) -> None:
        self._require("complete", A.ARRIVED)
        self._check_courier(courier_id)
        self.status = A.COMPLETED
        self.completed_at = at
        self.attempts.append(Attempt(at, courier_id, "picked_up"))
        self._event("completed", at, courier_id=courier_id)
        if self.coupon_fen and self.coupon_issued_at is None:
            self.coupon_issued_at = at
            self._event("coupon_issued", at, amount_fen=self.coupon_fen)

    def check_repeat_of_pickup(self, courier_id: str, code: str | None) -> None:
        """A pickup sent again to a visit already done (the courier's phone lost the first
        answer) is the same pickup when this courier's pickup completed the visit and the
        code is the one that opened it (none is asked at a contactless handover): it is
        answered as the first was. Anything else is refused: the visit is over."""
        last = self.attempts[-1] if self.attempts else None
        same = (
            self.status is A.COMPLETED
            and last is not None
            and last.outcome == "picked_up"
            and last.courier_id == courier_id
            and (
                self.handover.contactless
                or (
                    code is not None
                    and secrets.compare_digest(code.encode(), self.pickup_code.encode())
                )
            )
        )
        if not same:
            raise self.over()

    def over(self) -> Conflict:
        """The refusal of a new step (another pickup, another inspection) on a visit that is
        already picked up."""
        return Conflict(
            "visit_already_picked_up",
            "This visit's pickup is already recorded; nothing more can be done on it.",
            "本次上门已完成取件，不能再次取件或验货。",
            status=self.status.value,
        )

    def promise_coupon(self, amount_fen: int, at: datetime) -> None:
        """Booked in a green window: its coupon is recorded now and issued at pickup."""
        if amount_fen <= 0 or self.coupon_fen:
            return
        self.coupon_fen = amount_fen
        self._event("coupon_promised", at, amount_fen=amount_fen)

    def _drop_coupon(self, at: datetime, why: str) -> None:
        if self.coupon_fen and self.coupon_issued_at is None:
            self._event("coupon_dropped", at, amount_fen=self.coupon_fen, reason=why)
            self.coupon_fen = 0

    def fail(self, courier_id: str, reason: FailureReason, at: datetime, note: str = "") -> None:
        """A failed attempt; the appointment waits to be rescheduled."""
        self._require("fail", A.ASSIGNED, A.ARRIVED)
        self._check_courier(courier_id)
        self.status = A.FAILED
        self.attempts.append(Attempt(at, courier_id, "failed", reason, note))
        self._event(
            "attempt_failed",
            at,
            courier_id=courier_id,
            reason=reason.value,
            attempt=len(self.attempts),
        )

    def cancel(self, at: datetime, reason: str) -> None:
        self._require("cancel", A.BOOKED, A.ASSIGNED, A.FAILED)
        self.status = A.CANCELLED
        self._event("cancelled", at, reason=reason)
        self._drop_coupon(at, "cancelled")

    def picked_up_after_cancel(self, courier_id: str, at: datetime, event_id: str) -> None:
        """A courier company's courier took the parcel before our cancel of the visit reached
        the company: the visit was made after all, completed by that courier."""
        self._require("picked_up_after_cancel", A.CANCELLED)
        if not self.served_by_company:
            # Our own couriers are told of a cancel at once; only a company's can overtake it.
            raise IllegalTransition("appointment", self.status.value, "picked_up_after_cancel")
        self.status = A.COMPLETED
        self.courier_id = courier_id
        self.completed_at = at
        self.attempts.append(Attempt(at, courier_id, "picked_up"))
        self._event("cancel_overtaken", at, courier_id=courier_id, event_id=event_id)

    def _check_courier(self, courier_id: str) -> None:
        if self.courier_id != courier_id:
            raise Conflict(
                "not_your_task",
                "This pickup is assigned to another courier.",
                "该取件任务已分配给其他快递员。",
            )
