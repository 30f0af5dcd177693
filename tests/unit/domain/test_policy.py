"""Policy validation and versioning."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from doorstep.domain.errors import InvalidInput
from doorstep.domain.policy import RULE_DEFAULTS, Policy, RuleConfig, default_policy, validate_rule


@pytest.mark.parametrize(
    ("rule", "code", "param"),
    [
        (RuleConfig("no_such_rule"), "policy_unknown_rule", None),
        (RuleConfig("return_window", params={"days": 7}), "policy_unknown_param", "days"),
        (
            RuleConfig("return_window", params={"no_reason_days": 0}),
            "policy_param_out_of_range",
            "no_reason_days",
        ),
        (
            RuleConfig("return_window", params={"no_reason_days": 91}),
            "policy_param_out_of_range",
            "no_reason_days",
        ),
        (
            RuleConfig("return_window", params={"quality_days": True}),
            "policy_param_out_of_range",
            "quality_days",
        ),
        (
            RuleConfig("return_window", params={"allergy_days": 60.0}),
            "policy_param_out_of_range",
            "allergy_days",
        ),
        (
            RuleConfig("return_window", params={"allergy_days": "60"}),
            "policy_param_out_of_range",
            "allergy_days",
        ),
        (
            RuleConfig("high_value_review", params={"threshold_fen": -1}),
            "policy_param_out_of_range",
            "threshold_fen",
        ),
        (RuleConfig("ship_within", params={"days": False}), "policy_param_out_of_range", "days"),
        (
            RuleConfig("intact_condition", params={"seal_categories": "cosmetics"}),
            "policy_param_type",
            "seal_categories",
        ),
        (
            RuleConfig("intact_condition", params={"tag_categories": ["apparel", 3]}),
            "policy_param_type",
            "tag_categories",
        ),
        (
            RuleConfig("evidence_required", params={"reasons": ("quality",)}),
            "policy_param_type",
            "reasons",
        ),
        (
            RuleConfig("cross_border_deadline", params={"pickup_cutoff_day": 45}),
            "policy_cutoff_after_arrival",
            "pickup_cutoff_day",
        ),
        (
            RuleConfig("cross_border_deadline", params={"arrival_days": 40}),
            "policy_cutoff_after_arrival",
            "dropoff_cutoff_day",
        ),
        (
            RuleConfig("cross_border_deadline", params={"self_ship_cutoff_day": 46}),
            "policy_cutoff_after_arrival",
            "self_ship_cutoff_day",
        ),
    ],
)
def test_invalid_rule_configs(world, rule: RuleConfig, code: str, param: str | None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as raised:
        validate_rule(rule)
    assert raised.value.code == code
    assert raised.value.details.get("param") == param
    assert raised.value.details["rule"] == rule.code
    assert raised.value.message_en and raised.value.message_zh
    with pytest.raises(InvalidInput):
        Policy(1, (rule,), world.now)


@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("return_window", {"no_reason_days": 1, "quality_days": 365, "allergy_days": 60}),
        ("high_value_review", {"threshold_fen": 0}),
        ("intact_condition", {"seal_categories": []}),
        ("cross_border_deadline", {"arrival_days": 60, "pickup_cutoff_day": 59}),
        (
            "cross_border_deadline",
            {"pickup_cutoff_day": 44, "dropoff_cutoff_day": 44, "self_ship_cutoff_day": 44},
        ),
    ],
)
def test_valid_rule_configs(code: str, params: dict[str, Any]) -> None:
    validate_rule(RuleConfig(code, params=params))


def test_every_default_is_valid_and_param_falls_back(world) -> None:  # type: ignore[no-untyped-def]
    policy = default_policy(world.now)
    assert policy.version == 1
    assert [r.code for r in policy.rules] == list(RULE_DEFAULTS)
    cfg = RuleConfig("return_window", params={"no_reason_days": 10})
    assert cfg.param("no_reason_days") == 10
    assert cfg.param("quality_days") == 15


def test_duplicate_rule_codes_refused(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as raised:
        Policy(1, (RuleConfig("ship_within"), RuleConfig("ship_within", enabled=False)), world.now)
    assert raised.value.code == "policy_duplicate_rule"


def test_rule_lookup_skips_disabled_and_missing(world) -> None:  # type: ignore[no-untyped-def]
    policy = Policy(
        1, (RuleConfig("ship_within", enabled=False), RuleConfig("order_signed")), world.now
    )
    assert policy.rule("ship_within") is None
    assert policy.rule("return_window") is None
    assert policy.rule("order_signed") == RuleConfig("order_signed")


def test_revise_bumps_version_and_keeps_the_old_one(world) -> None:  # type: ignore[no-untyped-def]
    v1 = default_policy(world.now)
    later = world.now + timedelta(hours=1)
    rules = (RuleConfig("return_window", params={"no_reason_days": 10}),)
    v2 = v1.revise(rules, later, "ops-1", "longer window")
    assert (v2.version, v2.rules, v2.created_at, v2.created_by, v2.note) == (
        2,
        rules,
        later,
        "ops-1",
        "longer window",
    )
    assert v1.version == 1 and v1.rules != rules
    assert v2.revise(v1.rules, later, "ops-2").version == 3


def test_revise_validates(world) -> None:  # type: ignore[no-untyped-def]
    v1 = default_policy(world.now)
    with pytest.raises(InvalidInput) as raised:
        v1.revise((RuleConfig("ship_within", params={"days": 0}),), world.now, "ops")
    assert raised.value.code == "policy_param_out_of_range"
    with pytest.raises(InvalidInput) as raised:
        v1.revise((RuleConfig("ship_within"), RuleConfig("ship_within")), world.now, "ops")
    assert raised.value.code == "policy_duplicate_rule"
