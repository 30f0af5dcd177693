"""The return audit (RULES.md §1–2): rules as functions over one return, configured by policy.

Each rule returns findings; the decision is the strictest verdict, and the return methods
offered are what no rule withdrew, each until the earliest deadline any rule imposed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from doorstep.domain.catalog import Category, Product
from doorstep.domain.clock import customs_deadline as customs_deadline  # re-exported for tests
from doorstep.domain.clock import end_of_day, local, return_deadline
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.customs_clock import clock_days, customs_clock
from doorstep.domain.decision import (
    Decision,
    Finding,
    MethodOffer,
    Outcome,
    ReturnMethod,
    Verdict,
)
from doorstep.domain.money import yuan
from doorstep.domain.order import Buyer, Order, OrderLine
from doorstep.domain.policy import Policy, RuleConfig
from doorstep.domain.refund import RefundOnlyLimits
from doorstep.domain.returns import Reason, ReturnKind, ReturnLine

ALL_METHODS = (ReturnMethod.PICKUP, ReturnMethod.DROPOFF, ReturnMethod.SELF_SHIP)


def _days(n: int) -> timedelta:
    return timedelta(days=n)


@dataclass(frozen=True)
class AuditInput:
    """Everything the rules read, loaded by the service before deciding."""

    kind: ReturnKind
    lines: tuple[ReturnLine, ...]
    order: Order
    products: Mapping[str, Product]
    buyer: Buyer
    area: ServiceArea | None
    already_returned: Mapping[str, int]
    photo_evidence: int
    now: datetime
    refund_only: RefundOnlyLimits = field(default_factory=RefundOnlyLimits)


Rule = Callable[[AuditInput, RuleConfig], list[Finding]]


def _f(rule: str, verdict: Verdict, reason: str, en: str, zh: str, **kw: object) -> Finding:
    return Finding(rule, verdict, reason, en, zh, **kw)  # type: ignore[arg-type]


def _order_line(ctx: AuditInput, line: ReturnLine) -> OrderLine:
    found = ctx.order.line(line.order_line_id)
    assert found is not None, "the service checks line ids before auditing"
    return found


def rule_order_signed(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    if ctx.order.signed_at is not None or ctx.kind is ReturnKind.REFUND_ONLY:
        return [_f(cfg.code, Verdict.PASS, "signed", "The order was signed for.", "订单已签收。")]
    return [
        _f(
            cfg.code,
            Verdict.REJECT,
            "not_signed",
            "The order has not been signed for yet; refuse delivery or ask for a refund only.",
            "订单尚未签收，可拒收或申请仅退款。",
        )
    ]


def rule_quantity_available(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    out = []
    for line in ctx.lines:
        bought = _order_line(ctx, line).quantity
        left = bought - ctx.already_returned.get(line.order_line_id, 0)
        if line.quantity > left:
            out.append(
                _f(
                    cfg.code,
                    Verdict.REJECT,
                    "quantity_exceeds_purchase",
                    f"Only {left} of {bought} can still be returned.",
                    f"该商品最多还可退 {left} 件（共购买 {bought} 件）。",
                    line_id=line.order_line_id,
                )
            )
    return out or [
        _f(cfg.code, Verdict.PASS, "quantity_ok", "Quantities are available.", "退货数量有效。")
    ]


def rule_return_window(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    signed = ctx.order.signed_at
    if signed is None:
        return []
    out = []
    allergy_categories = cfg.param("allergy_categories")
    for line in ctx.lines:
        if line.reason is Reason.ALLERGY:
            refused = allergy_refusal(ctx.products[line.sku], allergy_categories)
            if refused is not None:
                # Neither the 60-day window nor the seller-paid freight: the reason is refused.
                out.append(_f(cfg.code, Verdict.REJECT, *refused, line_id=line.order_line_id))
                continue
        if line.reason is Reason.NO_REASON:
            days, label_en, label_zh = cfg.param("no_reason_days"), "no-reason", "无理由"
        elif line.reason is Reason.ALLERGY:
            days, label_en, label_zh = cfg.param("allergy_days"), "allergy", "过敏"
        else:
            days, label_en, label_zh = cfg.param("quality_days"), "quality", "质量问题"
        deadline = return_deadline(signed, days)
        if ctx.now > deadline:
            out.append(
                _f(
                    cfg.code,
                    Verdict.REJECT,
                    "window_expired",
                    f"The {days}-day {label_en} return window ended {deadline:%Y-%m-%d %H:%M}.",
                    f"{days} 天{label_zh}退货期已于 {deadline:%Y-%m-%d %H:%M} 结束。",
                    line_id=line.order_line_id,
                    until=deadline,
                )
            )
        else:
            out.append(
                _f(
                    cfg.code,
                    Verdict.PASS,
                    "within_window",
                    f"Within the {days}-day {label_en} window (until {deadline:%Y-%m-%d %H:%M}).",
                    f"在 {days} 天{label_zh}退货期内（截至 {deadline:%Y-%m-%d %H:%M}）。",
                    line_id=line.order_line_id,
                    until=deadline,
                )
            )
    return out


def allergy_refusal(product: Product, categories: Collection[str]) -> tuple[str, str, str] | None:
    """Why 过敏包退 does not apply to ``product``, if it does not (RULES.md §3: a cosmetics
    promise; the categories are the ``return_window`` rule's ``allergy_categories``):
    (reason code, English, Chinese)."""
    if product.category.value in categories:
        return None
    scope_en = f"for {', '.join(categories)} only" if categories else "switched off"
    scope_zh = f"仅适用于：{'、'.join(categories)}" if categories else "已停用"
    return (
        "allergy_not_for_category",
        f"Allergy returns are {scope_en}; this item ({product.category.value}) can be returned "
        "for a quality problem or without reason, within those windows.",
        f"过敏包退{scope_zh}；该商品（{product.category.value}）不适用，"
        "可在相应期限内以质量问题或七天无理由退货。",
    )


def rule_legal_exclusion(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    out = []
    for line in ctx.lines:
        if line.reason is not Reason.NO_REASON:
            continue
        p = ctx.products[line.sku]
        why = legal_exclusion(p, opened=line.condition.opened)
        if why:
            en, zh = _EXCLUSION_TEXT[why]
            out.append(_f(cfg.code, Verdict.REJECT, why, en, zh, line_id=line.order_line_id))
    return out


def legal_exclusion(product: Product, *, opened: bool) -> str | None:
    """The Consumer Rights Protection Law art. 25 exclusion that applies, if any."""
    if product.customised:
        return "excluded_customised"
    if product.perishable or product.category is Category.FRESH:
        return "excluded_perishable"
    if product.category is Category.PERIODICALS:
        return "excluded_periodical"
    if (product.digital or product.category is Category.DIGITAL) and opened:
        return "excluded_digital_unsealed"
    return None


_EXCLUSION_TEXT = {
    "excluded_customised": (
        "Customised goods are excluded from no-reason returns by law.",
        "定制商品依法不适用七天无理由退货。",
    ),
    "excluded_perishable": (
        "Fresh and perishable goods are excluded from no-reason returns by law.",
        "鲜活易腐商品依法不适用七天无理由退货。",
    ),
    "excluded_periodical": (
        "Delivered newspapers and periodicals are excluded by law.",
        "已交付的报纸、期刊依法不适用七天无理由退货。",
    ),
    "excluded_digital_unsealed": (
        "Unsealed digital goods are excluded from no-reason returns.",
        "已拆封的数字化商品依法不适用七天无理由退货。",
    ),
}


def rule_checkout_confirmed_exclusion(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    out = []
    for line in ctx.lines:
        if (
            line.reason is not Reason.NO_REASON
            or not ctx.products[line.sku].not_returnable_at_checkout
        ):
            continue
        if _order_line(ctx, line).not_returnable_confirmed:
            out.append(
                _f(
                    cfg.code,
                    Verdict.REJECT,
                    "confirmed_not_returnable",
                    "You confirmed at checkout that this item cannot be returned without reason.",
                    "您在下单时已确认该商品不支持七天无理由退货。",
                    line_id=line.order_line_id,
                )
            )
        else:
            out.append(
                _f(
                    cfg.code,
                    Verdict.INFO,
                    "exclusion_not_confirmed",
                    "The shop marks this item not returnable, but you did not confirm it at "
                    "checkout, so the shop may not refuse.",
                    "商家标注该商品不支持无理由退货，但下单时未经您确认，商家不得拒绝。",
                    line_id=line.order_line_id,
                )
            )
    return out


def rule_intact_condition(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    out = []
    seal = set(cfg.param("seal_categories"))
    tags = set(cfg.param("tag_categories"))
    activation = set(cfg.param("activation_categories"))
    for line in ctx.lines:
        if line.reason is not Reason.NO_REASON:
            continue
        p, c = ctx.products[line.sku], line.condition
        problems: list[tuple[str, str, str]] = []
        if (p.seal_sensitive or p.category.value in seal) and not c.seal_intact:
            problems.append(("seal_broken", "the one-time seal is broken", "一次性密封已破坏"))
        if p.category.value in tags and (not c.tags_attached or c.used):
            problems.append(
                ("tags_removed_or_worn", "tags are removed or it was worn", "吊牌已拆除或已穿着")
            )
        if p.category.value in activation and (c.activated or not c.labels_intact):
            problems.append(
                (
                    "activated_or_labels_damaged",
                    "it was activated or labels are damaged",
                    "已激活或标签/序列号受损",
                )
            )
        if not c.accessories_complete:
            problems.append(("accessories_missing", "accessories are missing", "配件不全"))
        if c.used and p.category.value not in tags:
            problems.append(("used", "it was used beyond trying", "已超出合理试用范围使用"))
        for code, en, zh in problems:
            out.append(
                _f(
                    cfg.code,
                    Verdict.REJECT,
                    code,
                    f"Not intact for a no-reason return: {en}.",
                    f"商品不完好，不适用无理由退货：{zh}。",
                    line_id=line.order_line_id,
                )
            )
    return out


def rule_cross_border_deadline(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    if not ctx.order.channel.cross_border:
        return []
    released = ctx.order.customs_released_at
    if released is None:
        return [
            _f(
                cfg.code,
                Verdict.REVIEW,
                "customs_release_unknown",
                "The customs release date is unknown; ops must check the declaration.",
                "海关放行日期未知，需人工核对申报单。",
            )
        ]
    clock = customs_clock(released, clock_days(cfg))
    apply_by = clock.application_by
    if not clock.can_apply(ctx.now):
        return [
            _f(
                cfg.code,
                Verdict.REJECT,
                "customs_application_expired",
                f"Cross-border returns must be declared within {cfg.param('application_days')} "
                f"days of customs release ({apply_by:%Y-%m-%d}).",
                f"跨境退货须在海关放行之日起 {cfg.param('application_days')} 天内申报"
                f"（截至 {apply_by:%Y-%m-%d}）。",
                until=apply_by,
            )
        ]
    out = [
        _f(
            cfg.code,
            Verdict.PASS,
            "customs_application_open",
            f"Declarable until {apply_by:%Y-%m-%d}; the parcel must be back by day "
            f"{cfg.param('arrival_days')} after release.",
            f"可申报至 {apply_by:%Y-%m-%d}；包裹须在放行后第 {cfg.param('arrival_days')} 天前退回。",
            until=apply_by,
        )
    ]
    for method, cutoff in clock.method_cutoffs.items():
        if not clock.method_open(method, filed_at=ctx.now, at=ctx.now):
            out.append(
                _f(
                    cfg.code,
                    Verdict.RESTRICT,
                    f"{method.value}_too_late_for_customs",
                    f"{method.value.replace('_', ' ').capitalize()} would not get the parcel "
                    f"back within {cfg.param('arrival_days')} days of release.",
                    f"此方式无法保证包裹在放行后 {cfg.param('arrival_days')} 天内退回。",
                    withdraws=(method,),
                    until=cutoff,
                )
            )
        else:
            out.append(
                _f(
                    cfg.code,
                    Verdict.INFO,
                    f"{method.value}_customs_cutoff",
                    f"{method.value.replace('_', ' ').capitalize()} possible until "
                    f"{cutoff:%Y-%m-%d} so the parcel arrives in time.",
                    f"为按时退回，该方式截至 {cutoff:%Y-%m-%d}。",
                    until=cutoff,
                    caps=(method,),
                )
            )
    return out


def rule_pickup_size_weight(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    out = []
    for line in ctx.lines:
        why = pickup_size_problem(ctx.products[line.sku], cfg, line.quantity)
        if why:
            out.append(
                _f(
                    cfg.code,
                    Verdict.RESTRICT,
                    why[0],
                    why[1],
                    why[2],
                    line_id=line.order_line_id,
                    withdraws=(ReturnMethod.PICKUP,),
                )
            )
    return out


def pickup_size_problem(
    product: Product, cfg: RuleConfig, quantity: int = 1
) -> tuple[str, str, str] | None:
    """Why a courier cannot carry this item on a door pickup, if they cannot."""
    weight = product.weight_g * quantity
    if weight > cfg.param("max_weight_g"):
        kg = cfg.param("max_weight_g") / 1000
        return (
            "overweight_for_pickup",
            f"Heavier than {kg:g} kg: no door pickup.",
            f"超过 {kg:g} 公斤，不支持上门取件。",
        )
    d = product.dimensions
    if d.longest_side_mm > cfg.param("max_side_mm") or d.girth_sum_mm > cfg.param(
        "max_sum_of_sides_mm"
    ):
        return (
            "oversize_for_pickup",
            "Too large for a courier to carry: no door pickup.",
            "尺寸超出上门取件范围，不支持上门取件。",
        )
    return None


def rule_pickup_coverage(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    why = coverage_problem(ctx.area)
    if why is None:
        return [
            _f(
                cfg.code,
                Verdict.PASS,
                "area_covered",
                "Door pickup serves this address.",
                "该地址支持上门取件。",
            )
        ]
    return [
        _f(cfg.code, Verdict.RESTRICT, why[0], why[1], why[2], withdraws=(ReturnMethod.PICKUP,))
    ]


def coverage_problem(area: ServiceArea | None) -> tuple[str, str, str] | None:
    """Why nobody would come to this area, if nobody would."""
    if area is None or not area.pickup_supported:
        return (
            "area_not_covered",
            "Door pickup does not serve this address.",
            "该地址不在上门取件服务范围内。",
        )
    if area.remote:
        return (
            "area_remote",
            "This is a remote area without door pickup.",
            "该地址属于偏远地区，不支持上门取件。",
        )
    if not area.carrier_ids:
        return (
            "area_no_carrier",
            "No courier company serves this address yet.",
            "暂无快递公司服务该地址。",
        )
    return None


def rule_buyer_blocklist(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    if ctx.buyer.blocklisted:
        return [
            _f(
                cfg.code,
                Verdict.REVIEW,
                "buyer_under_review",
                "This account needs a manual review before returns are approved.",
                "该账户的退货需人工审核。",
            )
        ]
    return []


def rule_evidence_required(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    reasons = set(cfg.param("reasons"))
    if ctx.photo_evidence == 0 and any(ln.reason.value in reasons for ln in ctx.lines):
        return [
            _f(
                cfg.code,
                Verdict.REVIEW,
                "evidence_missing",
                "A photo of the problem is needed; a reviewer will look at it.",
                "请上传问题照片，将由人工审核。",
            )
        ]
    return []


def rule_high_value_review(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    total = sum(_order_line(ctx, ln).price_for(ln.quantity) for ln in ctx.lines)
    if total > cfg.param("threshold_fen"):
        return [
            _f(
                cfg.code,
                Verdict.REVIEW,
                "high_value",
                f"Returns above {yuan(cfg.param('threshold_fen'))} CNY are reviewed by a person.",
                f"退货金额超过 {yuan(cfg.param('threshold_fen'))} 元需人工审核。",
            )
        ]
    return []


def rule_ship_within(ctx: AuditInput, cfg: RuleConfig) -> list[Finding]:
    until = end_of_day(local(ctx.now).date() + _days(cfg.param("days")))
    return [
        _f(
            cfg.code,
            Verdict.INFO,
            "ship_within",
            f"Send the item back by {until:%Y-%m-%d}.",
            f"请在 {until:%Y-%m-%d} 前寄回商品。",
            until=until,
            caps=ALL_METHODS,
        )
    ]


LOST_RULE = "lost_in_delivery"


def lost_in_delivery_findings(ctx: AuditInput) -> list[Finding]:
    """Issue 9 §4: a parcel lost on its way to the buyer. Nothing can be sent back, so only a
    refund-only request fits. Lost as the delivering courier company declared it: paid in
    full without the refund-only limits (the loss is the company's fact, not the buyer's
    word). Not signed for ``lost_after_days`` after the order: presumed lost, under the
    refund-only limits. Signed for: a person checks the signature first. Not a policy rule:
    ops cannot switch it off."""
    if not any(ln.reason is Reason.LOST_IN_DELIVERY for ln in ctx.lines):
        return []
    order, code = ctx.order, LOST_RULE
    if ctx.kind is not ReturnKind.REFUND_ONLY:
        return [
            _f(
                code,
                Verdict.REJECT,
                "lost_refund_only",
                "A parcel lost in delivery cannot be sent back: ask for a refund only.",
                "运输途中丢失的包裹无法寄回，请申请仅退款。",
            )
        ]
    if order.signed_at is not None:
        signed = local(order.signed_at)
        return [
            _f(
                code,
                Verdict.REVIEW,
                "lost_but_signed",
                f"The order shows as signed for on {signed:%Y-%m-%d}; a person checks the "
                "signature with the courier company before the refund.",
                f"订单显示已于 {signed:%Y-%m-%d} 签收，将由人工向快递公司核实签收情况后退款。",
            )
        ]
    if order.lost_at is not None:
        lost = local(order.lost_at)
        return [
            _f(
                code,
                Verdict.PASS,
                "lost_confirmed",
                f"The courier company declared this parcel lost on {lost:%Y-%m-%d}: your money "
                "comes back in full without returning anything; the seller claims it from "
                "the courier company.",
                f"快递公司已于 {lost:%Y-%m-%d} 确认包裹丢失：无需退货即可全额退款，"
                "由商家向快递公司索赔。",
            )
        ]
    days = ctx.refund_only.lost_after_days
    presumed = order.placed_at + _days(days)
    if ctx.now < presumed:
        when = local(presumed)
        return [
            _f(
                code,
                Verdict.REJECT,
                "lost_too_early",
                f"An order not signed for counts as lost {days} days after it was placed "
                f"({when:%Y-%m-%d %H:%M}); until then it may still arrive. Ask again then, "
                "or refuse the delivery when it comes.",
                f"下单 {days} 天后（{when:%Y-%m-%d %H:%M}）仍未签收才视为丢件，"
                "在此之前包裹可能仍在途中。请届时再申请，或到货时拒收。",
                until=presumed,
            )
        ]
    return [
        _f(
            code,
            Verdict.INFO,
            "lost_presumed",
            f"Not signed for {days} days after the order: treated as lost in delivery. A "
            "refund without a return is paid at once for a small amount and a trusted "
            "account; otherwise a person decides.",
            f"下单 {days} 天仍未签收，视为运输途中丢失。小额且账户信用良好时立即退款，"
            "否则由人工审核。",
        )
    ]


def _confirmed_lost(ctx: AuditInput) -> bool:
    return (
        ctx.order.lost_at is not None
        and ctx.order.signed_at is None
        and all(ln.reason is Reason.LOST_IN_DELIVERY for ln in ctx.lines)
    )


REFUND_ONLY_RULE = "refund_only_limits"


def refund_only_findings(ctx: AuditInput) -> list[Finding]:
    """Issue 9 §4: money without goods back is paid at once only where it fits (not yet
    delivered, or a seller-fault reason), for a small amount and a trusted buyer; a person
    decides everything else. Not a policy rule: ops cannot switch it off."""
    if ctx.kind is not ReturnKind.REFUND_ONLY or _confirmed_lost(ctx):
        return []  # a confirmed loss is the courier company's fact: no limits apply
    limits, code = ctx.refund_only, REFUND_ONLY_RULE
    out = []
    if ctx.order.signed_at is not None and any(ln.reason is Reason.NO_REASON for ln in ctx.lines):
        out.append(
            _f(
                code,
                Verdict.REVIEW,
                "refund_only_goods_kept",
                "A delivered item without a fault is normally sent back; a person decides.",
                "已签收且无质量问题的商品通常需要退回，将由人工审核。",
            )
        )
    amount = sum(
        _order_line(ctx, ln).price_for(ln.quantity) + _order_line(ctx, ln).tax_for(ln.quantity)
        for ln in ctx.lines
    )
    if amount > limits.instant_max_fen:
        out.append(
            _f(
                code,
                Verdict.REVIEW,
                "refund_only_above_instant_limit",
                f"Refunds without a return above {yuan(limits.instant_max_fen)} CNY are "
                "reviewed by a person.",
                f"仅退款金额超过 {yuan(limits.instant_max_fen)} 元需人工审核。",
            )
        )
    if ctx.buyer.blocklisted or ctx.buyer.trust_score < limits.min_trust:
        out.append(
            _f(
                code,
                Verdict.REVIEW,
                "refund_only_trust_too_low",
                "Refunds without a return are paid at once only to trusted accounts.",
                "仅退款仅对信用良好的账户自动通过，将由人工审核。",
            )
        )
    return out or [
        _f(
            code,
            Verdict.PASS,
            "refund_only_instant",
            "A small refund without a return for a trusted account: paid at once.",
            "小额仅退款且账户信用良好：立即退款。",
        )
    ]


RULES: dict[str, Rule] = {
    "order_signed": rule_order_signed,
    "quantity_available": rule_quantity_available,
    "return_window": rule_return_window,
    "legal_exclusion": rule_legal_exclusion,
    "checkout_confirmed_exclusion": rule_checkout_confirmed_exclusion,
    "intact_condition": rule_intact_condition,
    "cross_border_deadline": rule_cross_border_deadline,
    "pickup_size_weight": rule_pickup_size_weight,
    "pickup_coverage": rule_pickup_coverage,
    "buyer_blocklist": rule_buyer_blocklist,
    "evidence_required": rule_evidence_required,
    "high_value_review": rule_high_value_review,
    "ship_within": rule_ship_within,
}


def audit(policy: Policy, ctx: AuditInput) -> Decision:
    """Run every enabled rule of the policy and combine the findings into a decision."""
    findings: list[Finding] = []
    for code, rule in RULES.items():
        cfg = policy.rule(code)
        if cfg is not None:
            findings.extend(rule(ctx, cfg))
    findings.extend(lost_in_delivery_findings(ctx))
    findings.extend(refund_only_findings(ctx))
    decision = combine(policy.version, findings, ctx.now)
    if ctx.kind is ReturnKind.REFUND_ONLY:
        # Nothing is sent back, so no return method is offered.
        return replace(decision, methods=(), unavailable={})
    return decision


def combine(policy_version: int, findings: list[Finding], now: datetime) -> Decision:
    """Strictest verdict wins; methods are what no finding withdrew, until the earliest cap."""
    verdicts = {f.verdict for f in findings}
    outcome = (
        Outcome.REJECT
        if Verdict.REJECT in verdicts
        else Outcome.REVIEW
        if Verdict.REVIEW in verdicts
        else Outcome.APPROVE
    )
    unavailable: dict[str, str] = {}
    for f in findings:
        for method in f.withdraws:
            unavailable.setdefault(method.value, f.reason)
    methods: list[MethodOffer] = []
    if outcome is not Outcome.REJECT:
        for method in ALL_METHODS:
            if method.value in unavailable:
                continue
            caps = [f.until for f in findings if f.until is not None and method in f.caps]
            until = min(caps) if caps else None
            if until is not None and until < now:
                unavailable[method.value] = "deadline_passed"
            else:
                methods.append(MethodOffer(method, until))
    return Decision(outcome, policy_version, now, tuple(findings), tuple(methods), unavailable)
