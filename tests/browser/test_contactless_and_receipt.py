"""Issue 8 §7-§8 in a real browser: a contactless pickup end to end (booked for a locker,
collected by photos and weight, disputed by the buyer, decided by ops), and a partial pickup's
receipt printed (print media) whose QR code is decoded and followed to the verification page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
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
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import courier, photos, pickup, returns


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    # A phone camera sees the printed code sharply; a 1x screenshot of a 40 mm code renders
    # each module at under 2 pixels, which no decoder reads reliably.
    return {"locale": "en-US", "viewport": {"width": 1000, "height": 900}, "device_scale_factor": 3}


def test_a_contactless_pickup_end_to_end(
    page: Page, browser: Browser, base: str, wired: App, tmp_path: Path
) -> None:
    photo = jpeg_file(tmp_path)
    sign_in(page, base, "buyer1")
    page.locator("a[href='/portal/returns/new?order_id=TM2026000101&line_id=L1']").click()
    page.locator("#reason").select_option("no_reason")
    page.get_by_role("button", name="Submit the return").click()
    rid = return_id_from(page.url)
    page.goto(f"{base}/portal/returns/{rid}/slots")

    # Booking: a window, and "leave it in a parcel locker" with where exactly.
    page.locator("label.time").first.click()
    handover = page.get_by_test_id("handover")
    handover.locator("input[value=locker]").check()
    handover.locator("#handover-note").fill("Locker 3, code 8812")
    page.locator("form.slots button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/portal/returns/{rid}"))
    appt_id = returns.get_return(wired.services, rid).appointment_id
    assert appt_id is not None
    appt = pickup.get_appointment(wired.services, appt_id)
    assert appt.handover.value == "locker" and appt.handover_note == "Locker 3, code 8812"
    assert appt.courier_id is not None

    # The courier's phone: no code to ask for; photos and weight are the inspection.
    phone = browser.new_context(viewport=PHONE, locale="en-US", has_touch=True, is_mobile=True)
    try:
        cp = phone.new_page()
        sign_in(cp, base, COURIER_USERS[appt.courier_id])
        expect(cp.get_by_test_id("contactless").first).to_contain_text("Locker 3, code 8812")
        cp.locator(f"#v-{appt_id} form[action$='/arrive'] button").click()
        form = cp.get_by_test_id("contactless-inspect")
        form.locator("input[name=photo]").set_input_files(photo)
        form.locator("input[name=weight_g]").fill("310")
        form.locator("button[type=submit]").click()
        cp.get_by_test_id("contactless-pickup").click()
        expect(cp.get_by_test_id("waybill").first).to_be_visible()
        shot(cp, tmp_path, "courier-contactless")
    finally:
        phone.close()

    # The buyer sees the courier's photo and weight, and disputes within the limit.
    page.goto(f"{base}/portal/returns/{rid}")
    review = page.get_by_test_id("contactless-review")
    expect(review).to_contain_text("310 g")
    door_photo = review.get_by_test_id("door-photo").first
    expect(door_photo).to_be_visible()
    assert door_photo.evaluate("img => img.naturalWidth") > 0  # the photo really loads
    review.locator("summary").click()
    review.locator("#dispute-text").fill("I left two serums, the photo shows one")
    review.locator("#dispute-photo").set_input_files(photo)
    review.get_by_test_id("dispute-contactless").click()
    expect(page.get_by_test_id("review-state")).to_contain_text("Disputed")
    shot(page, tmp_path, "buyer-contactless-disputed")

    # Ops: the queue shows both sides; the decision goes back to the buyer.
    ops = browser.new_context(locale="en-US")
    try:
        op = ops.new_page()
        sign_in(op, base, "ops1")
        op.goto(f"{base}/console/contactless")
        case = op.locator(f"#d-{appt_id}")
        expect(case.get_by_test_id("buyer-text")).to_have_text(
            "I left two serums, the photo shows one"
        )
        expect(case.get_by_test_id("courier-weight")).to_contain_text("310 g")
        assert case.get_by_test_id("courier-photo").first.evaluate("i => i.naturalWidth") > 0
        shot(op, tmp_path, "ops-contactless-queue")
        case.locator("input[value=buyer_upheld]").check()
        case.locator("input[name=note]").fill("scale photo missing")
        case.locator("button[type=submit]").click()
        expect(op.get_by_test_id("no-disputes")).to_be_visible()
    finally:
        ops.close()
    page.reload()
    expect(page.get_by_test_id("review-state")).to_contain_text("your account stands")


def _picked_up_in_part(wired: App, tmp_path: Path) -> str:
    """Two lipsticks at the door, the second refused for its seal; set up through services."""
    svc = wired.services
    cmd = returns.OpenReturn(
        "buyer-001",
        "TM2026000101",
        ReturnKind.REFUND,
        (returns.LineRequest("L2", 2, Reason.NO_REASON),),
    )
    rid = returns.open_return(svc, cmd).return_id
    first = pickup.pickup_options(svc, wired.offering, "buyer-001", rid).slots[0].slot
    appt = pickup.book_pickup(
        svc, "buyer-001", rid, pickup.SlotChoice(first.carrier_id, first.day, first.window.start)
    )
    cid = appt.courier_id
    assert cid is not None
    courier.arrive(svc, cid, appt.appointment_id)
    [line] = courier.visit_checklists(svc, cid, appt.appointment_id)
    every = {c.key: True for c in line.checks}
    shots = [
        photos.upload_photo(svc, cid, jpeg_file(tmp_path).read_bytes()).photo_id for _ in range(2)
    ]
    units = (
        UnitAnswer(every, None, (shots[0],)),
        UnitAnswer(every | {"seal_intact": False}, None, (shots[1],)),
    )
    courier.inspect(
        svc,
        cid,
        appt.appointment_id,
        courier.InspectionInput(rid, {}, (), 60, "", (courier.LineAnswer("L2", units),)),
    )
    courier.pick_up(svc, cid, appt.appointment_id, appt.pickup_code)
    return rid


def test_print_the_receipt_and_verify_its_qr_code(
    page: Page, base: str, wired: App, tmp_path: Path
) -> None:
    rid = _picked_up_in_part(wired, tmp_path)
    sign_in(page, base, "buyer1")
    page.goto(f"{base}/portal/returns/{rid}")
    page.get_by_test_id("open-receipt").click()
    receipt = page.get_by_test_id("receipt")
    expect(receipt.get_by_test_id("receipt-items")).to_contain_text("× 1")
    expect(receipt.get_by_test_id("receipt-refused")).to_contain_text("Seal intact")

    # Printed: the site's header and the buttons go, the QR code stays large enough to scan.
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator(".no-print")).to_be_hidden()
    qr = page.get_by_test_id("receipt-qr")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 140  # type: ignore[index]  # 40 mm at 96 dpi ≈ 151 px
    (tmp_path / "receipt.pdf").write_bytes(page.pdf(format="A5"))
    shot(page, tmp_path, "receipt-print")

    # Scan it: decode the printed QR code's pixels, then open what it says.
    image = Image.open(io.BytesIO(qr.screenshot()))
    [found] = zxingcpp.read_barcodes(image)
    url = found.text
    assert url.startswith(f"{base}/receipt/verify?t=")
    assert url == receipt.get_by_test_id("verify-url").inner_text()

    visitor = page.context.browser.new_context(locale="en-US")  # type: ignore[union-attr]
    try:
        anyone = visitor.new_page()  # not signed in: whoever holds the paper
        anyone.goto(url)
        expect(anyone.get_by_test_id("genuine")).to_be_visible()
        expect(anyone.get_by_test_id("receipt-items")).to_contain_text("× 1")
        expect(anyone.get_by_test_id("waybill")).to_have_text(
            receipt.get_by_test_id("waybill").inner_text()
        )
        shot(anyone, tmp_path, "receipt-verified")
        token = url.split("t=", 1)[1]
        payload, mac = token.split(".")
        altered = payload[:-3] + ("x" if payload[-3] != "x" else "y") + payload[-2:]
        response = anyone.goto(f"{base}/receipt/verify?t={altered}.{mac}")
        assert response is not None and response.status == 422
        expect(anyone.get_by_test_id("not-genuine")).to_be_visible()
    finally:
        visitor.close()
