"""The station desk's pages for the statement-count test (tests/e2e/test_statements.py): the
desk with a code looked up, and a parcel taken, each with a fresh drop-off code of station1's
station so a grown world runs them again."""

from __future__ import annotations

from typing import Any

from doorstep.adapters.demo.data import STATION1_ID
from doorstep.services import self_send


def station_calls(w: Any, page: Any, buyer: str) -> list[Any]:
    """``page`` builds test_statements' page calls; ``buyer`` drops the parcels off."""
    svc = w.app.services

    def fresh_code() -> str:
        return_id = w.dropped_off(buyer)
        issued = self_send.issue_dropoff_code(svc, w.actor(buyer), return_id, STATION1_ID)
        assert issued.dropoff is not None
        return issued.dropoff.code

    shown, taken = fresh_code(), fresh_code()
    return [
        page("/station", "station1", "/station", params={"code": shown}),
        page("/station/dropoffs", "station1", "/station/dropoffs", {"code": taken}),
    ]
