"""The demo's past (adapters/demo/history.py): made through the services on past days, the
same every time, once, and enough for the console's trends to draw."""

from __future__ import annotations

from datetime import timedelta

from doorstep.adapters.demo.history import BUYERS, seed_history
from doorstep.bootstrap import App
from doorstep.domain.clock import local
from doorstep.domain.returns import ReturnStatus
from doorstep.entrypoints.web import trends

DAYS = 3


def _past(app: App) -> list[tuple[str, str, str]]:
    with app.services.uow() as uow:
        found = [
            r
            for status in ReturnStatus
            for r in uow.returns.with_status(status.value, 1000)
            if r.buyer_id in {b.buyer_id for b in BUYERS}
        ]
    return sorted((r.order_id, r.status.value, r.lines[0].reason.value) for r in found)


def test_the_past_is_replayed_through_the_services_once(wired: App) -> None:
    svc = wired.services
    now = svc.clock.now()
    counts = seed_history(svc, wired.offering, wired.engine, now, days=DAYS)
    assert counts["returns"] >= DAYS * 2 and counts["picked_up"] > 0, counts
    assert counts["refunded"] > 0, counts
    today = local(now).date()
    with svc.uow() as uow:
        history = [
            r
            for status in ReturnStatus
            for r in uow.returns.with_status(status.value, 1000)
            if r.buyer_id in {b.buyer_id for b in BUYERS}
        ]
        events = uow.events.for_aggregates([r.return_id for r in history])
    assert len(history) == counts["returns"]
    # Filed on the past days, with the events written then, never today or later.
    filed = {local(r.created_at).date() for r in history}
    assert filed == {today - timedelta(days=d) for d in range(1, DAYS + 1)}, filed
    assert events and all(local(e.occurred_at).date() < today for e in events)
    assert {"return.submitted", "return.inspected_at_door"} <= {e.name for e in events}
    # The console's trends have something to draw.
    series = trends.returns_by_reason(svc, DAYS + 1)
    assert sum(v or 0 for row in series.lines.values() for v in row) == counts["returns"]
    assert trends.refund_lead_hours(svc)
    # A second start adds nothing.
    before = _past(wired)
    assert seed_history(svc, wired.offering, wired.engine, now, days=DAYS)["returns"] == 0
    assert _past(wired) == before
