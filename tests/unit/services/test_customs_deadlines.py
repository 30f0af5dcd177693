"""The pre-check, the audit and the refund read one customs clock (issue 9 §7).

Before the shared clock, the pre-check offered door pickup to a bonded order between day 31
and day 38 of its release, which the audit then rejected (the 30-day application had passed).
"""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import B3, new_order, open_return  # type: ignore[import-not-found]

from doorstep.domain.decision import ReturnMethod
from doorstep.domain.order import Channel
from doorstep.domain.returns import ReturnStatus
from doorstep.services import precheck, returns
from doorstep.services.returns import LineRequest, OpenReturn

SERUM = "KR-SERUM-50ML"


def _bonded(world: World, released_days_ago: int):  # type: ignore[no-untyped-def]
    return new_order(
        world,
        sku=SERUM,
        unit_price_fen=20_000,
        tax_fen=1_820,
        channel=Channel.BONDED,
        signed_days_ago=1,
        released_days_ago=released_days_ago,
    )


@pytest.mark.parametrize("channel", [Channel.BONDED, Channel.DIRECT_MAIL])
@pytest.mark.parametrize("released_days_ago", [5, 29, 30, 31, 33, 37, 38, 39, 44, 46])
def test_precheck_audit_and_refund_agree(
    world: World, released_days_ago: int, channel: Channel
) -> None:
    order = _bonded(world, released_days_ago)
    if channel is not Channel.BONDED:
        from dataclasses import replace

        order = replace(order, channel=channel)
        world.store.put("orders", order.order_id, order)
    pre = precheck.precheck(
        world.svc, SERUM, order.shipping_address.adcode, buyer_id=B3, order_id=order.order_id
    )
    quote = returns.quote_return(
        world.svc,
        OpenReturn(
            B3,
            order.order_id,
            returns.ReturnKind.REFUND,
            (LineRequest("L1", 1, returns.Reason.NO_REASON),),
        ),
    )
    request = open_return(world, order)
    approved = request.status is ReturnStatus.APPROVED and request.decision is not None
    offers_pickup = approved and request.decision.offers(ReturnMethod.PICKUP) is not None
    assert pre.pickup == offers_pickup, (released_days_ago, pre.findings)
    # The tax goes back exactly when the audit lets the return be declared.
    assert quote.tax.status.refundable == approved, (released_days_ago, quote.tax)
    if approved:
        assert request.decision is not None
        # Both name the same pickup cut-off (day 38 of release).
        pre_cut = {f.until for f in pre.findings if f.reason == "pickup_customs_cutoff"}
        audit_cut = {
            f.until
            for f in request.decision.findings
            if f.reason in ("pickup_customs_cutoff", "pickup_too_late_for_customs")
        }
        assert pre_cut == audit_cut
