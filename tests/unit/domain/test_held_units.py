"""Units under after-sales: returns and buyers' claims count together, each unit once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from doorstep.domain.address import Address
from doorstep.domain.claim import (
    Claim,
    ClaimEvidence,
    ClaimKind,
    ClaimLine,
    ClaimRules,
    at_line_prices,
)
from doorstep.domain.claim import ClaimStatus as C
from doorstep.domain.errors import Conflict, InvalidInput
from doorstep.domain.held_units import check_units_free, claim_holds_units, units_held
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind, ReturnLine, ReturnRequest
from doorstep.domain.returns import ReturnStatus as S

T = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路 1 号", "张三", "13800138000")
ORDER = Order(
    "O1",
    "B1",
    "S1",
    Channel.DOMESTIC,
    T,
    HOME,
    (OrderLine("L1", "P1", 2, 10_000), OrderLine("L2", "P1", 1, 10_000)),
)


def _return(status: S, line_id: str = "L1", quantity: int = 1, rid: str = "R1") -> ReturnRequest:
    r = ReturnRequest.open(
        rid, "B1", "O1", ReturnKind.REFUND, [ReturnLine(line_id, "P1", quantity, Reason.QUALITY)], T
    )
    r.status = status
    return r


def _claim(kind: ClaimKind, status: C, *lines: tuple[str, int]) -> Claim:
    claimed = tuple(ClaimLine(line_id, "P1", n, n * 10_000) for line_id, n in lines)
    claim = Claim.file(
        "C1", kind, "O1", "B1", claimed, (ClaimEvidence("buyer", T, "crushed", ("P1",)),), T,
        ClaimRules(), paid=at_line_prices(claimed), return_id="R9",
    )  # fmt: skip
    claim.status = status
    return claim


def test_returns_and_buyers_claims_hold_units_together() -> None:
    held = units_held(
        [_return(S.APPROVED), _return(S.CANCELLED, rid="R2"), _return(S.REJECTED, rid="R3")],
        [
            _claim(ClaimKind.DAMAGE_ON_ARRIVAL, C.COMPENSATED, ("L1", 1), ("L2", 1)),
            _claim(ClaimKind.COUNTERFEIT, C.REJECTED, ("L2", 1)),
            _claim(ClaimKind.TRANSIT_DAMAGE, C.COMPENSATED, ("L1", 1)),
        ],
    )
    assert held == {"L1": 2, "L2": 1}
    assert units_held([_return(S.APPROVED)], [], besides_return="R1") == {}


@pytest.mark.parametrize("status", list(C))
def test_which_claims_hold_units(status: C) -> None:
    assert claim_holds_units(_claim(ClaimKind.DAMAGE_ON_ARRIVAL, status, ("L1", 1))) is (
        status is not C.REJECTED
    )
    assert claim_holds_units(_claim(ClaimKind.COUNTERFEIT, status, ("L1", 1))) is (
        status is not C.REJECTED
    )
    assert not claim_holds_units(_claim(ClaimKind.TRANSIT_DAMAGE, status, ("L1", 1)))


def test_units_already_held_are_refused_with_a_stable_code() -> None:
    check_units_free(ORDER, [("L1", 1), ("L2", 1)], {"L1": 1})
    with pytest.raises(Conflict) as refused:
        check_units_free(ORDER, [("L2", 1), ("L1", 2)], {"L1": 1})
    assert refused.value.code == "quantity_already_claimed"
    assert refused.value.message_en and refused.value.message_zh
    assert refused.value.details["left"] == 1
    with pytest.raises(InvalidInput, match="quantity_exceeds_purchase"):
        check_units_free(ORDER, [("L1", 3)], {})
