"""The transfers ops paths (list, re-try; API and console) for the statement count test
(tests/e2e/test_statements.py): each time the calls are built, a few more transfers are
given up, so the second, larger world lists more of them, and each re-try has its own."""

from __future__ import annotations

from tests.e2e.test_statements import Call, World, page  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.transfer import TransferPurpose
from doorstep.services import transfers

# Given up per build of the calls: the small world lists a few, the grown one more.
FAILED_PER_BUILD = 4


def given_up(app: App, subject_id: str) -> str:
    """A customs tax refund for buyer-001 the provider declined for good (a failed
    transfer); its id."""
    svc = app.services
    with svc.uow() as uow:
        made = transfers.request_transfer(
            svc, uow, TransferPurpose.CUSTOMS_TAX, subject_id, "buyer-001", 7_270
        )
        made.attempt_failed("account_closed", svc.clock.now(), final=True)
        uow.transfers.save(made)
        uow.commit()
    return made.transfer_id


def transfer_calls(w: World) -> list[Call]:
    """The four transfer paths, with fresh failed transfers to list and to send again."""
    made = [given_up(w.app, f"CR-stmt-{next(w.serial)}") for _ in range(FAILED_PER_BUILD)]
    api_retry, page_retry = made[:2]
    return [
        Call(
            "GET /ops/transfers",
            "ops1",
            "GET",
            "/ops/transfers",
            {"params": {"status": "failed", "per_page": 100}},
        ),
        Call(
            "POST /ops/transfers/{transfer_id}/retry",
            "ops1",
            "POST",
            f"/ops/transfers/{api_retry}/retry",
        ),
        page("/console/transfers", "ops1", "/console/transfers"),
        page(
            "/console/transfers/{transfer_id}/retry",
            "ops1",
            f"/console/transfers/{page_retry}/retry",
            {},
        ),
    ]
