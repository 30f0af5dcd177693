"""Builders for the domain unit tests: a small fixed world, exposed as session fixtures.

Session scope keeps them usable inside hypothesis tests (they are pure functions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from doorstep.domain.address import Address
from doorstep.domain.audit import RULES, AuditInput
from doorstep.domain.catalog import Category, Dimensions, Product
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.decision import Finding
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.domain.policy import RULE_DEFAULTS, Policy, RuleConfig
from doorstep.domain.returns import Condition, Reason, ReturnKind, ReturnLine

NOW = datetime(2025, 3, 20, 10, 0, tzinfo=SHANGHAI)
SIGNED = datetime(2025, 3, 15, 14, 0, tzinfo=SHANGHAI)  # day 5 of the 7-day window at NOW
ADDRESS = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路 1 号", "张三", "13800138000")
AREA = ServiceArea("310104", "徐汇区", "Xuhui", carrier_ids=("sf",))
_KEEP = object()


def make_product(
    sku: str = "P1",
    category: Category = Category.HOME,
    weight_g: int = 1_000,
    dims: tuple[int, int, int] = (300, 200, 100),
    **kw: Any,
) -> Product:
    return Product(sku, "商品", "Item", category, weight_g, Dimensions(*dims), **kw)


def make_input(
    *,
    product: Product | None = None,
    reason: Reason = Reason.NO_REASON,
    condition: Condition | None = None,
    quantity: int = 1,
    bought: int = 1,
    unit_price_fen: int = 10_000,
    confirmed: bool = False,
    channel: Channel = Channel.DOMESTIC,
    signed_at: datetime | object | None = _KEEP,
    released_at: datetime | None = None,
    now: datetime = NOW,
    kind: ReturnKind = ReturnKind.REFUND,
    blocklisted: bool = False,
    area: ServiceArea | object | None = _KEEP,
    already_returned: int = 0,
    photos: int = 0,
    extra: tuple[tuple[Product, OrderLine, ReturnLine], ...] = (),
) -> AuditInput:
    """One order line returned (plus ``extra`` lines), in a fixed world at ``now``."""
    p = product or make_product()
    ol = OrderLine("L1", p.sku, bought, unit_price_fen, not_returnable_confirmed=confirmed)
    rl = ReturnLine("L1", p.sku, quantity, reason, condition or Condition())
    order = Order(
        "O1",
        "B1",
        "S1",
        channel,
        datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI),
        ADDRESS,
        (ol, *(e[1] for e in extra)),
        signed_at=SIGNED if signed_at is _KEEP else signed_at,  # type: ignore[arg-type]
        customs_released_at=released_at,
    )
    return AuditInput(
        kind,
        (rl, *(e[2] for e in extra)),
        order,
        {p.sku: p, **{e[0].sku: e[0] for e in extra}},
        Buyer("B1", "张三", "13800138000", blocklisted=blocklisted),
        AREA if area is _KEEP else area,  # type: ignore[arg-type]
        {"L1": already_returned} if already_returned else {},
        photos,
        now,
    )


def make_policy(
    version: int = 1, disabled: tuple[str, ...] = (), **params: dict[str, Any]
) -> Policy:
    """Every known rule, with ``params`` per rule code and ``disabled`` ones switched off."""
    return Policy(
        version,
        tuple(RuleConfig(c, c not in disabled, params.get(c, {})) for c in RULE_DEFAULTS),
        NOW,
    )


def run_rule(code: str, ctx: AuditInput, **params: Any) -> list[Finding]:
    return RULES[code](ctx, RuleConfig(code, params=params))


@dataclass(frozen=True)
class World:
    product: Callable[..., Product]
    input: Callable[..., AuditInput]
    policy: Callable[..., Policy]
    rule: Callable[..., list[Finding]]
    now: datetime = NOW
    signed: datetime = SIGNED
    address: Address = ADDRESS
    area: ServiceArea = AREA


@pytest.fixture(scope="session")
def world() -> World:
    return World(make_product, make_input, make_policy, run_rule)
