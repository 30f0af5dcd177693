"""Trust is a function of history: every outcome moves it, and the lines explain the score."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.trust import BuyerHistory, TrustWeights, assess_trust


def test_a_new_account_has_its_starting_score_and_one_line() -> None:
    out = assess_trust(600, BuyerHistory())
    assert out.score == 600 and [line.code for line in out.lines] == ["base"]


def test_good_returns_raise_trust_up_to_a_cap() -> None:
    assert assess_trust(600, BuyerHistory(orders=40, returns=3, returns_completed=3)).score == 615
    many = assess_trust(600, BuyerHistory(orders=400, returns=50, returns_completed=50))
    assert many.score == 700


def test_a_clawback_and_a_lost_dispute_take_an_express_buyer_below_700() -> None:
    before = assess_trust(850, BuyerHistory(orders=10, returns=2, returns_completed=2)).score
    after = assess_trust(
        850,
        BuyerHistory(orders=10, returns=3, returns_completed=2, disputes_lost=1, clawbacks=1),
    )
    assert before == 860 and after.score == 610
    assert {line.code for line in assess_trust(850, BuyerHistory(disputes_lost=1)).lines} == {
        "base",
        "disputes_lost",
    }


def test_open_dispute_and_rejected_claims_and_return_rate_lower_it() -> None:
    w = TrustWeights()
    out = assess_trust(
        800, BuyerHistory(orders=10, returns=10, disputes_open=1, claims_rejected=1), w
    )
    assert out.score == 800 - w.open_dispute - w.per_claim_rejected - w.high_return_rate_penalty
    codes = [line.code for line in out.lines]
    assert codes == ["base", "dispute_open", "claims_rejected", "high_return_rate"]
    assert all(line.en and line.zh for line in out.lines)


def test_won_disputes_count_for_the_buyer() -> None:
    assert assess_trust(600, BuyerHistory(disputes_won=2)).score == 640


def test_negative_history_or_weights_are_refused() -> None:
    with pytest.raises(ValueError):
        BuyerHistory(orders=-1)
    with pytest.raises(ValueError):
        TrustWeights(per_clawback=-5)


counts = st.integers(min_value=0, max_value=500)


@given(
    base=st.integers(min_value=0, max_value=1000),
    h=st.builds(
        BuyerHistory, orders=counts, returns=counts, returns_completed=counts,
        disputes_lost=counts, disputes_won=counts, disputes_open=counts, clawbacks=counts,
        claims_rejected=counts, claims_paid=counts,
    ),
)  # fmt: skip
def test_score_stays_in_range_and_is_the_clamped_sum_of_its_lines(
    base: int, h: BuyerHistory
) -> None:
    out = assess_trust(base, h)
    assert 0 <= out.score <= 1000
    assert out.score == max(0, min(1000, sum(line.points for line in out.lines)))


@given(base=st.integers(min_value=0, max_value=1000), n=st.integers(min_value=0, max_value=20))
def test_a_clawback_never_raises_trust(base: int, n: int) -> None:
    h = BuyerHistory(orders=30, returns=5, returns_completed=5, clawbacks=n)
    worse = BuyerHistory(orders=30, returns=5, returns_completed=5, clawbacks=n + 1)
    assert assess_trust(base, worse).score <= assess_trust(base, h).score
