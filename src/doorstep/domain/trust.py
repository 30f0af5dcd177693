"""A buyer's trust: a pure function of the account's starting score and its history of
outcomes, with one explanation line per part so ops can see why a buyer is (not) trusted.

Express refunds (极速退款) and refund-only requests (仅退款) read it; its thresholds are settings
(RULES.md §3: the credit threshold is unconfirmed). Every weight is a parameter so ops can
tune it without code.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BuyerHistory:
    """What the platform knows about a buyer's past, counted from stored outcomes."""

    orders: int = 0
    returns: int = 0
    returns_completed: int = 0  # refunded, exchanged or closed after a good QC
    disputes_lost: int = 0  # QC failures that ops upheld
    disputes_won: int = 0  # QC failures that ops found in the buyer's favour
    disputes_open: int = 0
    clawbacks: int = 0  # express refunds taken back
    claims_rejected: int = 0  # damage or counterfeit claims found unfounded
    claims_paid: int = 0

    def __post_init__(self) -> None:
        if min(vars(self).values()) < 0:
            raise ValueError("history counts are never negative")


@dataclass(frozen=True)
class TrustWeights:
    """How much each part of the history moves the score (points on a 0–1000 scale)."""

    per_completed_return: int = 5
    completed_cap: int = 100
    per_dispute_lost: int = 150
    per_dispute_won: int = 20
    per_clawback: int = 100
    per_claim_rejected: int = 80
    open_dispute: int = 50  # while a QC failure is undecided, advance no more money
    # Many returns relative to orders is a pattern of abuse (wardrobing); judged only once
    # there are enough returns for the rate to mean something.
    high_return_rate_pct: int = 70
    high_return_rate_min_returns: int = 10
    high_return_rate_penalty: int = 100

    def __post_init__(self) -> None:
        if min(vars(self).values()) < 0 or self.high_return_rate_pct > 100:
            raise ValueError("trust weights are non-negative and the rate a percentage")


@dataclass(frozen=True)
class TrustLine:
    """One reason the score moved: a stable code, the points and zh/en text."""

    code: str
    points: int
    en: str
    zh: str


@dataclass(frozen=True)
class TrustAssessment:
    score: int
    lines: tuple[TrustLine, ...] = field(default_factory=tuple)


MAX_SCORE = 1000


def assess_trust(
    base: int, history: BuyerHistory, weights: TrustWeights | None = None
) -> TrustAssessment:
    """The buyer's score now: the account's starting score moved by each outcome, clamped to
    0–1000; a blocklist is not a score and stays the caller's check."""
    w = weights or TrustWeights()
    lines = [TrustLine("base", base, "Starting score of the account", "账户初始信用分")]
    completed = min(history.returns_completed * w.per_completed_return, w.completed_cap)
    if completed:
        lines.append(
            TrustLine(
                "returns_completed",
                completed,
                f"{history.returns_completed} returns passed QC",
                f"{history.returns_completed} 次退货质检通过",
            )
        )
    if history.disputes_lost:
        lines.append(
            TrustLine(
                "disputes_lost",
                -history.disputes_lost * w.per_dispute_lost,
                f"{history.disputes_lost} returns failed QC and the buyer's dispute was lost",
                f"{history.disputes_lost} 次退货质检未通过且争议判定买家责任",
            )
        )
    if history.disputes_won:
        lines.append(
            TrustLine(
                "disputes_won",
                history.disputes_won * w.per_dispute_won,
                f"{history.disputes_won} disputes decided in the buyer's favour",
                f"{history.disputes_won} 次争议判定买家无责",
            )
        )
    if history.disputes_open:
        lines.append(
            TrustLine(
                "dispute_open",
                -w.open_dispute,
                "A failed QC is waiting for a decision",
                "有质检未通过的争议待处理",
            )
        )
    if history.clawbacks:
        lines.append(
            TrustLine(
                "clawbacks",
                -history.clawbacks * w.per_clawback,
                f"{history.clawbacks} express refunds were taken back",
                f"{history.clawbacks} 次极速退款被追回",
            )
        )
    if history.claims_rejected:
        lines.append(
            TrustLine(
                "claims_rejected",
                -history.claims_rejected * w.per_claim_rejected,
                f"{history.claims_rejected} claims were found unfounded",
                f"{history.claims_rejected} 次理赔申请被驳回",
            )
        )
    if (
        history.returns >= w.high_return_rate_min_returns
        and history.returns * 100 > history.orders * w.high_return_rate_pct
    ):
        lines.append(
            TrustLine(
                "high_return_rate",
                -w.high_return_rate_penalty,
                f"{history.returns} returns on {history.orders} orders",
                f"{history.orders} 笔订单中退货 {history.returns} 次",
            )
        )
    score = max(0, min(MAX_SCORE, sum(line.points for line in lines)))
    return TrustAssessment(score, tuple(lines))
