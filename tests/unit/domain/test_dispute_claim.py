"""Disputes and claims: their lifecycles, windows and amounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from doorstep.domain.claim import (
    Claim,
    ClaimEvidence,
    ClaimKind,
    ClaimLine,
    ClaimRules,
    ClaimStatus,
    Liability,
    at_line_prices,
    compensation_fen,
    damage_deadline,
)
from doorstep.domain.dispute import Dispute, DisputeEvidence, DisputeStatus
from doorstep.domain.errors import Conflict, IllegalTransition, InvalidInput
from doorstep.domain.transfer import Transfer, TransferPurpose, TransferStatus

T = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
RULES = ClaimRules()
LINES = (ClaimLine("L1", "SKU", 1, 10_000),)
PHOTO = (ClaimEvidence("buyer", T, "cracked", ("P1",)),)
PAID = at_line_prices(LINES)  # no order discounts: paid what the line says


def _dispute(advanced: int = 10_000) -> Dispute:
    return Dispute.open("R1", "b1", T, timedelta(hours=72), "C", "scratched", ("Q1",), advanced)


def test_dispute_answer_then_qc_upheld_claws_back_all_by_default() -> None:
    d = _dispute()
    d.answer(DisputeEvidence(T + timedelta(hours=1), "it was new", ("P1",)))
    assert d.status is DisputeStatus.ANSWERED
    decision = d.decide("ops", T, buyer_upheld=False, note="scratches", clawback_fen=None)
    assert decision.clawback_fen == 10_000 and d.status is DisputeStatus.QC_UPHELD
    names = [e.name for e in d.take_events()]
    assert names == ["dispute.opened", "dispute.answered", "dispute.decided"]
    with pytest.raises(IllegalTransition):
        d.decide("ops", T, buyer_upheld=True, note="", clawback_fen=None)
    with pytest.raises(IllegalTransition):
        d.answer(DisputeEvidence(T, "more", ()))


def test_dispute_partial_clawback_bounds_and_buyer_upheld() -> None:
    with pytest.raises(InvalidInput, match="clawback_out_of_range"):
        _dispute().decide("ops", T, buyer_upheld=False, note="", clawback_fen=10_001)
    with pytest.raises(InvalidInput, match="clawback_for_upheld_buyer"):
        _dispute().decide("ops", T, buyer_upheld=True, note="", clawback_fen=5)
    d = _dispute()
    assert d.decide("ops", T, buyer_upheld=False, note="", clawback_fen=3_000).clawback_fen == 3_000
    won = _dispute()
    assert won.decide("ops", T, buyer_upheld=True, note="", clawback_fen=None).clawback_fen == 0


def test_a_lost_dispute_leaves_the_tax_customs_gives_back_with_the_buyer() -> None:
    d = _dispute(43_530)  # a 39,900 pillow and its 3,630 import tax, advanced at pickup
    decision = d.decide(
        "ops", T, buyer_upheld=False, note="", clawback_fen=None, tax_kept_fen=3_630
    )
    assert (decision.clawback_fen, decision.tax_kept_fen) == (39_900, 3_630)
    assert d.take_events()[-1].data["tax_kept_fen"] == 3_630
    with pytest.raises(InvalidInput) as too_much:
        _dispute(43_530).decide(
            "ops", T, buyer_upheld=False, note="", clawback_fen=39_901, tax_kept_fen=3_630
        )
    assert too_much.value.details == {"advanced_fen": 39_900, "tax_kept_fen": 3_630}
    assert "3630" in too_much.value.message_zh
    less = _dispute(43_530).decide(
        "ops", T, buyer_upheld=False, note="", clawback_fen=10_000, tax_kept_fen=3_630
    )
    assert (less.clawback_fen, less.tax_kept_fen) == (10_000, 3_630)
    # Never more kept than was advanced; nothing kept by (or taken from) a buyer found right.
    small = _dispute(2_000).decide(
        "ops", T, buyer_upheld=False, note="", clawback_fen=None, tax_kept_fen=3_630
    )
    assert (small.clawback_fen, small.tax_kept_fen) == (0, 2_000)
    won = _dispute(43_530).decide(
        "ops", T, buyer_upheld=True, note="", clawback_fen=None, tax_kept_fen=3_630
    )
    assert (won.clawback_fen, won.tax_kept_fen) == (0, 0)


def test_dispute_answers_need_content_and_come_in_time() -> None:
    d = _dispute()
    with pytest.raises(InvalidInput, match="dispute_evidence_empty"):
        d.answer(DisputeEvidence(T, "  ", ()))
    with pytest.raises(Conflict, match="dispute_answer_late"):
        d.answer(DisputeEvidence(T + timedelta(hours=73), "late", ()))
    with pytest.raises(InvalidInput, match="dispute_text_too_long"):
        d.answer(DisputeEvidence(T, "x" * 2001, ()))


def test_compensation_per_kind() -> None:
    assert compensation_fen(ClaimKind.DAMAGE_ON_ARRIVAL, 10_000, RULES) == 10_000
    assert compensation_fen(ClaimKind.COUNTERFEIT, 10_000, RULES) == 40_000
    assert (
        compensation_fen(ClaimKind.COUNTERFEIT, 10_000, ClaimRules(counterfeit_multiplier=3))
        == 30_000
    )
    assert compensation_fen(ClaimKind.TRANSIT_DAMAGE, 500_000, RULES) == RULES.carrier_cap_fen
    assert damage_deadline(T, False, RULES) == T + timedelta(hours=72)
    assert damage_deadline(T, True, RULES) == T + timedelta(hours=24)


def test_damage_claim_needs_photos_and_silence_approves_after_24_hours() -> None:
    with pytest.raises(InvalidInput, match="claim_photos_required"):
        Claim.file("C1", ClaimKind.DAMAGE_ON_ARRIVAL, "O1", "b1", LINES, (), T, RULES, paid=PAID)
    c = Claim.file("C1", ClaimKind.DAMAGE_ON_ARRIVAL, "O1", "b1", LINES, PHOTO, T, RULES, paid=PAID)
    assert c.status is ClaimStatus.AWAITING_MERCHANT and c.liability is Liability.MERCHANT
    assert not c.lapse(T + timedelta(hours=24))
    assert c.lapse(T + timedelta(hours=24, seconds=1)) and c.status is ClaimStatus.APPROVED
    with pytest.raises(IllegalTransition):
        c.merchant_answer(T, accept=False, text="")
    c.compensated(T, "PAY1")
    c.compensated(T, "PAY1")  # a second answer changes nothing
    assert [e.name for e in c.take_events()] == [
        "claim.filed",
        "claim.merchant_silent",
        "claim.compensated",
    ]


def test_merchant_contest_goes_to_ops_and_late_answers_are_refused() -> None:
    c = Claim.file("C1", ClaimKind.DAMAGE_ON_ARRIVAL, "O1", "b1", LINES, PHOTO, T, RULES, paid=PAID)
    with pytest.raises(Conflict, match="claim_answer_late"):
        c.merchant_answer(T + timedelta(hours=25), accept=True, text="")
    c.merchant_answer(T + timedelta(hours=2), accept=False, text="was fine when shipped")
    assert c.status is ClaimStatus.IN_REVIEW
    c.decide("ops", T, approve=False, note="photos show no damage")
    assert c.status is ClaimStatus.REJECTED
    with pytest.raises(IllegalTransition):
        c.compensated(T, "x")


def test_counterfeit_always_reaches_ops() -> None:
    c = Claim.file("C2", ClaimKind.COUNTERFEIT, "O1", "b1", LINES, PHOTO, T, RULES, paid=PAID)
    c.merchant_answer(T, accept=True, text="sorry")
    assert c.status is ClaimStatus.IN_REVIEW and c.compensation_fen == 40_000
    silent = Claim.file("C3", ClaimKind.COUNTERFEIT, "O1", "b1", LINES, PHOTO, T, RULES, paid=PAID)
    assert silent.lapse(T + timedelta(days=2)) and silent.status is ClaimStatus.IN_REVIEW


def test_transit_damage_is_the_carriers_at_once() -> None:
    c = Claim.file(
        "C4", ClaimKind.TRANSIT_DAMAGE, "O1", "b1", LINES, (), T, RULES, paid=PAID,
        return_id="R1", carrier_id="sf", own_fleet=False,
    )  # fmt: skip
    assert c.status is ClaimStatus.APPROVED and c.liability is Liability.CARRIER
    assert c.dedupe_key == "transit_damage:R1"
    own = Claim.file(
        "C5", ClaimKind.TRANSIT_DAMAGE, "O1", "b1", LINES, (), T, RULES, paid=PAID,
        return_id="R2", carrier_id="own", own_fleet=True,
    )  # fmt: skip
    assert own.liability is Liability.OWN_FLEET


def test_transfer_settles_once_and_keeps_its_key() -> None:
    x = Transfer.request("T1", TransferPurpose.CLAWBACK, "R1", "b1", 500, T)
    assert x.idempotency_key == "clawback:R1" and x.purpose.from_buyer
    x.attempt_failed("provider_timeout", T, final=False)
    x.succeed("CLW1", T)
    x.succeed("CLW1", T)
    x.attempt_failed("late", T, final=True)
    assert x.status is TransferStatus.SUCCEEDED and x.attempts == 1
    assert [e.name for e in x.take_events()] == [
        "clawback.requested",
        "clawback.attempt_failed",
        "clawback.succeeded",
    ]
    with pytest.raises(ValueError):
        Transfer.request("T2", TransferPurpose.CLAIM_PAYOUT, "C1", "b1", 0, T)
