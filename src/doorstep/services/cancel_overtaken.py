"""Returns a pickup left behind when it overtook doorstep's cancel, for ops to settle.

The company's courier took the parcel before our cancel reached it, and meanwhile the buyer
withdrew a return of the visit, booked it again or sent it themselves
(``PickupOrder._cancel_overtaken``). The parcel is on its way to the warehouse, but those
returns are not changed behind the buyer's back: ops contact the buyer, then have the parcel
sent back or the return reopened, and settle the order here with a note of what they did.
"""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain.carrier_order import PickupOrder
from doorstep.domain.errors import NotFound
from doorstep.domain.returns import ReturnRequest
from doorstep.services.context import Services

# What ops write when they settle: enough for a sentence or two of what was done.
NOTE_MAX = 500


@dataclass(frozen=True)
class OvertakenCase:
    """One order awaiting ops, with the returns it left behind as they stand now."""

    order: PickupOrder
    left: list[ReturnRequest]


@dataclass(frozen=True)
class OvertakenCases:
    """The orders waiting longest, and how many wait in all."""

    shown: list[OvertakenCase]
    total: int


def awaiting(svc: Services, limit: int = 100) -> OvertakenCases:
    """The ``limit`` orders whose left-behind returns have waited longest for ops, with
    those returns: three reads, whatever the number of orders."""
    with svc.uow() as uow:
        orders = uow.pickup_orders.awaiting_ops(limit)
        returns = {
            r.return_id: r
            for r in uow.returns.get_many(rid for po in orders for rid in po.needs_ops)
        }
        shown = [
            OvertakenCase(po, [returns[rid] for rid in po.needs_ops if rid in returns])
            for po in orders
        ]
        return OvertakenCases(shown, uow.pickup_orders.count_awaiting_ops())


def settle(svc: Services, actor_id: str, out_order_no: str, note: str) -> PickupOrder:
    """Ops have dealt with the order's left-behind returns: it leaves their list, once
    (many consoles pressing at once settle it once; the others are told it is settled)."""
    with svc.uow() as uow:
        po = uow.pickup_orders.get_for_update(out_order_no)
        if po is None:
            raise NotFound("carrier_order", out_order_no)
        po.settle_ops(actor_id, note.strip(), svc.clock.now())
        uow.pickup_orders.save(po)
        uow.commit()
        return po
