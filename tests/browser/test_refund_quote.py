"""The refund amount in the buyer portal: shown before filing, then on the return's page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.browser._live import shot, sign_in  # type: ignore[import-not-found]


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    return {"locale": "zh-CN", "viewport": {"width": 1000, "height": 900}}


def test_buyer_sees_the_breakdown_before_filing_and_on_the_return(
    page: Page, base: str, tmp_path: Path
) -> None:
    sign_in(page, base, "buyer1")
    page.goto(f"{base}/portal/returns/new?order_id=TM2026000118&line_id=L2")
    page.locator("#reason").select_option("no_reason")
    page.get_by_role("button", name="查看退款金额").click()
    card = page.get_by_test_id("refund-quote")
    expect(card).to_contain_text("¥1,099.06")
    expect(card).to_contain_text("满减门槛不再满足")
    expect(card).to_contain_text("-¥150.00")
    expect(card).to_contain_text("优惠券分摊")
    expect(card).to_contain_text("退货运费由运费险赔付")
    expect(page.locator("#reason")).to_have_value("no_reason")  # the form keeps its answers
    shot(page, tmp_path, "refund-quote-before-filing")

    page.get_by_role("button", name="提交退货申请").click()
    on_return = page.get_by_test_id("money")
    expect(on_return).to_contain_text("¥1,099.06")
    on_return.locator("summary").click()
    expect(on_return).to_contain_text("满减门槛不再满足")
    shot(page, tmp_path, "refund-quote-on-return")
