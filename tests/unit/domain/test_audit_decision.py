"""Combining findings into a decision; pickup-only restrictions (size, weight, coverage)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from doorstep.domain.audit import (
    RULES,
    audit,
    combine,
    coverage_problem,
    pickup_size_problem,
)
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.decision import Finding, Outcome, ReturnMethod, Verdict
from doorstep.domain.policy import RULE_DEFAULTS, TERMS, RuleConfig
from doorstep.domain.returns import Reason

M = ReturnMethod
DAY = timedelta(days=1)


def f(verdict: Verdict, reason: str = "r", **kw) -> Finding:  # type: ignore[no-untyped-def]
    return Finding("rule", verdict, reason, "en", "zh", **kw)


@pytest.mark.parametrize(
    ("verdicts", "outcome"),
    [
        ((), Outcome.APPROVE),
        ((Verdict.PASS, Verdict.INFO, Verdict.RESTRICT), Outcome.APPROVE),
        ((Verdict.PASS, Verdict.REVIEW), Outcome.REVIEW),
        ((Verdict.REVIEW, Verdict.REJECT, Verdict.PASS), Outcome.REJECT),
        ((Verdict.REJECT,), Outcome.REJECT),
        ((Verdict.RESTRICT, Verdict.REVIEW), Outcome.REVIEW),
    ],
)
def test_strictest_verdict_wins(world, verdicts, outcome: Outcome) -> None:  # type: ignore[no-untyped-def]
    decision = combine(3, [f(v) for v in verdicts], world.now)
    assert decision.outcome is outcome
    assert decision.policy_version == 3
    assert decision.decided_at == world.now
    assert (decision.methods == ()) is (outcome is Outcome.REJECT)


def test_until_is_min_of_the_caps_for_each_method(world) -> None:  # type: ignore[no-untyped-def]
    now = world.now
    findings = [
        f(Verdict.INFO, until=now + 5 * DAY, caps=(M.PICKUP, M.DROPOFF, M.SELF_SHIP)),
        f(Verdict.INFO, until=now + 2 * DAY, caps=(M.PICKUP,)),
        f(Verdict.INFO, until=now + 9 * DAY, caps=(M.DROPOFF,)),
        f(Verdict.PASS, until=now + 1 * DAY),  # an ``until`` without caps bounds nothing
    ]
    decision = combine(1, findings, now)
    assert {m.method: m.until for m in decision.methods} == {
        M.PICKUP: now + 2 * DAY,
        M.DROPOFF: now + 5 * DAY,
        M.SELF_SHIP: now + 5 * DAY,
    }


def test_uncapped_methods_have_no_deadline(world) -> None:  # type: ignore[no-untyped-def]
    decision = combine(1, [f(Verdict.PASS)], world.now)
    assert [(m.method, m.until) for m in decision.methods] == [(m, None) for m in M]


def test_withdrawn_and_past_deadline_methods_are_unavailable(world) -> None:  # type: ignore[no-untyped-def]
    now = world.now
    findings = [
        f(Verdict.RESTRICT, "too_big", withdraws=(M.PICKUP,)),
        f(Verdict.RESTRICT, "second_reason", withdraws=(M.PICKUP,)),
        f(Verdict.INFO, until=now - timedelta(microseconds=1), caps=(M.SELF_SHIP,)),
        f(Verdict.INFO, until=now, caps=(M.DROPOFF,)),
    ]
    decision = combine(1, findings, now)
    assert decision.unavailable == {"pickup": "too_big", "self_ship": "deadline_passed"}
    assert [m.method for m in decision.methods] == [M.DROPOFF]
    assert decision.offers(M.PICKUP) is None
    assert decision.offers(M.DROPOFF).until == now


def test_audit_records_policy_version_and_every_rule(world) -> None:  # type: ignore[no-untyped-def]
    decision = audit(world.policy(version=7), world.input())
    assert decision.outcome is Outcome.APPROVE
    assert decision.policy_version == 7
    assert decision.decided_by == "auto"
    assert {fd.rule for fd in decision.findings} >= {
        "order_signed",
        "quantity_available",
        "return_window",
        "pickup_coverage",
        "ship_within",
    }
    assert set(RULES) == set(RULE_DEFAULTS) - TERMS


def test_disabled_rule_does_not_run(world) -> None:  # type: ignore[no-untyped-def]
    late = world.input(now=world.signed + 30 * DAY)
    assert audit(world.policy(), late).outcome is Outcome.REJECT
    decision = audit(world.policy(disabled=("return_window",)), late)
    assert decision.outcome is Outcome.APPROVE
    assert all(fd.rule != "return_window" for fd in decision.findings)
    blocked = world.input(blocklisted=True)
    assert audit(world.policy(disabled=("buyer_blocklist",)), blocked).outcome is Outcome.APPROVE


def test_rule_missing_from_policy_does_not_run(world) -> None:  # type: ignore[no-untyped-def]
    from doorstep.domain.policy import Policy

    only_signed = Policy(2, (RuleConfig("order_signed"),), world.now)
    decision = audit(only_signed, world.input(now=world.signed + 30 * DAY, blocklisted=True))
    assert decision.outcome is Outcome.APPROVE
    assert {fd.rule for fd in decision.findings} == {"order_signed"}


def test_reject_on_one_line_rejects_the_request(world) -> None:  # type: ignore[no-untyped-def]
    from doorstep.domain.order import OrderLine
    from doorstep.domain.returns import ReturnLine

    p2 = world.product(sku="P2", customised=True)
    extra = ((p2, OrderLine("L2", "P2", 1, 100), ReturnLine("L2", "P2", 1, Reason.NO_REASON)),)
    decision = audit(world.policy(), world.input(extra=extra))
    assert decision.outcome is Outcome.REJECT
    rejected = [fd for fd in decision.findings if fd.verdict is Verdict.REJECT]
    assert [(fd.reason, fd.line_id) for fd in rejected] == [("excluded_customised", "L2")]


# --- pickup size and weight ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight_g", "dims", "quantity", "expected"),
    [
        (30_000, (500, 500, 500), 1, None),
        (30_001, (500, 500, 500), 1, "overweight_for_pickup"),
        (15_001, (300, 300, 300), 2, "overweight_for_pickup"),
        (1_000, (1_200, 400, 400), 1, None),  # sum exactly 2000, side exactly 1200
        (1_000, (1_201, 100, 100), 1, "oversize_for_pickup"),
        (1_000, (1_000, 600, 401), 1, "oversize_for_pickup"),  # sum 2001
        (1_000, (700, 700, 600), 1, None),
    ],
)
def test_pickup_size_problem(world, weight_g, dims, quantity, expected) -> None:  # type: ignore[no-untyped-def]
    product = world.product(weight_g=weight_g, dims=dims)
    why = pickup_size_problem(product, RuleConfig("pickup_size_weight"), quantity)
    assert (why[0] if why else None) == expected
    ctx = world.input(product=product, quantity=quantity, bought=quantity)
    decision = audit(world.policy(), ctx)
    assert decision.outcome is Outcome.APPROVE
    if expected:
        assert decision.offers(M.PICKUP) is None
        assert decision.unavailable == {"pickup": expected}
        assert {m.method for m in decision.methods} == {M.DROPOFF, M.SELF_SHIP}
    else:
        assert decision.offers(M.PICKUP) is not None


def test_size_limits_are_parameters(world) -> None:  # type: ignore[no-untyped-def]
    product = world.product(weight_g=5_000)
    cfg = RuleConfig("pickup_size_weight", params={"max_weight_g": 4_000})
    assert pickup_size_problem(product, cfg)[0] == "overweight_for_pickup"
    found = world.rule("pickup_size_weight", world.input(product=product), max_weight_g=4_000)
    assert [(fd.verdict, fd.withdraws, fd.line_id) for fd in found] == [
        (Verdict.RESTRICT, (M.PICKUP,), "L1")
    ]


# --- coverage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("area", "expected"),
    [
        (None, "area_not_covered"),
        (
            ServiceArea("310104", "徐汇", "Xuhui", pickup_supported=False, carrier_ids=("sf",)),
            "area_not_covered",
        ),
        (ServiceArea("654300", "阿勒泰", "Altay", remote=True, carrier_ids=("sf",)), "area_remote"),
        (ServiceArea("310104", "徐汇", "Xuhui"), "area_no_carrier"),
        (ServiceArea("310104", "徐汇", "Xuhui", carrier_ids=("sf",)), None),
    ],
)
def test_coverage_withdraws_pickup_only(world, area, expected) -> None:  # type: ignore[no-untyped-def]
    why = coverage_problem(area)
    assert (why[0] if why else None) == expected
    if area is not None:
        assert area.serves_pickup is (expected is None)
    decision = audit(world.policy(), world.input(area=area))
    assert decision.outcome is Outcome.APPROVE
    if expected:
        assert decision.unavailable == {"pickup": expected}
        assert [m.method for m in decision.methods] == [M.DROPOFF, M.SELF_SHIP]
    else:
        assert decision.offers(M.PICKUP) is not None
