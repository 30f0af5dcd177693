"""The annual cross-border total no longer freezes at the first restore: migration
5f3b8d2a9c61 turns the stored used total into what settled returns gave back
(``customs_quota.restored_fen``, derived from the settled declarations), and the used total is
always the year's orders less that, on SQLite and PostgreSQL, there and back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from tests.integration.test_after_sales_races import (  # type: ignore[import-not-found]
    BUYER,
    _arrived,
    _file,
    _orders,
)
from tests.integration.test_migration_transfers import _alembic  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.returns import ReturnKind
from doorstep.services import customs

BEFORE = "b2e8c4f1a7d5"
PRICE = 79_900


def test_restores_survive_the_migration_and_later_orders_count(
    wired: App, database_url: str
) -> None:
    svc = wired.services
    orders = _orders(wired, 2, "JP-DOWN-JACKET-M", bonded=True)
    used_before = customs.quota_of(svc, BUYER).used_fen
    for order in orders:
        return_id = _file(wired, order, ReturnKind.REFUND)
        (item,) = [c for c in customs.queue(svc) if return_id in c.customs_return.return_ids]
        cr_id = item.customs_return.customs_return_id
        assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED
        _arrived(wired, return_id)
        assert customs.settle(svc, cr_id).quota_restored_fen == PRICE
    assert customs.quota_of(svc, BUYER).used_fen == used_before - 2 * PRICE

    wired.engine.dispose()
    cfg = _alembic(database_url)
    command.downgrade(cfg, BEFORE)
    with wired.engine.connect() as conn:
        old = conn.execute(
            text("SELECT used_fen FROM customs_quota WHERE buyer_id = :b AND year = 2026"),
            {"b": BUYER},
        ).scalar()
    assert old == used_before - 2 * PRICE  # the old used total, as the old code read it
    command.upgrade(cfg, "head")
    with wired.engine.connect() as conn:
        restored = conn.execute(
            text("SELECT restored_fen FROM customs_quota WHERE buyer_id = :b AND year = 2026"),
            {"b": BUYER},
        ).scalar()
    assert restored == 2 * PRICE
    assert customs.quota_of(svc, BUYER).used_fen == used_before - 2 * PRICE
    _orders(wired, 1, "JP-DOWN-JACKET-M", bonded=True, price=400_000)  # bought afterwards
    assert customs.quota_of(svc, BUYER).used_fen == used_before - 2 * PRICE + 400_000
