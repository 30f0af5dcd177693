"""Joining, moving and cancelling a visit; drop-off with a waybill; a failed attempt."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser._live import COURIER_USERS, PHONE, sign_in  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import pickup, returns


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    return {"locale": "zh-CN", "viewport": {"width": 1100, "height": 900}}


def _open(wired: App, buyer: str, order: str, line: str) -> str:
    cmd = returns.OpenReturn(
        buyer, order, ReturnKind.REFUND, (returns.LineRequest(line, 1, Reason.NO_REASON),)
    )
    return returns.open_return(wired.services, cmd).return_id


def test_join_move_and_cancel_a_visit(page: Page, wired: App, base: str) -> None:
    first = _open(wired, "buyer-001", "TM2026000101", "L1")
    second = _open(wired, "buyer-001", "TM2026000101", "L2")
    sign_in(page, base, "buyer1")

    page.goto(f"{base}/portal/returns/{first}/slots")
    page.locator("label.time").first.click()
    page.get_by_role("button", name="预约该时段").click()
    code = page.get_by_test_id("pickup-code").inner_text()
    window = page.locator(".code-card .big-text strong").inner_text()

    # The second return of the same address rides along on that visit.
    page.goto(f"{base}/portal/returns/{second}/slots")
    expect(page.locator("section.join")).to_contain_text(window)
    page.get_by_role("button", name="合并到这次上门").click()
    expect(page.get_by_test_id("pickup-code")).to_have_text(code)

    # Move the visit to another window.
    page.goto(f"{base}/portal/returns/{first}")
    page.get_by_role("link", name="修改时段").click()
    expect(page.locator("main")).to_contain_text("当前预约")
    page.locator("label.time:not(.current)").first.click()
    page.get_by_role("button", name="改到该时段").click()
    expect(page.locator(".code-card .big-text strong")).not_to_have_text(window)
    expect(page.locator("ol.timeline")).to_contain_text("上门时间已修改")

    # Cancel it (the page asks first); both returns go back to choosing a method.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="取消上门取件").click()
    expect(page.get_by_test_id("status").locator(".badge")).to_have_text("已通过")
    expect(page.locator("ol.timeline")).to_contain_text("已取消上门取件")
    page.goto(f"{base}/portal/returns/{second}")
    expect(page.get_by_test_id("status").locator(".badge")).to_have_text("已通过")


def test_remote_buyer_drops_off_and_enters_the_waybill(page: Page, base: str) -> None:
    sign_in(page, base, "buyer6")  # Chongming: remote, no door pickup
    page.locator("a[href='/portal/returns/new?order_id=TM2026000111&line_id=L1']").click()
    page.get_by_role("button", name="提交退货申请").click()
    expect(page.locator("#dec-h")).to_contain_text("已通过")
    expect(page.get_by_role("link", name="预约上门取件")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("上门取件")  # listed as not offered
    page.get_by_label("驿站/网点自寄", exact=False).check()
    page.get_by_role("button", name="确定").click()
    expect(page.get_by_test_id("status").locator(".badge")).to_have_text("待寄出")
    page.locator("#wb").fill("YT998877665544")
    page.get_by_label("快递公司").select_option("yto")  # the number is checked against its format
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("status").locator(".badge")).to_have_text("运输中")
    expect(page.locator("ol.timeline")).to_contain_text("YT998877665544")


def test_courier_records_a_failed_attempt(
    page: Page, browser: Browser, wired: App, base: str
) -> None:
    svc = wired.services
    rid = _open(wired, "buyer-001", "TM2026000101", "L1")
    slot = pickup.pickup_options(svc, wired.offering, "buyer-001", rid).slots[0].slot
    appt = pickup.book_pickup(
        svc, "buyer-001", rid, pickup.SlotChoice(slot.carrier_id, slot.day, slot.window.start)
    )
    assert appt.courier_id is not None
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    try:
        cp = phone.new_page()
        sign_in(cp, base, COURIER_USERS[appt.courier_id])
        cp.locator("details.fail summary").click()
        cp.get_by_label("联系不上买家").check()
        cp.locator("details.fail input[name=note]").fill("电话无人接听")
        cp.get_by_role("button", name="登记上门失败").click()
        # The stop as recorded, then the day's page with it folded among the finished ones.
        stop = cp.locator(f"#v-{appt.appointment_id}")
        expect(stop.locator(".badge")).to_have_text("上门失败")
        expect(stop).to_contain_text("电话无人接听")
        cp.goto(f"{base}/courier")
        done = cp.get_by_test_id("done-visits")
        done.locator("summary").click()
        expect(done.locator(".badge")).to_have_text("上门失败")
    finally:
        phone.close()
    sign_in(page, base, "buyer1")
    page.goto(f"{base}/portal/returns/{rid}")
    expect(page.locator(".warn-card")).to_contain_text("联系不上买家")
    expect(page.get_by_role("link", name="重新选择时段")).to_be_visible()
    expect(page.get_by_test_id("status")).to_contain_text("快递员未能取件")
