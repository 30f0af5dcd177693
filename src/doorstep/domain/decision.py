"""Audit decisions: the outcome, every rule applied with its reason, and the methods offered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"


class Verdict(StrEnum):
    """What one rule said about the request."""

    PASS = "pass"
    REJECT = "reject"
    REVIEW = "review"
    RESTRICT = "restrict"  # allowed, but some return methods are withdrawn
    INFO = "info"


class ReturnMethod(StrEnum):
    PICKUP = "pickup"  # 上门取件
    DROPOFF = "dropoff"  # 驿站/网点自寄
    SELF_SHIP = "self_ship"  # 自行寄回


@dataclass(frozen=True)
class Finding:
    """One rule's verdict with a stable reason code and text for buyer and ops."""

    rule: str
    verdict: Verdict
    reason: str
    text_en: str
    text_zh: str
    line_id: str | None = None
    withdraws: tuple[ReturnMethod, ...] = ()
    until: datetime | None = None  # the deadline this finding is about, if any
    caps: tuple[ReturnMethod, ...] = ()  # methods whose use ``until`` bounds


@dataclass(frozen=True)
class MethodOffer:
    """A return method and the last moment it can be used."""

    method: ReturnMethod
    until: datetime | None  # None: no deadline beyond the return's own lifecycle


@dataclass(frozen=True)
class Decision:
    """The audit result; ``policy_version`` pins the rules that produced it."""

    outcome: Outcome
    policy_version: int
    decided_at: datetime
    findings: tuple[Finding, ...]
    methods: tuple[MethodOffer, ...] = ()
    unavailable: dict[str, str] = field(default_factory=dict)  # method -> reason code
    decided_by: str = "auto"

    def offers(self, method: ReturnMethod) -> MethodOffer | None:
        return next((m for m in self.methods if m.method is method), None)
