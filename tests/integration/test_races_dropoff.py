"""One drop-off code scanned at a station by many counters at once (issue 9 §8), on SQLite and
PostgreSQL: exactly one hand-over, one event, and the return in transit, read back in SQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text
from tests.integration.races import RACERS, race  # type: ignore[import-not-found]
from tests.integration.test_races_audit import (  # type: ignore[import-not-found]
    BUYER,
    _dropoff_return,
)

from doorstep.bootstrap import App
from doorstep.domain.errors import Conflict
from doorstep.services import self_send

STATION = "st-xh-01"


def test_one_code_redeemed_at_once_hands_the_parcel_over_once(wired: App) -> None:
    svc = wired.services
    rid = _dropoff_return(wired)
    ticket = self_send.issue_dropoff_code(svc, BUYER, rid, STATION).dropoff
    assert ticket is not None
    out = race([lambda: self_send.redeem_dropoff(svc, STATION, ticket.code) for _ in range(RACERS)])
    assert len(out.won) == 1 and out.won[0].return_id == rid, out.codes
    # Losers queue on the row lock and see the code used; PostgreSQL may instead report a
    # lost race (stale_write); race() fails on anything that is not a domain conflict.
    assert set(out.codes) <= {"dropoff_code_used", "stale_write"}, out.codes
    assert len(out.lost) == RACERS - 1
    with wired.engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT COUNT(*) FROM events WHERE aggregate_id = :r AND name = 'return.dropped_off'"
            ),
            {"r": rid},
        ).scalar_one()
        status, code = conn.execute(
            text("SELECT status, dropoff_code FROM returns WHERE return_id = :r"), {"r": rid}
        ).one()
        holders = conn.execute(
            text("SELECT COUNT(*) FROM returns WHERE dropoff_code = :c"), {"c": ticket.code}
        ).scalar_one()
        shared = conn.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT dropoff_code FROM returns "
                "WHERE dropoff_code IS NOT NULL GROUP BY dropoff_code HAVING COUNT(*) > 1) d"
            )
        ).scalar_one()
    assert events == 1
    assert (status, code) == ("in_transit", ticket.code)
    assert holders == 1 and shared == 0


def test_a_code_drawn_for_two_returns_at_once_is_refused_for_the_second(wired: App) -> None:
    svc = wired.services
    first, second = _dropoff_return(wired), _dropoff_return(wired)
    ticket = self_send.issue_dropoff_code(svc, BUYER, first, STATION).dropoff
    assert ticket is not None
    # As if both draws had checked the code free before either wrote it: the index decides.
    with pytest.raises(Conflict) as clash, svc.uow() as uow:
        other = uow.returns.get(second)
        assert other is not None
        other.issue_dropoff(replace(ticket), ticket.issued_at)
        uow.returns.save(other)
        uow.commit()
    assert clash.value.code == "dropoff_code_unavailable"
    with wired.engine.connect() as conn:
        holders = conn.execute(
            text("SELECT return_id FROM returns WHERE dropoff_code = :c"), {"c": ticket.code}
        ).all()
    assert [r.return_id for r in holders] == [first]
