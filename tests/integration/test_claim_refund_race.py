"""A claim and a refund on one order never pay back more than was paid: raced on SQLite and
PostgreSQL.

An order of twelve items with a coupon (odd, so shares round) and a full reduction (满减).
Three damage claims are filed first. Then, at the same moment (24 units of work): the
merchant accepts each of those claims twice (one answer wins and pays), the buyer files
damage claims on three more items (twice each), asks a refund only for three others (twice
each: paid at once, a trusted buyer and a small amount) and quotes a refund of the last three.
Afterwards, in SQL (tests/integration/races.py): what refunds and claims pay back never
exceeds what was paid net of the coupon and the reduction. Then every claim is paid and the
last three items refunded: together the buyer got back exactly what they paid, not a fen more.

Before claims were priced by the refund quote's function, each claim paid its item's list
price, and the refunds did not count claims: the claimed items' coupon and reduction shares
were paid back twice.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from tests.integration.races import (  # type: ignore[import-not-found]
    RecordingPayments,
    race,
    violations,
)

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.claim import Claim, ClaimKind, ClaimStatus
from doorstep.domain.order import Channel, Order, OrderLine, Promotions
from doorstep.domain.returns import Reason, ReturnKind, ReturnRequest
from doorstep.services import catalog, claims, photos, returns
from doorstep.services.claims import FileClaim
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"  # trusted: a small refund-only request is paid at once
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
PRICE = 4_900  # under the refund-only instant limit
ITEMS = [f"L{n}" for n in range(1, 13)]
FILED, CLAIMED, REFUNDED, QUOTED = ITEMS[0:3], ITEMS[3:6], ITEMS[6:9], ITEMS[9:12]
PROMOTIONS = Promotions(coupon_fen=1_001, reduction_fen=2_000, reduction_threshold_fen=50_000)
LOST = {"quantity_already_claimed", "claim_exists", "illegal_transition", "stale_write"}


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (40, 120, 40)).save(buf, "JPEG")
    return buf.getvalue()


def _order(app: App) -> Order:
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    order = Order(
        f"CLAIMNET-{uuid.uuid4().hex[:8]}",
        BUYER,
        "shop-cn-home",
        Channel.DOMESTIC,
        placed,
        HOME,
        tuple(OrderLine(line_id, "CN-LATEX-PILLOW", 1, PRICE) for line_id in ITEMS),
        signed_at=placed + timedelta(days=1),  # damage claims are open for 72 hours
        promotions=PROMOTIONS,
    )
    catalog.import_orders(app.services, [order], None)
    return order


def _file(app: App, order: Order, line_id: str, shot: str) -> Callable[[], Claim]:
    cmd = FileClaim(
        BUYER, order.order_id, ClaimKind.DAMAGE_ON_ARRIVAL, ((line_id, 1),), "crushed", (shot,)
    )
    return lambda: claims.file_claim(app.services, cmd)


def _accept(app: App, claim_id: str) -> Callable[[], Claim]:
    return lambda: claims.answer_claim(app.services, claim_id, accept=True, text="", shop_id=None)


def _cmd(order: Order, line_id: str, shot: str) -> OpenReturn:
    line = LineRequest(line_id, 1, Reason.DAMAGED_ON_ARRIVAL)
    return OpenReturn(BUYER, order.order_id, ReturnKind.REFUND_ONLY, (line,), photo_ids=(shot,))


def _refund_only(app: App, order: Order, line_id: str, shot: str) -> Callable[[], ReturnRequest]:
    return lambda: returns.open_return(app.services, _cmd(order, line_id, shot))


def _quote(app: App, order: Order, line_id: str, shot: str) -> Callable[[], Any]:
    return lambda: returns.quote_return(app.services, _cmd(order, line_id, shot))


def _paid_back(app: App, order: Order, payments: RecordingPayments) -> int:
    with app.services.uow() as uow:
        keys = [f"refund:{r.return_id}" for r in uow.returns.for_order(order.order_id)]
        keys += [f"claim:{c.claim_id}" for c in uow.claims.for_order(order.order_id)]
    return sum(payments.paid[key][1] for key in keys if key in payments.paid)


def test_claims_and_refunds_on_one_order_pay_back_at_most_what_was_paid(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    shot = photos.upload_photo(svc, BUYER, _jpeg()).photo_id
    order = _order(wired)
    filed = [_file(wired, order, line_id, shot)().claim_id for line_id in FILED]
    calls: list[Callable[[], Any]] = []
    for n in range(3):
        calls += [_accept(wired, filed[n])] * 2
        calls += [_file(wired, order, CLAIMED[n], shot)] * 2
        calls += [_refund_only(wired, order, REFUNDED[n], shot)] * 2
        calls += [_quote(wired, order, QUOTED[n], shot)] * 2
    out = race(calls)
    assert set(out.codes) <= LOST, out.codes
    refunded = [w for w in out.won if isinstance(w, ReturnRequest)]
    assert len(refunded) == 3 and all(r.status.value == "refunded" for r in refunded)
    assert violations(wired, payments) == []

    # Every claim is paid and the last items refunded: everything was paid back, once.
    with svc.uow() as uow:
        open_ = [c.claim_id for c in uow.claims.for_order(order.order_id)]
    for claim_id in open_:
        if claims.get_claim(svc, claim_id).status is ClaimStatus.AWAITING_MERCHANT:
            _accept(wired, claim_id)()
        assert claims.get_claim(svc, claim_id).status is ClaimStatus.COMPENSATED
    for line_id in QUOTED:
        assert _refund_only(wired, order, line_id, shot)().status.value == "refunded"
    assert violations(wired, payments) == []
    assert _paid_back(wired, order, payments) == order.paid_fen == 12 * PRICE - 3_001
