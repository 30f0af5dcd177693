"""Pickups that overtook a cancel, on a phone (390×844), in Chinese and English: the parcel
is listed with the return it left behind and settled with a note in one tap. Every state of
the page passes the page checks (axe-core, console, size, tap targets)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._checks import check_page  # type: ignore[import-not-found]
from tests.browser._live import phone_as  # type: ignore[import-not-found]
from tests.e2e.carrier_calls import overtaken_order  # type: ignore[import-not-found]

from doorstep.bootstrap import App

WORDS = {
    "zh": {"title": "取消后已揽收", "note": "处理说明", "settle": "结案", "done": "已结案"},
    "en": {
        "title": "Collected after a cancel",
        "note": "What was done",
        "settle": "Settle",
        "done": "Settled.",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_parcel_collected_after_a_cancel_is_settled_with_a_note(
    browser: Browser, wired: App, base: str, lang: str
) -> None:
    number = f"A-browser-{lang}-1"
    left = overtaken_order(wired, number)
    words = WORDS[lang]
    with phone_as(browser, base, "ops1", lang) as (page, watch):
        page.goto(f"{base}/console/overtaken")
        expect(page.get_by_role("heading", level=1)).to_have_text(words["title"])
        row = page.get_by_role("row").filter(has_text=number)
        expect(row).to_contain_text(left)
        expect(row).to_contain_text("SBX2611260009")
        check_page(page, watch, f"overtaken-waiting-{lang}")
        row.get_by_label(words["note"]).fill("买家同意包裹退回仓库")
        row.get_by_role("button", name=words["settle"]).click()
        expect(page.get_by_role("status")).to_contain_text(words["done"])
        expect(page.get_by_role("row").filter(has_text=number)).to_have_count(0)
        check_page(page, watch, f"overtaken-empty-{lang}")
    with wired.services.uow() as uow:
        po = uow.pickup_orders.get(number)
    assert po is not None and not po.awaits_ops and po.ops_note == "买家同意包裹退回仓库"
