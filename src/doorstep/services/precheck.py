"""Before buying or filing: does this product, at this address, get door pickup, until when?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from doorstep.domain.audit import coverage_problem, legal_exclusion, pickup_size_problem
from doorstep.domain.clock import return_deadline
from doorstep.domain.customs_clock import clock_days, customs_clock
from doorstep.domain.decision import Finding, ReturnMethod, Verdict
from doorstep.domain.errors import NotFound
from doorstep.domain.policy import RuleConfig, default_policy
from doorstep.services.context import Services


@dataclass(frozen=True)
class Precheck:
    sku: str
    adcode: str
    pickup: bool
    until: datetime | None
    findings: tuple[Finding, ...]
    policy_version: int


def precheck(
    svc: Services,
    sku: str,
    adcode: str,
    *,
    buyer_id: str | None = None,
    order_id: str | None = None,
) -> Precheck:
    """Answer with reasons; with an order, the return window and customs clocks count too."""
    now = svc.clock.now()
    with svc.uow() as uow:
        product = uow.products.get(sku)
        if product is None:
            raise NotFound("product", sku)
        policy = uow.policies.current() or default_policy(now)
        area = uow.areas.get(adcode)
        order = uow.orders.get(order_id) if order_id else None
        if order_id and (order is None or order.buyer_id != buyer_id):
            raise NotFound("order", order_id)
    findings: list[Finding] = []
    size_cfg = policy.rule("pickup_size_weight")
    if size_cfg and (why := pickup_size_problem(product, size_cfg)):
        findings.append(Finding(size_cfg.code, Verdict.RESTRICT, *why))
    if why := coverage_problem(area):
        findings.append(Finding("pickup_coverage", Verdict.RESTRICT, *why))
    if exclusion := legal_exclusion(product, opened=False):
        findings.append(
            Finding(
                "legal_exclusion",
                Verdict.INFO,
                exclusion,
                "No-reason returns are excluded by law; quality returns still apply.",
                "该商品依法不适用七天无理由退货，质量问题仍可退。",
            )
        )
    until: datetime | None = None
    if order is not None:
        window = policy.rule("return_window") or RuleConfig("return_window")
        if order.signed_at is not None:
            until = return_deadline(order.signed_at, window.param("no_reason_days"))
            findings.append(
                Finding(
                    window.code,
                    Verdict.INFO if now <= until else Verdict.REJECT,
                    "within_window" if now <= until else "window_expired",
                    f"No-reason returns until {until:%Y-%m-%d %H:%M}.",
                    f"无理由退货截至 {until:%Y-%m-%d %H:%M}。",
                    until=until,
                )
            )
        customs = policy.rule("cross_border_deadline")
        if order.channel.cross_border and order.customs_released_at and customs:
            clock = customs_clock(order.customs_released_at, clock_days(customs))
            cutoff = clock.method_cutoffs[ReturnMethod.PICKUP]
            until = min(until, cutoff) if until else cutoff
            if not clock.can_apply(now):
                # The audit rejects a return filed after day 30: no method is left to offer.
                findings.append(
                    Finding(
                        customs.code,
                        Verdict.REJECT,
                        "customs_application_expired",
                        f"Cross-border returns must be declared by {clock.application_by:%Y-%m-%d}"
                        " (30 days after customs release).",
                        f"跨境退货须在海关放行后 30 天内申报（截至 {clock.application_by:%Y-%m-%d}）。",
                        until=clock.application_by,
                    )
                )
            open_ = clock.method_open(ReturnMethod.PICKUP, filed_at=now, at=now)
            findings.append(
                Finding(
                    customs.code,
                    Verdict.INFO if open_ else Verdict.RESTRICT,
                    "pickup_customs_cutoff",
                    f"Cross-border pickup until {cutoff:%Y-%m-%d} so the parcel is "
                    "back within 45 days of customs release.",
                    f"跨境商品上门取件截至 {cutoff:%Y-%m-%d}，以保证放行后 45 天内退回。",
                    until=cutoff,
                )
            )
    blocking = {Verdict.RESTRICT, Verdict.REJECT}
    pickup = not any(f.verdict in blocking for f in findings)
    if pickup and not findings:
        findings.append(
            Finding(
                "pickup_coverage",
                Verdict.PASS,
                "pickup_available",
                "Door pickup is available.",
                "支持上门取件。",
            )
        )
    return Precheck(sku, adcode, pickup, until if pickup else None, tuple(findings), policy.version)
