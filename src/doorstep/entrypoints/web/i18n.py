"""Translations from Babel ``.po`` catalogs, the request's language, and local formats.

Catalogs are read with ``babel.messages.pofile.read_po`` at start-up: no compiled ``.mo``
files, so editing a ``.po`` file and restarting is the whole translation workflow.
Message ids are English; ``en`` therefore falls back to the id when a string is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from starlette.requests import Request

from doorstep.adapters.notify.texts import read_catalog
from doorstep.domain.clock import local

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGS = ("zh_CN", "en")
DEFAULT_LANG = "zh_CN"
LANG_COOKIE = "ds_lang"
# The html ``lang`` attribute wants BCP 47 tags, Babel wants underscores.
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translated when shown)."""
    return message


@dataclass(frozen=True)
class Translator:
    """One language's messages; ``gettext`` falls back to the English id."""

    lang: str
    messages: dict[str, str]

    def gettext(self, message: str) -> str:
        """The translation of ``message``, or ``message`` itself when there is none."""
        return self.messages.get(message) or message


def load_catalogs(directory: Path = LOCALE_DIR) -> dict[str, Translator]:
    """Read ``<lang>/LC_MESSAGES/messages.po`` for every supported language."""
    return {
        lang: Translator(lang, read_catalog(directory / lang / "LC_MESSAGES" / "messages.po", lang))
        for lang in LANGS
    }


def _normalise(value: str | None) -> str | None:
    if not value:
        return None
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


MAX_ACCEPT_LANGUAGE = 256


def pick_lang(request: Request) -> tuple[str, bool]:
    """``?lang=`` → cookie → Accept-Language → zh_CN; the flag says "remember in a cookie"."""
    asked = _normalise(request.query_params.get("lang"))
    if asked:
        return asked, True
    remembered = _normalise(request.cookies.get(LANG_COOKIE))
    if remembered:
        return remembered, False
    # Browsers send a few tags; a long header is cut rather than split and sorted whole.
    header = request.headers.get("accept-language", "")[:MAX_ACCEPT_LANGUAGE]
    weighted = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, i, tag))
    for _q, _i, tag in sorted(weighted):
        lang = _normalise(tag)
        if lang:
            return lang, False
    return DEFAULT_LANG, False


def money(fen: int | None) -> str:
    """Integer fen as ``¥12.34`` (negative as ``-¥12.34``)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def yuan(fen: int) -> str:
    """Integer fen as the yuan a form field takes back (``109.13``: no sign, no grouping)."""
    whole, cents = divmod(max(fen, 0), 100)
    return f"{whole}.{cents:02d}"


def when(moment: datetime | None) -> str:
    """A moment on the Shanghai wall clock, ``2026-11-25 09:00``."""
    return "" if moment is None else f"{local(moment):%Y-%m-%d %H:%M}"


def day_formatter(lang: str) -> Callable[[date], str]:
    """A formatter for calendar days with the weekday in the page's language."""
    locale = Locale.parse(lang)
    pattern = "M月d日 EEE" if lang == "zh_CN" else "EEE d MMM"

    def fmt(day: date) -> str:
        return format_date(day, pattern, locale=locale)

    return fmt
