"""Route documents: stored as columns of numbers and read back unchanged."""

from __future__ import annotations

from datetime import date

import pytest

from doorstep.adapters.db.routes import decode_route, encode_route
from doorstep.domain.route import CourierRoute, RouteStop, StopState


def test_a_route_survives_the_round_trip() -> None:
    stops = [
        RouteStop("A-1", 30.74, 121.34, 32400, 39600, 345, 800, 6000, 420),
        RouteStop("A-2", 30.75, 121.35, 39600, 46800, 390, 0, 0, 180, StopState.DONE, 41000),
        RouteStop("A-3", 30.76, 121.33, 46800, 54000, 345, 1, 1, 95, StopState.IN_PROGRESS),
    ]
    route = CourierRoute("courier-yto-03", "yto", date(2026, 11, 26), stops, 1234)
    doc = encode_route(route)
    assert doc["v"] == 1 and doc["id"] == ["A-1", "A-2", "A-3"]
    back = decode_route("courier-yto-03", "yto", date(2026, 11, 26), doc)
    assert back.stops == stops and back.return_leg_s == 1234


def test_an_empty_document_is_an_empty_route() -> None:
    route = decode_route("c", "yto", date(2026, 11, 26), {"v": 1, "return_leg_s": 0})
    assert route.stops == []


def test_an_unknown_document_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        decode_route("c", "yto", date(2026, 11, 26), {"v": 99})
