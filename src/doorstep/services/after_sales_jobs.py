"""The background pass of exchanges and customs returns (issue 9 §6, §7): one service call for
the worker's job list (entrypoints/jobs.py)."""

from __future__ import annotations

from doorstep.services import customs, exchanges
from doorstep.services.context import Services


def sweep_after_sales(svc: Services) -> dict[str, int]:
    """Move exchanges on (ship what is due, finish what was checked) and run the customs pass
    (alerts, declarations, answers, settlements, tax of goods that never came). Their payments are retried by the transfers
    sweep (``transfers.retry_pending``, its own job)."""
    advanced = exchanges.advance_exchanges(svc)
    swept = customs.sweep_customs(svc)
    return {
        "exchanges_advanced": advanced,
        "customs_declared": swept.declared,
        "customs_answered": swept.answered,
        "customs_settled": swept.settled,
        "customs_alerts": swept.alerts,
        "customs_lapsed": swept.lapsed,
        "customs_taken_back": swept.taken_back,
    }
