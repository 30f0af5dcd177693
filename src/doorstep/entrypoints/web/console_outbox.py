"""Ops console: the outbox. Texts and e-mails the development sink kept, webhook and message
deliveries with their state, and dead letters with a button that sends them again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import Response

from doorstep.domain.errors import DomainError
from doorstep.domain.identity import Role
from doorstep.domain.outbox import Delivery, DeliveryStatus, event_id
from doorstep.entrypoints.web.paging import Page, PageNo, fetched_page
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import outbox
from doorstep.services.ports import SentMessage

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OpsPage = Annotated[Web, Depends(page(Role.OPS))]
OpsPost = Annotated[Web, Depends(action(Role.OPS))]


def masked(recipient: str) -> str:
    """A phone number with its middle hidden (as on privacy waybills); e-mail as it is."""
    if "@" in recipient or len(recipient) < 8:
        return recipient
    return recipient[:3] + "****" + recipient[-4:]


def outbox_page(
    web: Web,
    *,
    error: str | None = None,
    status: int = 200,
    notice: str | None = None,
    at: Mapping[str, int] | None = None,
) -> Response:
    """Dead letters, messages and recent deliveries, each a page at a time (``at`` maps
    ``dp``/``mp``/``rp`` to the page of each list)."""
    svc = web.app.services
    at = dict(at or {})
    counts = outbox.delivery_counts(svc)

    def dead(limit: int, offset: int) -> list[Delivery]:
        return outbox.deliveries(svc, DeliveryStatus.DEAD, limit, offset)

    def recent(limit: int, offset: int) -> list[Delivery]:
        return outbox.deliveries(svc, None, limit, offset)

    def messages(limit: int, offset: int) -> list[SentMessage]:
        return outbox.sent_messages(svc, limit, offset)

    def paged(fetch: Callable[[int, int], list[Any]], total: int, key: str) -> Page[Any]:
        return fetched_page(fetch, total, at.get(key, 1), "/console/outbox", key, at)

    return render(
        web,
        "console_outbox.html",
        status=status,
        here="/console/outbox",
        counts=counts,
        dead=paged(dead, counts[DeliveryStatus.DEAD.value], "dp"),
        recent=paged(recent, sum(counts.values()), "rp"),
        messages=paged(messages, outbox.sent_message_count(svc), "mp"),
        masked=masked,
        event_id=event_id,
        error=error,
        notice=notice,
    )


@router.get("/console/outbox")
def show_outbox(
    web: OpsPage,
    redriven: Annotated[int | None, Query(ge=1, le=1)] = None,
    dp: PageNo = 1,
    mp: PageNo = 1,
    rp: PageNo = 1,
) -> Response:
    """Messages sent to buyers (development sink) and deliveries to every receiver."""
    return outbox_page(
        web,
        notice=web._("Sent again.") if redriven else None,
        at={"dp": dp, "mp": mp, "rp": rp},
    )


@router.post("/console/outbox/redrive")
def redrive(
    web: OpsPost,
    event: Annotated[str, Form(max_length=24)] = "",
    receiver: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """Send a dead-lettered delivery again from its first try."""
    try:
        outbox.redrive(web.app.services, event, receiver, web.actor_id)
    except DomainError as exc:
        return outbox_page(web, error=web.error_text(exc), status=409)
    return see_other(web, "/console/outbox?redriven=1")
