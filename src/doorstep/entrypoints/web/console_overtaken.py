"""Ops console: pickups that overtook our cancel and left returns behind, longest waiting
first, each settled with a note of what ops did (services/cancel_overtaken.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import Response

from doorstep.domain.errors import DomainError
from doorstep.domain.identity import Role
from doorstep.entrypoints.web.forms import PathId
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import cancel_overtaken

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OpsPage = Annotated[Web, Depends(page(Role.OPS))]
OpsPost = Annotated[Web, Depends(action(Role.OPS))]
HERE = "/console/overtaken"
# A screenful: ops work from the longest waiting; the page says how many there are.
SHOWN = 100


def overtaken_page(
    web: Web, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> Response:
    """The orders waiting for ops, with the returns each left behind as they stand."""
    found = cancel_overtaken.awaiting(web.app.services, SHOWN)
    return render(
        web,
        "console_overtaken.html",
        status=status,
        found=found,
        note_max=cancel_overtaken.NOTE_MAX,
        error=error,
        notice=notice,
    )


@router.get(HERE)
def overtaken_queue(
    web: OpsPage, settled: Annotated[int | None, Query(ge=1, le=1)] = None
) -> Response:
    """Pickups that overtook a cancel, longest waiting first."""
    return overtaken_page(web, notice=web._("Settled.") if settled else None)


@router.post(HERE + "/{out_order_no}/settle")
def settle(
    web: OpsPost,
    out_order_no: PathId,
    note: Annotated[str, Form(min_length=1, max_length=cancel_overtaken.NOTE_MAX)],
) -> Response:
    """Ops have dealt with the order's left-behind returns: it leaves the list."""
    try:
        cancel_overtaken.settle(web.app.services, web.actor_id, out_order_no, note)
    except DomainError as exc:
        return overtaken_page(web, error=web.error_text(exc), status=409)
    return see_other(web, HERE + "?settled=1")
