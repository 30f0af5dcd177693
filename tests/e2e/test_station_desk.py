"""Station staff (issue 9 §8 follow-up): a station-staff account works for one station operator,
takes parcels at that operator's stations only (API and page; staff of a franchisee running
several pick the one they stand at), sees what it takes before it takes it, and is told every
refusal in plain words; the warehouse role keeps its API access to every station."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.e2e.test_page_bounds import signed_in  # type: ignore[import-not-found]

from doorstep.adapters.demo.places import YTO_OPERATOR_ID
from doorstep.bootstrap import App
from doorstep.domain.errors import NotFound
from doorstep.services import identity

Login = Callable[[str], dict[str, str]]


def _coded_return(
    client: TestClient, h: dict[str, str], station: str, line: str = "L1"
) -> tuple[str, str]:
    """buyer1's bonded serum (L1) or lipsticks (L2) to drop off at ``station``: (return, code)."""
    body = {
        "order_id": "TM2026000101",
        "lines": [{"order_line_id": line, "quantity": 1, "reason": "no_reason"}],
    }
    rid = client.post("/returns", headers=h, json=body).json()["return_id"]
    assert client.post(
        f"/returns/{rid}/self-send", headers=h, json={"method": "dropoff"}
    ).is_success
    code = client.post(f"/returns/{rid}/dropoff-code", headers=h, json={"station_id": station})
    assert code.status_code == 201, code.text
    return rid, code.json()["code"]


def _staff_of(wired: App, station_id: str, username: str) -> None:
    identity.add_user(
        wired.services, f"U-{username}", username, f"demo-{username}", "station", station_id
    )


def test_station_staff_take_parcels_at_their_own_station_only(
    client: TestClient, login: Login, wired: App
) -> None:
    buyer, own = login("buyer1"), login("station1")  # station1 works at st-xh-01
    _staff_of(wired, "st-xh-02", "station9")
    other = login("station9")
    rid, code = _coded_return(client, buyer, "st-xh-01")
    refused = client.post("/stations/st-xh-01/dropoffs", headers=other, json={"code": code})
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_station"
    assert refused.json()["message"]["zh"] and rid not in refused.text
    ok = client.post("/stations/st-xh-01/dropoffs", headers=own, json={"code": code})
    assert ok.status_code == 201 and ok.json()["return_id"] == rid
    # Intake staff keep taking parcels for any station through the API.
    _, second = _coded_return(client, buyer, "st-xh-02", line="L2")
    r = client.post(
        "/stations/st-xh-02/dropoffs", headers=login("warehouse1"), json={"code": second}
    )
    assert r.status_code == 201, r.text


def test_a_station_account_names_a_station_or_operator_that_exists(wired: App) -> None:
    with pytest.raises(NotFound):
        _staff_of(wired, "st-nowhere", "ghost")
    _staff_of(wired, YTO_OPERATOR_ID, "franchise2")  # runs two stations, is none itself


def test_an_operators_staff_take_parcels_at_each_of_its_stations(
    client: TestClient, login: Login
) -> None:
    buyer, staff = login("buyer1"), login("station2")  # op-yto-sh-west: st-cn-01, st-mh-01
    rid, code = _coded_return(client, buyer, "st-cn-01")
    _, xuhui = _coded_return(client, buyer, "st-xh-01", line="L2")
    refused = client.post("/stations/st-xh-01/dropoffs", headers=staff, json={"code": xuhui})
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_station"
    wrong = client.post("/stations/st-mh-01/dropoffs", headers=staff, json={"code": code})
    assert wrong.status_code == 409 and wrong.json()["code"] == "dropoff_wrong_station"
    ok = client.post("/stations/st-cn-01/dropoffs", headers=staff, json={"code": code})
    assert ok.status_code == 201 and ok.json()["return_id"] == rid


def test_the_desk_of_an_operator_picks_the_station(client: TestClient, login: Login) -> None:
    rid, code = _coded_return(client, login("buyer1"), "st-cn-01")
    post = signed_in(client, "station2")
    desk = client.get("/station")
    assert desk.status_code == 200 and 'data-testid="station-picker"' in desk.text
    assert "圆通驿站（长宁路）" in desk.text and "圆通驿站（莘松路）" in desk.text
    picked = client.get("/station", params={"station": "st-mh-01"})
    assert picked.status_code == 200 and 'value="st-mh-01" selected' in picked.text
    wrong = client.get("/station", params={"station": "st-mh-01", "code": code})
    assert wrong.status_code == 409 and "该寄件码不适用于本驿站" in wrong.text
    shown = client.get("/station", params={"station": "st-cn-01", "code": code})
    assert shown.status_code == 200 and rid in shown.text
    assert 'name="station" value="st-cn-01"' in shown.text
    taken = post("/station/dropoffs", code=code, station="st-cn-01")
    assert taken.status_code == 200 and "已收件" in taken.text
    for elsewhere in ("st-xh-01", "st-none"):
        r = client.get("/station", params={"station": elsewhere})
        assert r.status_code == 403 and "您不是本驿站的工作人员" in r.text
    assert client.get("/station", params={"station": "s" * 65}).status_code == 422
    # One-station staff see no picker.
    signed_in(client, "station1")
    assert 'data-testid="station-picker"' not in client.get("/station").text


def test_the_desk_shows_the_parcel_then_takes_it_once(client: TestClient, login: Login) -> None:
    rid, code = _coded_return(client, login("buyer1"), "st-xh-01")
    post = signed_in(client, "station1")
    home = client.get("/login", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"].endswith("/station")
    desk = client.get("/station")
    assert desk.status_code == 200 and "顺丰驿站（漕溪北路）" in desk.text
    shown = client.get("/station", params={"code": f" {code} "})  # a scanner's spaces
    assert shown.status_code == 200 and rid in shown.text
    assert 'data-testid="parcels">1<' in shown.text and "× 1" in shown.text
    taken = post("/station/dropoffs", code=f"DOORSTEP-DROPOFF:st-xh-01:{code}")
    assert taken.status_code == 200 and "已收件" in taken.text and rid in taken.text
    again = post("/station/dropoffs", code=code)
    assert again.status_code == 409 and "该寄件码已使用或已失效" in again.text
    english = client.get("/station", params={"code": code, "lang": "en"})
    assert english.status_code == 409 and "already been used" in english.text


def test_the_desk_refuses_in_plain_words(client: TestClient, login: Login, wired: App) -> None:
    _, elsewhere = _coded_return(client, login("buyer1"), "st-xh-02")
    signed_in(client, "station1")
    cases = {
        "abc": (422, "请扫描买家的二维码或输入数字"),
        "１２３４５６７８": (422, "请扫描买家的二维码或输入数字"),
        elsewhere: (409, "该寄件码不适用于本驿站"),
        f"DOORSTEP-DROPOFF:st-xh-02:{elsewhere}": (409, "该寄件码不适用于本驿站"),
        ("00000000" if elsewhere != "00000000" else "11111111"): (404, "未找到"),
    }
    for typed, (status, words) in cases.items():
        r = client.get("/station", params={"code": typed})
        assert r.status_code == status and words in r.text, (typed, r.status_code)
    assert client.get("/station", params={"code": "9" * 121}).status_code == 422
    signed_in(client, "buyer1")
    assert client.get("/station", follow_redirects=False).status_code in (303, 403)
