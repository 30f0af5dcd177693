"""Buyer messages in both catalogues: every notice's ids are translated into Chinese (with
full-width punctuation) and format with their values in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from doorstep.adapters.notify.texts import CatalogTexts
from doorstep.bootstrap import LOCALE_DIR
from doorstep.domain.events import Event
from doorstep.services.notifications import NOTICES, notice_for, render

AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
SAMPLES = {
    "appointment.booked": {"day": "2026-11-26", "window": "09:00-11:00"},
    "appointment.courier_assigned": {},
    "appointment.eta_updated": {
        "eta": "2026-11-26T02:10:00+00:00",
        "previous": "2026-11-26T01:50:00+00:00",
    },
    "appointment.rescheduled": {"reason": "disruption:D1", "day": "2026-11-27", "window": "w"},
    "appointment.completed": {},
    "refund.succeeded": {"amount_fen": 12345},
}


@pytest.fixture(scope="module")
def texts() -> CatalogTexts:
    return CatalogTexts(LOCALE_DIR)


def test_every_notice_has_a_sample() -> None:
    assert set(SAMPLES) == set(NOTICES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_notices_read_in_chinese_and_english(texts: CatalogTexts, name: str) -> None:
    notice = notice_for(Event(name, "appointment", "A1", AT, SAMPLES[name]))
    assert notice is not None
    zh = render(notice, "zh_CN", texts)
    en = render(notice, "en", texts)
    assert zh["text"] != en["text"] and zh["subject"] != en["subject"]
    assert zh["text"].startswith("【doorstep】") and zh["text"].endswith("。")
    assert not any(mark in zh["text"] for mark in ",;?!")  # half-width marks in Chinese
    for value in notice.values.values():
        assert value in zh["text"] and value in en["text"]
    assert render(notice, "fr", texts)["lang"] == "zh_CN"  # unknown language: Chinese


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_catalogues_are_well_formed(lang: str) -> None:
    """Hand-appended entries (and merges of them) must not lose a line: read strictly."""
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang, abort_invalid=True)
    ids = [m.id for m in catalog if m.id]
    assert len(ids) == len(set(ids))


def test_a_courier_company_move_is_told_in_both_languages(texts: CatalogTexts) -> None:
    """The company moved the visit (not the buyer): the buyer hears of it, in zh and en."""
    data = {"reason": "carrier_rescheduled:sbx", "day": "2026-11-27", "window": "11:00-13:00"}
    notice = notice_for(Event("appointment.rescheduled", "appointment", "A1", AT, data))
    assert notice is not None
    zh, en = render(notice, "zh_CN", texts), render(notice, "en", texts)
    assert "快递公司" in zh["text"] and "courier company" in en["text"]
    assert "11:00-13:00" in zh["text"] and "11:00-13:00" in en["text"]
    buyer_move = {"reason": "buyer_request", "day": "2026-11-27", "window": "w"}
    assert notice_for(Event("appointment.rescheduled", "appointment", "A1", AT, buyer_move)) is None


def test_a_move_out_of_an_overbooked_window_is_told_in_both_languages(
    texts: CatalogTexts,
) -> None:
    """Ops moved the visit out of a window left over capacity: told, in zh and en."""
    data = {"reason": "over_capacity", "day": "2026-11-27", "window": "13:00-15:00"}
    notice = notice_for(Event("appointment.rescheduled", "appointment", "A1", AT, data))
    assert notice is not None
    zh, en = render(notice, "zh_CN", texts), render(notice, "en", texts)
    assert "超出容量" in zh["text"] and "overbooked" in en["text"]
    assert "13:00-15:00" in zh["text"] and "13:00-15:00" in en["text"]
