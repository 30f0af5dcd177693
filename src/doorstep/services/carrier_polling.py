"""The worker's backup for lost callbacks: ask companies about orders that went quiet."""

from __future__ import annotations

from datetime import datetime

import structlog

from doorstep.domain.errors import DomainError
from doorstep.services.carrier_callbacks import apply_update
from doorstep.services.carrier_orders import send_pending_orders
from doorstep.services.context import Services

log = structlog.get_logger("doorstep.carriers")

POLL_BATCH = 50


def poll_quiet_orders(svc: Services, now: datetime | None = None, limit: int = POLL_BATCH) -> int:
    """The worker's backup for lost callbacks: send what is due, then ask the company about
    open orders not heard of for ``quiet_after`` and apply what it says like a callback.
    Returns how many orders changed."""
    now = now or svc.clock.now()
    send_pending_orders(svc, now)
    with svc.uow() as uow:
        quiet = uow.pickup_orders.quiet(now - svc.carrier_rules.quiet_after, limit)
        orders = [po for number in quiet if (po := uow.pickup_orders.get(number)) is not None]
    changed = 0
    for po in orders:
        company = svc.carriers.get(po.carrier_id)
        if company is None:
            continue
        try:
            updates = company.query(po.out_order_no)
        except DomainError as exc:
            log.warning("carrier_poll_failed", out_order_no=po.out_order_no, code=exc.code)
            continue
        outcomes = [apply_update(svc, po.carrier_id, u, source="poll") for u in updates]
        changed += "applied" in outcomes
        _mark_polled(svc, po.out_order_no, now)
    return changed


def _mark_polled(svc: Services, number: str, now: datetime) -> None:
    with svc.uow() as uow:
        po = uow.pickup_orders.get_for_update(number)
        if po is None:
            return
        po.polled(now)
        # Heard of by asking: the next poll waits another quiet period.
        po.last_heard_at = max(po.last_heard_at or now, now)
        uow.pickup_orders.save(po)
        uow.commit()
