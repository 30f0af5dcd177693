"""The station desk on a phone (390×844), in Chinese and English: a scanner types the buyer's
QR text into the focused field and presses Enter, the desk shows the items, the return and the
parcel count, the parcel is taken once, and a second scan is refused in plain words. Every
state of the page passes the page checks (axe-core, console, size, tap targets)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tests.browser._checks import check_page  # type: ignore[import-not-found]
from tests.browser._live import phone_as  # type: ignore[import-not-found]

from doorstep.adapters.demo.data import STATION1_ID
from doorstep.bootstrap import App
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import returns, self_send

WORDS = {
    "zh": {"taken": "已收件", "used": "该寄件码已使用或已失效", "take": "确认收件"},
    "en": {"taken": "Taken", "used": "already been used", "take": "Take the parcel"},
}


def _coded(wired: App) -> tuple[str, str]:
    """buyer1's lipsticks (two) to drop off at station1's station: (return id, code)."""
    svc = wired.services
    cmd = returns.OpenReturn(
        "buyer-001",
        "TM2026000101",
        ReturnKind.REFUND,
        (returns.LineRequest("L2", 2, Reason.NO_REASON),),
    )
    return_id = returns.open_return(svc, cmd).return_id
    returns.choose_self_send(svc, "buyer-001", return_id, ReturnMethod.DROPOFF)
    issued = self_send.issue_dropoff_code(svc, "buyer-001", return_id, STATION1_ID)
    assert issued.dropoff is not None
    return return_id, issued.dropoff.code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_scanned_code_shows_the_parcel_and_takes_it_once(
    browser: Browser, wired: App, base: str, lang: str
) -> None:
    return_id, code = _coded(wired)
    words = WORDS[lang]
    with phone_as(browser, base, "station1", lang) as (page, watch):
        expect(page).to_have_url(f"{base}/station")
        check_page(page, watch, f"station-desk-{lang}")
        scan = page.locator("#code")
        expect(scan).to_be_focused()
        scan.type(f"DOORSTEP-DROPOFF:{STATION1_ID}:{code}")  # what the QR reads as
        scan.press("Enter")
        parcel = page.get_by_test_id("dropoff")
        expect(parcel.get_by_test_id("return-id")).to_have_text(return_id)
        expect(parcel.get_by_test_id("parcels")).to_have_text("1")
        expect(parcel).to_contain_text("× 2")
        check_page(page, watch, f"station-parcel-{lang}")
        page.get_by_role("button", name=words["take"]).click()
        expect(page.get_by_role("status")).to_contain_text(words["taken"])
        expect(page.get_by_role("status")).to_contain_text(return_id)
        assert returns.get_return(wired.services, return_id).status.value == "in_transit"
        check_page(page, watch, f"station-taken-{lang}")
        # The buyer's code scanned a second time: refused, and said so.
        # The form carries the station it was shown for (operators run several).
        watch.expected_status.add(f"{base}/station?station=st-xh-01&code={code}")
        page.locator("#code").fill(code)
        page.locator("#code").press("Enter")
        expect(page.get_by_role("alert")).to_contain_text(words["used"])
        expect(page.get_by_test_id("dropoff")).to_have_count(0)
        check_page(page, watch, f"station-refused-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_staff_of_an_operator_pick_the_station_they_stand_at(
    browser: Browser, wired: App, base: str, lang: str
) -> None:
    names = {
        "zh": ("圆通驿站（长宁路）", "圆通驿站（莘松路）"),
        "en": ("Changning Rd", "Xinsong Rd"),
    }
    first, second = names[lang]
    with phone_as(browser, base, "station2", lang) as (page, watch):
        expect(page.get_by_role("heading", level=1)).to_contain_text(first)
        check_page(page, watch, f"station-picker-{lang}")
        page.locator("#station").select_option("st-mh-01")
        page.get_by_test_id("station-picker").get_by_role("button").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(second)
        expect(page.locator("input[type=hidden][name=station]")).to_have_value("st-mh-01")
        expect(page.locator("#code")).to_be_visible()
