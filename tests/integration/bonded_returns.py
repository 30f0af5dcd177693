"""Bonded (cross-border) orders returned by self-shipping, for the customs and exchange races.

The races about import tax, the annual quota and a dearer variant's difference all start
from the same place: bonded orders imported with their customs release, each line sent back
under the buyer's own waybill, the declaration in the customs queue (declared or not). This
module builds that, so each race file writes only what its race is about.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from tests.conftest import T0  # type: ignore[import-not-found]
from tests.integration.races import RecordingPayments  # type: ignore[import-not-found]

from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.exchange import StockLevel
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, customs, exchanges, returns
from doorstep.services.context import Services
from doorstep.services.ports import PaymentResult
from doorstep.services.returns import LineRequest, OpenReturn

BONDED_WH = "wh-sh-bonded"
# buyer-001 has trust 850: refunded at pickup (express), the import tax advanced with it.
# buyer-003 has trust 600: no express refund; a replacement ships at the warehouse's receipt.
HOMES = {
    "buyer-001": Address(
        "310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111"
    ),
    "buyer-003": Address(
        "310112", "上海市", "上海市", "闵行区", "莘松路958弄12号", "王浩然", "13800001003"
    ),
}
PILLOW, PILLOW_PRICE, PILLOW_TAX = "CN-LATEX-PILLOW", 39_900, 3_630
LIP_1, LIP_2 = "KR-LIPSTICK-V01", "KR-LIPSTICK-V02"
LIP_PRICE, LIP_TAX, LIP_2_PRICE = 32_000, 2_910, 34_000


def bonded_orders(
    svc: Services,
    n: int,
    *,
    tag: str,
    buyer: str,
    sku: str,
    price: int,
    tax: int,
    lines: int = 1,
    released_days_ago: int = 5,
) -> list[Order]:
    """``n`` bonded orders of ``lines`` lines of one unit of ``sku`` each (L1, L2, ...),
    signed two days before T0 and released by customs ``released_days_ago`` days before it,
    imported. ``tag`` keeps one file's order and declaration numbers apart from another's."""
    batch = uuid.uuid4().hex[:8]
    released = T0 - timedelta(days=released_days_ago)
    orders = [
        Order(
            f"X{tag}-{batch}-{i:03d}",
            buyer,
            "shop-test",
            Channel.BONDED,
            released - timedelta(days=1),
            HOMES[buyer],
            tuple(OrderLine(f"L{j + 1}", sku, 1, price, tax) for j in range(lines)),
            signed_at=T0 - timedelta(days=2),
            customs_released_at=released,
            declaration_no=f"D{tag}-{batch}-{i:03d}",
        )
        for i in range(n)
    ]
    catalog.import_orders(svc, orders, None)
    return orders


def self_shipped(
    svc: Services,
    order: Order,
    line_ids: Sequence[str] = ("L1",),
    *,
    replacements: dict[str, str] | None = None,
) -> tuple[str, str]:
    """A return of one unit of each of ``line_ids`` (an exchange when ``replacements`` names
    the new SKUs), sent back by the buyer under a waybill of its own: (return id, waybill)."""
    kind = ReturnKind.EXCHANGE if replacements else ReturnKind.REFUND
    requested = tuple(LineRequest(line, 1, Reason.NO_REASON) for line in line_ids)
    rid = returns.open_return(
        svc,
        OpenReturn(
            order.buyer_id, order.order_id, kind, requested, replacements=replacements or {}
        ),
    ).return_id
    # A waybill per parcel: a race that scans waybills must find one return behind each.
    waybill = f"SF{uuid.uuid4().int % 10**13:013d}"
    returns.choose_self_send(svc, order.buyer_id, rid, ReturnMethod.SELF_SHIP)
    returns.register_shipment(svc, order.buyer_id, rid, waybill, "sf")
    return rid, waybill


def declaration_of(svc: Services, return_id: str) -> str:
    """The id of the customs declaration in the queue that carries ``return_id``."""
    (item,) = [c for c in customs.queue(svc) if return_id in c.customs_return.return_ids]
    return item.customs_return.customs_return_id


def in_transit(svc: Services, n: int, released_days_ago: int) -> list[tuple[str, str]]:
    """``n`` bonded orders of one pillow each for buyer-001, returned and on their way, not
    declared: (declaration id, return id) per order."""
    orders = bonded_orders(
        svc,
        n,
        tag="P",
        buyer="buyer-001",
        sku=PILLOW,
        price=PILLOW_PRICE,
        tax=PILLOW_TAX,
        released_days_ago=released_days_ago,
    )
    made = []
    for order in orders:
        rid, _ = self_shipped(svc, order)
        made.append((declaration_of(svc, rid), rid))
    return made


def dearer_exchanges(svc: Services, n: int, *, tag: str, buyer: str) -> list[str]:
    """``n`` bonded orders of one lipstick, each exchanged for the dearer shade (in stock) and
    on its way back, not declared: the return ids."""
    exchanges.upsert_stock(svc, [StockLevel(LIP_2, "lipstick-velvet", LIP_2_PRICE, 100)])
    orders = bonded_orders(svc, n, tag=tag, buyer=buyer, sku=LIP_1, price=LIP_PRICE, tax=LIP_TAX)
    return [self_shipped(svc, order, replacements={"L1": LIP_2})[0] for order in orders]


def declaration_docs(app: App, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored documents of the declarations ``ids``, by id."""
    with app.engine.connect() as conn:
        rows = conn.execute(text("SELECT customs_return_id, doc FROM customs_returns")).all()
    docs = {i: d if isinstance(d, dict) else json.loads(d) for i, d in rows}
    return {i: docs[i] for i in ids}


def kept_tax(payments: LocalPayments, return_ids: list[str]) -> dict[str, int]:
    """Per return: what the provider paid (refund) less what it took back (tax clawback)."""
    return {
        r: payments.paid[f"refund:{r}"][1] - payments.clawed.get(f"tax-clawback:{r}", ("", 0))[1]
        for r in return_ids
    }


class HeldCollections(RecordingPayments):
    """The local provider; while ``held``, it leaves every collection unanswered (the dearer
    replacement's difference), so the exchange stays reserved while its goods come back."""

    held = True

    def collect(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        if self.held:
            return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")
        return super().collect(idempotency_key, buyer_id, amount_fen, reference)
