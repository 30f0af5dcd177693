"""Message texts from the Babel catalogues the pages use (``entrypoints/web/locale``)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po


def read_catalog(path: Path, lang: str) -> dict[str, str]:
    """The reviewed translations in one ``.po`` file (fuzzy and empty entries left out)."""
    messages: dict[str, str] = {}
    if not path.exists():
        return messages
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    for message in catalog:
        # Fuzzy entries are unreviewed guesses: showing the English id is safer.
        if (
            isinstance(message.id, str)
            and message.id
            and not message.fuzzy
            and isinstance(message.string, str)
            and message.string
        ):
            messages[message.id] = message.string
    return messages


class CatalogTexts:
    """Implements ``services.ports.Texts`` from ``<dir>/<lang>/LC_MESSAGES/messages.po``."""

    def __init__(self, directory: Path, langs: tuple[str, ...] = ("zh_CN", "en")) -> None:
        self.messages = {
            lang: read_catalog(directory / lang / "LC_MESSAGES" / "messages.po", lang)
            for lang in langs
        }

    def gettext(self, lang: str, message: str) -> str:
        """The translation, or the English id when there is none."""
        return self.messages.get(lang, {}).get(message) or message
