"""A unit is compensated once across claims and returns: raced on SQLite and PostgreSQL.

An order of two pillows (L1) and one more (L2). At the same moment the buyer files damage
claims on [L1], [L1, L2] and [L1 x2], a counterfeit claim on [L2], a quality return of one
L1 and a refund-only request for L2 (24 units of work). Claims used to be keyed by their set
of lines only, so [L1] and [L1, L2] both won and L1 was paid twice (and a return on top a
third time). Afterwards, in SQL (tests/integration/races.py): the units that returns,
refund-only requests and claims hold never exceed what was bought; then every claim that won
is approved and paid, and a return or claim asking for any unit again is refused.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import cycle
from typing import Any

import pytest
from PIL import Image
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.claim import Claim, ClaimKind, ClaimStatus
from doorstep.domain.errors import Conflict
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind, ReturnRequest
from doorstep.services import catalog, claims, photos, returns
from doorstep.services.claims import FileClaim
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"  # trusted: a small refund-only request is paid at once
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
PRICE = 4_900  # under the refund-only instant limit
BOUGHT = {"L1": 2, "L2": 1}
LOST = {"quantity_already_claimed", "claim_exists"}


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


def _order(app: App) -> Order:
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    order = Order(
        f"OVERLAP-{uuid.uuid4().hex[:8]}",
        BUYER,
        "shop-cn-home",
        Channel.DOMESTIC,
        placed,
        HOME,
        tuple(OrderLine(line_id, "CN-LATEX-PILLOW", n, PRICE) for line_id, n in BOUGHT.items()),
        signed_at=placed + timedelta(days=1),  # damage claims are open for 72 hours
    )
    catalog.import_orders(app.services, [order], None)
    return order


def _claim(
    app: App, order: Order, kind: ClaimKind, lines: tuple[tuple[str, int], ...], shot: str
) -> Callable[[], Claim]:
    cmd = FileClaim(BUYER, order.order_id, kind, lines, "crushed", (shot,))
    return lambda: claims.file_claim(app.services, cmd)


def _return(
    app: App, order: Order, kind: ReturnKind, line_id: str, reason: Reason, shot: str
) -> Callable[[], ReturnRequest]:
    cmd = OpenReturn(
        BUYER, order.order_id, kind, (LineRequest(line_id, 1, reason),), photo_ids=(shot,)
    )
    return lambda: returns.open_return(app.services, cmd)


def _held(won: list[Any]) -> dict[str, int]:
    held: dict[str, int] = {}
    for item in won:
        for line in item.lines:
            held[line.order_line_id] = held.get(line.order_line_id, 0) + line.quantity
    return held


def test_claims_and_returns_on_the_same_lines_compensate_each_unit_once(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    shot = photos.upload_photo(svc, BUYER, _jpeg()).photo_id
    for _ in range(2):
        order = _order(wired)
        damage, fake = ClaimKind.DAMAGE_ON_ARRIVAL, ClaimKind.COUNTERFEIT
        calls = cycle(
            [
                _claim(wired, order, damage, (("L1", 1),), shot),
                _claim(wired, order, damage, (("L1", 1), ("L2", 1)), shot),
                _return(wired, order, ReturnKind.REFUND, "L1", Reason.QUALITY, shot),
                _claim(wired, order, damage, (("L1", 2),), shot),
                _claim(wired, order, fake, (("L2", 1),), shot),
                _return(
                    wired, order, ReturnKind.REFUND_ONLY, "L2", Reason.DAMAGED_ON_ARRIVAL, shot
                ),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        assert set(out.codes) <= LOST, out.codes
        held = _held(out.won)
        assert held and all(held.get(k, 0) <= n for k, n in BOUGHT.items()), held
        assert violations(wired, payments) == []

        # Every claim that won is paid; the units stay taken after the money moved.
        for claim in (w for w in out.won if isinstance(w, Claim)):
            if claim.kind is ClaimKind.COUNTERFEIT:
                claims.answer_claim(svc, claim.claim_id, accept=False, text="", shop_id=None)
                done = claims.decide_claim(svc, "ops-001", claim.claim_id, approve=True, note="")
            else:
                done = claims.answer_claim(svc, claim.claim_id, accept=True, text="", shop_id=None)
            assert done.status is ClaimStatus.COMPENSATED
        for line_id, bought in BOUGHT.items():
            if held.get(line_id, 0) < bought:
                continue
            with pytest.raises(Conflict) as refused:
                _return(wired, order, ReturnKind.REFUND, line_id, Reason.QUALITY, shot)()
            assert refused.value.code == "quantity_already_claimed"
            assert refused.value.message_zh and refused.value.message_en
            with pytest.raises(Conflict) as refused:  # or this very claim exists already
                _claim(wired, order, ClaimKind.COUNTERFEIT, ((line_id, 1),), shot)()
            assert refused.value.code in LOST
    assert violations(wired, payments) == []
