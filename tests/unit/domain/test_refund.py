"""Refunds are paid once, for goods plus withheld tax; part returns never over-refund tax."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.errors import IllegalTransition
from doorstep.domain.order import OrderLine
from doorstep.domain.refund import Refund, RefundKind, RefundStatus

T0 = datetime(2025, 3, 20, 10, 0, tzinfo=SHANGHAI)
LATER = T0 + timedelta(minutes=5)


def refund(goods: int = 19_900, tax: int = 1_812) -> Refund:
    return Refund.request("RF1", "R1", "B1", RefundKind.STANDARD, goods, tax, T0)


def test_request_is_pending_with_key_and_amount() -> None:
    r = refund()
    assert (r.status, r.amount_fen, r.idempotency_key) == (
        RefundStatus.PENDING,
        21_712,
        "refund:R1",
    )
    (event,) = r.take_events()
    assert event.name == "refund.requested"
    assert event.data["amount_fen"] == 21_712 and event.data["tax_fen"] == 1_812


def test_same_return_same_key() -> None:
    again = Refund.request("RF2", "R1", "B1", RefundKind.EXPRESS, 1, 0, LATER)
    assert again.idempotency_key == refund().idempotency_key


def test_double_success_is_idempotent() -> None:
    r = refund()
    r.take_events()
    r.succeed("PAY-1", LATER)
    r.succeed("PAY-2", LATER + timedelta(minutes=1))
    assert (r.status, r.provider_ref, r.settled_at) == (RefundStatus.SUCCEEDED, "PAY-1", LATER)
    assert [e.name for e in r.take_events()] == ["refund.succeeded"]


def test_retryable_failure_stays_pending_then_succeeds() -> None:
    r = refund()
    r.attempt_failed("timeout", LATER, final=False)
    assert (r.status, r.attempts, r.failure) == (RefundStatus.PENDING, 1, "timeout")
    r.succeed("PAY-1", LATER)
    assert r.status is RefundStatus.SUCCEEDED


def test_final_failure_cannot_succeed_later() -> None:
    r = refund()
    r.attempt_failed("account_closed", LATER, final=True)
    assert r.status is RefundStatus.FAILED
    with pytest.raises(IllegalTransition) as raised:
        r.succeed("PAY-1", LATER)
    assert raised.value.code == "illegal_transition"


def test_late_failure_does_not_undo_a_success() -> None:
    r = refund()
    r.succeed("PAY-1", LATER)
    r.attempt_failed("stale_callback", LATER, final=True)
    assert r.status is RefundStatus.SUCCEEDED


@pytest.mark.parametrize(("goods", "tax"), [(-1, 0), (0, -1)])
def test_negative_amounts_refused(goods: int, tax: int) -> None:
    with pytest.raises(ValueError):
        refund(goods, tax)


@pytest.mark.parametrize(
    ("tax", "bought", "returned", "expected"),
    [(1_000, 3, 1, 333), (1_000, 3, 3, 1_000), (1_001, 2, 1, 500), (0, 5, 2, 0), (7, 10, 1, 0)],
)
def test_tax_share_rounds_down(tax: int, bought: int, returned: int, expected: int) -> None:
    line = OrderLine("L1", "P1", bought, 10_000, tax_fen=tax)
    assert line.tax_for(returned) == expected
    assert line.price_for(returned) == 10_000 * returned


@st.composite
def line_and_parts(draw: st.DrawFn) -> tuple[OrderLine, list[int]]:
    bought = draw(st.integers(min_value=1, max_value=50))
    tax = draw(st.integers(min_value=0, max_value=10**7))
    parts: list[int] = []
    left = bought
    while left and draw(st.booleans()):
        part = draw(st.integers(min_value=1, max_value=left))
        parts.append(part)
        left -= part
    return OrderLine("L1", "P1", bought, 100, tax_fen=tax), parts


@given(line_and_parts())
def test_part_returns_never_refund_more_tax_than_withheld(
    case: tuple[OrderLine, list[int]],
) -> None:
    line, parts = case
    refunded = [line.tax_for(q) for q in parts]
    assert all(r >= 0 for r in refunded)
    assert sum(refunded) <= line.tax_fen
    assert sum(refunded) <= line.tax_for(sum(parts)) if parts else True
    assert line.tax_for(line.quantity) == line.tax_fen


def test_order_line_validation() -> None:
    for bad in ({"quantity": 0}, {"unit_price_fen": -1}, {"tax_fen": -1}):
        kwargs = {"line_id": "L1", "sku": "P1", "quantity": 1, "unit_price_fen": 1, **bad}
        with pytest.raises(ValueError):
            OrderLine(**kwargs)  # type: ignore[arg-type]
