"""The buyer portal end to end in a real browser: open, decision, book, code, courier, receipt."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser._live import (  # type: ignore[import-not-found]
    COURIER_USERS,
    PHONE,
    jpeg_file,
    return_id_from,
    shot,
    sign_in,
)

from doorstep.bootstrap import App
from doorstep.services import pickup, returns


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    return {"locale": "zh-CN", "viewport": {"width": 1100, "height": 900}}


def pickup_courier(wired: App, return_id: str) -> str:
    """The courier the visit of ``return_id`` was given to."""
    svc = wired.services
    r = returns.get_return(svc, return_id)
    assert r.appointment_id is not None
    courier_id = pickup.get_appointment(svc, r.appointment_id).courier_id
    assert courier_id is not None
    return courier_id


def test_return_from_opening_to_receipt(
    page: Page, browser: Browser, base: str, wired: App, tmp_path: Path
) -> None:
    photo = jpeg_file(tmp_path)
    sign_in(page, base, "buyer1")
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("我的退货")

    # Open a return with a photo: the decision explains every rule, in Chinese.
    page.locator("a[href='/portal/returns/new?order_id=TM2026000101&line_id=L1']").click()
    page.locator("#reason").select_option("no_reason")
    page.locator("#photo").set_input_files(photo)
    page.get_by_role("button", name="提交退货申请").click()
    expect(page.locator("#dec-h")).to_contain_text("已通过")
    expect(page.locator(".methods")).to_contain_text("上门取件")
    expect(page.locator(".methods")).to_contain_text("截至")

    # The slot picker: grouped by day, remaining capacity, then book.
    page.get_by_role("link", name="预约上门取件").click()
    assert page.get_by_test_id("day-tabs").locator("a").count() >= 2
    page.locator("label.time").first.click()
    page.get_by_role("button", name="预约该时段").click()
    code = page.get_by_test_id("pickup-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("您提交了退货申请")
    expect(timeline).to_contain_text("已预约上门取件")
    shot(page, tmp_path, "portal-zh")

    # The language switch: the same page in English.
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#code-h")).to_have_text("Pickup code")
    expect(timeline).to_contain_text("Door pickup booked")
    expect(page.locator("#dec-h")).to_contain_text("Approved")
    courier_id = pickup_courier(wired, return_id_from(page.url))

    # The courier, on a phone: arrive, inspect with a photo, enter the code, get a waybill.
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    try:
        cp = phone.new_page()
        sign_in(cp, base, COURIER_USERS[courier_id])
        expect(cp).to_have_url(f"{base}/courier")
        cp.get_by_role("button", name="我已到达").click()
        cp.locator("form.inspect input[name=photo]").set_input_files(photo)
        cp.locator("form.inspect input[name=weight_g]").fill("130")
        shot(cp, tmp_path, "courier-inspect-phone")
        cp.get_by_test_id("all-ok").click()
        expect(cp.locator(".ok-line")).to_contain_text("验货通过")
        cp.locator(".code-input").fill(code)
        cp.get_by_role("button", name="确认取件").click()
        waybill = cp.get_by_test_id("waybill").inner_text()
        assert waybill.startswith(("SF", "YT"))
        shot(cp, tmp_path, "courier-phone")
    finally:
        phone.close()

    # Back to the buyer: the receipt with the same waybill.
    page.reload()
    receipt = page.locator("section.receipt")
    expect(receipt).to_contain_text("Pickup receipt")
    expect(receipt.get_by_test_id("waybill")).to_have_text(waybill)
    expect(page.locator("ol.timeline")).to_contain_text("The courier collected your parcel")
    shot(page, tmp_path, "portal-receipt-en")
