"""Ops console: transfers (exchange differences, customs tax, clawbacks, claim payouts) by
status, the ones given up first, with a button that sends a failed one to the provider
again under its same key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from doorstep.domain.errors import DomainError
from doorstep.domain.identity import Role
from doorstep.domain.transfer import TransferStatus
from doorstep.entrypoints.web.forms import PathId
from doorstep.entrypoints.web.paging import PER_PAGE, Page, PageNo
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import transfers

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OpsPage = Annotated[Web, Depends(page(Role.OPS))]
OpsPost = Annotated[Web, Depends(action(Role.OPS))]
HERE = "/console/transfers"


def transfers_page(
    web: Web,
    shown: TransferStatus = TransferStatus.FAILED,
    at: int = 1,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    """One screen of the transfers in ``shown``, read a page at a time from the database."""
    found = transfers.transfers_in(web.app.services, shown, at, PER_PAGE)
    listed = Page(found.items, at, found.pages, HERE, "p", {"status": shown.value})
    return render(
        web,
        "console_transfers.html",
        status=status,
        here=HERE,
        shown=shown.value,
        statuses=[s.value for s in TransferStatus],
        counts=found.counts,
        listed=listed,
        error=error,
        notice=notice,
    )


@router.get(HERE)
def transfer_queue(
    web: OpsPage,
    status: TransferStatus = TransferStatus.FAILED,
    p: PageNo = 1,
    retried: Annotated[int | None, Query(ge=1, le=1)] = None,
) -> Response:
    """Transfers given up (ops must act) by default; pending and done ones on request."""
    return transfers_page(
        web, status, p, notice=web._("Sent to the provider again.") if retried else None
    )


@router.post(HERE + "/{transfer_id}/retry")
def retry_transfer(web: OpsPost, transfer_id: PathId) -> Response:
    """Send a failed transfer to the provider again under its same idempotency key."""
    try:
        transfers.retry_failed(web.app.services, web.actor_id, transfer_id)
    except DomainError as exc:
        return transfers_page(web, error=web.error_text(exc), status=409)
    return see_other(web, HERE + "?retried=1")
