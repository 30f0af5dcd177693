"""Templates, responses, and the route class that turns every failure into a page.

Route functions stay thin: they parse, call one service and render. Anything they do not
handle themselves (a domain error on a GET, bad form input, a missing session, a wrong
role, a refused CSRF check, a bug) is rendered here as a page in the visitor's language,
never as JSON and never as a stack trace.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException

from doorstep.domain.errors import DomainError
from doorstep.entrypoints.api.errors import STATUS
from doorstep.entrypoints.web import labels
from doorstep.entrypoints.web.i18n import HTML_LANG, N_, day_formatter, money, when, yuan
from doorstep.entrypoints.web.session import (
    CSRF_FIELD,
    CsrfRefused,
    LoginRequired,
    Web,
    WrongRole,
    web_context,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
log = logging.getLogger("doorstep.web")

HOME = {
    "buyer": "/",
    "courier": "/courier",
    "ops": "/console",
    "warehouse": "/warehouse",
    "station": "/station",
}


_THUMB_TONES = 8


def thumb(sku: str, name: str) -> Markup:
    """A generated picture for a product: its first character on a tone picked from the SKU
    (no third-party images; the same SKU always looks the same)."""
    tone = zlib.crc32(sku.encode()) % _THUMB_TONES
    initial = (name.strip() or sku)[:1]
    return Markup('<span class="thumb t{}" aria-hidden="true">{}</span>').format(tone, initial)


def address_line(district: str, detail: str) -> str:
    """District and street once: the street line often starts with the district again."""
    return detail if detail.startswith(district) else f"{district}{detail}"


def make_env() -> Environment:
    """The Jinja2 environment: autoescaped HTML, undefined names are errors (caught in tests)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


MAX_HERE = 500
"""The longest page address carried through the language switch (``/lang``'s ``next``)."""


def _lang_url(web: Web, lang: str, here: str) -> str:
    return "/lang?" + urlencode({"to": lang, "next": here})


def render(
    web: Web, template: str, *, status: int = 200, here: str | None = None, **ctx: Any
) -> HTMLResponse:
    """Render a page with the helpers every template uses (``_``, labels, formats)."""
    if here is None:
        query = [(k, v) for k, v in web.request.query_params.multi_items() if k != "lang"]
        here = web.request.url.path + ("?" + urlencode(query) if query else "")
        if len(here) > MAX_HERE:
            # The language switch would echo it into every link and /lang refuses a ``next``
            # this long: switch language on the bare page instead.
            here = web.request.url.path[:MAX_HERE]

    def lbl(table: str, code: object) -> str:
        key = str(getattr(code, "value", code))
        return web._(getattr(labels, table).get(key, key))

    zh = web.lang == "zh_CN"
    ctx.setdefault("error", None)
    ctx.setdefault("notice", None)
    html = web.state.env.get_template(template).render(
        _=web._,
        lang=web.lang,
        html_lang=HTML_LANG[web.lang],
        user=web.actor,
        path=web.request.url.path,
        home=HOME.get(web.actor.role.value, "/") if web.actor else "/login",
        csrf_field=CSRF_FIELD,
        csrf_token=web.csrf,
        lang_zh=_lang_url(web, "zh_CN", here),
        lang_en=_lang_url(web, "en", here),
        lbl=lbl,
        text=web.text,
        money=money,
        yuan=yuan,
        when=when,
        day=day_formatter(web.lang),
        # Chinese sentences take full-width punctuation, English half-width with a space.
        colon="：" if zh else ": ",
        comma="，" if zh else ", ",
        paren=(lambda x: f"（{x}）") if zh else (lambda x: f" ({x})"),
        photos=lambda n: (
            web._("%(n)s photo") % {"n": n} if n == 1 else web._("%(n)s photos") % {"n": n}
        ),
        evidence_count=lambda n: (
            (web._("%(n)s piece of evidence") if n == 1 else web._("%(n)s pieces of evidence"))
            % {"n": n}
        ),
        thumb=thumb,
        address_line=address_line,
        **ctx,
    )
    response = HTMLResponse(html, status_code=status)
    web.apply(response)
    return response


def see_other(web: Web, url: str) -> Response:
    """Post/redirect/get: a successful form lands on a page that can be reloaded safely."""
    return web.apply(RedirectResponse(url, status_code=303))


def error_page(web: Web, status: int, title: str, message: str, code: str = "") -> HTMLResponse:
    return render(web, "error.html", status=status, title=title, message=message, code=code)


class WebRoute(APIRoute):
    """An APIRoute whose failures are pages, in the visitor's language."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except LoginRequired:
                target = request.url.path
                if request.method == "GET" and request.url.query:
                    target += "?" + request.url.query
                return RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=303)
            except WrongRole:
                web = web_context(request)
                return error_page(
                    web,
                    403,
                    web._(N_("Not for your role")),
                    web._(N_("This page belongs to another role. Sign in with the right account.")),
                    "role_not_allowed",
                )
            except CsrfRefused:
                web = web_context(request)
                return error_page(
                    web,
                    403,
                    web._(N_("Security check failed")),
                    web._(
                        N_(
                            "The form was missing its security token or it expired. Go back, reload the page and try again."
                        )
                    ),
                    "csrf_failed",
                )
            except DomainError as exc:
                web = web_context(request)
                return error_page(
                    web,
                    STATUS[exc.kind],
                    web._(N_("Something is not right")),
                    web.error_text(exc),
                    exc.code,
                )
            except RequestValidationError:
                web = web_context(request)
                return error_page(
                    web,
                    422,
                    web._(N_("Something is not right")),
                    web._(N_("Some fields are missing or invalid.")),
                    "validation_error",
                )
            except HTTPException:
                raise  # e.g. 413 from the body limit: the app's handler answers it
            except Exception:  # a bug: log it, show a page without internals
                log.exception("web page failed: %s %s", request.method, request.url.path)
                web = web_context(request)
                return error_page(
                    web,
                    500,
                    web._(N_("Sorry")),
                    web._(N_("Something went wrong on our side. Please try again.")),
                    "internal_error",
                )

        return handler
