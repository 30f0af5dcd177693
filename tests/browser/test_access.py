"""Sign-in, cookies, CSRF, roles, languages and error pages in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser._live import sign_in  # type: ignore[import-not-found]


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    return {"locale": "zh-CN"}


def test_signed_out_visitors_are_sent_to_sign_in_and_back(page: Page, base: str) -> None:
    page.goto(f"{base}/courier")
    expect(page).to_have_url(f"{base}/login?next=/courier")
    page.locator("#username").fill("courier5")
    page.locator("#password").fill("wrong")
    page.locator("form[action='/login'] button").click()
    expect(page.locator(".alert.error")).to_have_text("用户名或密码错误。")
    sign_in(page, base, "courier5")
    expect(page).to_have_url(f"{base}/courier")


@pytest.mark.parametrize(
    ("username", "home"),
    [("buyer1", "/"), ("courier1", "/courier"), ("ops1", "/console"), ("warehouse1", "/warehouse")],
)
def test_each_role_lands_on_its_own_page(page: Page, base: str, username: str, home: str) -> None:
    sign_in(page, base, username)
    expect(page).to_have_url(f"{base}{home}")


def test_session_cookie_is_httponly_and_strict(page: Page, base: str) -> None:
    sign_in(page, base, "buyer1")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["ds_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["secure"] is False  # plain http on loopback
    assert page.evaluate("document.cookie").find("ds_session") == -1
    page.locator("form[action='/logout'] button").click()
    expect(page).to_have_url(f"{base}/login")
    assert "ds_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login?next=/")


def test_wrong_role_gets_a_403_page(page: Page, base: str) -> None:
    sign_in(page, base, "buyer1")
    response = page.goto(f"{base}/console")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")
    response = page.goto(f"{base}/courier")
    assert response is not None and response.status == 403


def test_a_form_without_its_csrf_token_is_refused(page: Page, base: str) -> None:
    # The sign-in form itself: drop the hidden token, submit → refused, nobody signed in.
    page.goto(f"{base}/login")
    page.locator("input[name=csrf_token]").evaluate("el => el.remove()")
    page.locator("#username").fill("buyer1")
    page.locator("#password").fill("demo-buyer1")
    page.locator("form[action='/login'] button").click()
    expect(page.locator("h1")).to_have_text("安全校验失败")
    assert "ds_session" not in {c["name"] for c in page.context.cookies()}

    # Signed in, a POST with a wrong token, and one with none, are refused the same way.
    sign_in(page, base, "buyer1")
    url = f"{base}/portal/returns/R-unknown/cancel"
    for form in ({"csrf_token": "forged-token-value-000000"}, {}):
        refused = page.request.post(url, form=form, max_redirects=0)
        assert refused.status == 403
        assert "安全校验失败" in refused.text()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    allowed = page.request.post(url, form={"csrf_token": token}, max_redirects=0)
    assert allowed.status == 404  # past the CSRF check: the return does not exist


def test_errors_are_friendly_pages_in_the_current_language(page: Page, base: str) -> None:
    sign_in(page, base, "buyer1")
    response = page.goto(f"{base}/portal/returns/R-does-not-exist")
    assert response is not None and response.status == 404
    expect(page.locator(".alert.error")).to_contain_text("未找到退货申请 R-does-not-exist")
    assert "Traceback" not in page.content()
    page.get_by_role("link", name="English").click()
    expect(page.locator(".alert.error")).to_contain_text(
        "Return request R-does-not-exist was not found"
    )

    # Bad input on a form is shown on that form, with what was typed kept.
    page.goto(f"{base}/portal/returns/new?order_id=TM2026000101&line_id=L1")
    page.locator("#q-L1").fill("0")
    page.get_by_role("button", name="Submit the return").click()
    expect(page.locator(".alert.error")).to_contain_text("Enter how many to return")
    expect(page.locator("h1")).to_have_text("Open a return")


def test_precheck_answers_with_reasons(page: Page, base: str) -> None:
    sign_in(page, base, "buyer1")
    page.goto(f"{base}/portal/precheck?sku=CN-TRUNK-36IN&adcode=310115&order_id=TM2026000112")
    expect(page.locator(".verdict-card h2")).to_contain_text("不支持上门取件")
    expect(page.locator(".findings")).to_contain_text("尺寸超出上门取件范围")
    expect(page.locator(".findings")).not_to_contain_text("上门取件尺寸重量")  # a rule name
    page.goto(f"{base}/portal/precheck?sku=KR-SERUM-50ML&adcode=310104&order_id=TM2026000101")
    expect(page.locator(".verdict-card h2")).to_contain_text("支持上门取件")
    expect(page.locator(".verdict-card")).to_contain_text("截至")
    page.goto(f"{base}/portal/precheck?sku=NO-SUCH-SKU&adcode=310104")
    expect(page.locator(".alert.error")).to_contain_text("未找到商品 NO-SUCH-SKU")


def test_language_follows_accept_language_then_the_switch(browser: Browser, base: str) -> None:
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Sign in")
        page.get_by_role("link", name="中文").click()
        expect(page.locator("h1")).to_have_text("登录")
        page.goto(f"{base}/login")  # remembered in a cookie over Accept-Language
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        page.goto(f"{base}/login?lang=en")
        expect(page.locator("h1")).to_have_text("Sign in")
    finally:
        context.close()
