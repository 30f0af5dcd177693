"""Every message the pages use has a Chinese translation, and the catalogs parse."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from doorstep.entrypoints.web import labels
from doorstep.entrypoints.web.i18n import LOCALE_DIR, load_catalogs

WEB = LOCALE_DIR.parent


def _used_messages() -> set[str]:
    """What ``pybabel extract -F babel.cfg -k N_`` would find, without writing a file."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "N_": None}
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEB), method_map, keywords=keywords
        )
        if isinstance(message, str)
    }


def test_every_message_has_a_chinese_translation() -> None:
    zh = load_catalogs()["zh_CN"].messages
    used = _used_messages()
    assert len(used) > 150
    missing = sorted(m for m in used if m not in zh)
    assert not missing, f"add these to locale/zh_CN/LC_MESSAGES/messages.po: {missing}"


def test_every_label_code_is_extractable() -> None:
    # Labels are looked up at run time by code, so they must be literal N_() calls.
    used = _used_messages()
    for table in (labels.STATUS, labels.EVENT, labels.CHECKLIST, labels.FAILURE, labels.RULE):
        assert set(table.values()) <= used


def test_both_catalog_files_exist() -> None:
    for lang in ("zh_CN", "en"):
        assert (Path(LOCALE_DIR) / lang / "LC_MESSAGES" / "messages.po").is_file()
