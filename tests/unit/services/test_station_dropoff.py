"""A station redeems a drop-off code (issue 9 §8): the hand-over, its event, and each refusal."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import B3, approved  # type: ignore[import-not-found]

from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.returns import ReturnStatus
from doorstep.services import returns, self_send


def _coded(world: World, station: str = "st-xh-01") -> tuple[str, str]:
    r = approved(world)
    returns.choose_self_send(world.svc, B3, r.return_id, ReturnMethod.DROPOFF)
    ticket = self_send.issue_dropoff_code(world.svc, B3, r.return_id, station).dropoff
    assert ticket is not None
    return r.return_id, ticket.code


def test_redeeming_hands_the_parcel_over_once(world: World) -> None:
    rid, code = _coded(world)
    taken = self_send.redeem_dropoff(world.svc, "st-xh-01", code)
    assert (taken.return_id, taken.status) == (rid, ReturnStatus.IN_TRANSIT)
    assert world.store.event_names(rid)[-1] == "return.dropped_off"
    with pytest.raises(Conflict) as again:
        self_send.redeem_dropoff(world.svc, "st-xh-01", code)
    assert again.value.code == "dropoff_code_used"
    assert world.store.event_names(rid).count("return.dropped_off") == 1


def test_wrong_station_unknown_code_and_unknown_station_are_refused(world: World) -> None:
    rid, code = _coded(world)
    with pytest.raises(Conflict) as wrong:
        self_send.redeem_dropoff(world.svc, "st-xh-02", code)
    assert wrong.value.code == "dropoff_wrong_station"
    other = "00000000" if code != "00000000" else "11111111"
    with pytest.raises(NotFound) as unknown:
        self_send.redeem_dropoff(world.svc, "st-xh-01", other)
    assert unknown.value.code == "dropoff_code_not_found" and rid not in str(unknown.value.details)
    with pytest.raises(NotFound) as nowhere:
        self_send.redeem_dropoff(world.svc, "st-none", code)
    assert nowhere.value.code == "station_not_found"
    assert world.store.item("returns", rid).status is ReturnStatus.AWAITING_DROPOFF


def test_an_expired_code_is_refused_and_a_replaced_code_is_unknown(world: World) -> None:
    rid, first = _coded(world)
    again = self_send.issue_dropoff_code(world.svc, B3, rid, "st-xh-01").dropoff
    assert again is not None
    second = again.code
    if second != first:  # a new code replaces the old one, which then names no return
        with pytest.raises(NotFound):
            self_send.redeem_dropoff(world.svc, "st-xh-01", first)
    world.clock.advance(days=3)
    with pytest.raises(Conflict) as late:
        self_send.redeem_dropoff(world.svc, "st-xh-01", second)
    assert late.value.code == "dropoff_code_expired"


def test_a_drawn_code_that_is_taken_is_drawn_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, taken = _coded(world)
    draws = iter([int(taken), int(taken), 42])
    monkeypatch.setattr(self_send.secrets, "randbelow", lambda _n: next(draws))
    rid = approved(world).return_id
    returns.choose_self_send(world.svc, B3, rid, ReturnMethod.DROPOFF)
    ticket = self_send.issue_dropoff_code(world.svc, B3, rid, "st-xh-01").dropoff
    assert ticket is not None and ticket.code == "00000042"
    monkeypatch.setattr(self_send.secrets, "randbelow", lambda _n: int(taken))
    other = approved(world).return_id
    returns.choose_self_send(world.svc, B3, other, ReturnMethod.DROPOFF)
    with pytest.raises(Conflict) as none_free:
        self_send.issue_dropoff_code(world.svc, B3, other, "st-xh-01")
    assert none_free.value.code == "dropoff_code_unavailable"
