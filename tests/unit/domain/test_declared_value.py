"""The declared value (保价) of a pickup order per return, and the transit-damage charge it
caps: the company owes at most the return's part, the rest is doorstep's loss; the own fleet
and undeclared parcels keep the flat cap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from doorstep.domain.carrier_order import (
    Cargo,
    Party,
    PickupOrder,
    UnifiedOrder,
    insured_parts,
)
from doorstep.domain.claim import (
    Claim,
    ClaimKind,
    ClaimLine,
    ClaimRules,
    Liability,
    at_line_prices,
    compensation_fen,
)
from doorstep.domain.fleet import Carrier

T = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
RULES = ClaimRules(carrier_cap_fen=20_000)
LINES = (ClaimLine("L1", "SKU", 1, 39_900),)
PAID = at_line_prices(LINES)
HOME = Party("王浩然", "13800001003", "上海市", "上海市", "奉贤区", "南桥镇88号", "310120")


def test_without_a_maximum_each_return_declares_its_worth() -> None:
    assert insured_parts({"R1": 29_900, "R2": 12_345}, None) == {"R1": 29_900, "R2": 12_345}
    assert insured_parts({"R1": 29_900, "R2": 12_345}, 42_245) == {"R1": 29_900, "R2": 12_345}
    assert insured_parts({"R1": 0}, 1_000) == {"R1": 0}


@pytest.mark.parametrize(
    ("worth", "cap", "parts"),
    [
        ({"R1": 39_900, "R2": 20_000}, 50_000, {"R1": 33_306, "R2": 16_694}),
        ({"R1": 39_900}, 30_000, {"R1": 30_000}),
        # Equal remainders: the fen left goes to the smaller return id, whatever the order.
        ({"R2": 1, "R1": 1, "R3": 1}, 2, {"R1": 1, "R2": 1, "R3": 0}),
        ({"R1": 10_000, "R2": 0}, 1, {"R1": 1, "R2": 0}),
    ],
)
def test_above_the_maximum_the_parts_share_it_and_add_up_to_it(
    worth: dict[str, int], cap: int, parts: dict[str, int]
) -> None:
    assert insured_parts(worth, cap) == parts
    assert sum(parts.values()) == cap
    assert all(parts[r] <= worth[r] for r in worth)


def test_a_negative_worth_or_maximum_is_refused() -> None:
    with pytest.raises(ValueError):
        insured_parts({"R1": -1}, None)
    with pytest.raises(ValueError):
        Carrier("sbx", "沙箱", "Sandbox", "SBX", "generic-2h", False, max_insured_fen=0)


def _order(insured: int) -> UnifiedOrder:
    return UnifiedOrder(
        "A-1-1", "sbx", "return_pickup", HOME, HOME, Cargo("枕", 1, 1_500, insured),
        date(2026, 11, 26), time(13), time(15), "http://cb",
    )  # fmt: skip


def test_the_order_keeps_the_parts_of_what_it_declares() -> None:
    po = PickupOrder.intend(_order(50_000), "A-1", ["R1", "R2"], T, {"R1": 33_306, "R2": 16_694})
    assert po.insured_part("R1") == 33_306 and po.insured_part("R3") is None
    [intended] = po.take_events()
    assert intended.data["insured_value_fen"] == 50_000
    with pytest.raises(ValueError):
        PickupOrder.intend(_order(50_000), "A-1", ["R1"], T, {"R1": 40_000})
    # Placed before values were declared: no part for any return.
    assert PickupOrder.intend(_order(39_900), "A-1", ["R1"], T).insured_part("R1") is None


def test_the_charge_is_the_loss_up_to_the_declared_value_else_the_cap() -> None:
    transit = ClaimKind.TRANSIT_DAMAGE
    assert compensation_fen(transit, 39_900, RULES, 30_000) == 30_000
    assert compensation_fen(transit, 29_900, RULES, 30_000) == 29_900
    assert compensation_fen(transit, 39_900, RULES, 0) == 0
    # Declared above the flat cap: the declaration, not the cap, is the limit.
    assert compensation_fen(transit, 39_900, RULES, 35_000) == 35_000
    assert compensation_fen(transit, 39_900, RULES) == 20_000
    with pytest.raises(ValueError):
        compensation_fen(transit, 39_900, RULES, -1)


def _transit(claim_id: str, *, own_fleet: bool, insured: int | None) -> Claim:
    return Claim.file(
        claim_id, ClaimKind.TRANSIT_DAMAGE, "O1", "b1", LINES, (), T, RULES, paid=PAID,
        return_id=claim_id, carrier_id="own" if own_fleet else "sbx", own_fleet=own_fleet,
        insured_fen=insured,
    )  # fmt: skip


def test_the_company_owes_its_part_and_doorstep_keeps_the_rest() -> None:
    claim = _transit("R1", own_fleet=False, insured=30_000)
    assert claim.liability is Liability.CARRIER
    assert (claim.compensation_fen, claim.insured_fen, claim.uninsured_fen) == (
        30_000,
        30_000,
        9_900,
    )
    [filed] = claim.take_events()
    assert (filed.data["goods_fen"], filed.data["compensation_fen"]) == (39_900, 30_000)
    assert (filed.data["insured_fen"], filed.data["uninsured_fen"]) == (30_000, 9_900)
    undeclared = _transit("R2", own_fleet=False, insured=None)
    assert (undeclared.compensation_fen, undeclared.uninsured_fen) == (20_000, 19_900)


def test_the_own_fleet_is_charged_as_before_whatever_is_declared() -> None:
    own = _transit("R3", own_fleet=True, insured=1_000)
    assert own.liability is Liability.OWN_FLEET
    assert (own.compensation_fen, own.insured_fen, own.uninsured_fen) == (20_000, None, 0)
    [filed] = own.take_events()
    assert "insured_fen" not in filed.data
