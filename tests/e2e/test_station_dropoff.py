"""A station takes a parcel by its drop-off code over HTTP (issue 9 §8): once, at the station
the code names, and a code nobody issued says nothing about other returns."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Login = Callable[[str], dict[str, str]]
BONDED_ORDER = "TM2026000101"  # buyer1: serum + 2 lipsticks, bonded, released 3 days ago


def _coded_return(client: TestClient, h: dict[str, str], station: str) -> tuple[str, str]:
    r = client.post(
        "/returns",
        headers=h,
        json={
            "order_id": BONDED_ORDER,
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
        },
    )
    assert r.status_code == 201, r.text
    rid = r.json()["return_id"]
    chosen = client.post(f"/returns/{rid}/self-send", headers=h, json={"method": "dropoff"})
    assert chosen.status_code == 200, chosen.text
    code = client.post(f"/returns/{rid}/dropoff-code", headers=h, json={"station_id": station})
    assert code.status_code == 201, code.text
    return rid, code.json()["code"]


def test_station_redeems_a_code_once_and_only_where_it_was_issued(
    client: TestClient, login: Login
) -> None:
    buyer, station = login("buyer1"), login("warehouse1")
    rid, code = _coded_return(client, buyer, "st-xh-01")

    wrong = client.post("/stations/st-xh-02/dropoffs", headers=station, json={"code": code})
    assert wrong.status_code == 409 and wrong.json()["code"] == "dropoff_wrong_station"
    assert wrong.json()["message"]["zh"] and wrong.json()["message"]["en"]

    unknown = "00000000" if code != "00000000" else "11111111"
    missing = client.post("/stations/st-xh-01/dropoffs", headers=station, json={"code": unknown})
    assert missing.status_code == 404 and missing.json()["code"] == "dropoff_code_not_found"
    assert rid not in missing.text

    ok = client.post("/stations/st-xh-01/dropoffs", headers=station, json={"code": code})
    assert ok.status_code == 201, ok.text
    assert ok.json() == {"return_id": rid, "station_id": "st-xh-01", "status": "in_transit"}
    seen = client.get(f"/returns/{rid}", headers=buyer).json()
    assert seen["status"] == "in_transit"

    again = client.post("/stations/st-xh-01/dropoffs", headers=station, json={"code": code})
    assert again.status_code == 409 and again.json()["code"] == "dropoff_code_used"


def test_redeeming_refuses_bad_input_and_other_roles(client: TestClient, login: Login) -> None:
    buyer, station = login("buyer1"), login("warehouse1")
    _, code = _coded_return(client, buyer, "st-xh-01")
    for body in ({"code": "1234"}, {"code": "１２３４５６７８"}, {"code": "x" * 10_000}, {}):
        r = client.post("/stations/st-xh-01/dropoffs", headers=station, json=body)
        assert r.status_code == 422, (body, r.text)
    assert (
        client.post("/stations/st-xh-01/dropoffs", headers=buyer, json={"code": code}).status_code
        == 403
    )
    nowhere = client.post("/stations/st-none/dropoffs", headers=station, json={"code": code})
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "station_not_found"
