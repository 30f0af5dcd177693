"""The transfers queue on a phone (390×844), in Chinese and English: a transfer the provider
declined for good is listed with its purpose, amount and error, sent again with one tap, then
shown among the done ones. Every state of the page passes the page checks (axe-core,
console, size, tap targets)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._checks import check_page  # type: ignore[import-not-found]
from tests.browser._live import phone_as  # type: ignore[import-not-found]
from tests.e2e.transfer_calls import given_up  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.transfer import TransferStatus

WORDS = {
    "zh": {"purpose": "退还进口税", "again": "重新发起", "sent": "已按原幂等键重新提交"},
    "en": {"purpose": "Import tax given back", "again": "Try again", "sent": "Sent to the"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_failed_transfer_is_sent_again_with_one_tap(
    browser: Browser, wired: App, base: str, lang: str
) -> None:
    failed = given_up(wired, "CR-browser-1")
    words = WORDS[lang]
    with phone_as(browser, base, "ops1", lang) as (page, watch):
        page.goto(f"{base}/console/transfers")
        row = page.get_by_role("row").filter(has_text=failed)
        expect(row).to_contain_text(words["purpose"])
        expect(row).to_contain_text("account_closed")
        check_page(page, watch, f"transfers-failed-{lang}")
        row.get_by_role("button", name=words["again"]).click()
        expect(page.get_by_role("status")).to_contain_text(words["sent"])
        expect(page.get_by_role("row").filter(has_text=failed)).to_have_count(0)
        check_page(page, watch, f"transfers-empty-{lang}")
        with wired.services.uow() as uow:
            done = uow.transfers.get(failed)
        assert done is not None and done.status is TransferStatus.SUCCEEDED
        page.goto(f"{base}/console/transfers?status=succeeded")
        expect(page.get_by_role("row").filter(has_text=failed)).to_have_count(1)
        check_page(page, watch, f"transfers-done-{lang}")
