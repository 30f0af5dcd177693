"""Ops console for the money after a refund: the disputes queue, the claims queue and why a
buyer is trusted (issue 9 §3, §5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from doorstep.domain.claim import Claim
from doorstep.domain.errors import DomainError, InvalidInput
from doorstep.domain.identity import Role
from doorstep.entrypoints.web.forms import PathId, optional_fen
from doorstep.entrypoints.web.i18n import money
from doorstep.entrypoints.web.paging import PageNo, fetched_page
from doorstep.entrypoints.web.render import WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import claims, disputes, trust

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OpsPage = Annotated[Web, Depends(page(Role.OPS))]
OpsPost = Annotated[Web, Depends(action(Role.OPS))]
Note = Annotated[str, Form(max_length=500)]
Choice = Annotated[str, Form(max_length=16)]


def disputes_page(
    web: Web, *, error: str | None = None, status: int = 200, number: int = 1
) -> Response:
    """One screen of open disputes (``number``, 8 to a page), each with its default clawback."""
    svc = web.app.services

    def fetch(limit: int, offset: int) -> list[disputes.QueuedDispute]:
        return disputes.queue_with_defaults(svc, limit, offset)

    total = disputes.open_dispute_count(svc)
    return render(
        web,
        "console_disputes.html",
        status=status,
        here="/console/disputes",
        queue=fetched_page(fetch, total, number, "/console/disputes", "p"),
        total=total,
        error=error,
    )


@router.get("/console/disputes")
def dispute_queue(web: OpsPage, p: PageNo = 1) -> Response:
    """Open disputes over failed QC, the earliest answer time first, with the evidence."""
    return disputes_page(web, number=p)


@router.post("/console/disputes/{return_id}")
def decide_dispute(
    web: OpsPost,
    return_id: PathId,
    decision: Choice = "",
    note: Note = "",
    clawback_yuan: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    try:
        if decision not in ("buyer_upheld", "qc_upheld"):
            raise InvalidInput(
                "choose_decision",
                "Find for the buyer or uphold the QC.",
                "请选择判定买家无责或维持质检结论。",
            )
        fen = optional_fen(clawback_yuan, web._("Take back (yuan)"), low=0, high=1_000_000_000)
        disputes.decide_dispute(
            web.app.services,
            web.actor_id,
            return_id,
            buyer_upheld=decision == "buyer_upheld",
            note=note.strip(),
            clawback_fen=fen,
        )
    except DomainError as exc:
        return disputes_page(web, error=_refusal(web, exc), status=409)
    return see_other(web, "/console/disputes")


def _refusal(web: Web, exc: DomainError) -> str:
    """The error for the page. A clawback out of range is said in yuan, as ops type it (the
    service's message counts fen, for the API)."""
    most, kept = exc.details.get("advanced_fen"), exc.details.get("tax_kept_fen", 0)
    if exc.code != "clawback_out_of_range" or not isinstance(most, int):
        return web.error_text(exc)
    en, zh = f"Take back at most {money(most)}.", f"最多追回 {money(most)}。"
    if isinstance(kept, int) and kept > 0:
        en += f" The {money(kept)} import tax customs gives back stays with the buyer."
        zh += f"海关退还的进口税 {money(kept)} 归买家。"
    return web.text(zh, en)


def claims_page(
    web: Web, *, error: str | None = None, status: int = 200, number: int = 1
) -> Response:
    """One screen of open claims (``number``, 8 to a page), the oldest filed first."""
    svc = web.app.services

    def fetch(limit: int, offset: int) -> list[Claim]:
        return claims.claim_queue(svc, limit=limit, offset=offset)

    total = claims.claim_count(svc)
    return render(
        web,
        "console_claims.html",
        status=status,
        here="/console/claims",
        claims=fetched_page(fetch, total, number, "/console/claims", "p"),
        total=total,
        error=error,
    )


@router.get("/console/claims")
def claim_queue(web: OpsPage, p: PageNo = 1) -> Response:
    """Claims ops decide (contested, counterfeit) and those waiting for a merchant."""
    return claims_page(web, number=p)


@router.post("/console/claims/{claim_id}")
def decide_claim(
    web: OpsPost, claim_id: PathId, decision: Choice = "", note: Note = ""
) -> Response:
    try:
        if decision not in ("approve", "reject"):
            raise InvalidInput("choose_decision", "Approve or reject.", "请选择通过或拒绝。")
        claims.decide_claim(
            web.app.services, web.actor_id, claim_id, approve=decision == "approve", note=note
        )
    except DomainError as exc:
        return claims_page(web, error=web.error_text(exc), status=409)
    return see_other(web, "/console/claims")


@router.post("/console/claims/{claim_id}/answer")
def answer_claim(
    web: OpsPost, claim_id: PathId, decision: Choice = "", note: Note = ""
) -> Response:
    """Ops record the merchant's answer (given by phone or chat) within its 24 hours."""
    try:
        if decision not in ("accept", "contest"):
            raise InvalidInput("choose_decision", "Accept or contest.", "请选择接受或异议。")
        claims.answer_claim(
            web.app.services, claim_id, accept=decision == "accept", text=note, shop_id=None
        )
    except DomainError as exc:
        return claims_page(web, error=web.error_text(exc), status=409)
    return see_other(web, "/console/claims")


@router.get("/console/buyers/{buyer_id}")
def buyer(web: OpsPage, buyer_id: PathId) -> Response:
    """Why a buyer is (not) trusted: the score, its lines, and the buyer's claims."""
    svc = web.app.services
    return render(
        web,
        "console_buyer.html",
        buyer_id=buyer_id,
        trust=trust.buyer_trust(svc, buyer_id),
        threshold=svc.refunds.express_min_trust,
        claims=claims.claims_of_buyer(svc, buyer_id),
    )
