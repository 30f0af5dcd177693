"""The station desk over the fakes: what a scan reads as, who may work at a station, the
preview with the hand-over's own refusals, and one hand-over per code."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import B3, approved  # type: ignore[import-not-found]

from doorstep.adapters.demo.places import YTO_OPERATOR_ID
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from doorstep.domain.identity import Actor, Role
from doorstep.domain.returns import ReturnStatus
from doorstep.services import returns, self_send, stations

HERE = "st-xh-01"
# Runs st-mh-01 and st-cn-01 (adapters/demo/places.py).
FRANCHISEE = YTO_OPERATOR_ID


def _coded(world: World, station_id: str = HERE) -> tuple[str, str]:
    r = approved(world)
    returns.choose_self_send(world.svc, B3, r.return_id, ReturnMethod.DROPOFF)
    ticket = self_send.issue_dropoff_code(world.svc, B3, r.return_id, station_id).dropoff
    assert ticket is not None
    return r.return_id, ticket.code


@pytest.mark.parametrize(
    ("scanned", "read"),
    [
        ("12345678", "12345678"),
        (" 12345678\n", "12345678"),
        (f"DOORSTEP-DROPOFF:{HERE}:87654321", "87654321"),
    ],
)
def test_a_scan_reads_as_the_code(scanned: str, read: str) -> None:
    assert stations.read_code(scanned, HERE) == read


@pytest.mark.parametrize(
    "scanned", ["", "1234567", "１２３４５６７８", "R-1", "DOORSTEP-DROPOFF:x:1"]
)
def test_anything_else_is_refused_in_words(scanned: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        stations.read_code(scanned, HERE)
    assert refused.value.code == "dropoff_code_format" and refused.value.message_zh


def test_a_qr_of_another_station_is_refused_before_any_lookup() -> None:
    with pytest.raises(Conflict) as refused:
        stations.read_code("DOORSTEP-DROPOFF:st-xh-02:12345678", HERE)
    assert refused.value.code == "dropoff_wrong_station"


def test_staff_work_at_their_own_station_intake_staff_anywhere(world: World) -> None:
    assert stations.staff_operator(Actor("U1", Role.STATION, HERE)) == HERE
    assert stations.staff_operator(Actor("U2", Role.WAREHOUSE, "wh-sh-bonded")) is None
    _, code = _coded(world)
    with pytest.raises(Forbidden) as elsewhere:
        stations.preview_dropoff(world.svc, "st-xh-02", HERE, code)
    assert elsewhere.value.code == "not_your_station"
    with pytest.raises(NotFound):
        stations.station_for(world.svc, None, "st-none")
    assert stations.station_for(world.svc, None, HERE).station_id == HERE


def test_the_desk_shows_the_parcel_then_takes_it_once(world: World) -> None:
    rid, code = _coded(world)
    shown = stations.preview_dropoff(world.svc, HERE, HERE, code)
    assert (shown.return_id, shown.parcels, shown.units) == (rid, 1, 1)
    assert world.store.item("returns", rid).status is ReturnStatus.AWAITING_DROPOFF  # read only
    taken = stations.take_dropoff(world.svc, HERE, HERE, code)
    assert taken.status is ReturnStatus.IN_TRANSIT
    with pytest.raises(Conflict) as used:
        stations.preview_dropoff(world.svc, HERE, HERE, code)
    assert used.value.code == "dropoff_code_used"
    with pytest.raises(Conflict):
        stations.take_dropoff(world.svc, HERE, HERE, code)
    assert world.store.event_names(rid).count("return.dropped_off") == 1


def test_an_operators_staff_work_at_each_of_its_stations_and_nowhere_else(world: World) -> None:
    run = stations.stations_run_by(world.svc, FRANCHISEE)
    assert [s.station_id for s in run] == ["st-cn-01", "st-mh-01"]
    assert [s.station_id for s in stations.stations_run_by(world.svc, HERE)] == [HERE]
    for station_id in ("st-cn-01", "st-mh-01"):
        assert stations.station_for(world.svc, FRANCHISEE, station_id).station_id == station_id
    # Another operator's station and a station that does not exist read the same to staff.
    for elsewhere in (HERE, "st-none"):
        with pytest.raises(Forbidden) as refused:
            stations.station_for(world.svc, FRANCHISEE, elsewhere)
        assert refused.value.code == "not_your_station"
    with pytest.raises(Forbidden):
        stations.station_for(world.svc, HERE, "st-cn-01")


def test_a_code_is_taken_at_its_own_station_even_by_staff_of_both(world: World) -> None:
    rid, code = _coded(world, "st-cn-01")
    with pytest.raises(Conflict) as refused:
        stations.take_dropoff(world.svc, FRANCHISEE, "st-mh-01", code)
    assert refused.value.code == "dropoff_wrong_station"
    taken = stations.take_dropoff(world.svc, FRANCHISEE, "st-cn-01", code)
    assert taken.status is ReturnStatus.IN_TRANSIT
    assert world.store.event_names(rid).count("return.dropped_off") == 1
