"""Ops console: customs returns by their next deadline (issue 9 §7), with the declaration
data for the seller's agent and buttons to declare now and to settle what has arrived."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from doorstep.domain.errors import DomainError, NotFound
from doorstep.domain.identity import Role
from doorstep.entrypoints.web.forms import PathId
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import customs

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OpsPage = Annotated[Web, Depends(page(Role.OPS))]
OpsPost = Annotated[Web, Depends(action(Role.OPS))]


def queue_page(web: Web, *, error: str | None = None, status: int = 200) -> Response:
    return render(
        web,
        "console_customs.html",
        status=status,
        here="/console/customs",
        items=customs.queue(web.app.services),
        error=error,
    )


@router.get("/console/customs")
def show_queue(web: OpsPage) -> Response:
    """Live customs returns, the nearest deadline first, with alerts already sent."""
    return queue_page(web)


@router.post("/console/customs/{customs_return_id}/declare")
def declare(web: OpsPost, customs_return_id: PathId) -> Response:
    """Declare now, or ask the broker again about a submitted declaration."""
    return _act(web, lambda: customs.declare(web.app.services, customs_return_id))


@router.post("/console/customs/{customs_return_id}/settle")
def settle(web: OpsPost, customs_return_id: PathId) -> Response:
    """Give back tax and quota of an accepted declaration for what has arrived."""
    return _act(web, lambda: customs.settle(web.app.services, customs_return_id, force=True))


def _act(web: Web, do: object) -> Response:
    try:
        do()  # type: ignore[operator]
    except NotFound:
        raise
    except DomainError as exc:
        return queue_page(web, error=web.error_text(exc), status=409)
    return see_other(web, "/console/customs")
