"""The document codec: real aggregates round-trip, old documents load, versions upgrade."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from doorstep.adapters.db import codec
from doorstep.adapters.db.codec import VERSION_KEY, from_doc, to_doc, to_plain
from doorstep.domain.decision import Decision, Outcome
from doorstep.domain.order import Order
from doorstep.domain.pickup import Appointment
from doorstep.domain.policy import Policy
from doorstep.domain.returns import ReturnRequest, ReturnStatus

# Documents the hand-written codec stored before msgspec and versions: no ``_v``, UTC times
# written as ``+00:00``, a three-line return with its audit decision and booked visit.
LEGACY = json.loads((Path(__file__).parents[2] / "data" / "legacy_documents.json").read_text())
TYPES: dict[str, type] = {
    "ReturnRequest": ReturnRequest,
    "Appointment": Appointment,
    "Order": Order,
    "Policy": Policy,
}
AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _times(value: Any) -> Any:
    """Parse ISO date-times so '+00:00' and 'Z' compare equal; everything else as it is."""
    if isinstance(value, dict):
        return {k: _times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_times(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        return datetime.fromisoformat(value)
    return value


@pytest.mark.parametrize("name", sorted(TYPES))
def test_legacy_document_loads_and_keeps_its_shape(name: str) -> None:
    loaded = from_doc(TYPES[name], LEGACY[name])
    doc = json.loads(json.dumps(to_doc(loaded)))
    assert doc.pop(VERSION_KEY) == 1
    assert _times(doc) == _times(LEGACY[name])
    assert from_doc(TYPES[name], to_doc(loaded)) == loaded


def test_return_keeps_nested_types_and_records_events_after_loading() -> None:
    request = from_doc(ReturnRequest, LEGACY["ReturnRequest"])
    assert isinstance(request.decision, Decision)
    assert request.decision.outcome is Outcome.APPROVE
    assert isinstance(request.decision.findings, tuple) and request.decision.findings
    assert len(request.lines) == 3
    assert request.created_at.tzinfo is not None
    assert request.take_events() == []
    request.cancel(AT, "changed_my_mind")
    assert request.status is ReturnStatus.CANCELLED
    assert [e.name for e in request.take_events()] == ["return.cancelled"]


def test_loading_runs_the_domain_checks() -> None:
    broken = {**LEGACY["Order"], "lines": []}
    with pytest.raises(msgspec.ValidationError, match="at least one line"):
        from_doc(Order, broken)


def test_plain_values_carry_no_version() -> None:
    policy = from_doc(Policy, LEGACY["Policy"])
    assert VERSION_KEY not in to_plain(policy)
    assert to_doc(policy)[VERSION_KEY] == 1
    assert to_plain({"when": AT, "ids": ("a", "b")}) == {
        "when": "2026-11-25T03:00:00Z",
        "ids": ["a", "b"],
    }


@dataclass(frozen=True)
class Parcel:
    """A stand-in aggregate whose stored shape changed twice."""

    parcel_id: str
    weight_g: int
    fragile: bool = False


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    # Version 1 stored kilograms under "weight".
    out = {k: v for k, v in doc.items() if k != "weight"}
    return {**out, "weight_g": round(doc["weight"] * 1000)}


def _v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
    # Version 2 kept handling flags in a list.
    out = {k: v for k, v in doc.items() if k != "flags"}
    return {**out, "fragile": "fragile" in doc.get("flags", [])}


@pytest.fixture
def parcel_upgrades(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(codec.UPGRADES, Parcel, (_v1_to_v2, _v2_to_v3))


@pytest.mark.usefixtures("parcel_upgrades")
def test_old_versions_upgrade_on_read() -> None:
    expected = Parcel("P1", 1500, fragile=True)
    assert from_doc(Parcel, {"parcel_id": "P1", "weight": 1.5, "flags": ["fragile"]}) == expected
    v2 = {VERSION_KEY: 2, "parcel_id": "P1", "weight_g": 1500, "flags": ["fragile"]}
    assert from_doc(Parcel, v2) == expected
    assert to_doc(expected) == {
        VERSION_KEY: 3,
        "parcel_id": "P1",
        "weight_g": 1500,
        "fragile": True,
    }
    assert from_doc(Parcel, to_doc(expected)) == expected


@pytest.mark.usefixtures("parcel_upgrades")
@pytest.mark.parametrize("version", [4, 0, "2"])
def test_unknown_versions_are_refused(version: object) -> None:
    with pytest.raises(ValueError, match="document version"):
        from_doc(Parcel, {VERSION_KEY: version, "parcel_id": "P1", "weight_g": 1})


def test_upgrade_leaves_the_stored_document_alone(parcel_upgrades: None) -> None:
    stored = {VERSION_KEY: 1, "parcel_id": "P1", "weight": 2.0}
    from_doc(Parcel, stored)
    assert stored == {VERSION_KEY: 1, "parcel_id": "P1", "weight": 2.0}
    assert replace(from_doc(Parcel, stored), fragile=True).weight_g == 2000
