"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from doorstep.domain.errors import DomainError
from doorstep.entrypoints.api.errors import STATUS, retry_after
from doorstep.entrypoints.web.i18n import LANGS
from doorstep.entrypoints.web.render import HOME, WebRoute, render, see_other
from doorstep.entrypoints.web.session import Web, action, page, safe_next, web_context
from doorstep.services import identity

router = APIRouter(route_class=WebRoute, include_in_schema=False)

Anyone = Annotated[Web, Depends(page())]
AnyPost = Annotated[Web, Depends(action())]


@router.get("/login")
def login_form(web: Anyone, next: Annotated[str, Query(max_length=500)] = "") -> Response:
    """The sign-in form; signed-in visitors go straight to their home page."""
    if web.actor is not None and web.actor.role.value in HOME:
        return see_other(web, HOME[web.actor.role.value])
    return render(web, "login.html", next=safe_next(next) or "", username="", error=None)


@router.post("/login")
def login(
    web: AnyPost,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Check the password, keep the token in an HttpOnly cookie, go to the role's home."""
    address = web.request.client.host if web.request.client else "unknown"
    try:
        session = identity.sign_in(web.app.services, username.strip(), password, address=address)
    except DomainError as exc:
        response = render(
            web,
            "login.html",
            status=STATUS.get(exc.kind, 401),
            here="/login",
            next=safe_next(next) or "",
            username=username,
            error=web.error_text(exc),
        )
        response.headers.update(retry_after(exc) or {})
        return response
    web.start_session(session.access_token)
    target = safe_next(next) or HOME.get(session.role, "/partner")
    return see_other(web, target)


@router.post("/logout")
def logout(web: AnyPost) -> Response:
    web.end_session()
    return see_other(web, "/login")


@router.get("/partner")
def partner(web: Anyone) -> Response:
    """Partners work through the REST API; this page says so instead of a dead end."""
    return render(web, "partner.html")


@router.get("/lang")
def switch_language(
    request: Request,
    to: Annotated[str, Query(max_length=10)] = "zh_CN",
    next: Annotated[str, Query(max_length=500)] = "/",
) -> Response:
    """Remember the chosen language and go back to the page the switch was on."""
    web = web_context(request)
    if to in LANGS:
        web.lang, web.remember_lang = to, True
    return see_other(web, safe_next(next) or "/")
