"""What deleting an account takes with it: the visits its party can no longer make or receive.

An account is how a person signs in as a party (``Actor.actor_id``): a buyer id, or the
courier id of a fleet entry. Several accounts may act as one party; only the deletion of the
last one ends the party's part in open work (architecture.md, "Deleting an account").

- A courier's last account: the fleet entry (the person's name, phone, depot and shift) leaves
  the fleet, so no booking or plan gives it work again, and every visit it had not made goes
  back to the pool: off its route, unassigned, the window still held (the buyer was promised
  that window; the next plan or ops serves it). A visit it is at the door of is refused
  (``courier_at_door``) until the courier finishes or fails it.
- A buyer's last account: refused (``account_has_returns_in_flight``) while a return's goods
  have left the buyer and its refund is not settled (the money is owed to them), and
  (``account_has_money_owed``) while a claim is undecided or unpaid or a payment to them (an
  exchange's difference, a claim's compensation, customs tax) is not settled; otherwise the
  returns not handed over yet are withdrawn as the buyer's own cancel withdraws them, which
  cancels their visits (window back, route stop off, the company's order cancelled). A visit
  the courier is at the door of is refused (``visit_in_progress``). The buyer record is
  marked departed: the retention sweep erases its personal information once the retention
  period has passed (services/retention.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from doorstep.domain.claim import Claim, ClaimKind, ClaimStatus
from doorstep.domain.clock import local
from doorstep.domain.errors import Conflict
from doorstep.domain.events import Event
from doorstep.domain.identity import Role
from doorstep.domain.pickup import Appointment, AppointmentStatus
from doorstep.domain.returns import CANCELLABLE, ReturnStatus
from doorstep.domain.route import route_id
from doorstep.services import returns
from doorstep.services.context import Services
from doorstep.services.lookups import lock_return
from doorstep.services.ports import StoredUser, UnitOfWork
from doorstep.services.route import take_off_route

ACCOUNT_DELETED = "account_deleted"
# The goods left the buyer and the refund is not settled: money may still be owed to them.
IN_FLIGHT = frozenset(
    {
        ReturnStatus.PICKED_UP,
        ReturnStatus.IN_TRANSIT,
        ReturnStatus.RECEIVED,
        ReturnStatus.INSPECTED,
        ReturnStatus.DISPUTED,
    }
)
# How many ids a refusal names: enough for ops to act, bounded for the answer.
NAMED = 5

AfterCommit = Callable[[], None]


def party_leaves(svc: Services, uow: UnitOfWork, user: StoredUser, now: datetime) -> AfterCommit:
    """Inside the deletion's transaction, before the last account of its party goes: end
    what the party of ``user`` leaves open. Returns what to do after the commit. Raises
    ``Conflict`` when the deletion must wait (see the module's rules)."""
    if user.role == Role.COURIER.value:
        _courier_leaves(svc, uow, user.actor_id, now)
        return _nothing
    if user.role == Role.BUYER.value:
        return _buyer_leaves(svc, uow, user.actor_id, now)
    return _nothing


def _nothing() -> None:
    return None


def _courier_leaves(svc: Services, uow: UnitOfWork, courier_id: str, now: datetime) -> None:
    # Not locked: the route locks below order this deletion with bookings and plans (they
    # lock a route, then read the fleet), and the account rows with other deletions.
    courier = uow.couriers.get(courier_id)
    if courier is None:
        return  # an account with no fleet entry (a company's courier, or one never added)
    visits = uow.appointments.open_for_courier(courier_id)
    _refuse_at_door(visits, "courier_at_door")
    today = local(now).date()
    days = {today + timedelta(days=d) for d in range(-1, svc.booking.horizon_days)}
    days |= {a.slot.day for a in visits}
    # Every route of the courier a booking or plan could write is locked and its version
    # moved on: one that read the courier before this commit finds its route changed and
    # starts over without the courier (route.put_on_route, routing._apply).
    for day in sorted(days, key=lambda d: route_id(courier_id, d)):
        uow.routes.lock(courier_id, courier.carrier_id, day)
    visits = uow.appointments.open_for_courier(courier_id)  # again, under the locks
    _refuse_at_door(visits, "courier_at_door")
    for appt in visits:
        take_off_route(uow, svc.travel, [courier], appt, now)
        appt.unassign(now, ACCOUNT_DELETED)
        uow.appointments.save(appt)
    _touch_routes(uow, courier_id, days)
    uow.couriers.remove(courier_id)
    uow.events.append(
        [
            Event(
                "courier.removed",
                "courier",
                courier_id,
                now,
                {"reason": ACCOUNT_DELETED, "visits_released": len(visits)},
            )
        ]
    )


def _touch_routes(uow: UnitOfWork, courier_id: str, days: set[date]) -> None:
    for route in uow.routes.get_many(route_id(courier_id, d) for d in sorted(days)):
        uow.routes.save(route)


def _buyer_leaves(svc: Services, uow: UnitOfWork, buyer_id: str, now: datetime) -> AfterCommit:
    # Each return's row locked in key order and read again under the lock, as a withdrawal,
    # a review or a refund instead locks it before its exchange and its visit: those queue
    # on the row and see the deletion's withdrawal (or it sees their decision) instead of
    # one saving over a version read before the other committed (``stale_write``).
    # The buyer's row first, as the retention sweep and a new account of this buyer lock it
    # before anything else of the buyer's: the three go one after the other.
    buyer = uow.buyers.get_for_update(buyer_id)
    requests = [
        lock_return(uow, return_id)
        for return_id in sorted(r.return_id for r in uow.returns.for_buyer(buyer_id))
    ]
    owed = sorted(r.return_id for r in requests if r.status in IN_FLIGHT)
    if owed:
        raise Conflict(
            "account_has_returns_in_flight",
            "This buyer's returns are on their way back and their refunds are not settled; "
            "the account can be deleted once they are.",
            "该买家有退货在途且退款尚未完成，完成后才能注销账号。",
            return_ids=owed[:NAMED],
        )
    _refuse_money_owed(uow, buyer_id)
    _refuse_at_door(uow.appointments.active_for_buyer(buyer_id), "visit_in_progress")
    done = [
        returns.withdraw(svc, uow, request, now, ACCOUNT_DELETED)
        for request in requests
        if request.status in CANCELLABLE
    ]
    if buyer is not None:
        # From now the retention sweep weighs the record (services/retention.py): erased
        # once the retention period after the last completed transaction has passed.
        buyer.depart(now)
        uow.buyers.put(buyer)

    def after() -> None:
        for withdrawn in done:
            returns.after_withdrawal(svc, withdrawn)

    return after


def _refuse_money_owed(uow: UnitOfWork, buyer_id: str) -> None:
    # Money the buyer may still be paid outside a return's refund: a claim not yet decided
    # or approved and not yet paid (transit damage is the carrier's, owed to nobody here),
    # and a payment to them (an exchange's cheaper side, a collected difference paid back, a
    # claim's compensation, customs tax) not settled as paid. Deleting the account would
    # leave nobody to pay or to answer.
    claims = claims_owed(uow.claims.for_buyer(buyer_id))
    unpaid = uow.transfers.unsettled_payouts(buyer_id, NAMED)
    if claims or unpaid:
        raise Conflict(
            "account_has_money_owed",
            "Money may still be owed to this buyer (a claim or a payment not settled); the "
            "account can be deleted once it is paid or decided.",
            "该买家尚有理赔或款项未结清，结清后才能注销账号。",
            claim_ids=claims[:NAMED],
            transfer_ids=[x.transfer_id for x in unpaid],
        )


def claims_owed(claims: Sequence[Claim]) -> list[str]:
    """Ids of the claims that may still pay the buyer: undecided, or approved and unpaid
    (transit damage is the carrier's, owed to nobody here). Shared with the retention
    sweep (services/retention.py), which erases nobody still owed money."""
    return sorted(
        c.claim_id
        for c in claims
        if c.kind is not ClaimKind.TRANSIT_DAMAGE
        and (c.status.open or c.status is ClaimStatus.APPROVED)
    )


def _refuse_at_door(visits: Sequence[Appointment], code: str) -> None:
    at_door = sorted(a.appointment_id for a in visits if a.status is AppointmentStatus.ARRIVED)
    if at_door:
        raise Conflict(
            code,
            "A courier is at the door of this account's pickup; delete it once the visit is "
            "finished.",
            "快递员正在上门取件，请在本次上门结束后再注销账号。",
            appointment_ids=at_door[:NAMED],
        )
