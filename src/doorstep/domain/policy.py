"""Versioned after-sales policy: the audit rules are data with parameters, edited by ops.

A policy is immutable once stored; editing creates the next version, and each decision
records the version it was made under.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from doorstep.domain.errors import InvalidInput

# Every rule the audit knows, with its parameters' defaults. A policy may switch a rule off
# or change parameters, but not invent rules the code cannot run.
RULE_DEFAULTS: dict[str, dict[str, Any]] = {
    "order_signed": {},
    "quantity_available": {},
    # 过敏包退 is a cosmetics promise (RULES.md §3): other categories have no allergy reason.
    "return_window": {
        "no_reason_days": 7,
        "quality_days": 15,
        "allergy_days": 60,
        "allergy_categories": ["cosmetics"],
    },
    "legal_exclusion": {},
    "checkout_confirmed_exclusion": {},
    "intact_condition": {
        "seal_categories": ["cosmetics", "food", "infant_formula", "supplements", "medical"],
        "tag_categories": ["apparel", "shoes"],
        "activation_categories": ["electronics"],
    },
    "cross_border_deadline": {
        "application_days": 30,
        "arrival_days": 45,
        "pickup_cutoff_day": 38,
        "dropoff_cutoff_day": 40,
        "self_ship_cutoff_day": 36,
    },
    "pickup_size_weight": {
        "max_weight_g": 30_000,
        "max_side_mm": 1_200,
        "max_sum_of_sides_mm": 2_000,
    },
    "pickup_coverage": {},
    "buyer_blocklist": {},
    "evidence_required": {
        "reasons": ["quality", "wrong_item", "damaged_on_arrival", "not_as_described", "allergy"]
    },
    "high_value_review": {"threshold_fen": 500_000},
    "ship_within": {"days": 7},
    # Not an audit rule: the money terms of a refund (domain/refund_amount.py). The standard
    # return freight a refund reimburses when the buyer does not pay it, and the days after
    # the warehouse receives a parcel within which its refund is due (RULES.md §1).
    "refund_terms": {"return_freight_fen": 1_200, "refund_due_days": 7},
}

# Codes in RULE_DEFAULTS that configure something other than the audit.
TERMS = frozenset({"refund_terms"})

_INT_PARAMS = {
    "no_reason_days": (1, 90),
    "quality_days": (1, 365),
    "allergy_days": (1, 365),
    "application_days": (1, 90),
    "arrival_days": (1, 120),
    "pickup_cutoff_day": (1, 120),
    "dropoff_cutoff_day": (1, 120),
    "self_ship_cutoff_day": (1, 120),
    "max_weight_g": (1, 1_000_000),
    "max_side_mm": (1, 10_000),
    "max_sum_of_sides_mm": (1, 30_000),
    "threshold_fen": (0, 10**12),
    "days": (1, 90),
    "return_freight_fen": (0, 100_000),
    "refund_due_days": (1, 30),
}

# List parameters name categories or reasons: a few dozen short codes at most.
_MAX_LIST = 50
_MAX_ITEM = 64


@dataclass(frozen=True)
class RuleConfig:
    """One rule switched on or off, with its parameters."""

    code: str
    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        return self.params.get(name, RULE_DEFAULTS[self.code][name])


@dataclass(frozen=True)
class Policy:
    """A numbered set of rule configurations."""

    version: int
    rules: tuple[RuleConfig, ...]
    created_at: datetime
    created_by: str = "system"
    note: str = ""

    def __post_init__(self) -> None:
        for rule in self.rules:
            validate_rule(rule)
        codes = [r.code for r in self.rules]
        if len(set(codes)) != len(codes):
            raise InvalidInput(
                "policy_duplicate_rule", "A rule appears twice.", "同一规则出现了两次。"
            )

    def rule(self, code: str) -> RuleConfig | None:
        """The configuration of a rule if it is present and enabled."""
        found = next((r for r in self.rules if r.code == code), None)
        return found if found is not None and found.enabled else None

    def revise(
        self, rules: tuple[RuleConfig, ...], at: datetime, by: str, note: str = ""
    ) -> Policy:
        """The next version with new rule configurations."""
        return replace(
            self, version=self.version + 1, rules=rules, created_at=at, created_by=by, note=note
        )


def default_policy(at: datetime) -> Policy:
    """Version 1: every rule on with the defaults above."""
    return Policy(1, tuple(RuleConfig(code) for code in RULE_DEFAULTS), at)


def validate_rule(rule: RuleConfig) -> None:
    """Refuse unknown rules, unknown parameters and out-of-range values."""
    if rule.code not in RULE_DEFAULTS:
        raise InvalidInput(
            "policy_unknown_rule",
            f"Unknown rule {rule.code!r}.",
            f"未知规则 {rule.code!r}。",
            rule=rule.code,
        )
    defaults = RULE_DEFAULTS[rule.code]
    for name, value in rule.params.items():
        if name not in defaults:
            raise InvalidInput(
                "policy_unknown_param",
                f"Rule {rule.code} has no parameter {name!r}.",
                f"规则 {rule.code} 没有参数 {name!r}。",
                rule=rule.code,
                param=name,
            )
        expected = type(defaults[name])
        if name in _INT_PARAMS:
            low, high = _INT_PARAMS[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidInput(
                    "policy_param_out_of_range",
                    f"{rule.code}.{name} must be an integer in [{low}, {high}].",
                    f"{rule.code}.{name} 必须是 {low} 到 {high} 之间的整数。",
                    rule=rule.code,
                    param=name,
                )
        elif not isinstance(value, expected) or (
            isinstance(value, list) and not all(isinstance(v, str) for v in value)
        ):
            raise InvalidInput(
                "policy_param_type",
                f"{rule.code}.{name} must be a {expected.__name__}.",
                f"{rule.code}.{name} 类型应为 {expected.__name__}。",
                rule=rule.code,
                param=name,
            )
        if isinstance(value, list) and (
            len(value) > _MAX_LIST or any(len(v) > _MAX_ITEM for v in value)
        ):
            raise InvalidInput(
                "policy_param_too_long",
                f"{rule.code}.{name} takes at most {_MAX_LIST} entries of {_MAX_ITEM} characters.",
                f"{rule.code}.{name} 最多 {_MAX_LIST} 项，每项最多 {_MAX_ITEM} 个字符。",
                rule=rule.code,
                param=name,
            )
    if rule.code == "cross_border_deadline":
        arrival = rule.param("arrival_days")
        for cutoff in ("pickup_cutoff_day", "dropoff_cutoff_day", "self_ship_cutoff_day"):
            if rule.param(cutoff) >= arrival:
                raise InvalidInput(
                    "policy_cutoff_after_arrival",
                    f"{cutoff} must be before day {arrival} so the parcel can arrive in time.",
                    f"{cutoff} 必须早于第 {arrival} 天，以保证包裹按时到达。",
                    rule=rule.code,
                    param=cutoff,
                )
