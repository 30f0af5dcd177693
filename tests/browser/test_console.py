"""Ops console, dashboard and warehouse page in a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.browser._live import jpeg_file, shot, sign_in  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import courier, photos, pickup, returns


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    return {"locale": "zh-CN", "viewport": {"width": 1200, "height": 900}}


def _open(wired: App, buyer: str, order: str, line: str = "L1") -> str:
    cmd = returns.OpenReturn(
        buyer, order, ReturnKind.REFUND, (returns.LineRequest(line, 1, Reason.NO_REASON),)
    )
    return returns.open_return(wired.services, cmd).return_id


def _picked_up(wired: App, tmp_path: Path) -> str:
    """A return that buyer1 booked and a courier collected, set up through the services."""
    svc = wired.services
    rid = _open(wired, "buyer-001", "TM2026000101")
    first = pickup.pickup_options(svc, wired.offering, "buyer-001", rid).slots[0].slot
    appt = pickup.book_pickup(
        svc, "buyer-001", rid, pickup.SlotChoice(first.carrier_id, first.day, first.window.start)
    )
    assert appt.courier_id is not None
    courier.arrive(svc, appt.courier_id, appt.appointment_id)
    photo = photos.upload_photo(svc, appt.courier_id, jpeg_file(tmp_path).read_bytes())
    checklist = dict.fromkeys((*courier.CHECKLIST, "seal_intact"), True)
    courier.inspect(
        svc,
        appt.courier_id,
        appt.appointment_id,
        courier.InspectionInput(rid, checklist, (photo.photo_id,), 130),
    )
    courier.pick_up(svc, appt.courier_id, appt.appointment_id, appt.pickup_code)
    return rid


def test_ops_approve_a_held_return(page: Page, browser: Any, base: str) -> None:
    # buyer5 is blocklisted: the audit holds the return for a person.
    sign_in(page, base, "buyer5")
    page.locator("a[href='/portal/returns/new?order_id=TM2026000110&line_id=L1']").click()
    page.get_by_role("button", name="提交退货申请").click()
    expect(page.locator("#dec-h")).to_contain_text("转人工审核")
    # The buyer reads why and until when, never the internal rule ("买家黑名单").
    status = page.get_by_test_id("status")
    expect(status.get_by_test_id("hold-reasons")).to_contain_text("客服人工确认")
    expect(status).to_contain_text("前给您答复")
    expect(page.locator("main")).not_to_contain_text("黑名单")
    buyer_page = page.url

    ops = browser.new_context(locale="zh-CN")
    try:
        op = ops.new_page()
        sign_in(op, base, "ops1")
        expect(op).to_have_url(f"{base}/console")
        card = op.locator("section.review")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("该账户的退货需人工审核")
        card.locator("input[name=note]").fill("已电话核实")
        card.get_by_role("button", name="通过").click()
        expect(op.locator("main")).to_contain_text("暂无待审核的退货")
    finally:
        ops.close()

    page.goto(buyer_page)
    expect(page.get_by_test_id("status").locator(".badge")).to_have_text("已通过")
    expect(page.locator("#dec-h").locator("..")).to_contain_text("已电话核实")
    expect(page.get_by_role("link", name="预约上门取件")).to_be_visible()


def _booked_tomorrow(wired: App) -> None:
    svc = wired.services
    rid = _open(wired, "buyer-001", "TM2026000101", "L2")
    today = svc.clock.now().astimezone(SHANGHAI).date()
    offered = pickup.pickup_options(svc, wired.offering, "buyer-001", rid).slots
    slot = next(o.slot for o in offered if o.slot.day > today)
    pickup.book_pickup(
        svc, "buyer-001", rid, pickup.SlotChoice(slot.carrier_id, slot.day, slot.window.start)
    )


def test_dashboard_draws_svg_plots(page: Page, wired: App, base: str, tmp_path: Path) -> None:
    _open(wired, "buyer-005", "TM2026000110")  # held for review
    _picked_up(wired, tmp_path)
    _booked_tomorrow(wired)
    _open(wired, "buyer-002", "TM2026000104")  # outside the 7-day window: rejected
    sign_in(page, base, "ops1")
    page.get_by_role("link", name="数据看板").click()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(4)
    expect(page.locator("#chart-status")).to_contain_text("人工审核中")
    expect(page.locator("#chart-decisions")).to_contain_text("已通过")
    expect(page.locator("#chart-slots")).to_contain_text("1/")  # the booked window
    assert page.locator("#chart-reasons rect").count() >= 1
    shot(page, tmp_path, "console-dashboard")


def test_policy_change_is_validated_and_versioned(page: Page, base: str) -> None:
    sign_in(page, base, "ops1")
    page.goto(f"{base}/console/policy")
    days = page.locator("input[name='p:return_window:no_reason_days']")
    expect(days).to_have_value("7")
    days.fill("0")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(".alert.error")).to_contain_text("必须是 1 到 90 之间的整数")
    page.goto(f"{base}/console/policy")
    page.locator("input[name='p:return_window:no_reason_days']").fill("10")
    page.locator("#pnote").fill("双十一延长")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(".alert.ok")).to_contain_text("已保存为第 2 版")
    expect(page.locator("h1")).to_contain_text("v2")
    expect(page.locator("ul.history")).to_contain_text("return_window.no_reason_days: 7 → 10")


def test_warehouse_receives_and_grades(page: Page, wired: App, base: str, tmp_path: Path) -> None:
    rid = _picked_up(wired, tmp_path)
    sign_in(page, base, "warehouse1")
    expect(page).to_have_url(f"{base}/warehouse")
    page.locator("#code").fill(rid)
    page.get_by_role("button", name="查找").click()
    expect(page.locator("h2 .badge")).to_have_text("已取件")
    page.get_by_role("button", name="签收包裹").click()
    expect(page.locator("h2 .badge")).to_have_text("仓库已签收")
    page.get_by_label("A：可按新品再售").check()
    page.get_by_role("button", name="保存质检结果").click()
    expect(page.locator("h2 .badge")).to_have_text("已退款")
