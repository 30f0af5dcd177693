"""What the buyer's return page says, in the buyer's words: where things stand and what comes
next, where the money is, a step bar, and a timeline newest first.

Pure functions of the return, its visit, its refund and its events: the route loads them, these
decide the wording. Nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from doorstep.domain.decision import Decision, ReturnMethod, Verdict
from doorstep.domain.events import Event
from doorstep.domain.pickup import Appointment
from doorstep.domain.refund import Refund, RefundKind, RefundStatus
from doorstep.domain.returns import ReturnKind, ReturnRequest, ReturnStatus
from doorstep.entrypoints.web import labels
from doorstep.entrypoints.web.i18n import N_, day_formatter, money, when
from doorstep.entrypoints.web.session import Web
from doorstep.services.route import eta_range

S = ReturnStatus

# A person looks at a held return within one working day (the ops team's promise).
REVIEW_HOURS = 24

# Ids of their own: the same English words mean other things elsewhere (签收时间, 已通过).
STEP_NAMES = {
    "apply": N_("step:Applied"),
    "review": N_("step:Reviewed"),
    "pickup": N_("step:Picked up"),
    "sent": N_("step:Sent"),
    "transit": N_("step:On the way"),
    "received": N_("step:Received"),
    "refund": N_("step:Refunded"),
    "exchange": N_("step:Exchanged"),
}

# How far each status got: the index of the last step reached.
_REACHED = {
    S.SUBMITTED: 0,
    S.IN_REVIEW: 0,
    S.REJECTED: 0,
    S.CANCELLED: 0,
    S.APPROVED: 1,
    S.AWAITING_PICKUP: 1,
    S.AWAITING_DROPOFF: 1,
    S.PICKED_UP: 2,
    S.IN_TRANSIT: 3,
    S.RECEIVED: 4,
    S.INSPECTED: 4,
    S.DISPUTED: 4,
    S.REFUNDED: 5,
    S.EXCHANGED: 5,
    S.CLOSED: 5,
}


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    state: str  # done | current | todo | stopped


def steps(web: Web, r: ReturnRequest, refund: Refund | None) -> list[Step]:
    """申请 → 审核 → 取件 → 运输 → 签收 → 退款, each done, current, still to come or stopped."""
    self_send = r.method in (ReturnMethod.DROPOFF, ReturnMethod.SELF_SHIP)
    keys = ["apply", "review", "sent" if self_send else "pickup", "transit", "received"]
    keys.append("exchange" if r.kind is ReturnKind.EXCHANGE else "refund")
    if r.kind is ReturnKind.REFUND_ONLY:
        keys = ["apply", "review", "refund"]
    reached = _REACHED.get(r.status, 0)
    if r.kind is ReturnKind.REFUND_ONLY and reached >= 1:
        reached = 2 if r.status in (S.REFUNDED, S.CLOSED) else 1
    paid = refund is not None and refund.status is RefundStatus.SUCCEEDED
    out = []
    for i, key in enumerate(keys):
        done = i <= reached or (key == "refund" and paid)
        if r.status in (S.REJECTED, S.CANCELLED) and i == reached + 1:
            state = "stopped"
        elif done:
            state = "done"
        elif i == reached + 1 and r.status not in (S.REJECTED, S.CANCELLED):
            state = "current"
        else:
            state = "todo"
        out.append(Step(key, web._(STEP_NAMES[key]), state))
    return out


def _deadline(decision: Decision | None, method: ReturnMethod) -> datetime | None:
    offer = decision.offers(method) if decision else None
    return offer.until if offer else None


def hold_reasons(web: Web, decision: Decision | None) -> list[str]:
    """Why a person looks first, said to the buyer (never the internal rule's name)."""
    if decision is None:
        return []
    out: list[str] = []
    for f in decision.findings:
        if f.verdict is not Verdict.REVIEW:
            continue
        said = labels.HOLD_REASON.get(f.reason)
        text = web._(said) if said else web.text(f.text_zh, f.text_en)
        if text not in out:
            out.append(text)
    return out


def headline(
    web: Web,
    r: ReturnRequest,
    appt: Appointment | None,
    refund: Refund | None,
    courier: str,
    now: datetime,
) -> tuple[str, str]:
    """One sentence of where things stand, one of what happens next."""
    _ = web._
    st = r.status
    if st is S.SUBMITTED:
        return _("We have your request and are checking it."), _(
            "The result usually comes within a few minutes."
        )
    if st is S.IN_REVIEW:
        due = r.created_at + timedelta(hours=REVIEW_HOURS)
        return _("A member of our team checks your request before it is approved."), _(
            "You will have an answer by %(when)s; nothing is needed from you meanwhile."
        ) % {"when": when(due)}
    if st is S.REJECTED:
        return _("Your request was not approved."), _(
            "The reasons are below. You can contact customer service if you disagree."
        )
    if st is S.CANCELLED:
        return _("You withdrew this request."), _("Nothing more will happen with it.")
    if st in (S.APPROVED, S.AWAITING_PICKUP) and appt is not None and appt.status.value == "failed":
        return _("The courier could not collect your parcel."), _(
            "Choose a new pickup window below."
        )
    if st is S.APPROVED:
        until = _deadline(r.decision, ReturnMethod.PICKUP)
        if until is not None:
            return _("Your return is approved."), _(
                "Choose a pickup window; pickup can be booked until %(when)s."
            ) % {"when": when(until)}
        return _("Your return is approved."), _("Choose how to send the item back below.")
    if st is S.AWAITING_PICKUP and appt is not None:
        slot = f"{day_formatter(web.lang)(appt.slot.day)} {appt.slot.window.label}"
        if appt.status.value == "arrived":
            return _("The courier is at your door."), _(
                "Hand over the parcel and tell the courier your pickup code."
            )
        who = courier or _("A courier")
        if appt.eta is not None:
            # A range as wide as the measured ETA error at this lead time, never a false point.
            low, high = eta_range(appt.eta, appt.slot.starts_at, appt.slot.ends_at, now)
            return _("%(who)s is on the way: expected between %(low)s and %(high)s.") % {
                "who": who,
                "low": when(low)[11:],
                "high": when(high)[11:],
            }, _("Have the parcel ready; give the pickup code only when it leaves your hands.")
        return _("A courier comes %(slot)s.") % {"slot": slot}, _(
            "Have the parcel ready; give the pickup code only when it leaves your hands."
        )
    if st is S.AWAITING_DROPOFF:
        return _("Your return is approved for sending it yourself."), _(
            "Send the parcel, then enter its waybill number below."
        )
    if st in (S.PICKED_UP, S.IN_TRANSIT):
        first = (
            _("The courier has collected your parcel.")
            if st is S.PICKED_UP
            else _("Your parcel is on its way to the warehouse.")
        )
        if refund is not None and refund.status is RefundStatus.SUCCEEDED:
            return first, _("Your refund is already paid.")
        return first, _("The warehouse checks it on arrival; then the refund is paid.")
    if st in (S.RECEIVED, S.INSPECTED):
        if refund is not None and refund.status is RefundStatus.SUCCEEDED:
            return _("The warehouse has received your parcel."), _("Your refund is already paid.")
        return _("The warehouse has received your parcel."), _(
            "It is checked and the refund is paid within 7 days of arrival."
        )
    if st is S.DISPUTED:
        return _("The warehouse found a problem with the item."), _(
            "Customer service will contact you within 1 working day."
        )
    if st is S.REFUNDED:
        return _("Your refund is paid."), _(
            "It goes back the way you paid; banks may take 1-3 days to show it."
        )
    if st is S.EXCHANGED:
        return _("Your replacement is on its way."), _("Track it in your orders.")
    return _("This return is closed."), _("Nothing more will happen with it.")


@dataclass(frozen=True)
class Money:
    amount: str
    state: str  # paid | paying | expected | none
    how: str
    when: str


def money_line(
    web: Web, r: ReturnRequest, refund: Refund | None, express_likely: bool
) -> Money | None:
    """The amount, how it comes back and when, or None when no money moves."""
    _ = web._
    if r.kind is ReturnKind.EXCHANGE or r.status in (S.REJECTED, S.CANCELLED):
        return None
    how = _("Back to the way you paid")
    if refund is not None:
        amount = money(refund.amount_fen)
        if refund.status is RefundStatus.SUCCEEDED:
            return Money(
                amount, "paid", how, _("Paid %(when)s") % {"when": when(refund.settled_at)}
            )
        express = refund.kind is RefundKind.EXPRESS
        return Money(
            amount,
            "paying",
            how,
            _("Express refund on its way, usually within minutes")
            if express
            else _("On its way, usually within minutes"),
        )
    if r.quote is None:
        return None
    amount = money(r.quote.total_fen)
    if r.kind is ReturnKind.REFUND_ONLY:
        return Money(amount, "expected", how, _("Paid once the request is approved"))
    if r.received_at is not None:
        due = r.received_at + timedelta(days=7)
        return Money(amount, "expected", how, _("By %(when)s at the latest") % {"when": when(due)})
    if express_likely:
        return Money(
            amount, "expected", how, _("Express refund: paid as soon as the courier collects")
        )
    return Money(amount, "expected", how, _("Within 7 days after the warehouse receives it"))


# Events that repeat another row in other words, or are bookkeeping the buyer does not need.
_HIDDEN = {
    "return.pickup_scheduled",  # the visit's own "window booked" row says it with the time
    "appointment.completed",  # "picked up by the courier" says it
    "return.refund_quoted",
    "return.refund_overdue",
    "refund.requested",
    "return.inspection_voided",
}


def _describe(web: Web, event: Event, couriers: dict[str, str]) -> tuple[str, str] | None:
    """The row's words and detail, or None to leave the event out."""
    name, d = event.name, event.data
    if name in _HIDDEN:
        return None
    if name == "return.inspected_at_door":
        # Only a finished check tells the buyer something; anything else is still going on.
        if d.get("result") == "passed":
            return web._("Checked at the door: all as expected"), ""
        if d.get("result") == "refused":
            failed = [k for k in str(d.get("refusal_reason") or "").split(",") if k]
            detail = ", ".join(web._(labels.CHECKLIST.get(k, k)) for k in failed)
            return web._("The courier could not accept the item"), detail
        return None
    label = labels.BUYER_EVENT.get(name) or labels.EVENT.get(name)
    if label is None:
        return None  # a new kind of event waits for its words rather than showing a code
    detail = ""
    if name in ("appointment.booked", "appointment.rescheduled") and "day" in d:
        detail = f"{d['day']} {d.get('window', '')}"
    elif name == "appointment.courier_assigned":
        detail = couriers.get(str(d.get("courier_id")), "")
    elif name == "carrier_order.courier_assigned":
        # A courier company's courier: the name and masked mobile it sent (issue 8 §4).
        detail = f"{d.get('courier_name', '')} {d.get('courier_mobile', '')}".strip()
    elif name == "carrier_order.rescheduled" and "day" in d:
        detail = f"{d['day']} {d.get('window', '')}"
    elif name == "appointment.eta_updated" and "eta" in d:
        detail = when(datetime.fromisoformat(str(d["eta"])))[11:]
    elif name == "appointment.attempt_failed":
        detail = web._(labels.FAILURE.get(str(d.get("reason")), N_("Other reason")))
    elif name in ("return.picked_up", "return.shipped"):
        detail = f"{web._('Waybill')} {d.get('waybill_no', '')}"
    elif name in ("return.refunded", "refund.succeeded") and "amount_fen" in d:
        detail = money(int(d["amount_fen"]))
    elif name == "return.awaiting_dropoff":
        detail = web._(labels.METHOD.get(str(d.get("method")), ""))
    return web._(label), detail


def story(web: Web, events: list[Event], couriers: dict[str, str]) -> list[dict[str, Any]]:
    """The timeline newest first; a row that says what the row before said is dropped, and of
    repeated estimates and courier assignments only the latest stays."""
    rows: list[dict[str, Any]] = []
    seen_latest: set[str] = set()
    # Moving a visit also re-files the return under the new visit; "pickup moved to a new
    # time" already says so.
    moves = {e.occurred_at for e in events if e.name == "appointment.rescheduled"}
    # The service lists oldest first; reversed before a stable sort, ties stay newest first.
    for event in sorted(reversed(events), key=lambda e: e.occurred_at, reverse=True):
        if event.name in ("appointment.eta_updated", "appointment.courier_assigned"):
            if event.name in seen_latest:
                continue
            seen_latest.add(event.name)
        if event.name == "return.pickup_moved" and event.occurred_at in moves:
            continue
        said = _describe(web, event, couriers)
        if said is None:
            continue
        text, detail = said
        if rows and rows[-1]["text"] == text and rows[-1]["detail"] == detail:
            continue
        rows.append({"at": event.occurred_at, "text": text, "detail": detail})
    return rows


def unavailable_reasons(web: Web, decision: Decision | None) -> list[tuple[str, str]]:
    """Methods not offered, each with a sentence instead of a reason code."""
    if decision is None:
        return []
    texts = {f.reason: web.text(f.text_zh, f.text_en) for f in decision.findings}
    out = []
    for method, code in decision.unavailable.items():
        said = labels.UNAVAILABLE.get(code)
        why = web._(said) if said else texts.get(code, web._("Not possible for this return"))
        out.append((web._(labels.METHOD.get(method, method)), why))
    return out
