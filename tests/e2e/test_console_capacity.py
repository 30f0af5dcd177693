"""Ops edit capacity from the console: a template's capacity per window and holiday share,
an area's override, the template a courier company runs; and read the companies over the
API. Each edit moves the counters of windows not started, as the API's PUT does, and says so;
bad input is refused in both languages with nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]
from tests.integration.test_races import (  # type: ignore[import-not-found]
    BUYER,
    DAY_AFTER,
    _approved,
)
from tests.integration.test_races_gaps import _counter  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD
from doorstep.services import catalog, pickup
from doorstep.services.offering import template_for

Login = Callable[[str], dict[str, str]]


def _post(page: TestClient, url: str, **form: str) -> object:
    return page.post(url, data={**form, CSRF_FIELD: page.cookies[CSRF_COOKIE]})


def _yto_template(app: App) -> str:
    with app.services.uow() as uow:
        area = uow.areas.get("310104")
        assert area is not None
        template = template_for(uow, area, "yto")
    assert template is not None
    return template.template_id


def _template_events(app: App) -> int:
    with app.engine.begin() as conn:
        return int(
            conn.execute(
                text("SELECT COUNT(*) FROM events WHERE name = 'slot_template.saved'")
            ).scalar_one()
        )


def _book(app: App, *hours: int) -> None:
    for hour, rid in zip(hours, _approved(app, len(hours)), strict=True):
        pickup.book_pickup(
            app.services, BUYER, rid, pickup.SlotChoice("yto", DAY_AFTER, time(hour))
        )


def test_a_template_edit_from_the_console_moves_the_counted_windows(
    client: TestClient, login: Login, wired: App
) -> None:
    """Lowering YTO's template to one visit per window leaves 09:00 (three booked) over by
    two; the page says one window moved and one is over, the windows and their over-capacity list
    agree; the template keeps its windows."""
    _book(wired, 9, 9, 9)
    template_id = _yto_template(wired)
    before = next(t for t in catalog.list_templates(wired.services) if t.template_id == template_id)
    events_before = _template_events(wired)
    page = signed_in(client, "ops1")
    html = page.get("/console/areas", params={"lang": "en"}).text
    assert f'action="/console/templates/{template_id}"' in html
    saved = _post(
        page, f"/console/templates/{template_id}", capacity="1", holiday_capacity_pct="40"
    )
    assert saved.status_code == 303, saved.text  # type: ignore[attr-defined]
    assert saved.headers["location"] == "/console/areas?moved=1&over=1"  # type: ignore[attr-defined]
    for lang, notice in (
        ("en", "Saved. Windows whose capacity moved: 1; over capacity: 1."),
        ("zh_CN", "已保存。容量已调整的时段：1；超出容量的时段：1。"),
    ):
        shown = page.get(f"/console/areas?moved=1&over=1&lang={lang}").text
        assert notice in shown, shown
    after = next(t for t in catalog.list_templates(wired.services) if t.template_id == template_id)
    assert (after.capacity, after.holiday_capacity_pct, after.windows) == (1, 40, before.windows)
    assert _counter(wired, "09:00") == (1, 3)
    listed = client.get("/ops/windows/over-capacity", headers=login("ops1")).json()
    assert [(w["start"], w["over"]) for w in listed] == [("09:00", 2)]
    assert _template_events(wired) == events_before + 1


def test_an_area_override_is_set_and_cleared_from_the_console(
    wired: App, client: TestClient
) -> None:
    _book(wired, 11)
    template_id = _yto_template(wired)
    nominal = next(
        t.capacity for t in catalog.list_templates(wired.services) if t.template_id == template_id
    )
    page = signed_in(client, "ops1")
    set_ = _post(page, "/console/areas/310104/capacity", capacity_override="3")
    assert set_.headers["location"] == "/console/areas?moved=1&over=0"  # type: ignore[attr-defined]
    area = next(a for a in catalog.list_areas(wired.services) if a.adcode == "310104")
    assert area.capacity_override == 3 and _counter(wired, "11:00") == (3, 1)
    cleared = _post(page, "/console/areas/310104/capacity", capacity_override=" ")
    assert cleared.status_code == 303, cleared.text  # type: ignore[attr-defined]
    area = next(a for a in catalog.list_areas(wired.services) if a.adcode == "310104")
    assert area.capacity_override is None and _counter(wired, "11:00") == (nominal, 1)


def test_a_company_switched_to_another_template_from_the_console(
    wired: App, client: TestClient, login: Login
) -> None:
    listed = client.get("/ops/carriers", headers=login("ops1"))
    assert listed.status_code == 200, listed.text
    yto = next(c for c in listed.json() if c["carrier_id"] == "yto")
    other = next(
        t.template_id
        for t in catalog.list_templates(wired.services)
        if t.template_id != yto["template_id"]
    )
    assert client.get("/ops/carriers", headers=login("buyer1")).status_code == 403
    page = signed_in(client, "ops1")
    switched = _post(page, "/console/carriers/yto", template_id=other)
    assert switched.status_code == 303, switched.text  # type: ignore[attr-defined]
    again = next(
        c
        for c in client.get("/ops/carriers", headers=login("ops1")).json()
        if c["carrier_id"] == "yto"
    )
    # Only the template changed: names, prefix and fleet kept.
    assert again == {**yto, "template_id": other}


@pytest.mark.parametrize(
    ("url", "form", "code_en", "status"),
    [
        (
            "/console/templates/{t}",
            {"capacity": "abc", "holiday_capacity_pct": "50"},
            "whole number",
            422,
        ),
        (
            "/console/templates/{t}",
            {"capacity": "١٢", "holiday_capacity_pct": "50"},
            "whole number",
            422,
        ),
        (
            "/console/templates/{t}",
            {"capacity": "10001", "holiday_capacity_pct": "50"},
            "between 0 and 10000",
            422,
        ),
        (
            "/console/templates/{t}",
            {"capacity": "-1", "holiday_capacity_pct": "50"},
            "between 0 and 10000",
            422,
        ),
        (
            "/console/templates/{t}",
            {"capacity": "5", "holiday_capacity_pct": "101"},
            "between 0 and 100",
            422,
        ),
        (
            "/console/templates/no-such",
            {"capacity": "5", "holiday_capacity_pct": "50"},
            "was not found",
            404,
        ),
        ("/console/areas/310104/capacity", {"capacity_override": "1e3"}, "whole number", 422),
        ("/console/areas/110101/capacity", {"capacity_override": "3"}, "was not found", 404),
        ("/console/carriers/yto", {"template_id": "no-such"}, "was not found", 404),
        ("/console/carriers/nobody", {"template_id": "generic-2h"}, "was not found", 404),
    ],
)
def test_bad_edits_are_refused_in_both_languages_and_change_nothing(
    wired: App, client: TestClient, url: str, form: dict[str, str], code_en: str, status: int
) -> None:
    template_id = _yto_template(wired)
    url = url.format(t=template_id)
    before = (
        catalog.list_templates(wired.services),
        catalog.list_areas(wired.services),
        catalog.list_carriers(wired.services),
    )
    page = signed_in(client, "ops1")
    answer = page.post(f"{url}?lang=en", data={**form, CSRF_FIELD: page.cookies[CSRF_COOKIE]})
    assert answer.status_code == status, answer.text
    assert code_en in answer.text and 'role="alert"' in answer.text, answer.text
    zh = page.post(f"{url}?lang=zh_CN", data={**form, CSRF_FIELD: page.cookies[CSRF_COOKIE]})
    assert zh.status_code == status and (
        "未找到" in zh.text or "请输入整数" in zh.text or "必须在" in zh.text
    ), zh.text
    after = (
        catalog.list_templates(wired.services),
        catalog.list_areas(wired.services),
        catalog.list_carriers(wired.services),
    )
    assert after == before


def test_only_ops_with_the_form_token_edit(wired: App, client: TestClient) -> None:
    template_id = _yto_template(wired)
    form = {"capacity": "1", "holiday_capacity_pct": "50"}
    buyer = signed_in(client, "buyer1")
    assert _post(buyer, f"/console/templates/{template_id}", **form).status_code == 403  # type: ignore[attr-defined]
    page = signed_in(client, "ops1")
    no_token = page.post(f"/console/templates/{template_id}", data=form)
    assert no_token.status_code == 403
    too_long = page.post(
        f"/console/templates/{'x' * 65}",
        data={**form, CSRF_FIELD: page.cookies[CSRF_COOKIE]},
    )
    assert too_long.status_code == 422
    assert all(t.capacity != 1 for t in catalog.list_templates(wired.services))
