"""Who is looking, in which language, and the guards every page goes through.

The session is the API's own signed token kept in an HttpOnly, SameSite=Strict cookie.
SameSite alone already stops cross-site form posts in current browsers; the double-submit
CSRF token (a random cookie echoed in a hidden field of every POST form) covers browsers
and proxies that do not honour it.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment

from doorstep.bootstrap import App
from doorstep.domain.errors import DomainError
from doorstep.domain.identity import Actor, Role
from doorstep.entrypoints.web.i18n import LANG_COOKIE, Translator, pick_lang
from doorstep.services import identity

SESSION_COOKIE = "ds_session"
CSRF_COOKIE = "ds_csrf"
CSRF_FIELD = "csrf_token"
_LANG_MAX_AGE = 365 * 24 * 3600


@dataclass
class WebState:
    """What the pages share, built once by ``install``."""

    env: Environment
    catalogs: dict[str, Translator]
    secure_cookies: bool | None = None  # None: Secure only over https or in production


class LoginRequired(Exception):
    """No valid session: the route class answers with a redirect to the sign-in page."""


class WrongRole(Exception):
    """Signed in, but this page belongs to another role."""


class CsrfRefused(Exception):
    """A POST whose CSRF field does not match the cookie."""


@dataclass
class Web:
    """The request as pages see it: app, language, actor and the cookies to send back."""

    request: Request
    app: App
    state: WebState
    lang: str
    remember_lang: bool
    actor: Actor | None
    csrf: str
    set_cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    clear_cookies: list[str] = field(default_factory=list)

    @property
    def tr(self) -> Translator:
        return self.state.catalogs[self.lang]

    def _(self, message: str) -> str:
        """Translate one message id into the page's language."""
        return self.tr.gettext(message)

    def text(self, zh: str, en: str) -> str:
        """Pick the Chinese or English one of a pair the domain provides."""
        return zh if self.lang == "zh_CN" else en

    def error_text(self, exc: DomainError) -> str:
        return self.text(exc.message_zh, exc.message_en)

    @property
    def actor_id(self) -> str:
        assert self.actor is not None
        return self.actor.actor_id

    def secure(self) -> bool:
        if self.state.secure_cookies is not None:
            return self.state.secure_cookies
        return self.request.url.scheme == "https" or self.app.settings.env == "production"

    def start_session(self, token: str) -> None:
        """Remember the token and rotate the CSRF token, so a pre-login value is useless."""
        self.set_cookies[SESSION_COOKIE] = (token, self.app.settings.token_ttl_seconds)
        self.csrf = secrets.token_urlsafe(32)
        self.set_cookies[CSRF_COOKIE] = (self.csrf, None)

    def end_session(self) -> None:
        """Revoke the session's token (a copied cookie stops working too) and forget it."""
        token = self.request.cookies.get(SESSION_COOKIE)
        if token:
            with contextlib.suppress(DomainError):  # expired or invalid: nothing to revoke
                identity.sign_out(self.app.services, token)
        self.clear_cookies.append(SESSION_COOKIE)
        self.csrf = secrets.token_urlsafe(32)
        self.set_cookies[CSRF_COOKIE] = (self.csrf, None)

    def apply(self, response: Response) -> Response:
        """Write pending cookies and the security headers every page carries."""
        secure = self.secure()
        if self.remember_lang:
            response.set_cookie(
                LANG_COOKIE, self.lang, max_age=_LANG_MAX_AGE, samesite="lax", secure=secure
            )
        for name, (value, max_age) in self.set_cookies.items():
            response.set_cookie(
                name,
                value,
                max_age=max_age,
                httponly=True,
                samesite="strict",
                secure=secure,
                path="/",
            )
        for name in self.clear_cookies:
            response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=secure)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response


def web_context(request: Request) -> Web:
    """Build the page context; an invalid or expired token counts as signed out."""
    app: App = request.app.state.doorstep
    state: WebState = request.app.state.web
    lang, remember = pick_lang(request)
    actor = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            actor = identity.authenticate(app.services, token)
        except DomainError:
            actor = None
    csrf = request.cookies.get(CSRF_COOKIE, "")
    web = Web(request, app, state, lang, remember, actor, csrf)
    if len(csrf) < 20:
        web.csrf = secrets.token_urlsafe(32)
        web.set_cookies[CSRF_COOKIE] = (web.csrf, None)
    return web


async def check_csrf(request: Request, web: Web) -> None:
    """Refuse a POST unless its hidden field equals the CSRF cookie."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(sent, str) or not cookie or not secrets.compare_digest(sent, cookie):
        raise CsrfRefused()


def page(*roles: Role) -> Callable[[Request], Web]:
    """A GET dependency: signed in with one of ``roles`` (none given: anyone may look)."""

    def dependency(request: Request) -> Web:
        web = web_context(request)
        _guard(web, roles)
        return web

    return dependency


def action(*roles: Role) -> Callable[[Request], Awaitable[Web]]:
    """A POST dependency: the role guard plus the CSRF check."""

    async def dependency(request: Request) -> Web:
        web = web_context(request)
        await check_csrf(request, web)
        _guard(web, roles)
        return web

    return dependency


def _guard(web: Web, roles: tuple[Role, ...]) -> None:
    if not roles:
        return
    if web.actor is None:
        raise LoginRequired()
    if web.actor.role not in roles:
        raise WrongRole()


def safe_next(target: Any) -> str | None:
    """A local path to go back to after sign-in; anything else (other hosts) is dropped."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or "\n" in target or "\r" in target:
        return None
    return target
